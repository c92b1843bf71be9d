/**
 * How many of one sender's messages may make one receiver's devices answer with a delivery receipt.
 *
 * Delivery receipts are sent by the receiver's app on its own, the moment a message is stored: the
 * 2024 "Careless Whisper" study used their round-trip times, probing thousands of times an hour,
 * to tell when a phone was in use. Past this budget (a token bucket per sender → receiver pair), a
 * message is still delivered but does not ask for a delivery receipt: its sender sees "sent" until it
 * is read. A conversation at human pace never reaches it. The engine also holds its delivery
 * receipts a random moment and sends them together (src/main/engine/outbox/outbox.ts).
 *
 * The buckets are a SharedLimits (sharedLimits.ts): this process's memory on one node, the shared
 * database on several (storage/postgres/limits.ts), so a sender whose devices sit on two nodes still
 * has one budget toward each receiver. The check runs inside sendMessage's group commit: in memory it
 * costs a map lookup; on PostgreSQL one statement, beside the batch's transaction (see limits.ts).
 */
import { MemoryLimits, type BucketRule, type SharedLimits } from './sharedLimits'

export interface DeliveryBudgetOptions {
  /** Receipts a pair may trigger at once. */
  burst: number
  /** Receipts a pair regains per minute. */
  perMinute: number
}

export const DEFAULT_DELIVERY_BUDGET: DeliveryBudgetOptions = { burst: 30, perMinute: 20 }

/** The space of these buckets in a SharedLimits. */
const SPACE = 'delivery'

export class DeliveryBudget {
  private readonly rule: BucketRule

  constructor(
    options: DeliveryBudgetOptions = DEFAULT_DELIVERY_BUDGET,
    private readonly limits: SharedLimits = new MemoryLimits(),
  ) {
    this.rule = { burst: options.burst, refill: options.perMinute, intervalMs: 60_000 }
  }

  /** Takes one receipt from the pair's budget; false when it is spent. */
  async take(senderId: string, receiverId: string, now: number): Promise<boolean> {
    return (await this.limits.take(SPACE, `${senderId}\n${receiverId}`, 1, this.rule, now)).ok
  }
}
