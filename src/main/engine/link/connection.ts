/**
 * One authenticated WebSocket to the IM server: typed requests matched to replies by id, validated
 * pushes, and a watchdog that notices a dead link (the server pings; silence means it is gone).
 */
import { EventEmitter } from 'node:events'
import WebSocket from 'ws'
import { Code, fail, type Result } from '../../../shared/codes'
import {
  DEVICE_HEADER,
  type PushFrame,
  type ReplyData,
  type RequestData,
  type RequestOp,
} from '../../../shared/protocol'
import { ResendPacer } from '../../../shared/resendPacer'
import { readServerFrame, replyResult } from '../../../shared/serverFrames'

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
  /** Times it was sent again after a rate-limit refusal (resendPacer.ts). */
  resent: number
}

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
  /** Frames refused under the server's frame limits, sent again at its pace. */
  private readonly pacer = new ResendPacer(
    (id) => this.pending.get(id),
    (frame) => {
      if (this.ws?.readyState !== WebSocket.OPEN) return false
      this.ws.send(frame)
      return true
    },
  )

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
        this.pacer.clear()
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
      this.pacer.sendNew(id, frame)
    })
  }

  private armWatchdog(): void {
    clearTimeout(this.watchdog)
    this.watchdog = setTimeout(() => this.ws?.terminate(), this.options.silenceTimeoutMs ?? 75_000)
    this.watchdog.unref()
  }

  private onFrame(text: string): void {
    const frame = readServerFrame(text)
    if (!frame) return
    if ('push' in frame) return void this.emit('push', frame.push)
    const { reply } = frame
    const p = this.pending.get(reply.id)
    if (!p) return
    if (reply.code === Code.RATE_LIMITED && this.pacer.refused(reply.id, p, reply.retryAfterMs)) return
    this.pending.delete(reply.id)
    clearTimeout(p.timer)
    p.resolve(replyResult(p.op, reply))
  }
}
