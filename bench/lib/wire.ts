/**
 * A lean protocol client for load generation: one WebSocket per simulated device, requests matched
 * to replies by id, pushes to a callback. It speaks the same frames as the engine but keeps no
 * SQLite and validates nothing, so one process can drive thousands of devices.
 */
import WebSocket from 'ws'
import { Code } from '../../src/shared/codes'
import { DEVICE_HEADER } from '../../src/shared/protocol'
import type { Account } from './server'
import { withTimeout } from './stats'

export interface Reply {
  code: number
  msg?: string
  data?: unknown
}

export interface Push {
  type: 'push'
  event: string
  data: Record<string, unknown>
  eventSeq?: number
}

/** Answers after which the same request may succeed when sent again (as the engine's outbox treats them). */
const TRANSIENT = new Set<number>([Code.INTERNAL, Code.UNAVAILABLE, Code.TIMEOUT])

export class WireClient {
  private nextId = 1
  private readonly pending = new Map<number, (r: Reply) => void>()
  onPush: (p: Push) => void = () => undefined
  sentFrames = 0
  receivedFrames = 0
  /** Requests sent again after a transient failure (e.g. a PostgreSQL deadlock victim). */
  retries = 0

  private constructor(
    readonly account: Account,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (raw) => {
      this.receivedFrames++
      const frame = JSON.parse(raw.toString()) as { type: string; id?: number } & Reply & Push
      if (frame.type === 'push') this.onPush(frame)
      else if (frame.id !== undefined && frame.id !== null) {
        const p = this.pending.get(frame.id)
        this.pending.delete(frame.id)
        p?.(frame)
      }
    })
    ws.on('close', () => {
      for (const [id, p] of this.pending) {
        this.pending.delete(id)
        p({ code: -1, msg: `${account.userId}: connection closed before the reply` })
      }
    })
  }

  static connect(url: string, account: Account): Promise<WireClient> {
    return withTimeout(this.open(url, account), 30_000, `${account.userId} to connect`)
  }

  private static open(url: string, account: Account): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${account.token}`, [DEVICE_HEADER]: account.deviceId },
        perMessageDeflate: false,
      })
      ws.once('open', () => resolve(new WireClient(account, ws)))
      ws.once('error', reject)
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    })
  }

  request(op: string, data: unknown): Promise<Reply> {
    return new Promise((resolve) => this.requestThen(op, data, resolve))
  }

  /**
   * `onReply` runs inside the frame's 'message' event. ws emits the frames of one TCP read one after
   * another without a microtask turn between them, so state a reply sets (a messageUId) must be set
   * here, not in a promise continuation, or a push read from the same chunk would not see it.
   */
  requestThen(op: string, data: unknown, onReply: (r: Reply) => void): void {
    const id = this.nextId++
    this.pending.set(id, onReply)
    this.sentFrames++
    this.ws.send(JSON.stringify({ id, op, data }))
  }

  /**
   * requestThen, sent again (up to `attempts` in all, 20 ms apart) while the server answers a transient
   * failure: INTERNAL (a unit of a PostgreSQL group commit chosen as a deadlock victim is rolled back
   * and answered so, and the server counts on the client's retry, which is safe: sends are exactly-once
   * by client id, acks idempotent), UNAVAILABLE, TIMEOUT. The engine's outbox does the same.
   */
  requestRetrying(op: string, data: unknown, onReply: (r: Reply) => void, attempts = 5): void {
    this.requestThen(op, data, (r) => {
      if (!TRANSIENT.has(r.code) || attempts <= 1) return onReply(r)
      this.retries++
      setTimeout(() => this.requestRetrying(op, data, onReply, attempts - 1), 20)
    })
  }

  /** Resolves with the reply data; throws on a non-zero code. */
  async call<T>(op: string, data: unknown): Promise<T> {
    const r = await this.request(op, data)
    if (r.code !== 0) throw new Error(`${this.account.userId} ${op}: ${r.code} ${r.msg ?? ''}`)
    return r.data as T
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve()
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (;;) {
        const i = next++
        if (i >= items.length) return
        out[i] = await fn(items[i] as T, i)
      }
    }),
  )
  return out
}
