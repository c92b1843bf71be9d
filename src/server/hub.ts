import { CLOSE_SESSION_REVOKED, type Connection, type OutgoingPush } from './connection'

export interface QueuedPush {
  userId: string
  frame: OutgoingPush
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

  deliver(pushes: readonly QueuedPush[]): void {
    for (const { userId, frame, except } of pushes) {
      const targets = this.byUser.get(userId)
      if (!targets) continue
      const payload = JSON.stringify(frame)
      for (const connection of targets) if (connection !== except) connection.send(payload)
    }
  }

  /** Tells every socket of a revoked session so, then closes it. */
  endSession(tokenHash: Buffer): void {
    const payload = JSON.stringify({ type: 'push', event: 'sessionRevoked', data: {} } satisfies OutgoingPush)
    for (const connection of this.all()) {
      if (!connection.session.tokenHash.equals(tokenHash)) continue
      connection.send(payload)
      connection.ws.close(CLOSE_SESSION_REVOKED, 'session revoked')
    }
  }
}
