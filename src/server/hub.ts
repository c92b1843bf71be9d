import { CLOSE_SESSION_REVOKED, type Connection } from './connection'

export interface QueuedPush {
  userIds: readonly string[]
  /** The whole frame, serialized once for every recipient. */
  payload: string
  /** The connection the request came from, which learns the outcome from its reply instead. */
  except?: Connection
}

/** The open connections of every user; every device of a user is its own connection. */
export class Hub {
  private readonly byUser = new Map<string, Set<Connection>>()

  add(connection: Connection): void {
    let set = this.byUser.get(connection.userId)
    if (!set) {
      set = new Set()
      this.byUser.set(connection.userId, set)
    }
    set.add(connection)
  }

  remove(connection: Connection): void {
    const set = this.byUser.get(connection.userId)
    if (!set) return
    set.delete(connection)
    if (set.size === 0) this.byUser.delete(connection.userId)
  }

  connectionsOf(userId: string): Connection[] {
    return [...(this.byUser.get(userId) ?? [])]
  }

  all(): Connection[] {
    return [...this.byUser.values()].flatMap((set) => [...set])
  }

  /** Hands each push to every open connection of its users (but the one it excepts), in order. */
  route(pushes: readonly QueuedPush[], send: (connection: Connection, payload: string) => void): void {
    for (const { userIds, payload, except } of pushes) {
      for (const userId of userIds) {
        const targets = this.byUser.get(userId)
        if (!targets) continue
        for (const connection of targets) if (connection !== except) send(connection, payload)
      }
    }
  }

  /** Tells every socket of a revoked session so, then closes it. */
  endSession(tokenHash: Buffer): void {
    const payload = '{"type":"push","event":"sessionRevoked","data":{}}'
    for (const connection of this.all()) {
      if (!connection.session.tokenHash.equals(tokenHash)) continue
      connection.send(payload)
      connection.ws.close(CLOSE_SESSION_REVOKED, 'session revoked')
    }
  }
}
