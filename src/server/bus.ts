/**
 * Events between server nodes (issue #10): several identical nodes over one PostgreSQL database,
 * NATS carrying "this push is for user X" to whichever nodes hold X's sockets.
 *
 * The database is the truth; the bus only says that something new exists. NATS core is
 * at-most-once: a push is lost when the publisher's or a subscriber's connection to NATS is down
 * (nats.js drops what is published while disconnected), or was silently dead before the client
 * noticed. Nothing is lost for good, because whoever lost the connection finds out:
 * - on each reconnection a node tells its own sockets to resync (handlers.resync), once NATS has
 *   its subscriptions again (a flush after the reconnect), so what it missed meanwhile is pulled by
 *   `seq` and `eventSeq`;
 * - and it says so on `im.r`: the nodes that stayed connected resync their sockets too, for the
 *   pushes this node published into the dead connection;
 * - while the connection stays down, the node resyncs its sockets every `resyncWhileDownMs`, so its
 *   users still get what others write, late, instead of not at all.
 * A node subscribes to the subject of each user it holds a socket of and no other, so it does no
 * work for users it does not hold. Subjects are `im.<deployment>.u.<user id in hex>` (user ids may hold
 * characters NATS gives a meaning to), `im.<deployment>.s` for ended sessions (every node checks its
 * sockets) and `im.<deployment>.r`. The deployment is the database's random id (PostgreSQL migration
 * 5): nodes of one database share it, and two deployments on one NATS never hear each other (a push
 * holds message content).
 * A message is `<node id>\n<sent at, ms>\n<payload>`: a node ignores its own, and the receiver
 * reports the lag (handlers.lag; clocks of different machines add their skew).
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
  /**
   * Pushes meant for this node's sockets may have been lost (its connection to NATS came back,
   * another node's did, or it is still down): tell them to resync.
   */
  resync?(reason: BusResyncReason): void
  /** Milliseconds from publish to receipt of a push from another node. */
  lag?(ms: number): void
}

export type BusResyncReason = 'reconnected' | 'peerReconnected' | 'down'

export interface BusOptions {
  /**
   * The subject namespace: the nodes of one deployment share it (server.ts passes the database's
   * deployment id). Default: a random one, i.e. a node alone.
   */
  deployment?: string
  /** While the connection to NATS is down, the sockets resync this often (default 15 s). */
  resyncWhileDownMs?: number
  /** Between attempts to reach NATS again (default 1 s, plus up to 100 ms of jitter). */
  reconnectTimeWaitMs?: number
}

/** A NATS subject token: letters, digits, `_` and `-` only (no `.`, `*`, `>` or spaces). */
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]{1,64}$/

/** A bus message: origin node, publish time and payload; undefined when malformed. */
export function parseBusMessage(
  text: string,
): { origin: string; sentAt: number; payload: string } | undefined {
  const first = text.indexOf('\n')
  const second = first < 0 ? -1 : text.indexOf('\n', first + 1)
  if (second < 0) return undefined
  const sentAt = Number(text.slice(first + 1, second))
  if (!Number.isFinite(sentAt)) return undefined
  return { origin: text.slice(0, first), sentAt, payload: text.slice(second + 1) }
}

/** NATS core (at-most-once: resync covers what is lost). */
export class NatsBus implements Bus {
  readonly nodeId = randomBytes(8).toString('hex')
  private readonly users = new Map<string, Subscription>()
  private readonly others: Subscription[]
  private downTimer: NodeJS.Timeout | undefined
  /** Between a disconnect and the reconnect. */
  private down = false
  private closed = false

  private readonly prefix: string
  private readonly sessionSubject: string
  private readonly resyncSubject: string

  private constructor(
    private readonly nc: NatsConnection,
    private readonly handlers: BusHandlers,
    private readonly options: BusOptions,
  ) {
    this.prefix = `im.${options.deployment ?? randomBytes(8).toString('hex')}`
    this.sessionSubject = `${this.prefix}.s`
    this.resyncSubject = `${this.prefix}.r`
    this.others = [
      nc.subscribe(this.sessionSubject, {
        callback: (err, msg) => {
          const m = err ? undefined : parseBusMessage(msg.string())
          if (m && m.origin !== this.nodeId && m.payload)
            this.handlers.sessionEnded(Buffer.from(m.payload, 'hex'))
        },
      }),
      nc.subscribe(this.resyncSubject, {
        callback: (err, msg) => {
          const m = err ? undefined : parseBusMessage(msg.string())
          if (m && m.origin !== this.nodeId) this.handlers.resync?.('peerReconnected')
        },
      }),
    ]
    void this.watchStatus()
  }

  /**
   * Connects to NATS (`nats://host:port`, several comma-separated). NATS must answer now: a node
   * does not start without the bus (a wrong URL would leave it serving alone without a word). Once
   * connected it never gives up on NATS.
   */
  static async connect(servers: string, handlers: BusHandlers, options: BusOptions = {}): Promise<NatsBus> {
    if (options.deployment !== undefined && !SUBJECT_TOKEN.test(options.deployment))
      throw new Error(`invalid bus deployment id ${JSON.stringify(options.deployment)}`)
    const nc = await connect({
      servers: servers.split(',').map((s) => s.trim()),
      name: 'im-server',
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectTimeWaitMs ?? 1000,
      // A silently dead connection is noticed within about 30 s, not the default 4 minutes.
      pingInterval: 10_000,
      maxPingOut: 2,
    })
    return new NatsBus(nc, handlers, options)
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (this.closed) return
      if (status.type === 'disconnect') {
        this.down = true
        this.startDownTimer()
      } else if (status.type === 'reconnect') {
        this.down = false
        void this.reconnected()
      }
    }
  }

  private startDownTimer(): void {
    if (this.downTimer) return
    const every = this.options.resyncWhileDownMs ?? 15_000
    this.downTimer = setInterval(() => this.handlers.resync?.('down'), every)
    this.downTimer.unref()
  }

  private async reconnected(): Promise<void> {
    clearInterval(this.downTimer)
    this.downTimer = undefined
    try {
      // NATS has processed our subscriptions once the flush returns: from then on nothing is missed.
      await this.nc.flush()
    } catch {
      return // down again: the next reconnect comes back here
    }
    if (this.closed) return
    this.handlers.resync?.('reconnected')
    this.send(this.resyncSubject, '')
  }

  private userSubject(userId: string): string {
    return `${this.prefix}.u.${Buffer.from(userId, 'utf8').toString('hex')}`
  }

  watchUser(userId: string): void {
    if (this.users.has(userId) || this.closed) return
    const sub = this.nc.subscribe(this.userSubject(userId), {
      callback: (err, msg) => {
        const m = err ? undefined : parseBusMessage(msg.string())
        if (!m || m.origin === this.nodeId) return
        this.handlers.lag?.(Date.now() - m.sentAt)
        this.handlers.push(userId, m.payload)
      },
    })
    this.users.set(userId, sub)
  }

  unwatchUser(userId: string): void {
    const sub = this.users.get(userId)
    this.users.delete(userId)
    if (sub && !this.closed) sub.unsubscribe()
  }

  publishToUser(userId: string, payload: string): void {
    this.send(this.userSubject(userId), payload)
  }

  publishSessionEnded(tokenHash: Buffer): void {
    this.send(this.sessionSubject, tokenHash.toString('hex'))
  }

  /** Never throws: a push that cannot go (closed, draining) is one the resync covers. */
  private send(subject: string, payload: string): void {
    if (this.closed) return
    try {
      this.nc.publish(subject, `${this.nodeId}\n${Date.now()}\n${payload}`)
    } catch {
      // at-most-once
    }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.downTimer)
    if (!this.down) {
      for (const sub of this.others) sub.unsubscribe()
      // A drain waits for NATS; one that went away meanwhile must not hold the shutdown.
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        this.nc.drain().catch(() => undefined),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000))),
      ])
      clearTimeout(timer)
    }
    if (!this.nc.isClosed()) await this.nc.close().catch(() => undefined)
  }
}
