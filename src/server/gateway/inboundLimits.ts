/**
 * What one user and one address may open and send: the socket caps (per user, per address, and the
 * cooldown after an abuse cut-off), the rate limits on frames and bytes of a socket and of its user,
 * and cutting off a socket that goes on sending past them. Their settings are in limits.ts.
 */
import type { Duplex } from 'node:stream'
import { codeDescriptions } from '../../shared/codes'
import { CLOSE_TOO_MUCH, type Connection, type ConnectionOptions } from '../connection'
import type { Hub } from '../hub'
import type { ConnectionLimits } from '../limits'
import type { Logger } from '../log'
import { UserRateLimits } from '../rateLimit'

/** The gateway's options these limits read (GatewayOptions in gateway.ts). */
interface InboundOptions {
  userRatePerSecond: number
  userRateBurst: number
  limits?: ConnectionLimits | undefined
}

/** The options of a new connection: its inbound byte budget, when limited. */
export function connectionOptions(
  options: ConnectionOptions & Pick<InboundOptions, 'limits'>,
): ConnectionOptions {
  const { limits } = options
  return limits
    ? {
        ...options,
        inboundBytesPerSecond: limits.inboundBytesPerSecond,
        inboundBurstBytes: limits.inboundBurstBytes,
      }
    : options
}

/** Why a frame was refused by the rate limits, and after how long the same frame would pass. */
export interface Refusal {
  msg: string
  retryAfterMs?: number
}

function refusal(msg: string, retryAfterMs: number): Refusal {
  return Number.isFinite(retryAfterMs) ? { msg, retryAfterMs: Math.max(1, retryAfterMs) } : { msg }
}

export class InboundLimits {
  private readonly userLimits: UserRateLimits
  /** Inbound bytes per user, when limited. */
  private readonly userBytes: UserRateLimits | undefined
  /** Open sockets per client address (for socketsPerAddress). */
  private readonly byAddress = new Map<string, number>()
  /** Users whose socket was closed for ignoring its limits, until when their new sockets are refused. */
  private readonly cooldown = new Map<string, number>()

  constructor(
    private readonly options: InboundOptions,
    private readonly deps: { hub: Hub; log: Logger; now: () => number },
  ) {
    this.userLimits = new UserRateLimits(options.userRatePerSecond, options.userRateBurst)
    const limits = options.limits
    this.userBytes =
      limits && new UserRateLimits(limits.userInboundBytesPerSecond, limits.userInboundBurstBytes)
  }

  /** A socket from this address was opened. */
  opened(address: string): void {
    this.byAddress.set(address, (this.byAddress.get(address) ?? 0) + 1)
  }

  /** A socket from this address was closed. */
  closed(address: string): void {
    const left = (this.byAddress.get(address) ?? 1) - 1
    if (left > 0) this.byAddress.set(address, left)
    else this.byAddress.delete(address)
  }

  /** Why one more socket of this user from this address is refused, if it is. */
  crowded(userId: string, address: string): string | undefined {
    const { limits } = this.options
    if (!limits) return undefined
    const until = this.cooldown.get(userId)
    if (until !== undefined && until > this.deps.now())
      return `this account was cut off for sending too much; retry in ${Math.ceil((until - this.deps.now()) / 1000)} s`
    if (this.deps.hub.connectionsOf(userId).length >= limits.socketsPerUser)
      return `this account has ${limits.socketsPerUser} connections already, the most it may have; close one first`
    if ((this.byAddress.get(address) ?? 0) >= limits.socketsPerAddress)
      return `this address has ${limits.socketsPerAddress} connections already, the most it may have`
    return undefined
  }

  /**
   * The rate limits, before the frame is parsed (a refused frame costs no JSON.parse): frames and
   * bytes of the socket, then of its user. Null when the frame may go on, else the refusal's words
   * and when the same frame would pass (absent: it never will, it is larger than the burst).
   * Nothing of a refused frame ran, so a client may send it again after `retryAfterMs`.
   */
  admit(connection: Connection, size: number): Refusal | null {
    // The connection's own buckets first: a socket over its limit does not drain its user's others.
    if (!connection.bucket.take()) return refusal(codeDescriptions.RATE_LIMITED, connection.bucket.msUntil())
    if (connection.inbound && !connection.inbound.take(size))
      return refusal('too many bytes from this connection; retry later', connection.inbound.msUntil(size))
    const { userId } = connection
    if (!this.userLimits.take(userId))
      return refusal('too many requests from this account; retry later', this.userLimits.msUntil(userId))
    if (this.userBytes && !this.userBytes.take(userId, size))
      return refusal('too much data from this account; retry later', this.userBytes.msUntil(userId, size))
    return null
  }

  /**
   * Counts a refused frame against its connection, and cuts the connection off once its refusals in
   * a row pass abuseBytes or abuseFrames. True when it did.
   */
  refused(connection: Connection, size: number): boolean {
    connection.refusedBytes += size
    connection.refusedFrames++
    const { limits } = this.options
    const tooMuch = limits !== undefined && connection.refusedBytes > limits.abuseBytes
    if (tooMuch || (limits !== undefined && connection.refusedFrames > limits.abuseFrames)) {
      this.cutOff(connection, tooMuch ? 'too much data: slow down' : 'too many requests: slow down')
      return true
    }
    return false
  }

  /** A frame of the connection was admitted: its refusals in a row start again from zero. */
  admitted(connection: Connection): void {
    connection.refusedBytes = 0
    connection.refusedFrames = 0
  }

  /**
   * Closes a socket that goes on sending past its limits (4008), and reads nothing more of it: its
   * FIN follows the close frame, so the client learns the code at once while what it still sends
   * stays in the kernel's buffers, costing no CPU. Its user may not reconnect for abuseCooldownMs.
   */
  private cutOff(connection: Connection, reason: string): void {
    const { limits } = this.options
    this.deps.log.warn('closing a connection that ignores its limits', {
      connection: connection.id,
      userId: connection.userId,
      address: connection.address,
      refusedBytes: connection.refusedBytes,
      refusedFrames: connection.refusedFrames,
    })
    connection.ws.close(CLOSE_TOO_MUCH, reason)
    const socket = (connection.ws as unknown as { _socket?: Duplex })._socket
    socket?.pause()
    socket?.end()
    if (limits && limits.abuseCooldownMs > 0)
      this.cooldown.set(connection.userId, this.deps.now() + limits.abuseCooldownMs)
  }

  /** Forgets the buckets of users with no socket left, and cooldowns that are over (each heartbeat). */
  sweep(): void {
    const connected = (userId: string): boolean => this.deps.hub.connectionsOf(userId).length > 0
    this.userLimits.sweep(connected)
    this.userBytes?.sweep(connected)
    const now = this.deps.now()
    for (const [userId, until] of this.cooldown) if (until <= now) this.cooldown.delete(userId)
  }
}
