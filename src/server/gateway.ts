import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import type { z } from 'zod'
import { Code, CodedError, codeDescriptions, codeName, type CodeValue } from '../shared/codes'
import { DEVICE_HEADER, RequestEnvelope, requests, WS_PATH, type RequestOp } from '../shared/protocol'
import type { Accounts } from './accounts'
import { Connection, type ConnectionOptions } from './connection'
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
}

export interface GatewayDeps {
  storage: Storage
  accounts: Accounts
  hub: Hub
  log: Logger
  now: () => number
  receiptDefaults: GroupReceiptSettings
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

/** The request id, if a frame carries a usable one, so even a rejected frame's reply can be matched. */
function requestIdOf(value: unknown): number | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null
  const { id } = value
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null
}

function rejectUpgrade(socket: Duplex, status: number, code: CodeValue, msg: string): void {
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
  private readonly userLimits: UserRateLimits
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
    this.heartbeat = setInterval(() => this.checkHeartbeats(), options.heartbeatMs)
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
        const deviceId = req.headers[DEVICE_HEADER]
        if (typeof deviceId === 'string' && deviceId !== session.deviceId) {
          return rejectUpgrade(socket, 401, Code.TOKEN_INVALID, 'the token was issued to another device')
        }
        if (this.closing || socket.destroyed) return socket.destroy()
        this.wss.handleUpgrade(req, socket, head, (ws) =>
          this.attach(ws, new Connection(ws, session, this.options, this.deps.log)),
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
      this.handleFrame(connection, rawToString(raw))
    })
    // ws reports protocol violations (oversized frame: close 1009, bad UTF-8: 1007) here, then closes.
    ws.on('error', (error) => log.debug('socket error', { connection: connection.id, error: error.message }))
    ws.on('close', (code) => {
      hub.remove(connection)
      log.debug('disconnected', { connection: connection.id, userId: connection.userId, code })
    })
  }

  /**
   * Never throws: whatever a frame holds, the connection and the server keep going. The frame is
   * checked here; what it asks for runs in the next group commit.
   */
  handleFrame(connection: Connection, text: string): void {
    // The connection's own bucket first: a socket over its limit does not drain its user's others.
    const connectionAllowed = connection.bucket.take()
    const userAllowed = connectionAllowed && this.userLimits.take(connection.userId)
    let value: unknown
    let parsed = true
    try {
      value = JSON.parse(text)
    } catch {
      parsed = false
    }
    const id = requestIdOf(value)
    const answer = (replyId: number | null, code: CodeValue, msg?: string): void =>
      this.enqueue({ connection, reply: replyFrame(replyId, code, msg) })
    if (!connectionAllowed) return answer(id, Code.RATE_LIMITED)
    if (!userAllowed) return answer(id, Code.RATE_LIMITED, 'too many requests from this account; retry later')
    if (!parsed) return answer(null, Code.BAD_FRAME, 'the frame is not valid JSON')

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
    const { storage, log, now, receiptDefaults } = this.deps
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
    }))
    const units: Unit<unknown>[] = runs.map((job, i) => (tx) => {
      const ctx = contexts[i] as OpContext
      ctx.storage = tx
      // job.data was parsed by requests[op].data, which is exactly what handlers[op] takes.
      return (handlers[job.op] as (ctx: OpContext, data: unknown) => Promise<unknown>)(ctx, job.data)
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
      if (job.reply !== undefined) {
        send(job.connection, job.reply)
        continue
      }
      const ctx = contexts[r] as OpContext
      const result = results?.[r]
      r++
      if (!result) {
        // Nothing of this batch was committed: no operation of it may be reported as done.
        send(job.connection, replyFrame(job.id, Code.INTERNAL, NOT_SAVED))
        continue
      }
      if (result.ok) {
        send(job.connection, replyFrame(job.id, Code.OK, undefined, result.value))
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
    for (const [connection, payloads] of outgoing) connection.sendAll(payloads)
  }

  private checkHeartbeats(): void {
    this.userLimits.sweep((userId) => this.deps.hub.connectionsOf(userId).length > 0)
    for (const connection of this.deps.hub.all()) {
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
