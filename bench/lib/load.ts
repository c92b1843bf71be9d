/**
 * The single-chat load workload, against any system that has an endpoint implementation (our server,
 * ejabberd over XMPP, a bare ws relay): senders each send `messages` to their receiver with at most
 * `window` not yet read-receipted; receivers confirm delivery and reading of every message, batched
 * per event-loop turn as the engine does. Latencies are send → receiver has it, send → delivery
 * receipt back, send → read receipt back, on this process's monotonic clock.
 */
import { nowMs, percentile } from './stats'

export interface ChatEndpoint {
  readonly name: string
  /** Sends one message with this workload id to `to`. */
  send(to: ChatEndpoint, id: string): void
  /** Receiver side: confirm delivery / reading of messages from `from` (ids as given to onMessage). */
  receipts(from: ChatEndpoint, ids: string[]): void
  /** Set by the workload. */
  onMessage: (fromName: string, id: string) => void
  onDelivered: (ids: string[]) => void
  onRead: (ids: string[]) => void
  close(): Promise<void>
}

/** Endpoints two by two: the first of each pair sends, the second receives. */
export function pairUp<T extends ChatEndpoint>(endpoints: readonly T[]): [T, T][] {
  const out: [T, T][] = []
  for (let i = 0; i + 1 < endpoints.length; i += 2) out.push([endpoints[i] as T, endpoints[i + 1] as T])
  return out
}

export interface LoadResult {
  messages: number
  seconds: number
  messagesPerS: number
  receiptsPerS: number
  deliveryMs: { p50: number; p99: number }
  deliveredReceiptMs: { p50: number; p99: number }
  readReceiptMs: { p50: number; p99: number }
}

function pct(xs: number[]): { p50: number; p99: number } {
  return { p50: percentile(xs, 50), p99: percentile(xs, 99) }
}

export function runPairs(
  pairs: readonly [ChatEndpoint, ChatEndpoint][],
  opts: { messages: number; window: number; timeoutMs?: number },
): Promise<LoadResult> {
  const sentAt = new Map<string, number>()
  const delivery: number[] = []
  const delivered: number[] = []
  const read: number[] = []
  const total = pairs.length * opts.messages
  let readCount = 0
  let deliveredCount = 0
  const t0 = nowMs()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`load timed out: ${readCount}/${total} read, ${deliveredCount} delivered`)),
      opts.timeoutMs ?? 300_000,
    )
    pairs.forEach(([s, r], p) => {
      let next = 0
      let inFlight = 0
      const pump = (): void => {
        while (inFlight < opts.window && next < opts.messages) {
          const id = `p${p}m${next++}`
          inFlight++
          sentAt.set(id, nowMs())
          s.send(r, id)
        }
      }
      // Receiver: confirm what arrived in this turn, in one batch.
      let batch: string[] = []
      r.onMessage = (_from, id) => {
        const t = sentAt.get(id)
        if (t !== undefined) delivery.push(nowMs() - t)
        if (batch.length === 0)
          setImmediate(() => {
            const ids = batch
            batch = []
            r.receipts(s, ids)
          })
        batch.push(id)
      }
      s.onDelivered = (ids) => {
        const now = nowMs()
        for (const id of ids) {
          const t = sentAt.get(id)
          if (t !== undefined) delivered.push(now - t)
          deliveredCount++
        }
      }
      s.onRead = (ids) => {
        const now = nowMs()
        for (const id of ids) {
          const t = sentAt.get(id)
          if (t === undefined) continue
          read.push(now - t)
          sentAt.delete(id)
          inFlight--
          readCount++
        }
        if (readCount === total) {
          clearTimeout(timer)
          const seconds = (nowMs() - t0) / 1000
          resolve({
            messages: total,
            seconds,
            messagesPerS: total / seconds,
            receiptsPerS: (deliveredCount + readCount) / seconds,
            deliveryMs: pct(delivery),
            deliveredReceiptMs: pct(delivered),
            readReceiptMs: pct(read),
          })
        } else pump()
      }
      pump()
    })
  })
}
