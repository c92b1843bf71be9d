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
  /** Set by the workload: a request failed for good (it then fails the run at once instead of timing out). */
  onFailure?: (error: Error) => void
  close(): Promise<void>
}

/** Endpoints two by two: the first of each pair sends, the second receives. */
export function pairUp<T extends ChatEndpoint>(endpoints: readonly T[]): [T, T][] {
  const out: [T, T][] = []
  for (let i = 0; i + 1 < endpoints.length; i += 2) out.push([endpoints[i] as T, endpoints[i + 1] as T])
  return out
}

export interface LoadResult {
  /** Messages read-receipted (all of them, unless the run was stopped at maxSeconds). */
  messages: number
  /** False when maxSeconds stopped the run first: the figures are those of the window. */
  finished: boolean
  /** Messages the run was to send. */
  planned: number
  /**
   * Work done in messages: (messages at their receiver + messages read-receipted) / 2. The same as
   * `messages` for a finished run; for a stopped one it also counts the half-done ones in flight.
   * Rates and CPU per message use it.
   */
  equivalent: number
  seconds: number
  messagesPerS: number
  receiptsPerS: number
  deliveryMs: { p50: number; p99: number }
  deliveredReceiptMs: { p50: number; p99: number }
  readReceiptMs: { p50: number; p99: number }
}

/** Each run's ids start with its own tag, so a late receipt of a run stopped at maxSeconds is not taken for the next one's. */
let runs = 0

function pct(xs: number[]): { p50: number; p99: number } {
  return { p50: percentile(xs, 50), p99: percentile(xs, 99) }
}

export function runPairs(
  pairs: readonly [ChatEndpoint, ChatEndpoint][],
  opts: {
    messages: number
    window: number
    timeoutMs?: number
    /**
     * Stop after this long (a slow system would otherwise take minutes): senders send nothing more
     * and the result covers the window, counting the messages read-receipted in it.
     */
    maxSeconds?: number
  },
): Promise<LoadResult> {
  const sentAt = new Map<string, number>()
  const delivery: number[] = []
  const delivered: number[] = []
  const read: number[] = []
  const total = pairs.length * opts.messages
  let readCount = 0
  let deliveredCount = 0
  const tag = `r${runs++}`
  const t0 = nowMs()
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`load timed out: ${readCount}/${total} read, ${deliveredCount} delivered`)),
      opts.timeoutMs ?? 300_000,
    )
    let stopped = false
    const finish = (): void => {
      if (stopped) return
      stopped = true
      clearTimeout(timer)
      clearTimeout(cap)
      const seconds = (nowMs() - t0) / 1000
      const equivalent = readCount === total ? total : (delivery.length + readCount) / 2
      resolve({
        messages: readCount,
        finished: readCount === total,
        planned: total,
        equivalent,
        seconds,
        messagesPerS: equivalent / seconds,
        receiptsPerS: (deliveredCount + readCount) / seconds,
        deliveryMs: pct(delivery),
        deliveredReceiptMs: pct(delivered),
        readReceiptMs: pct(read),
      })
    }
    const cap = opts.maxSeconds === undefined ? undefined : setTimeout(finish, opts.maxSeconds * 1000)
    const fail = (error: Error): void => {
      if (stopped) return
      stopped = true
      clearTimeout(timer)
      clearTimeout(cap)
      reject(error)
    }
    pairs.forEach(([s, r], p) => {
      s.onFailure = r.onFailure = fail
      let next = 0
      let inFlight = 0
      const pump = (): void => {
        while (!stopped && inFlight < opts.window && next < opts.messages) {
          const id = `${tag}p${p}m${next++}`
          inFlight++
          sentAt.set(id, nowMs())
          s.send(r, id)
        }
      }
      // Receiver: confirm what arrived in this turn, in one batch.
      let batch: string[] = []
      r.onMessage = (_from, id) => {
        if (stopped) return
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
        if (stopped) return
        const now = nowMs()
        for (const id of ids) {
          if (!id.startsWith(`${tag}p`)) continue
          const t = sentAt.get(id)
          if (t !== undefined) delivered.push(now - t)
          deliveredCount++
        }
      }
      s.onRead = (ids) => {
        if (stopped) return
        const now = nowMs()
        for (const id of ids) {
          const t = sentAt.get(id)
          if (t === undefined) continue
          read.push(now - t)
          sentAt.delete(id)
          inFlight--
          readCount++
        }
        if (readCount === total) finish()
        else pump()
      }
      pump()
    })
  })
}
