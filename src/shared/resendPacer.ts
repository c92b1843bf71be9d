/**
 * Pacing of frames the server refused under its frame limits (RATE_LIMITED with `retryAfterMs`:
 * nothing of the frame ran, and the same frame passes after that wait). Both clients of the wire
 * protocol use it: the engine's link (link/connection.ts) and the web SDK (sdk/web/socket.ts).
 *
 * Refused frames wait in a queue, oldest request first, and are sent one per `retryAfterMs` (the
 * server's pace); a new request waits behind them meanwhile, so a burst (a reconnection's outbox,
 * resync and a person's call at once) is paced instead of failing. A frame is sent again at most
 * RESENDS_MAX times and only for waits up to RESEND_WAIT_MAX_MS (always within the request's own
 * timeout); past that the caller gets RATE_LIMITED.
 */
const RESENDS_MAX = 5
const RESEND_WAIT_MAX_MS = 5_000

/** A request as the pacer needs it: the frame as sent, and how often it was sent again. */
export interface PacedRequest {
  readonly frame: string
  resent: number
}

export class ResendPacer {
  /** Requests waiting to be sent (again), by id, oldest first. */
  private readonly waiting: number[] = []
  private paceMs = 0
  private timer: ReturnType<typeof setTimeout> | undefined

  constructor(
    /** The request of this id if it still waits for its reply (it may have timed out). */
    private readonly pending: (id: number) => PacedRequest | undefined,
    /** Sends a frame on the open socket; false when the socket is not open. */
    private readonly send: (frame: string) => boolean,
  ) {}

  /** Sends a new request's frame now, or queues it behind refused ones still waiting. */
  sendNew(id: number, frame: string): void {
    if (this.waiting.length > 0) this.waiting.push(id)
    else this.send(frame)
  }

  /** A refusal with this wait: queued to be sent again (true), or the caller gets it (false). */
  refused(id: number, request: PacedRequest, retryAfterMs: number | undefined): boolean {
    if (retryAfterMs === undefined || retryAfterMs > RESEND_WAIT_MAX_MS || request.resent >= RESENDS_MAX)
      return false
    request.resent++
    this.paceMs = retryAfterMs
    // Oldest first: a frame refused again goes back before the ones that came after it.
    const at = this.waiting.findIndex((queued) => queued > id)
    this.waiting.splice(at === -1 ? this.waiting.length : at, 0, id)
    this.timer ??= setTimeout(() => this.sendNext(), retryAfterMs)
    return true
  }

  /** The socket closed: its requests are answered by the caller, nothing is sent any more. */
  clear(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    this.waiting.length = 0
  }

  /** Sends the oldest waiting frame, and the next one a pace later. */
  private sendNext(): void {
    this.timer = undefined
    for (let id = this.waiting.shift(); id !== undefined; id = this.waiting.shift()) {
      const request = this.pending(id)
      if (!request) continue // timed out meanwhile
      if (!this.send(request.frame)) return this.clear()
      break
    }
    if (this.waiting.length > 0) this.timer = setTimeout(() => this.sendNext(), this.paceMs)
  }
}
