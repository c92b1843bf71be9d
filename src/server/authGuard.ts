/**
 * What stands between the account endpoints and password guessing, scrypt floods and scripted
 * sign-ups (issue #11):
 *
 * - failed logins are counted per account and per address; past a few free ones each further
 *   failure makes that account (or address) wait, twice as long each time, up to a cap. While it
 *   waits, its logins are refused at once with RATE_LIMITED and `retryAfterMs`, the password not
 *   even checked, so guessing costs the guesser time, not the server CPU. A success clears the
 *   account's count; counts are forgotten an hour after the last failure;
 * - password hashes (scrypt) run a few at a time; the logins and registrations waiting for one are
 *   a bounded queue: past it, SERVER_BUSY at once instead of everyone waiting behind a flood; and
 *   one address may have only a few of them running or waiting;
 * - registrations are a token bucket per address;
 * - every failed login is logged (warn: account, address, code), never the password.
 *
 * The waits follow the server clock (`now`), so tests move them with a fake one.
 */
import type { IncomingMessage } from 'node:http'
import { isIPv6 } from 'node:net'
import { Code, CodedError } from '../shared/codes'
import type { AuthLimits } from './limits'
import type { Logger } from './log'

/** A refusal that says when to come back: HTTP 429 (RATE_LIMITED) or 503 (SERVER_BUSY) with Retry-After. */
export class RetryLaterError extends CodedError {
  constructor(
    code: typeof Code.RATE_LIMITED | typeof Code.SERVER_BUSY,
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(code, message)
    this.name = 'RetryLaterError'
  }
}

/**
 * The client's address as limits see it: IPv4 as is (also when mapped into IPv6), IPv6 by its /64,
 * which is what one subscriber usually gets. The server sees the peer of the TCP connection; behind
 * a reverse proxy that is the proxy (see src/server/README.md).
 */
export function clientAddress(req: Pick<IncomingMessage, 'socket'>): string {
  const address = req.socket.remoteAddress ?? 'unknown'
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped?.[1]) return mapped[1]
  if (!isIPv6(address)) return address
  const groups = expandIPv6(address)
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : address
}

function expandIPv6(address: string): string[] | undefined {
  const [head = '', tail] = address.split('::')
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  if (tail === undefined && left.length !== 8) return undefined
  const zeros = Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...zeros, ...right].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
}

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

interface FailureEntry {
  failures: number
  lastFailureAt: number
  lockedUntil: number
}

/** Failure counts per key with growing waits; bounded in memory (the oldest entries go first). */
class FailureThrottle {
  private readonly entries = new Map<string, FailureEntry>()

  constructor(
    private readonly free: number,
    private readonly limits: AuthLimits,
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  private current(key: string): FailureEntry | undefined {
    const entry = this.entries.get(key)
    if (entry && this.now() - entry.lastFailureAt > this.limits.forgetFailuresAfterMs) {
      this.entries.delete(key)
      return undefined
    }
    return entry
  }

  /** How long `key` must still wait; 0 when it may try. */
  waitMs(key: string): number {
    const entry = this.current(key)
    return entry ? Math.max(0, entry.lockedUntil - this.now()) : 0
  }

  fail(key: string): void {
    const now = this.now()
    const entry = this.current(key) ?? { failures: 0, lastFailureAt: now, lockedUntil: 0 }
    entry.failures++
    entry.lastFailureAt = now
    const over = entry.failures - this.free
    if (over > 0) {
      const { failureDelayMs, maxFailureDelayMs } = this.limits
      entry.lockedUntil = now + Math.min(maxFailureDelayMs, failureDelayMs * 2 ** Math.min(over - 1, 40))
    }
    // Re-inserted, so the map's order is the order of last failure and the oldest go first.
    this.entries.delete(key)
    this.entries.set(key, entry)
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value
      if (oldest !== undefined) this.entries.delete(oldest)
    }
  }

  clear(key: string): void {
    this.entries.delete(key)
  }
}

/** A token bucket per address on the server clock: `burst` at once, then `perHour`. */
class AddressAllowance {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly perHour: number,
    private readonly burst: number,
    private readonly now: () => number,
    private readonly maxEntries = 100_000,
  ) {}

  private refill(key: string): { tokens: number; at: number } {
    const now = this.now()
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(
      this.burst,
      bucket.tokens + (Math.max(0, now - bucket.at) * this.perHour) / 3_600_000,
    )
    bucket.at = now
    return bucket
  }

  /** Takes one; returns 0, or how long until one is there (nothing taken). */
  take(key: string): number {
    const bucket = this.refill(key)
    if (bucket.tokens < 1) return Math.ceil(((1 - bucket.tokens) * 3_600_000) / this.perHour)
    bucket.tokens -= 1
    this.buckets.delete(key)
    this.buckets.set(key, bucket)
    // Bounded memory: the least recently used address goes first (a full bucket loses nothing).
    const oldest = this.buckets.keys().next().value
    if (this.buckets.size > this.maxEntries && oldest !== undefined) this.buckets.delete(oldest)
    return 0
  }
}

/** Password hashing a few at a time, with a bounded queue and a bound per address. */
class HashGate {
  private running = 0
  private readonly waiting: (() => void)[] = []
  private readonly perAddress = new Map<string, number>()

  constructor(private readonly limits: AuthLimits) {}

  get inFlight(): number {
    return this.running
  }

  get queued(): number {
    return this.waiting.length
  }

  async run<T>(address: string, work: () => Promise<T>): Promise<T> {
    const { hashConcurrency, hashQueue, hashesPerAddress } = this.limits
    const mine = this.perAddress.get(address) ?? 0
    if (mine >= hashesPerAddress)
      throw new RetryLaterError(
        Code.RATE_LIMITED,
        'too many logins or registrations in progress from your address; retry in a second',
        1000,
      )
    if (this.running >= hashConcurrency && this.waiting.length >= hashQueue)
      throw new RetryLaterError(
        Code.SERVER_BUSY,
        'the server is busy checking passwords; retry in a second',
        1000,
      )
    this.perAddress.set(address, mine + 1)
    try {
      if (this.running < hashConcurrency) this.running++
      // The slot passes straight from the one that finishes (see below), so `running` stays counted.
      else await new Promise<void>((resolve) => this.waiting.push(resolve))
      try {
        return await work()
      } finally {
        const next = this.waiting.shift()
        if (next) next()
        else this.running--
      }
    } finally {
      const left = (this.perAddress.get(address) ?? 1) - 1
      if (left > 0) this.perAddress.set(address, left)
      else this.perAddress.delete(address)
    }
  }
}

/** The limits of /api/login and /api/register; the HTTP layer runs each call through it. */
export class AuthGuard {
  private readonly accounts: FailureThrottle
  private readonly addresses: FailureThrottle
  private readonly registrations: AddressAllowance
  private readonly hashes: HashGate

  constructor(
    limits: AuthLimits,
    now: () => number,
    private readonly log: Logger,
  ) {
    this.accounts = new FailureThrottle(limits.accountFreeFailures, limits, now)
    this.addresses = new FailureThrottle(limits.addressFreeFailures, limits, now)
    const { perHour, burst } = limits.registrationsPerAddress
    this.registrations = new AddressAllowance(perHour, burst, now)
    this.hashes = new HashGate(limits)
  }

  /** Hashes running and waiting now (RunningServer.stats). */
  get load(): { hashesInFlight: number; hashesQueued: number } {
    return { hashesInFlight: this.hashes.inFlight, hashesQueued: this.hashes.queued }
  }

  /** Runs `attempt` (the password check and the session) unless the account or address must wait. */
  async login<T>(address: string, userId: string, attempt: () => Promise<T>): Promise<T> {
    const wait = Math.max(this.accounts.waitMs(userId), this.addresses.waitMs(address))
    try {
      if (wait > 0)
        throw new RetryLaterError(
          Code.RATE_LIMITED,
          `too many failed logins for this account or from this address; retry in ${seconds(wait)} s`,
          wait,
        )
      const result = await this.hashes.run(address, attempt)
      this.accounts.clear(userId)
      return result
    } catch (error) {
      const code = error instanceof CodedError ? error.code : Code.INTERNAL
      if (code === Code.AUTH_FAILED) {
        this.accounts.fail(userId)
        this.addresses.fail(address)
      }
      this.log.warn('login failed', {
        userId,
        address,
        code,
        ...(error instanceof RetryLaterError ? { retryAfterMs: error.retryAfterMs } : {}),
      })
      throw error
    }
  }

  /** Runs `attempt` (the hash and the insert) if the address has a registration left. */
  async register<T>(address: string, attempt: () => Promise<T>): Promise<T> {
    const wait = this.registrations.take(address)
    if (wait > 0) {
      this.log.warn('registration refused', { address, code: Code.RATE_LIMITED, retryAfterMs: wait })
      throw new RetryLaterError(
        Code.RATE_LIMITED,
        `too many registrations from this address; retry in ${seconds(wait)} s`,
        wait,
      )
    }
    return this.hashes.run(address, attempt)
  }
}
