/**
 * Live presence across devices and server nodes (issue 13, H4). A user is online while any of their
 * devices holds a socket on any node: each node counts its own sockets per user in the `presence`
 * table (one row per user and node) and keeps its rows fresh; a node that dies without closing them
 * leaves rows that go stale and are swept by whichever node looks first. "Online" and "offline" are
 * pushed, when they change, to those the user's presence setting lets see it (ops/presence.ts), over
 * the hub, so the bus carries them to the other nodes like any push. Nothing of it is an event of
 * the log (syncEvents): a device that reconnects asks again (getPresence).
 */
import { randomBytes } from 'node:crypto'
import type { PresenceInfo } from '../shared/presence'
import type { Connection } from './connection'
import type { Hub } from './hub'
import type { Logger } from './log'
import { PRESENCE_REFRESH_MS, PRESENCE_STALE_MS, presenceAudience } from './ops/presence'
import type { Storage } from './storage/types'

export interface PresenceOptions {
  /** How often a node marks its rows fresh and sweeps stale ones (default PRESENCE_REFRESH_MS). */
  refreshMs?: number
  /** Rows not refreshed for this long belong to a node that is gone (default 3 × refreshMs). */
  staleMs?: number
}

export interface PresenceDeps {
  storage: Storage
  hub: Hub
  log: Logger
  now: () => number
  /** The bus's node id with several nodes; absent: a random one. */
  nodeId?: string
  /**
   * Alone on its database (SQLite): every row there is of an earlier run of this very server, so
   * they are all swept at start instead of after staleMs.
   */
  alone: boolean
}

export class PresenceTracker {
  readonly nodeId: string
  readonly staleMs: number
  private readonly refreshMs: number
  private timer: NodeJS.Timeout | undefined
  /**
   * One change at a time, in the order the sockets opened and closed: a socket that closes right
   * after opening must not be taken off before it was counted.
   */
  private queue: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(
    private readonly deps: PresenceDeps,
    options: PresenceOptions = {},
  ) {
    this.nodeId = deps.nodeId ?? randomBytes(8).toString('hex')
    this.refreshMs = options.refreshMs ?? PRESENCE_REFRESH_MS
    this.staleMs = options.staleMs ?? (options.refreshMs ? options.refreshMs * 3 : PRESENCE_STALE_MS)
  }

  /** Live rows are those refreshed after this moment. */
  liveAfter(): number {
    return this.deps.now() - this.staleMs
  }

  async start(): Promise<void> {
    if (this.deps.alone) await this.deps.storage.sweepPresence(this.deps.now())
    this.timer = setInterval(() => this.enqueue(() => this.refresh()), this.refreshMs)
    this.timer.unref()
  }

  opened(connection: Connection): void {
    const { userId } = connection
    this.enqueue(async () => {
      const at = this.deps.now()
      if (await this.deps.storage.addPresenceSocket(userId, this.nodeId, at, this.liveAfter()))
        await this.announce({ userId, state: 'online', lastSeenAt: null })
    })
  }

  closed(connection: Connection): void {
    const { userId } = connection
    this.enqueue(async () => {
      const at = this.deps.now()
      if (await this.deps.storage.removePresenceSocket(userId, this.nodeId, at, this.liveAfter()))
        await this.announce({ userId, state: 'offline', lastSeenAt: at })
    })
  }

  /** Waits for what is queued; nothing more is announced (shutdown: the sockets are closing). */
  async stop(): Promise<void> {
    clearInterval(this.timer)
    this.stopped = true
    await this.queue
  }

  private enqueue(work: () => Promise<void>): void {
    this.queue = this.queue.then(work).catch((error: unknown) => {
      // The database may be unavailable for a while: presence is late then, the rest goes on.
      this.deps.log.warn('presence update failed', { error })
    })
  }

  private async refresh(): Promise<void> {
    const { storage, now } = this.deps
    await storage.refreshPresence(this.nodeId, now())
    for (const userId of await storage.sweepPresence(this.liveAfter())) {
      const [row] = await storage.getPresence([userId], this.liveAfter())
      await this.announce({ userId, state: 'offline', lastSeenAt: row?.lastSeenAt ?? null })
    }
  }

  /** To everyone the user's presence setting lets see it; the others hear nothing of it. */
  private async announce(info: PresenceInfo): Promise<void> {
    if (this.stopped) return
    const audience = await presenceAudience(this.deps.storage, info.userId)
    if (audience.length === 0) return
    const payload = JSON.stringify({ type: 'push', event: 'presence', data: info })
    this.deps.hub.route([{ userIds: audience, payload }], (connection, frame) => connection.send(frame))
  }
}
