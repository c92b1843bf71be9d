/**
 * One signed-in WebSocket to the IM server, the browser's twin of the engine's link/connection.ts:
 * typed requests matched to replies by id, pushes validated with the same zod schemas
 * (src/shared/protocol.ts). The session rides in the subprotocol list (browserSocketAuth.ts): a
 * browser cannot set the Authorization header on an upgrade, and a token in the URL lands in logs.
 *
 * A browser never sees the server's pings (it answers them itself), so there is no silence
 * watchdog here: a dead link shows as a close event, which the client turns into a reconnection.
 */
import { socketProtocols } from '../../shared/browserSocketAuth'
import { Code, fail, type Result } from '../../shared/codes'
import { type PushFrame, type ReplyData, type RequestData, type RequestOp } from '../../shared/protocol'
import { ResendPacer } from '../../shared/resendPacer'
import { readServerFrame, replyResult } from '../../shared/serverFrames'

/** What the SDK needs of a WebSocket: the browser's, or the `ws` package's in Node tests. */
export interface WebSocketLike {
  readonly readyState: number
  readonly protocol: string
  send(data: string): void
  close(code?: number, reason?: string): void
  onopen: ((event: unknown) => void) | null
  onmessage: ((event: { data: unknown }) => void) | null
  onclose: ((event: { code: number; reason: string }) => void) | null
  onerror: ((event: unknown) => void) | null
}

export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike

const OPEN = 1

interface Pending {
  op: RequestOp
  resolve(result: Result<unknown>): void
  timer: ReturnType<typeof setTimeout>
  /** The frame as sent, and how often it was sent again after a rate-limit refusal (resendPacer.ts). */
  frame: string
  resent: number
}

export interface SocketOptions {
  url: string
  token: string
  deviceId: string
  WebSocket: WebSocketConstructor
  requestTimeoutMs: number
  onPush(frame: PushFrame): void
  /** Called once, when a socket that had opened closes (not after a failed open). */
  onClose(info: { code: number; reason: string }): void
}

export class SocketLink {
  private ws: WebSocketLike | undefined
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private closedByUs = false
  /** Frames refused under the server's frame limits, sent again at its pace (as the engine does). */
  private readonly pacer = new ResendPacer(
    (id) => this.pending.get(id),
    (frame) => {
      if (!this.ws || !this.isOpen) return false
      this.ws.send(frame)
      return true
    },
  )

  constructor(private readonly options: SocketOptions) {}

  get isOpen(): boolean {
    return this.ws?.readyState === OPEN && !this.closedByUs
  }

  /**
   * Resolves true once open. False when the server refused the upgrade or could not be reached: a
   * browser is told neither the HTTP status nor the body of a refused upgrade, so a bad or expired
   * token, an origin the server does not allow and a server that is down all look alike here.
   */
  open(): Promise<boolean> {
    return new Promise((resolve) => {
      const { url, token, deviceId } = this.options
      const ws = new this.options.WebSocket(url, socketProtocols(token, deviceId))
      this.ws = ws
      let opened = false
      ws.onopen = () => {
        opened = true
        resolve(true)
      }
      ws.onerror = () => {
        if (!opened) resolve(false)
      }
      ws.onmessage = (event) => this.onFrame(typeof event.data === 'string' ? event.data : String(event.data))
      ws.onclose = (event) => {
        this.pacer.clear()
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer)
          p.resolve(fail(Code.SERVER_UNREACHABLE, 'connection lost before the server answered'))
          this.pending.delete(id)
        }
        if (!opened) return resolve(false)
        if (!this.closedByUs) this.options.onClose({ code: event.code, reason: event.reason })
      }
    })
  }

  close(): void {
    this.closedByUs = true
    this.ws?.close(1000, 'client closing')
  }

  request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<Result<ReplyData<Op>>> {
    const ws = this.ws
    if (!ws || !this.isOpen)
      return Promise.resolve(fail(Code.SERVER_UNREACHABLE, 'not connected to the server'))
    const id = this.nextId++
    const frame = JSON.stringify({ id, op, data })
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        resolve(fail(Code.TIMEOUT, `the server did not answer ${op} in time`))
      }, this.options.requestTimeoutMs)
      this.pending.set(id, { op, resolve: resolve as (r: Result<unknown>) => void, timer, frame, resent: 0 })
      this.pacer.sendNew(id, frame)
    })
  }

  private onFrame(text: string): void {
    const frame = readServerFrame(text)
    if (!frame) return
    if ('push' in frame) return void this.options.onPush(frame.push)
    const { reply } = frame
    const p = this.pending.get(reply.id)
    if (!p) return
    if (reply.code === Code.RATE_LIMITED && this.pacer.refused(reply.id, p, reply.retryAfterMs)) return
    this.pending.delete(reply.id)
    clearTimeout(p.timer)
    p.resolve(replyResult(p.op, reply))
  }
}
