/**
 * The outbox runner of one session: sends what the store's outbox table holds, kind by kind (see
 * jobs.ts), while a link is open. Passes run one at a time; a call made while a pass is running
 * queues one more pass (shared by every caller until it starts), so nothing written is left behind,
 * and awaiting the result means a pass that started after the call has finished.
 */
import { Code } from '../../../shared/codes'
import type { Message } from '../../../shared/model'
import { emitChanged, emitConversations, type EngineContext } from '../context'
import type { OutboxRow } from '../store/types'
import { jobKinds, type Job, type JobKind, type Outcome } from './jobs'

export interface Backoff {
  minMs: number
  maxMs: number
}

export const DEFAULT_BACKOFF: Backoff = { minMs: 500, maxMs: 30_000 }

/**
 * Delivery receipts wait a random moment (drawn anew for each batch) and go out together: their
 * round-trip time then says little about when a device is in use (the 2024 "Careless Whisper"
 * attack timed delivery receipts to tell when a phone was active or idle).
 */
const DEFAULT_DELIVERY_RECEIPT_DELAY: Backoff = { minMs: 100, maxMs: 1_500 }

export interface OutboxOptions {
  backoff?: Backoff
  /** Bounds of the random hold of delivery receipts; { minMs: 0, maxMs: 0 } sends them at once. */
  deliveryReceiptDelay?: Backoff
  random?: () => number
}

export class Outbox {
  private tail: Promise<void> = Promise.resolve()
  private queued: Promise<void> | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private retryMs = 0
  private closed = false
  /** When the delivery receipts now waiting may go out (undefined: none waiting). */
  private deliveryDue: number | undefined
  private deliveryTimer: NodeJS.Timeout | undefined
  private readonly backoff: Backoff
  private readonly deliveryDelay: Backoff
  private readonly random: () => number

  constructor(
    private readonly ctx: EngineContext,
    options: OutboxOptions = {},
  ) {
    this.backoff = options.backoff ?? DEFAULT_BACKOFF
    this.deliveryDelay = options.deliveryReceiptDelay ?? DEFAULT_DELIVERY_RECEIPT_DELAY
    this.random = options.random ?? Math.random
  }

  flush(): Promise<void> {
    if (this.closed || !this.ctx.link()?.isOpen) return Promise.resolve()
    if (this.queued) return this.queued
    const run = this.tail.then(() => {
      this.queued = undefined
      return this.drain()
    })
    this.queued = run
    this.tail = run.catch((err: unknown) => console.error('outbox flush failed:', err))
    return this.tail
  }

  /** Stops retrying; resolves when the running pass has ended. */
  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    clearTimeout(this.deliveryTimer)
    this.deliveryTimer = undefined
    await this.tail
  }

  private async drain(): Promise<void> {
    if (this.closed || !this.ctx.isCurrent() || !this.ctx.link()?.isOpen) return
    // Stops at the first refusal. A lost connection starts a new pass on the next one; a refusal on
    // a live connection (RATE_LIMITED, TIMEOUT, INTERNAL) gets a retry after a pause that grows
    // while refusals continue, or nothing would wake the outbox until the next user action.
    for (const kind of jobKinds) {
      if (!(await this.drainKind(kind))) {
        if (!this.closed && this.ctx.isCurrent() && this.ctx.link()?.isOpen) this.retryLater()
        return
      }
    }
    this.retryMs = 0
  }

  /** False when a job was refused (the rest waits for a later pass). */
  private async drainKind(kind: JobKind<unknown>): Promise<boolean> {
    const { store } = this.ctx
    for (;;) {
      const rows = store.outbox(kind.kind, kind.batch)
      if (rows.length === 0) return true
      if (kind.kind === 'ackDelivered' && this.holdDeliveryReceipts()) return true
      const jobs = this.readable(kind, rows)
      const outcome: Outcome = jobs.length > 0 ? await kind.send(this.ctx, jobs) : { done: [], refused: [] }
      if (!this.ctx.isCurrent()) return false
      store.removeFromOutbox(outcome.done)
      // Told only now, so whoever hears "sent" or "failed" finds the outbox without that job.
      emitChanged(this.ctx, outcome.changed ?? [])
      emitConversations(this.ctx, outcome.conversations ?? [])
      if (outcome.refused.length === 0) continue
      // A link that closed meanwhile is not a refusal: the jobs wait for the next connection.
      if (!this.ctx.link()?.isOpen) return false
      store.countAttempts(outcome.refused)
      const reason = outcome.reason ?? { code: Code.INTERNAL, msg: 'refused' }
      const attempts = new Map(rows.map((r) => [r.id, r.attempts + 1]))
      const spent = outcome.refused.filter((id) => (attempts.get(id) ?? 0) >= kind.maxAttempts)
      const failed: Message[] = []
      for (const id of spent) {
        const row = rows.find((r) => r.id === id)
        const message =
          row &&
          kind.giveUp(this.ctx, row, {
            code: reason.code,
            msg: `gave up after ${kind.maxAttempts} refusals: ${reason.msg}`,
          })
        if (message) failed.push(message)
      }
      store.removeFromOutbox(spent)
      emitChanged(this.ctx, failed)
      return false
    }
  }

  /** Jobs whose payload passes its schema; the others are given up and removed at once. */
  private readable(kind: JobKind<unknown>, rows: readonly OutboxRow[]): Job<unknown>[] {
    const jobs: Job<unknown>[] = []
    const unreadable: number[] = []
    const failed: Message[] = []
    for (const row of rows) {
      let parsed: { success: true; data: unknown } | { success: false } = { success: false }
      try {
        parsed = kind.payload.safeParse(JSON.parse(row.payload))
      } catch {
        // not JSON: unreadable, as below
      }
      if (parsed.success)
        jobs.push({ id: row.id, ref: row.ref, payload: parsed.data, attempts: row.attempts })
      else {
        const message = kind.giveUp(this.ctx, row, {
          code: Code.INTERNAL,
          msg: 'its stored payload is unreadable',
        })
        if (message) failed.push(message)
        unreadable.push(row.id)
      }
    }
    this.ctx.store.removeFromOutbox(unreadable)
    emitChanged(this.ctx, failed)
    return jobs
  }

  /** True while delivery receipts must still wait (a pass is scheduled for when they may go). */
  private holdDeliveryReceipts(): boolean {
    const now = this.ctx.now()
    if (this.deliveryDue === undefined) {
      const { minMs, maxMs } = this.deliveryDelay
      this.deliveryDue = now + minMs + this.random() * Math.max(0, maxMs - minMs)
    }
    if (now >= this.deliveryDue) {
      this.deliveryDue = undefined
      return false
    }
    if (!this.deliveryTimer) {
      this.deliveryTimer = setTimeout(() => {
        this.deliveryTimer = undefined
        void this.flush()
      }, this.deliveryDue - now)
    }
    return true
  }

  private retryLater(): void {
    if (this.retryTimer) return
    this.retryMs = Math.min(this.backoff.maxMs, Math.max(this.backoff.minMs, this.retryMs * 2))
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      void this.flush()
    }, this.retryMs)
  }
}
