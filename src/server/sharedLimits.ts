/**
 * The counters behind the server's abuse limits that must hold across nodes (issue 10): token
 * buckets (registrations per address, lookups of strangers per user, delivery receipts per sender →
 * receiver) and failed-login records (per account and per address). One interface, two homes:
 *
 * - `MemoryLimits`: this process's memory, the default (one node, SQLite): no I/O, every call
 *   resolves at once;
 * - `PostgresLimits` (storage/postgres/limits.ts): two tables of the shared database, used
 *   automatically when the store is PostgreSQL, so N nodes give an attacker one budget, not N. Each
 *   call is one atomic statement: two nodes taking at the same moment can never both get the last
 *   token.
 *
 * Both compute the same thing with the same floating-point operations in the same order, so a test
 * with a fake clock sees the same answers from either. Time is the caller's clock (`now`, epoch
 * ms); a stored time never moves back, so a node whose clock lags gets no extra refill from it.
 *
 * Keys live in `space`s (one per kind of limit), so an account and an address of the same name
 * never share a counter. A bucket that is full again, and a failure record past its forgetting
 * time, carry no information: `sweep` deletes them (the retention sweep calls it), and a missing one
 * reads as full, or as no failures.
 *
 * What stays per node, on purpose: the password-hash queue (authGuard.ts HashGate: it protects that
 * node's CPU), the frame and byte rate limits of sockets and users (rateLimit.ts, gateway/), the
 * socket caps and the abuse cut-off (gateway/inboundLimits.ts). See src/server/README.md.
 */

/** A token bucket: `burst` at most, regaining `refill` tokens every `intervalMs`. */
export interface BucketRule {
  burst: number
  /** Tokens regained per `intervalMs`; 0: never refills. */
  refill: number
  intervalMs: number
}

export interface TakeResult {
  ok: boolean
  /** When refused: how long until `count` tokens are there (Infinity: never); 0 when ok. */
  retryAfterMs: number
}

/** Failed logins of one key: `free` of them cost nothing, then each makes it wait, doubling. */
export interface FailureRule {
  free: number
  delayMs: number
  maxDelayMs: number
  /** The record is forgotten this long after its last failure. */
  forgetAfterMs: number
}

export interface SharedLimits {
  /** Whether every node on the same database sees the same counters (false: this process only). */
  readonly shared: boolean
  /** Takes `count` tokens from the bucket at once, or none (refused, with the wait). */
  take(space: string, key: string, count: number, rule: BucketRule, now: number): Promise<TakeResult>
  /** How long `key` must still wait after its failures; 0 when it may try. */
  failureWait(space: string, key: string, now: number): Promise<number>
  /** Counts one failure; returns the wait it leaves (0 while within the free ones). */
  recordFailure(space: string, key: string, rule: FailureRule, now: number): Promise<number>
  /** Forgets `key`'s failures (a successful login). */
  clearFailures(space: string, key: string): Promise<void>
  /** Deletes full buckets and forgotten failure records; resolves with how many. */
  sweep(now: number): Promise<number>
  /** Releases what it holds (the PostgreSQL pool). */
  close(): Promise<void>
}

/** Tokens of a bucket last set to `tokens` at `at`, at time `now` (at most the burst). */
function refilled(tokens: number, at: number, rule: BucketRule, now: number): number {
  return Math.min(rule.burst, tokens + (Math.max(0, now - at) * rule.refill) / rule.intervalMs)
}

/** How long until a bucket holding `tokens` holds `count`. */
export function waitFor(tokens: number, count: number, rule: BucketRule): number {
  if (count > rule.burst || rule.refill <= 0) return Infinity
  return Math.ceil(((count - tokens) * rule.intervalMs) / rule.refill)
}

/** When a bucket holding `tokens` at `at` is full again (a missing one is the same); Infinity: never. */
function fullAt(tokens: number, at: number, rule: BucketRule): number {
  return rule.refill > 0 ? at + ((rule.burst - tokens) * rule.intervalMs) / rule.refill : Infinity
}

/** The wait after the `failures`-th failure at `now`; undefined while within the free ones. */
function lockAfter(failures: number, rule: FailureRule, now: number): number | undefined {
  const over = failures - rule.free
  if (over <= 0) return undefined
  return now + Math.min(rule.maxDelayMs, rule.delayMs * 2 ** Math.min(over - 1, 40))
}

interface Bucket {
  tokens: number
  at: number
  fullAt: number
}

interface Failures {
  failures: number
  lastFailureAt: number
  lockedUntil: number
  forgetAt: number
}

/** A map per space whose order is the order of last use, so the least recently used goes first. */
class Spaces<V> {
  private readonly maps = new Map<string, Map<string, V>>()

  constructor(private readonly maxEntries: number) {}

  get(space: string, key: string): V | undefined {
    return this.maps.get(space)?.get(key)
  }

  /** Stores `value` as the most recently used; past the bound, the least recently used goes. */
  set(space: string, key: string, value: V): void {
    let map = this.maps.get(space)
    if (!map) this.maps.set(space, (map = new Map()))
    map.delete(key)
    map.set(key, value)
    if (map.size > this.maxEntries) {
      const oldest = map.keys().next().value
      if (oldest !== undefined) map.delete(oldest)
    }
  }

  delete(space: string, key: string): void {
    this.maps.get(space)?.delete(key)
  }

  /** Deletes the entries `stale` says are; how many. */
  prune(stale: (value: V) => boolean): number {
    let pruned = 0
    for (const map of this.maps.values())
      for (const [key, value] of map)
        if (stale(value)) {
          map.delete(key)
          pruned++
        }
    return pruned
  }
}

/**
 * The limits in this process's memory: one node's, as before issue 10. Bounded: at most
 * `maxEntries` buckets and failure records per space (default 100,000); past it the least recently
 * used goes first (for a bucket, one untouched that long is almost always full again).
 */
export class MemoryLimits implements SharedLimits {
  readonly shared = false
  private readonly buckets: Spaces<Bucket>
  private readonly failures: Spaces<Failures>

  constructor(maxEntries = 100_000) {
    this.buckets = new Spaces(maxEntries)
    this.failures = new Spaces(maxEntries)
  }

  /** Synchronous, for callers that have no reason to wait (all of MemoryLimits is). */
  takeNow(space: string, key: string, count: number, rule: BucketRule, now: number): TakeResult {
    const bucket = this.buckets.get(space, key)
    const tokens = bucket ? refilled(bucket.tokens, bucket.at, rule, now) : rule.burst
    const at = bucket ? Math.max(bucket.at, now) : now
    const ok = tokens >= count
    const left = ok ? tokens - count : tokens
    this.buckets.set(space, key, { tokens: left, at, fullAt: fullAt(left, at, rule) })
    return { ok, retryAfterMs: ok ? 0 : waitFor(tokens, count, rule) }
  }

  take(space: string, key: string, count: number, rule: BucketRule, now: number): Promise<TakeResult> {
    return Promise.resolve(this.takeNow(space, key, count, rule, now))
  }

  private current(space: string, key: string, now: number): Failures | undefined {
    const entry = this.failures.get(space, key)
    if (entry && now > entry.forgetAt) {
      this.failures.delete(space, key)
      return undefined
    }
    return entry
  }

  failureWait(space: string, key: string, now: number): Promise<number> {
    const entry = this.current(space, key, now)
    return Promise.resolve(entry ? Math.max(0, entry.lockedUntil - now) : 0)
  }

  recordFailure(space: string, key: string, rule: FailureRule, now: number): Promise<number> {
    const entry = this.current(space, key, now) ?? {
      failures: 0,
      lastFailureAt: now,
      lockedUntil: 0,
      forgetAt: 0,
    }
    entry.failures++
    entry.lastFailureAt = Math.max(entry.lastFailureAt, now)
    entry.forgetAt = entry.lastFailureAt + rule.forgetAfterMs
    const lock = lockAfter(entry.failures, rule, now)
    if (lock !== undefined) entry.lockedUntil = Math.max(entry.lockedUntil, lock)
    // Re-inserted: the oldest failure goes first when the space is full.
    this.failures.set(space, key, entry)
    return Promise.resolve(Math.max(0, entry.lockedUntil - now))
  }

  clearFailures(space: string, key: string): Promise<void> {
    this.failures.delete(space, key)
    return Promise.resolve()
  }

  sweep(now: number): Promise<number> {
    return Promise.resolve(
      this.buckets.prune((b) => b.fullAt <= now) + this.failures.prune((f) => now > f.forgetAt),
    )
  }

  close(): Promise<void> {
    return Promise.resolve()
  }
}
