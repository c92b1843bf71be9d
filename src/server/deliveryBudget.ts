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
 * One process's memory: on several server nodes each node keeps its own buckets.
 */
export interface DeliveryBudgetOptions {
  /** Receipts a pair may trigger at once. */
  burst: number
  /** Receipts a pair regains per minute. */
  perMinute: number
}

export const DEFAULT_DELIVERY_BUDGET: DeliveryBudgetOptions = { burst: 30, perMinute: 20 }

interface Bucket {
  tokens: number
  at: number
}

export class DeliveryBudget {
  private readonly buckets = new Map<string, Bucket>()

  constructor(private readonly options: DeliveryBudgetOptions = DEFAULT_DELIVERY_BUDGET) {}

  /** Takes one receipt from the pair's budget; false when it is spent. */
  take(senderId: string, receiverId: string, now: number): boolean {
    const key = `${senderId}\n${receiverId}`
    const { burst, perMinute } = this.options
    const b = this.buckets.get(key) ?? { tokens: burst, at: now }
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 60_000) * perMinute)
    b.at = now
    if (b.tokens >= 1) {
      b.tokens -= 1
      this.buckets.set(key, b)
      return true
    }
    this.buckets.set(key, b)
    // Full buckets carry no information: forget them so the map grows with active pairs only.
    if (this.buckets.size > 100_000) this.sweep(now)
    return false
  }

  private sweep(now: number): void {
    const { burst, perMinute } = this.options
    for (const [key, b] of this.buckets)
      if (b.tokens + ((now - b.at) / 60_000) * perMinute >= burst) this.buckets.delete(key)
  }
}
