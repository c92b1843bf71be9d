/**
 * Events between server nodes (issue #10): several identical nodes over one PostgreSQL database,
 * NATS carrying "this push is for user X" to whichever nodes hold X's sockets.
 *
 * The database is the truth; the bus only says that something new exists. A push lost on the bus
 * (a NATS restart, a slow node) costs the client a resync by `seq` and `eventSeq`, never data.
 * A node subscribes to the subject of each user it holds a socket of and no other, so it does no
 * work for users it does not hold. Subjects are `im.u.<user id in hex>` (user ids may hold characters
 * NATS gives a meaning to) and `im.s` for ended sessions (every node checks its sockets).
 */
import { randomBytes } from 'node:crypto'
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node'

export interface Bus {
  /** This node's id: a node ignores what it published itself. */
  readonly nodeId: string
  /** Start (or stop) receiving the pushes of a user this node now holds (no longer holds). */
  watchUser(userId: string): void
  unwatchUser(userId: string): void
  /** A push for `userId`'s sockets on other nodes. */
  publishToUser(userId: string, payload: string): void
  /** A session that ended (logout, revocation): every node closes its sockets. */
  publishSessionEnded(tokenHash: Buffer): void
  close(): Promise<void>
}

export interface BusHandlers {
  push(userId: string, payload: string): void
  sessionEnded(tokenHash: Buffer): void
}

const userSubject = (userId: string): string => `im.u.${Buffer.from(userId, 'utf8').toString('hex')}`
const SESSION_SUBJECT = 'im.s'

/** NATS core (at-most-once: resync covers what is lost). */
export class NatsBus implements Bus {
  readonly nodeId = randomBytes(8).toString('hex')
  private readonly users = new Map<string, Subscription>()
  private readonly sessions: Subscription

  private constructor(
    private readonly nc: NatsConnection,
    private readonly handlers: BusHandlers,
  ) {
    this.sessions = nc.subscribe(SESSION_SUBJECT, {
      callback: (err, msg) => {
        if (err) return
        const [origin, hash] = msg.string().split('\n')
        if (origin !== this.nodeId && hash) this.handlers.sessionEnded(Buffer.from(hash, 'hex'))
      },
    })
  }

  /** Connects to NATS (`nats://host:port`, several comma-separated). */
  static async connect(servers: string, handlers: BusHandlers): Promise<NatsBus> {
    const nc = await connect({ servers: servers.split(',').map((s) => s.trim()), name: 'im-server' })
    return new NatsBus(nc, handlers)
  }

  watchUser(userId: string): void {
    if (this.users.has(userId)) return
    const sub = this.nc.subscribe(userSubject(userId), {
      callback: (err, msg) => {
        if (err) return
        const text = msg.string()
        const cut = text.indexOf('\n')
        if (cut < 0 || text.slice(0, cut) === this.nodeId) return
        this.handlers.push(userId, text.slice(cut + 1))
      },
    })
    this.users.set(userId, sub)
  }

  unwatchUser(userId: string): void {
    this.users.get(userId)?.unsubscribe()
    this.users.delete(userId)
  }

  publishToUser(userId: string, payload: string): void {
    this.nc.publish(userSubject(userId), `${this.nodeId}\n${payload}`)
  }

  publishSessionEnded(tokenHash: Buffer): void {
    this.nc.publish(SESSION_SUBJECT, `${this.nodeId}\n${tokenHash.toString('hex')}`)
  }

  async close(): Promise<void> {
    this.sessions.unsubscribe()
    await this.nc.drain()
  }
}
