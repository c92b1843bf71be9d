import type { Bus, BusResyncReason } from './bus'
import { CLOSE_SESSION_REVOKED, type Connection } from './connection'
import type { ServerMetrics } from './metrics'

/** What the hub counts (metrics.ts). */
type HubMetrics = Pick<
  ServerMetrics,
  'pushesDelivered' | 'busPushReceived' | 'busPushesPublished' | 'framesHandedOut'
>

export interface QueuedPush {
  userIds: readonly string[]
  /** The whole frame, serialized once for every recipient. */
  payload: string
  /** The connection the request came from, which learns the outcome from its reply instead. */
  except?: Connection
}

/**
 * The open connections of every user on this node; every device of a user is its own connection.
 * With a bus (several nodes, bus.ts), pushes also go to the user's sockets on the other nodes, and
 * this node hears the pushes for the users it holds.
 */
export class Hub {
  private readonly byUser = new Map<string, Set<Connection>>()
  private bus: Bus | undefined

  /** `now`: the server's clock (session expiry of sockets reached through the bus). */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly metrics?: HubMetrics,
  ) {}

  /** Joins the other nodes: from now on pushes and ended sessions cross the bus. */
  attachBus(bus: Bus): void {
    this.bus = bus
    for (const userId of this.byUser.keys()) bus.watchUser(userId)
  }

  add(connection: Connection): void {
    let set = this.byUser.get(connection.userId)
    if (!set) {
      set = new Set()
      this.byUser.set(connection.userId, set)
      this.bus?.watchUser(connection.userId)
    }
    set.add(connection)
  }

  remove(connection: Connection): void {
    const set = this.byUser.get(connection.userId)
    if (!set) return
    set.delete(connection)
    if (set.size === 0) {
      this.byUser.delete(connection.userId)
      this.bus?.unwatchUser(connection.userId)
    }
  }

  /** A push from another node for a user this node holds. */
  deliverFromBus(userId: string, payload: string): void {
    const now = this.now()
    let delivered = 0
    // As for local pushes: nothing for a socket whose session has expired (the sweep closes it).
    for (const connection of this.byUser.get(userId) ?? [])
      if (!connection.expired(now)) {
        connection.send(payload)
        delivered++
      }
    this.metrics?.busPushReceived(delivered)
  }

  /** Open connections and distinct users on this node (metrics). */
  sizes(): { sockets: number; users: number } {
    let sockets = 0
    for (const set of this.byUser.values()) sockets += set.size
    return { sockets, users: this.byUser.size }
  }

  /**
   * Pushes from other nodes may have been lost (the bus was down, bus.ts): every socket here is told
   * to resync, and pulls what it missed by seq and eventSeq.
   */
  resyncAll(reason: BusResyncReason): void {
    const payload = JSON.stringify({ type: 'push', event: 'resync', data: { reason } })
    const now = this.now()
    let sent = 0
    for (const connection of this.all()) {
      if (connection.expired(now)) continue
      connection.send(payload)
      sent++
    }
    this.metrics?.framesHandedOut(sent)
  }

  /**
   * Closes the sockets of every session `isLive` says has ended: after the bus was down, the `im.s`
   * of a logout on another node may have been lost. One check per session, not per socket.
   */
  async recheckSessions(isLive: (tokenHash: Buffer) => Promise<boolean>): Promise<void> {
    const sessions = new Map<string, Buffer>()
    for (const connection of this.all())
      sessions.set(connection.session.tokenHash.toString('hex'), connection.session.tokenHash)
    for (const tokenHash of sessions.values()) if (!(await isLive(tokenHash))) this.endLocalSession(tokenHash)
  }

  connectionsOf(userId: string): Connection[] {
    return [...(this.byUser.get(userId) ?? [])]
  }

  all(): Connection[] {
    return [...this.byUser.values()].flatMap((set) => [...set])
  }

  /** Hands each push to every open connection of its users (but the one it excepts), in order. */
  route(pushes: readonly QueuedPush[], send: (connection: Connection, payload: string) => void): void {
    let delivered = 0
    for (const { userIds, payload, except } of pushes) {
      if (this.bus) this.metrics?.busPushesPublished(userIds.length)
      for (const userId of userIds) {
        // Other devices of the user may be on other nodes (each node ignores its own messages).
        this.bus?.publishToUser(userId, payload)
        const targets = this.byUser.get(userId)
        if (!targets) continue
        for (const connection of targets)
          if (connection !== except) {
            send(connection, payload)
            delivered++
          }
      }
    }
    if (delivered > 0) this.metrics?.pushesDelivered(delivered)
  }

  /** Tells every socket of a revoked session so, then closes it, on every node. */
  endSession(tokenHash: Buffer): void {
    this.bus?.publishSessionEnded(tokenHash)
    this.endLocalSession(tokenHash)
  }

  /** The sockets of an ended session on this node. */
  endLocalSession(tokenHash: Buffer): void {
    const payload = '{"type":"push","event":"sessionRevoked","data":{}}'
    for (const connection of this.all()) {
      if (!connection.session.tokenHash.equals(tokenHash)) continue
      connection.send(payload)
      this.metrics?.framesHandedOut(1)
      connection.ws.close(CLOSE_SESSION_REVOKED, 'session revoked')
    }
  }
}
