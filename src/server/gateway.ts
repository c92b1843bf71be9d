/**
 * The WebSocket gateway: its sockets' lifecycle (attach, heartbeats, session expiry, close) and the
 * queue of frames for the group commit. Its parts are in gateway/: the upgrade checks (upgrade.ts),
 * the frames on the wire (frames.ts), the inbound caps and rate limits (inboundLimits.ts), the send
 * budgets (sendBudgets.ts) and the group commit itself (groupCommit.ts).
 */
import type { IncomingMessage } from 'node:http'
import type { DeliveryBudget } from './deliveryBudget'
import type { OpPolicy } from './policy'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import { SOCKET_SUBPROTOCOL } from '../shared/browserSocketAuth'
import { Code } from '../shared/codes'
import type { Accounts } from './accounts'
import { CLOSE_SESSION_EXPIRED, Connection, type ConnectionOptions } from './connection'
import type { ConnectionLimits } from './limits'
import type { Hub } from './hub'
import type { PresenceTracker } from './presence'
import type { Logger } from './log'
import type { ServerMetrics } from './metrics'
import type { GroupReceiptSettings } from '../shared/model'
import type { Storage } from './storage/types'
import { leadingRequestId, parseFrame, rawSize, rawToString, replyFrame, type Job } from './gateway/frames'
import { connectionOptions, InboundLimits } from './gateway/inboundLimits'
import { GroupCommit } from './gateway/groupCommit'
import { SendBudgets } from './gateway/sendBudgets'
import { admitUpgrade } from './gateway/upgrade'

// Re-exported for their users elsewhere (httpApi.ts, server.ts).
export { describeIssues } from './gateway/frames'
export { bearerToken, rejectUpgrade } from './gateway/upgrade'

export interface GatewayOptions extends ConnectionOptions {
  maxPayload: number
  heartbeatMs: number
  /** One bucket per user across all of that user's connections. */
  userRatePerSecond: number
  userRateBurst: number
  /**
   * Socket caps, byte budgets and abuse thresholds (limits.ts; the server always sets them). Absent:
   * none of them, for the stand-in sockets of unit tests.
   */
  limits?: ConnectionLimits
  /** How often the sockets of expired sessions are looked for and closed (default 1 s). */
  sessionSweepMs?: number
}

export interface GatewayDeps {
  storage: Storage
  accounts: Accounts
  hub: Hub
  log: Logger
  now: () => number
  receiptDefaults: GroupReceiptSettings
  deliveryBudget: DeliveryBudget
  /** Quotas and the lookup budget (policy.ts), passed to every operation. */
  policy?: OpPolicy
  /** Counts frames, operations and group commits (metrics.ts); absent: nothing is counted. */
  metrics?: ServerMetrics
  /** Told of every socket that opens and closes (presence.ts); absent: no presence. */
  presence?: Pick<PresenceTracker, 'opened' | 'closed'>
}

/** Frames per group commit at most; a larger burst is committed in slices of this size. */
export const MAX_BATCH = 256

/**
 * The WebSocket side: authentication during the upgrade, one request per frame, replies by id,
 * pushes after replies, heartbeats.
 *
 * Frames are not run one by one. Those that arrive in one event-loop turn are collected and run as
 * one group commit (gateway/groupCommit.ts), in slices of MAX_BATCH. One batch runs at a time, and a
 * connection's requests are its chain in the batch, so they are applied in the order it sent them.
 */
export class Gateway {
  private readonly wss: WebSocketServer
  private readonly heartbeat: NodeJS.Timeout
  private readonly sessionSweep: NodeJS.Timeout
  /** Socket caps and inbound rate limits (inboundLimits.ts). */
  private readonly inbound: InboundLimits
  /** Held frames of connections over their send budget (sendBudgets.ts). */
  private readonly budgets: SendBudgets
  /** Runs a turn's frames and sends their replies and pushes (groupCommit.ts). */
  private readonly groupCommit: GroupCommit
  private closing = false
  /** Frames of this turn, waiting for the next group commit. */
  private pending: Job[] = []
  private flushScheduled = false
  private flushing = false
  private idleWaiters: (() => void)[] = []

  constructor(
    private readonly deps: GatewayDeps,
    private readonly options: GatewayOptions,
  ) {
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: options.maxPayload,
      // Compression costs CPU and memory per socket for frames that are small JSON anyway.
      perMessageDeflate: false,
      // A browser offers its session as subprotocols (browserSocketAuth.ts): echo the version only,
      // never the token; a client that offers names without it gets none selected.
      handleProtocols: (offered) => (offered.has(SOCKET_SUBPROTOCOL) ? SOCKET_SUBPROTOCOL : false),
    })
    this.inbound = new InboundLimits(options, deps)
    this.budgets = new SendBudgets(options, deps, (job) => this.enqueue(job))
    this.groupCommit = new GroupCommit(deps, this.budgets, options.limits !== undefined, (connection) =>
      this.expire(connection),
    )
    this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatMs)
    this.sessionSweep = setInterval(() => this.sweepSessions(), options.sessionSweepMs ?? 1000)
  }

  /** What the server holds for its sockets now (tests, and operators' curiosity). */
  stats(): { connections: number; bufferedBytes: number; heldFrames: number; holdingConnections: number } {
    const all = this.deps.hub.all()
    const { heldFrames, holdingConnections } = this.budgets.stats()
    return {
      connections: all.length,
      bufferedBytes: all.reduce((sum, c) => sum + c.ws.bufferedAmount, 0),
      heldFrames,
      holdingConnections,
    }
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const checks = {
      accounts: this.deps.accounts,
      log: this.deps.log,
      closing: () => this.closing,
      crowded: (userId: string, address: string) => this.inbound.crowded(userId, address),
    }
    admitUpgrade(req, socket, checks, (session, address) => {
      // ws completes the upgrade and calls back in this same turn, so the caps above cannot be raced.
      this.wss.handleUpgrade(req, socket, head, (ws) =>
        this.attach(ws, new Connection(ws, session, connectionOptions(this.options), this.deps.log, address)),
      )
    })
  }

  private attach(ws: WebSocket, connection: Connection): void {
    const { hub, log } = this.deps
    // The upgrade may finish after close() took its list of sockets.
    if (this.closing) return ws.close(1001, 'server shutting down')
    hub.add(connection)
    this.inbound.opened(connection.address)
    this.deps.presence?.opened(connection)
    // What the server wrote has left: frames held for this user's budget may go on.
    ;(ws as unknown as { _socket?: Duplex })._socket?.on('drain', () =>
      this.budgets.release(connection.userId),
    )
    log.debug('connected', {
      connection: connection.id,
      userId: connection.userId,
      deviceId: connection.session.deviceId,
    })
    ws.on('pong', () => {
      connection.alive = true
    })
    ws.on('message', (raw) => {
      connection.alive = true
      // A socket being closed is not read into strings any more (see handleFrame).
      if (ws.readyState === WebSocket.OPEN) this.handleFrame(connection, rawToString(raw), rawSize(raw))
    })
    // ws reports protocol violations (oversized frame: close 1009, bad UTF-8: 1007) here, then closes.
    ws.on('error', (error) => {
      if ((error as { code?: string }).code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        this.deps.metrics?.frameRefused(Code.FRAME_TOO_LARGE)
      log.debug('socket error', { connection: connection.id, error: error.message })
    })
    ws.on('close', (code) => {
      hub.remove(connection)
      this.inbound.closed(connection.address)
      this.deps.presence?.closed(connection)
      this.budgets.closed(connection)
      log.debug('disconnected', { connection: connection.id, userId: connection.userId, code })
    })
  }

  /** Closes a socket whose session has expired (it reconnects, and its token is refused then). */
  private expire(connection: Connection): void {
    if (connection.ws.readyState !== WebSocket.OPEN) return
    this.deps.log.info('session expired, closing its socket', {
      connection: connection.id,
      userId: connection.userId,
    })
    connection.ws.close(CLOSE_SESSION_EXPIRED, 'session expired')
  }

  private sweepSessions(): void {
    const now = this.deps.now()
    for (const connection of this.deps.hub.all()) if (connection.expired(now)) this.expire(connection)
    // A socket that took what was held for it without ever filling up emits no 'drain': look again.
    this.budgets.releaseAll()
  }

  /**
   * Never throws: whatever a frame holds, the connection and the server keep going. The frame is
   * checked here; what it asks for runs in the next group commit.
   */
  handleFrame(connection: Connection, text: string, size = text.length): void {
    const { metrics } = this.deps
    metrics?.frameReceived()
    const readAt = metrics ? performance.now() : 0
    // A socket being closed (logout, expiry, abuse) is not served any more.
    if (connection.ws.readyState !== WebSocket.OPEN) return
    if (connection.expired(this.deps.now())) return this.expire(connection)
    const refusal = this.inbound.admit(connection, size)
    if (refusal !== null) {
      metrics?.frameRefused(Code.RATE_LIMITED)
      if (this.inbound.refused(connection, size)) return
      return this.enqueue({
        connection,
        reply: replyFrame(
          leadingRequestId(text),
          Code.RATE_LIMITED,
          refusal.msg,
          undefined,
          refusal.retryAfterMs,
        ),
      })
    }
    this.inbound.admitted(connection)
    const parsed = parseFrame(text)
    if (parsed.reply === undefined) return this.enqueue({ connection, ...parsed, readAt })
    metrics?.frameRefused(parsed.refused)
    this.enqueue({ connection, reply: parsed.reply })
  }

  private enqueue(job: Job): void {
    // Behind the frames held for its connection, in order.
    if (this.budgets.queueBehind(job)) return
    this.pending.push(job)
    if (this.flushScheduled || this.flushing) return
    this.flushScheduled = true
    // After the poll phase: every frame that arrived in this turn is in `pending` by then.
    setImmediate(() => void this.flush())
  }

  /** Runs what is pending as one group commit, then again while more arrived meanwhile. */
  private async flush(): Promise<void> {
    this.flushScheduled = false
    this.flushing = true
    try {
      while (this.pending.length > 0) {
        // A burst is committed in slices, so the first requests of it are answered (their replies
        // written) before the rest run, instead of all waiting for the largest possible batch.
        const jobs = this.pending.splice(0, MAX_BATCH)
        try {
          await this.groupCommit.run(jobs)
        } catch (error) {
          // A bug between the commit and the sockets must not stop the gateway (nor the process).
          this.deps.log.error('sending a batch failed', { frames: jobs.length, error })
        }
      }
    } finally {
      this.flushing = false
      if (!this.flushScheduled) for (const resolve of this.idleWaiters.splice(0)) resolve()
    }
  }

  /** Resolves once every frame read so far has been answered (tests, and close). */
  whenIdle(): Promise<void> {
    if (!this.flushing && !this.flushScheduled) return Promise.resolve()
    return new Promise((resolve) => this.idleWaiters.push(resolve))
  }

  private checkHeartbeats(): void {
    this.inbound.sweep()
    for (const connection of this.deps.hub.all()) {
      // A paused socket's pongs wait unread: draining is its sign of life (sendBudgets.ts).
      if (this.budgets.checkPaused(connection)) continue
      if (!connection.alive) {
        this.deps.log.debug('heartbeat missed', { connection: connection.id, userId: connection.userId })
        connection.ws.terminate()
        continue
      }
      connection.alive = false
      if (connection.ws.readyState === WebSocket.OPEN) connection.ws.ping()
    }
  }

  /** Closes every socket (1001), waiting at most a second for each peer to answer. */
  async close(): Promise<void> {
    this.closing = true
    clearInterval(this.heartbeat)
    clearInterval(this.sessionSweep)
    // Requests already read are answered before the sockets close.
    await this.whenIdle()
    await Promise.all(
      this.deps.hub.all().map(
        ({ ws }) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve()
            const timer = setTimeout(() => ws.terminate(), 1000)
            ws.once('close', () => {
              clearTimeout(timer)
              resolve()
            })
            ws.close(1001, 'server shutting down')
          }),
      ),
    )
    await new Promise<void>((resolve) => this.wss.close(() => resolve()))
  }
}
