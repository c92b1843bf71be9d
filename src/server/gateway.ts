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
import type { Storage } from './storage/types'

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

/**
 * The WebSocket side: authentication during the upgrade, one request per frame, replies by id,
 * pushes after replies, heartbeats.
 */
export class Gateway {
  private readonly wss: WebSocketServer
  private readonly heartbeat: NodeJS.Timeout
  private readonly userLimits: UserRateLimits
  private closing = false

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
    const session = this.deps.accounts.authenticate(token)
    if (!session) return rejectUpgrade(socket, 401, Code.TOKEN_INVALID, codeDescriptions.TOKEN_INVALID)
    const deviceId = req.headers[DEVICE_HEADER]
    if (typeof deviceId === 'string' && deviceId !== session.deviceId) {
      return rejectUpgrade(socket, 401, Code.TOKEN_INVALID, 'the token was issued to another device')
    }
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.attach(ws, new Connection(ws, session, this.options, this.deps.log)),
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

  private reply(
    connection: Connection,
    id: number | null,
    code: CodeValue,
    msg?: string,
    data?: unknown,
  ): void {
    const frame =
      code === Code.OK
        ? { type: 'reply', id, code, data }
        : { type: 'reply', id, code, msg: msg ?? codeDescriptions[codeName(code) ?? 'INTERNAL'] }
    connection.send(JSON.stringify(frame))
  }

  /** Never throws: whatever a frame holds, the connection and the server keep going. */
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
    if (!connectionAllowed) return this.reply(connection, id, Code.RATE_LIMITED)
    if (!userAllowed) {
      return this.reply(connection, id, Code.RATE_LIMITED, 'too many requests from this account; retry later')
    }
    if (!parsed) return this.reply(connection, null, Code.BAD_FRAME, 'the frame is not valid JSON')

    const envelope = RequestEnvelope.safeParse(value)
    if (!envelope.success) return this.reply(connection, id, Code.BAD_FRAME, describeIssues(envelope.error))
    const { op } = envelope.data
    if (!Object.hasOwn(requests, op)) {
      return this.reply(connection, envelope.data.id, Code.UNKNOWN_OPERATION, `unknown operation ${op}`)
    }
    this.run(connection, envelope.data.id, op as RequestOp, envelope.data.data ?? {})
  }

  private run(connection: Connection, id: number, op: RequestOp, rawData: unknown): void {
    const input = requests[op].data.safeParse(rawData)
    if (!input.success) return this.reply(connection, id, Code.INVALID_ARGUMENT, describeIssues(input.error))
    const pushes = new PushBatch()
    const ctx: OpContext = {
      storage: this.deps.storage,
      userId: connection.userId,
      deviceId: connection.session.deviceId,
      connection,
      pushes,
      now: this.deps.now(),
      receiptDefaults: this.deps.receiptDefaults,
    }
    // input.data was parsed by requests[op].data, which is exactly what handlers[op] takes.
    const handler = handlers[op] as (ctx: OpContext, data: unknown) => unknown
    let result: unknown
    try {
      result = handler(ctx, input.data)
    } catch (error) {
      if (error instanceof CodedError) return this.reply(connection, id, error.code, error.message)
      this.deps.log.error('operation failed', { op, userId: connection.userId, error })
      return this.reply(connection, id, Code.INTERNAL)
    }
    this.reply(connection, id, Code.OK, undefined, result)
    this.deps.hub.deliver(pushes.queued)
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
