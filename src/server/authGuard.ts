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
 * The failure records and the registration buckets are a SharedLimits (sharedLimits.ts): this
 * process's memory on one node, the shared database on several, so spreading guesses or sign-ups
 * over N nodes buys no more than one node gives. The hash queue stays per node: it protects that
 * node's CPU.
 *
 * The waits follow the server clock (`now`), so tests move them with a fake one.
 */
import type { IncomingMessage } from 'node:http'
import { isIPv6 } from 'node:net'
import { Code, CodedError } from '../shared/codes'
import type { AuthLimits } from './limits'
import type { Logger } from './log'
import { MemoryLimits, type BucketRule, type FailureRule, type SharedLimits } from './sharedLimits'

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

/** The spaces of these counters in a SharedLimits. */
const ACCOUNTS = 'login-account'
const ADDRESSES = 'login-address'
const REGISTRATIONS = 'registrations'

/** The limits of /api/login and /api/register; the HTTP layer runs each call through it. */
export class AuthGuard {
  private readonly accountRule: FailureRule
  private readonly addressRule: FailureRule
  private readonly registrationRule: BucketRule
  private readonly hashes: HashGate

  constructor(
    limits: AuthLimits,
    private readonly now: () => number,
    private readonly log: Logger,
    /** Failure records and registration buckets; default this process's memory. */
    private readonly shared: SharedLimits = new MemoryLimits(),
  ) {
    const { failureDelayMs: delayMs, maxFailureDelayMs: maxDelayMs, forgetFailuresAfterMs } = limits
    const rule = { delayMs, maxDelayMs, forgetAfterMs: forgetFailuresAfterMs }
    this.accountRule = { ...rule, free: limits.accountFreeFailures }
    this.addressRule = { ...rule, free: limits.addressFreeFailures }
    const { perHour, burst } = limits.registrationsPerAddress
    this.registrationRule = { burst, refill: perHour, intervalMs: 3_600_000 }
    this.hashes = new HashGate(limits)
  }

  /** Hashes running and waiting now (RunningServer.stats). */
  get load(): { hashesInFlight: number; hashesQueued: number } {
    return { hashesInFlight: this.hashes.inFlight, hashesQueued: this.hashes.queued }
  }

  /** Runs `attempt` (the password check and the session) unless the account or address must wait. */
  async login<T>(address: string, userId: string, attempt: () => Promise<T>): Promise<T> {
    try {
      const now = this.now()
      const waits = await Promise.all([
        this.shared.failureWait(ACCOUNTS, userId, now),
        this.shared.failureWait(ADDRESSES, address, now),
      ])
      const wait = Math.max(...waits)
      if (wait > 0)
        throw new RetryLaterError(
          Code.RATE_LIMITED,
          `too many failed logins for this account or from this address; retry in ${seconds(wait)} s`,
          wait,
        )
      const result = await this.hashes.run(address, attempt)
      // The session exists by now: a count that could not be cleared is logged, not made the answer.
      await this.shared
        .clearFailures(ACCOUNTS, userId)
        .catch((error: unknown) => this.log.warn('could not clear failed logins', { userId, error }))
      return result
    } catch (error) {
      const code = error instanceof CodedError ? error.code : Code.INTERNAL
      if (code === Code.AUTH_FAILED) {
        const now = this.now()
        await Promise.all([
          this.shared.recordFailure(ACCOUNTS, userId, this.accountRule, now),
          this.shared.recordFailure(ADDRESSES, address, this.addressRule, now),
        ])
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
    const taken = await this.shared.take(REGISTRATIONS, address, 1, this.registrationRule, this.now())
    if (!taken.ok) {
      const wait = taken.retryAfterMs
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
