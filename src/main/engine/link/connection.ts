/**
 * One authenticated WebSocket to the IM server: typed requests matched to replies by id, validated
 * pushes, and a watchdog that notices a dead link (the server pings; silence means it is gone).
 */
import { EventEmitter } from 'node:events'
import WebSocket from 'ws'
import { Code, fail, ok, type Result } from '../../../shared/codes'
import {
  DEVICE_HEADER,
  PushFrame,
  ReplyFrame,
  requests,
  type ReplyData,
  type RequestData,
  type RequestOp,
} from '../../../shared/protocol'

export class UnauthorizedError extends Error {
  constructor() {
    super('the server refused the session token')
    this.name = 'UnauthorizedError'
  }
}

interface Pending {
  op: RequestOp
  resolve(result: Result<unknown>): void
  timer: NodeJS.Timeout
  /** The frame as sent, to send again after a rate-limit refusal that says when. */
  frame: string
  /** Times it was sent again so far. */
  resent: number
}

/**
 * A frame refused by the server's rate limits with `retryAfterMs` did not run: it is sent again.
 * Refused frames wait in a queue that is sent one frame per `retryAfterMs` (the server's pace), and
 * new requests queue behind them meanwhile, so a reconnection's burst (outbox, resync, a person's
 * call at once) is paced instead of failing. A frame is sent again at most RESENDS_MAX times and
 * only for waits up to RESEND_WAIT_MAX_MS (always within the request's own timeout); past that the
 * caller gets RATE_LIMITED.
 */
const RESENDS_MAX = 5
const RESEND_WAIT_MAX_MS = 5_000

export interface ConnectionOptions {
  url: string
  token: string
  deviceId: string
  requestTimeoutMs?: number
  /** The server pings every 30 s by default; this much silence means the link is dead. */
  silenceTimeoutMs?: number
}

export interface ConnectionEvents {
  push: [PushFrame]
  close: [{ code: number; reason: string }]
}

export class ServerConnection extends EventEmitter<ConnectionEvents> {
  private ws: WebSocket | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private watchdog: NodeJS.Timeout | undefined
  private closed = false
  /** Requests waiting to be sent (again) at the server's pace, by id, oldest first. */
  private readonly paced: number[] = []
  private paceMs = 0
  private paceTimer: NodeJS.Timeout | undefined

  constructor(private readonly options: ConnectionOptions) {
    super()
  }

  /** The node this connection goes to. */
  get url(): string {
    return this.options.url
  }

  get isOpen(): boolean {
    return this.ws?.readyState === WebSocket.OPEN
  }

  /** Resolves once the socket is open; rejects with UnauthorizedError on HTTP 401. */
  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.options.url, {
        headers: { authorization: `Bearer ${this.options.token}`, [DEVICE_HEADER]: this.options.deviceId },
        handshakeTimeout: 10_000,
        maxPayload: 16 * 1024 * 1024,
      })
      this.ws = ws
      let opened = false
      ws.on('unexpected-response', (_req, res) => {
        reject(
          res.statusCode === 401
            ? new UnauthorizedError()
            : new Error(`server answered HTTP ${res.statusCode}`),
        )
        res.resume()
        ws.terminate()
      })
      ws.on('open', () => {
        opened = true
        this.armWatchdog()
        resolve()
      })
      ws.on('ping', () => this.armWatchdog())
      ws.on('message', (raw) => {
        this.armWatchdog()
        this.onFrame(raw.toString())
      })
      ws.on('error', (err) => {
        if (!opened) reject(err)
      })
      ws.on('close', (code, reason) => {
        clearTimeout(this.watchdog)
        clearTimeout(this.paceTimer)
        this.paced.length = 0
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer)
          p.resolve(fail(Code.SERVER_UNREACHABLE, 'connection lost before the server answered'))
          this.pending.delete(id)
        }
        if (opened) this.emit('close', { code, reason: reason.toString() })
      })
    })
  }

  close(): void {
    this.closed = true
    clearTimeout(this.watchdog)
    this.ws?.close(1000, 'client closing')
  }

  request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<Result<ReplyData<Op>>> {
    const ws = this.ws
    if (!ws || ws.readyState !== WebSocket.OPEN || this.closed) {
      return Promise.resolve(fail(Code.SERVER_UNREACHABLE, 'not connected to the server'))
    }
    const id = this.nextId++
    const frame = JSON.stringify({ id, op, data })
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve(fail(Code.TIMEOUT, `the server did not answer ${op} in time`))
      }, this.options.requestTimeoutMs ?? 15_000)
      this.pending.set(id, { op, resolve: resolve as (r: Result<unknown>) => void, timer, frame, resent: 0 })
      // While refused frames wait for the server's pace, a new one waits behind them.
      if (this.paced.length > 0) this.paced.push(id)
      else ws.send(frame)
    })
  }

  /** Queues a rate-limited frame to be sent again at the server's pace; false when it may not be. */
  private resendLater(id: number, p: Pending, retryAfterMs: number | undefined): boolean {
    if (retryAfterMs === undefined || retryAfterMs > RESEND_WAIT_MAX_MS || p.resent >= RESENDS_MAX)
      return false
    p.resent++
    this.paceMs = retryAfterMs
    // Oldest first: a frame refused again goes back before the ones that came after it.
    const at = this.paced.findIndex((queued) => queued > id)
    this.paced.splice(at === -1 ? this.paced.length : at, 0, id)
    if (!this.paceTimer) this.paceTimer = setTimeout(() => this.sendPaced(), retryAfterMs)
    return true
  }

  /** Sends the oldest waiting frame, and the next one a pace later. */
  private sendPaced(): void {
    this.paceTimer = undefined
    const ws = this.ws
    if (ws?.readyState !== WebSocket.OPEN) return
    for (let id = this.paced.shift(); id !== undefined; id = this.paced.shift()) {
      const p = this.pending.get(id)
      if (!p) continue // timed out meanwhile
      ws.send(p.frame)
      break
    }
    if (this.paced.length > 0) this.paceTimer = setTimeout(() => this.sendPaced(), this.paceMs)
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog)
    this.watchdog = setTimeout(() => this.ws?.terminate(), this.options.silenceTimeoutMs ?? 75_000)
    this.watchdog.unref()
  }

  private onFrame(text: string): void {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return // a server that sends garbage is logged by nobody and ignored; requests time out
    }
    if ((json as { type?: unknown })?.type === 'push') {
      const push = PushFrame.safeParse(json)
      if (push.success) this.emit('push', push.data)
      return
    }
    const reply = ReplyFrame.safeParse(json)
    if (!reply.success || reply.data.id === null) return
    const p = this.pending.get(reply.data.id)
    if (!p) return
    if (reply.data.code === Code.RATE_LIMITED && this.resendLater(reply.data.id, p, reply.data.retryAfterMs))
      return
    this.pending.delete(reply.data.id)
    clearTimeout(p.timer)
    if (reply.data.code !== 0) {
      p.resolve({ code: reply.data.code, msg: reply.data.msg ?? 'request failed' } as Result<unknown>)
      return
    }
    const data = requests[p.op].reply.safeParse(reply.data.data)
    p.resolve(data.success ? ok(data.data) : fail(Code.INTERNAL, `malformed ${p.op} reply from the server`))
  }
}
