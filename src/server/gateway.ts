import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { DeliveryBudget } from './deliveryBudget'
import type { OpPolicy } from './policy'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { z } from 'zod'
import { Code, CodedError, codeDescriptions, codeName, type CodeValue } from '../shared/codes'
import { DEVICE_HEADER, RequestEnvelope, requests, WS_PATH, type RequestOp } from '../shared/protocol'
import type { Accounts } from './accounts'
import { clientAddress } from './authGuard'
import { CLOSE_SESSION_EXPIRED, CLOSE_TOO_MUCH, Connection, type ConnectionOptions } from './connection'
import type { ConnectionLimits } from './limits'
import type { Hub } from './hub'
import type { Logger } from './log'
import { UserRateLimits } from './rateLimit'
import { PushBatch, type OpContext } from './ops/context'
import { handlers } from './ops/index'
import type { GroupReceiptSettings } from '../shared/model'
import type { Storage, Unit, UnitResult } from './storage/types'

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
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : 'data'}: ${issue.message}`)
    .join('; ')
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
  return match?.[1]
}

function rawToString(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8')
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8')
  return raw.toString('utf8')
}

function rawSize(raw: RawData): number {
  if (Array.isArray(raw)) return raw.reduce((sum, chunk) => sum + chunk.length, 0)
  return raw.byteLength
}

/**
 * The id of a frame that is refused before parsing (rate limits): read from its first characters,
 * where every client of ours puts it (`{"id":12,…`), so the refusal can still be matched.
 */
function leadingRequestId(text: string): number | null {
  const match = /^\s*\{\s*"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(text.slice(0, 48))
  return match?.[1] ? Number(match[1]) : null
}

/** The request id, if a frame carries a usable one, so even a rejected frame's reply can be matched. */
function requestIdOf(value: unknown): number | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null
  const { id } = value
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null
}

export function rejectUpgrade(socket: Duplex, status: number, code: CodeValue, msg: string): void {
  const body = JSON.stringify({ code, msg })
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/** One frame's work: an operation to run in the next group commit, or an answer already known. */
type Job =
  | { connection: Connection; id: number; op: RequestOp; data: unknown; reply?: undefined }
  | { connection: Connection; reply: string }

function replyFrame(id: number | null, code: CodeValue, msg?: string, data?: unknown): string {
  return JSON.stringify(
    code === Code.OK
      ? { type: 'reply', id, code, data }
      : { type: 'reply', id, code, msg: msg ?? codeDescriptions[codeName(code) ?? 'INTERNAL'] },
  )
}

/** Frames per group commit at most; a larger burst is committed in slices of this size. */
export const MAX_BATCH = 256

/** What a request of a batch whose commit failed is told: the storage's own words stay in the log. */
const NOT_SAVED = 'nothing of this request was saved; retry'

/**
 * The WebSocket side: authentication during the upgrade, one request per frame, replies by id,
 * pushes after replies, heartbeats.
 *
 * Frames are not run one by one. Those that arrive in one event-loop turn are collected and run as
 * one group commit (`Storage.batch`): every operation in its own savepoint of one transaction, one
 * commit for all. Only after that commit do their replies and pushes go out, each connection's in
 * one corked socket write; an operation that fails is rolled back alone and answers with its own
 * error. One batch runs at a time, so a connection's requests are applied in the order it sent them.
 */
export class Gateway {
  private readonly wss: WebSocketServer
  private readonly heartbeat: NodeJS.Timeout
  private readonly sessionSweep: NodeJS.Timeout
  private readonly userLimits: UserRateLimits
  /** Inbound bytes per user, when limited. */
  private readonly userBytes: UserRateLimits | undefined
  /** Open sockets per client address (for socketsPerAddress). */
  private readonly byAddress = new Map<string, number>()
  /** Users whose socket was closed for ignoring its limits, until when their new sockets are refused. */
  private readonly cooldown = new Map<string, number>()
  /**
   * Frames of connections over their send budget, in arrival order: neither read nor run until what
   * the server already wrote to them drains (see overBudget).
   */
  private readonly held = new Map<Connection, Job[]>()
  /**
   * Held connections the server stopped reading (their own socket does not drain), with the unsent
   * bytes seen at the last heartbeat: their pongs wait unread, so draining is their sign of life.
   */
  private readonly paused = new Map<Connection, number>()
  /** Reply bytes of the batch being committed, per connection, not yet handed to its socket. */
  private readonly unsent = new Map<Connection, number>()
  /** True while a batch runs: releasing held frames then could reorder a connection's requests. */
  private committing = false
  /** Users to release once the batch is over. */
  private readonly releaseLater = new Set<string>()
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
    })
    this.userLimits = new UserRateLimits(options.userRatePerSecond, options.userRateBurst)
    const limits = options.limits
    this.userBytes =
      limits && new UserRateLimits(limits.userInboundBytesPerSecond, limits.userInboundBurstBytes)
    this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatMs)
    this.sessionSweep = setInterval(() => this.sweepSessions(), options.sessionSweepMs ?? 1000)
  }

  /** What the server holds for its sockets now (tests, and operators' curiosity). */
  stats(): { connections: number; bufferedBytes: number; heldFrames: number; holdingConnections: number } {
    const all = this.deps.hub.all()
    let heldFrames = 0
    for (const jobs of this.held.values()) heldFrames += jobs.length
    return {
      connections: all.length,
      bufferedBytes: all.reduce((sum, c) => sum + c.ws.bufferedAmount, 0),
      heldFrames,
      holdingConnections: this.held.size,
    }
  }

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    // A client that vanishes mid-handshake must not become an unhandled 'error'.
    socket.on('error', () => socket.destroy())
    if (this.closing) return rejectUpgrade(socket, 503, Code.SERVER_UNREACHABLE, 'server is shutting down')
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (url.pathname !== WS_PATH)
      return rejectUpgrade(socket, 404, Code.UNKNOWN_OPERATION, `no WebSocket at ${url.pathname}`)
    const token = bearerToken(req.headers.authorization) ?? url.searchParams.get('token') ?? undefined
    if (!token) return rejectUpgrade(socket, 401, Code.NOT_LOGGED_IN, codeDescriptions.NOT_LOGGED_IN)
    this.deps.accounts.authenticate(token).then(
      (session) => {
        if (!session) return rejectUpgrade(socket, 401, Code.TOKEN_INVALID, codeDescriptions.TOKEN_INVALID)
        // Every token is bound to the device it was issued to, and the device must say who it is.
        const deviceId = req.headers[DEVICE_HEADER]
        if (deviceId !== session.deviceId) {
          const msg =
            typeof deviceId === 'string'
              ? 'the token was issued to another device'
              : `the ${DEVICE_HEADER} header of the device the token was issued to is missing`
          return rejectUpgrade(socket, 401, Code.TOKEN_INVALID, msg)
        }
        if (this.closing || socket.destroyed) return socket.destroy()
        const address = clientAddress(req)
        const crowded = this.crowded(session.userId, address)
        if (crowded) return rejectUpgrade(socket, 429, Code.RATE_LIMITED, crowded)
        // ws completes the upgrade and calls back in this same turn, so the caps above cannot be raced.
        this.wss.handleUpgrade(req, socket, head, (ws) =>
          this.attach(ws, new Connection(ws, session, this.connectionOptions(), this.deps.log, address)),
        )
      },
      (error: unknown) => {
        this.deps.log.error('authentication failed', { error })
        rejectUpgrade(socket, 503, Code.SERVER_UNREACHABLE, 'the server cannot check sessions right now')
      },
    )
  }

  private attach(ws: WebSocket, connection: Connection): void {
    const { hub, log } = this.deps
    // The upgrade may finish after close() took its list of sockets.
    if (this.closing) return ws.close(1001, 'server shutting down')
    hub.add(connection)
    this.byAddress.set(connection.address, (this.byAddress.get(connection.address) ?? 0) + 1)
    // What the server wrote has left: frames held for this user's budget may go on.
    ;(ws as unknown as { _socket?: Duplex })._socket?.on('drain', () => this.release(connection.userId))
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
    ws.on('error', (error) => log.debug('socket error', { connection: connection.id, error: error.message }))
    ws.on('close', (code) => {
      hub.remove(connection)
      const left = (this.byAddress.get(connection.address) ?? 1) - 1
      if (left > 0) this.byAddress.set(connection.address, left)
      else this.byAddress.delete(connection.address)
      this.held.delete(connection)
      this.paused.delete(connection)
      // Its unsent bytes are gone: the user's other sockets may be under budget again.
      this.release(connection.userId)
      log.debug('disconnected', { connection: connection.id, userId: connection.userId, code })
    })
  }

  private connectionOptions(): ConnectionOptions {
    const { limits } = this.options
    return limits
      ? {
          ...this.options,
          inboundBytesPerSecond: limits.inboundBytesPerSecond,
          inboundBurstBytes: limits.inboundBurstBytes,
        }
      : this.options
  }

  /** Why one more socket of this user from this address is refused, if it is. */
  private crowded(userId: string, address: string): string | undefined {
    const { limits } = this.options
    if (!limits) return undefined
    const until = this.cooldown.get(userId)
    if (until !== undefined && until > this.deps.now())
      return `this account was cut off for sending too much; retry in ${Math.ceil((until - this.deps.now()) / 1000)} s`
    if (this.deps.hub.connectionsOf(userId).length >= limits.socketsPerUser)
      return `this account has ${limits.socketsPerUser} connections already, the most it may have; close one first`
    if ((this.byAddress.get(address) ?? 0) >= limits.socketsPerAddress)
      return `this address has ${limits.socketsPerAddress} connections already, the most it may have`
    return undefined
  }

  /**
   * The rate limits, before the frame is parsed (a refused frame costs no JSON.parse): frames and
   * bytes of the socket, then of its user. Null when the frame may go on, else the refusal's words.
   */
  private admit(connection: Connection, size: number): string | null {
    // The connection's own buckets first: a socket over its limit does not drain its user's others.
    if (!connection.bucket.take()) return codeDescriptions.RATE_LIMITED
    if (connection.inbound && !connection.inbound.take(size))
      return 'too many bytes from this connection; retry later'
    if (!this.userLimits.take(connection.userId)) return 'too many requests from this account; retry later'
    if (this.userBytes && !this.userBytes.take(connection.userId, size))
      return 'too much data from this account; retry later'
    return null
  }

  /**
   * Closes a socket that goes on sending past its limits (4008), and reads nothing more of it: its
   * FIN follows the close frame, so the client learns the code at once while what it still sends
   * stays in the kernel's buffers, costing no CPU. Its user may not reconnect for abuseCooldownMs.
   */
  private cutOff(connection: Connection, reason: string): void {
    const { limits } = this.options
    this.deps.log.warn('closing a connection that ignores its limits', {
      connection: connection.id,
      userId: connection.userId,
      address: connection.address,
      refusedBytes: connection.refusedBytes,
      refusedFrames: connection.refusedFrames,
    })
    connection.ws.close(CLOSE_TOO_MUCH, reason)
    const socket = (connection.ws as unknown as { _socket?: Duplex })._socket
    socket?.pause()
    socket?.end()
    if (limits && limits.abuseCooldownMs > 0)
      this.cooldown.set(connection.userId, this.deps.now() + limits.abuseCooldownMs)
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
    for (const userId of new Set([...this.held.keys()].map((c) => c.userId))) this.release(userId)
  }

  /** Unsent bytes of a connection: in its socket's buffers, and replies of this batch not yet written. */
  private outstanding(connection: Connection): number {
    return connection.ws.bufferedAmount + (this.unsent.get(connection) ?? 0)
  }

  /** True when the connection or its user is over the send budget: its next frame must wait. */
  private overBudget(connection: Connection): boolean {
    const { limits } = this.options
    if (!limits) return false
    if (this.outstanding(connection) > limits.sendBudgetBytes) return true
    let total = 0
    for (const c of this.deps.hub.connectionsOf(connection.userId)) total += this.outstanding(c)
    return total > limits.userSendBudgetBytes
  }

  /**
   * Holds a frame: it runs once what was sent before has drained. A connection whose own socket is
   * over its budget is not read meanwhile either (TCP pushes back on the client); one held for its
   * user's budget is still read, its frames queued (what it may send is bounded by its inbound budget).
   */
  private hold(connection: Connection, job: Job): void {
    let jobs = this.held.get(connection)
    if (!jobs) {
      jobs = []
      this.held.set(connection, jobs)
      const { limits } = this.options
      if (limits && this.outstanding(connection) > limits.sendBudgetBytes) {
        connection.ws.pause()
        this.paused.set(connection, Number.POSITIVE_INFINITY)
      }
      this.deps.log.debug('send budget reached: holding', {
        connection: connection.id,
        userId: connection.userId,
      })
    }
    jobs.push(job)
  }

  /** Lets the held frames of a user's connections run again, those now under budget. */
  private release(userId: string): void {
    if (this.committing) return void this.releaseLater.add(userId)
    for (const connection of this.deps.hub.connectionsOf(userId)) {
      const jobs = this.held.get(connection)
      if (!jobs || this.overBudget(connection)) continue
      this.held.delete(connection)
      if (this.paused.delete(connection)) {
        // Its pongs were not read while it was paused: they are read now.
        connection.alive = true
        connection.ws.resume()
      }
      for (const job of jobs) this.enqueue(job)
    }
  }

  /**
   * Never throws: whatever a frame holds, the connection and the server keep going. The frame is
   * checked here; what it asks for runs in the next group commit.
   */
  handleFrame(connection: Connection, text: string, size = text.length): void {
    // A socket being closed (logout, expiry, abuse) is not served any more.
    if (connection.ws.readyState !== WebSocket.OPEN) return
    if (connection.expired(this.deps.now())) return this.expire(connection)
    const answer = (replyId: number | null, code: CodeValue, msg?: string): void =>
      this.enqueue({ connection, reply: replyFrame(replyId, code, msg) })
    const refusal = this.admit(connection, size)
    if (refusal !== null) {
      connection.refusedBytes += size
      connection.refusedFrames++
      const { limits } = this.options
      const tooMuch = limits !== undefined && connection.refusedBytes > limits.abuseBytes
      if (tooMuch || (limits !== undefined && connection.refusedFrames > limits.abuseFrames))
        return this.cutOff(connection, tooMuch ? 'too much data: slow down' : 'too many requests: slow down')
      return answer(leadingRequestId(text), Code.RATE_LIMITED, refusal)
    }
    connection.refusedBytes = 0
    connection.refusedFrames = 0
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      return answer(null, Code.BAD_FRAME, 'the frame is not valid JSON')
    }
    const id = requestIdOf(value)

    const envelope = RequestEnvelope.safeParse(value)
    if (!envelope.success) return answer(id, Code.BAD_FRAME, describeIssues(envelope.error))
    const { op } = envelope.data
    if (!Object.hasOwn(requests, op)) {
      return answer(envelope.data.id, Code.UNKNOWN_OPERATION, `unknown operation ${op}`)
    }
    const input = requests[op as RequestOp].data.safeParse(envelope.data.data ?? {})
    if (!input.success) return answer(envelope.data.id, Code.INVALID_ARGUMENT, describeIssues(input.error))
    this.enqueue({ connection, id: envelope.data.id, op: op as RequestOp, data: input.data })
  }

  private enqueue(job: Job): void {
    // Behind the frames held for its connection, in order.
    const held = this.held.get(job.connection)
    if (held) return void held.push(job)
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
          await this.commitAndSend(jobs)
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

  private async commitAndSend(jobs: readonly Job[]): Promise<void> {
    this.committing = true
    try {
      await this.commitAndSendBatch(jobs)
    } finally {
      this.committing = false
      this.unsent.clear()
      const users = [...this.releaseLater]
      this.releaseLater.clear()
      for (const userId of users) this.release(userId)
    }
  }

  private async commitAndSendBatch(jobs: readonly Job[]): Promise<void> {
    const { storage, log, now, receiptDefaults, deliveryBudget, policy } = this.deps
    const at = now()
    const runs = jobs.filter((job) => job.reply === undefined)
    const contexts: OpContext[] = runs.map((job) => ({
      storage,
      userId: job.connection.userId,
      deviceId: job.connection.session.deviceId,
      connection: job.connection,
      pushes: new PushBatch(),
      now: at,
      receiptDefaults,
      deliveryBudget,
      ...(policy ? { policy } : {}),
    }))
    // Send budgets: a connection (or user) with too much unsent is not served; its frames wait, in
    // order, for its socket to drain. Replies are serialized here, so that those of this very batch
    // count too (else one batch could answer hundreds of 4 MB pulls at once).
    const heldHere = new Set<Connection>()
    const heldAt: boolean[] = []
    const replies: (string | undefined)[] = []
    const units: Unit<unknown>[] = runs.map((job, i) => async (tx) => {
      const { connection } = job
      if (heldHere.has(connection) || this.held.has(connection) || this.overBudget(connection)) {
        heldHere.add(connection)
        heldAt[i] = true
        return undefined
      }
      const ctx = contexts[i] as OpContext
      ctx.storage = tx
      // job.data was parsed by requests[op].data, which is exactly what handlers[op] takes.
      const value = await (handlers[job.op] as (ctx: OpContext, data: unknown) => Promise<unknown>)(
        ctx,
        job.data,
      )
      if (this.options.limits) {
        const reply = replyFrame(job.id, Code.OK, undefined, value)
        replies[i] = reply
        this.unsent.set(connection, (this.unsent.get(connection) ?? 0) + reply.length)
      }
      return value
    })
    let results: UnitResult<unknown>[] | undefined
    if (units.length > 0) {
      try {
        results = await storage.batch(units)
      } catch (error) {
        log.error('group commit failed', { operations: units.length, error })
      }
    }

    // Replies in the order the frames came, each followed by the pushes its operation caused.
    const outgoing = new Map<Connection, string[]>()
    const send = (connection: Connection, payload: string): void => {
      const list = outgoing.get(connection)
      if (list) list.push(payload)
      else outgoing.set(connection, [payload])
    }
    let r = 0
    for (const job of jobs) {
      const index = job.reply === undefined ? r++ : -1
      // From its first held frame on, everything of that connection waits (replies stay in order).
      if (this.held.has(job.connection) || heldAt[index]) {
        this.hold(job.connection, job)
        continue
      }
      if (job.reply !== undefined) {
        send(job.connection, job.reply)
        continue
      }
      const ctx = contexts[index] as OpContext
      const result = results?.[index]
      if (!result) {
        // Nothing of this batch was committed: no operation of it may be reported as done.
        send(job.connection, replyFrame(job.id, Code.INTERNAL, NOT_SAVED))
        continue
      }
      if (result.ok) {
        send(job.connection, replies[index] ?? replyFrame(job.id, Code.OK, undefined, result.value))
        this.deps.hub.route(ctx.pushes.queued, send)
        continue
      }
      const { error } = result
      if (error instanceof CodedError) {
        send(job.connection, replyFrame(job.id, error.code, error.message))
      } else {
        log.error('operation failed', { op: job.op, userId: job.connection.userId, error })
        send(job.connection, replyFrame(job.id, Code.INTERNAL))
      }
    }
    const sentAt = now()
    for (const [connection, payloads] of outgoing) {
      // Nothing more for a socket whose session ended meanwhile, not even a push.
      if (connection.expired(sentAt)) this.expire(connection)
      else connection.sendAll(payloads)
    }
    this.unsent.clear()
    // A socket that took everything at once emits no 'drain': release what it can take now.
    for (const connection of heldHere) this.releaseLater.add(connection.userId)
  }

  private checkHeartbeats(): void {
    const connected = (userId: string): boolean => this.deps.hub.connectionsOf(userId).length > 0
    this.userLimits.sweep(connected)
    this.userBytes?.sweep(connected)
    const now = this.deps.now()
    for (const [userId, until] of this.cooldown) if (until <= now) this.cooldown.delete(userId)
    for (const connection of this.deps.hub.all()) {
      const seen = this.paused.get(connection)
      if (seen !== undefined) {
        const buffered = connection.ws.bufferedAmount
        if (buffered > 0 && buffered >= seen) {
          this.deps.log.debug('held socket does not drain', {
            connection: connection.id,
            userId: connection.userId,
          })
          connection.ws.terminate()
        } else this.paused.set(connection, buffered)
        continue
      }
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
