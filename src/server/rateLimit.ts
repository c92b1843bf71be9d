/** A token bucket: `burst` tokens (frames, or bytes) at once, refilled at `perSecond`. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst
    this.last = now()
  }

  private refill(): void {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + (Math.max(0, now - this.last) / 1000) * this.perSecond)
    this.last = now
  }

  /** Takes `n` tokens if there are that many; otherwise takes none. */
  take(n = 1): boolean {
    this.refill()
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }

  /** How long until `n` tokens are there (0: now; Infinity: never, `n` is more than the burst). */
  msUntil(n = 1): number {
    if (n > this.burst) return Infinity
    this.refill()
    return this.tokens >= n ? 0 : Math.ceil(((n - this.tokens) / this.perSecond) * 1000)
  }

  /** True once the bucket has refilled completely: forgetting it then loses nothing. */
  isFull(): boolean {
    this.refill()
    return this.tokens >= this.burst
  }
}

/**
 * One bucket per user, shared by all of that user's connections, so opening more sockets does not
 * buy more throughput. A bucket outlives the user's last socket until it has refilled (see sweep):
 * reconnecting does not reset it.
 */
export class UserRateLimits {
  private readonly buckets = new Map<string, TokenBucket>()

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(userId: string, n = 1): boolean {
    let bucket = this.buckets.get(userId)
    if (!bucket) {
      bucket = new TokenBucket(this.perSecond, this.burst, this.now)
      this.buckets.set(userId, bucket)
    }
    return bucket.take(n)
  }

  /** TokenBucket.msUntil for this user (0 for a user without a bucket: theirs is full). */
  msUntil(userId: string, n = 1): number {
    return this.buckets.get(userId)?.msUntil(n) ?? 0
  }

  /** Drops the buckets of users without a connection whose bucket is full again (bounded memory). */
  sweep(isConnected: (userId: string) => boolean): void {
    for (const [userId, bucket] of this.buckets) {
      if (!isConnected(userId) && bucket.isFull()) this.buckets.delete(userId)
    }
  }

  get size(): number {
    return this.buckets.size
  }
}
