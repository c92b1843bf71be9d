/**
 * Runs the reminder schedules senders set (issue 15, ops/ackReminders.ts): a timer per node that
 * claims the due schedules and runs each once. The claim is one statement on the database
 * (storage `claimDueReminders`: SQLite's single writer; PostgreSQL's `FOR UPDATE SKIP LOCKED`), so
 * with several nodes on one database a run is claimed by exactly one of them, and its pushes reach
 * devices on the other nodes over the bus (hub.route).
 *
 * A run reminds the pending recipients under the limit (runReminders). A schedule ends by itself
 * when nobody is pending any more (everyone acked), when everyone pending is at the limit, when the
 * message was recalled or is gone, or when its `times` are used up.
 */
import type { Connection } from './connection'
import { DeliveryBudget } from './deliveryBudget'
import type { Hub } from './hub'
import type { Logger } from './log'
import { PushBatch, type OpContext } from './ops/context'
import { runReminders } from './ops/ackReminders'
import type { OpPolicy } from './policy'
import type { GroupReceiptSettings } from '../shared/model'
import type { Storage } from './storage/types'

export interface AckSchedulerDeps {
  storage: Storage
  hub: Hub
  log: Logger
  now: () => number
  policy: OpPolicy
  receiptDefaults: GroupReceiptSettings
}

/** Schedules claimed per tick at most; more wait for the next tick. */
const CLAIM_BATCH = 50

export class AckScheduler {
  private timer: NodeJS.Timeout | undefined
  private running: Promise<void> | undefined
  private stopped = false

  constructor(
    private readonly deps: AckSchedulerDeps,
    /** How often due schedules are looked for: a "minute" / 4, at least 20 ms, at most 5 s. */
    private readonly tickMs = Math.min(
      5000,
      Math.max(20, Math.floor((deps.policy.acks?.minuteMs ?? 60_000) / 4)),
    ),
  ) {}

  start(): void {
    if (this.timer || this.stopped) return
    this.timer = setInterval(() => {
      if (this.running) return
      this.running = this.tick()
        .then(() => undefined)
        .catch((error: unknown) => this.deps.log.warn('ack reminder schedules failed', { error }))
        .finally(() => (this.running = undefined))
    }, this.tickMs)
    this.timer.unref()
  }

  async stop(): Promise<void> {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    await this.running
  }

  /** Claims the due schedules and runs each, in a transaction of its own. Exposed for tests. */
  async tick(): Promise<number> {
    const { storage, now } = this.deps
    const minuteMs = this.deps.policy.acks?.minuteMs ?? 60_000
    const claimed = await storage.claimDueReminders(now(), minuteMs, CLAIM_BATCH)
    for (const run of claimed) {
      if (this.stopped) break
      const pushes = new PushBatch()
      await storage.transaction(async (tx) => {
        const ctx = this.contextFor(tx, pushes)
        const message = await this.messageById(tx, run.messageId)
        if (!message || message.recalledAt !== undefined || !message.needAck) {
          await tx.endReminderSchedule(run.messageId)
          return
        }
        ctx.userId = message.senderId
        const result = await runReminders(ctx, message)
        // Nobody left to chase (everyone acked), or everyone pending is at the limit: done.
        if (result.pending === 0 || result.reminded === 0) await tx.endReminderSchedule(run.messageId)
      })
      this.deps.hub.route(pushes.queued, (connection, frame) => connection.send(frame))
    }
    return claimed.length
  }

  private async messageById(tx: Storage | OpContext['storage'], messageId: number) {
    // A schedule row names its message by id; the message is read as every operation reads it.
    const uid = await tx.getMessageUIdById(messageId)
    return uid === undefined ? undefined : tx.getMessageByUId(uid)
  }

  private contextFor(storage: OpContext['storage'], pushes: PushBatch): OpContext {
    return {
      storage,
      userId: '',
      deviceId: 'server',
      // Scheduled pushes exclude no connection.
      connection: undefined as unknown as Connection,
      pushes,
      now: this.deps.now(),
      receiptDefaults: this.deps.receiptDefaults,
      deliveryBudget: new DeliveryBudget(),
      policy: this.deps.policy,
    }
  }
}
