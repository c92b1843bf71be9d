/**
 * What a client may cost the server, and who may use it at all: the limits on logins and
 * registrations (authGuard.ts), on sockets and their bytes (gateway.ts), the registration mode, and
 * the host names and browser origins the server answers (browserGuard.ts). Defaults here; each can
 * be set with `startServer({ … })` or in the `--config` file.
 */
import { z } from 'zod'

const KIB = 1024
const MIB = 1024 * KIB
const MINUTE_MS = 60 * 1000

/** Who may register: everyone, no one (the operator made the accounts), or holders of an invite code. */
export const RegistrationMode = z.enum(['open', 'closed', 'invite'])
export type RegistrationMode = z.infer<typeof RegistrationMode>

const positive = z.number().int().positive()

export const AuthLimits = z
  .object({
    /** Failed logins of one account before the first delay. */
    accountFreeFailures: z.number().int().min(0),
    /** Failed logins from one address, whatever the accounts, before the first delay. */
    addressFreeFailures: z.number().int().min(0),
    /** The first delay; each further failure doubles it, up to maxFailureDelayMs. */
    failureDelayMs: positive,
    maxFailureDelayMs: positive,
    /** Failures are forgotten this long after the last one. */
    forgetFailuresAfterMs: positive,
    /** Registrations from one address: `burst` at once, then `perHour`. */
    registrationsPerAddress: z.object({ perHour: z.number().positive(), burst: positive }).strict(),
    /** Password hashes (scrypt, about 32 MiB and tens of ms each) computed at once. */
    hashConcurrency: positive,
    /** Logins and registrations waiting for a hash beyond those; past it: SERVER_BUSY. */
    hashQueue: z.number().int().min(0),
    /** Logins and registrations of one address running or waiting at once; past it: RATE_LIMITED. */
    hashesPerAddress: positive,
  })
  .strict()
export type AuthLimits = z.infer<typeof AuthLimits>

const DEFAULT_AUTH_LIMITS: AuthLimits = Object.freeze({
  accountFreeFailures: 5,
  addressFreeFailures: 20,
  failureDelayMs: 1000,
  maxFailureDelayMs: 15 * MINUTE_MS,
  forgetFailuresAfterMs: 60 * MINUTE_MS,
  registrationsPerAddress: Object.freeze({ perHour: 10, burst: 10 }),
  hashConcurrency: 2,
  hashQueue: 16,
  hashesPerAddress: 4,
})

export const ConnectionLimits = z
  .object({
    socketsPerUser: positive,
    socketsPerAddress: positive,
    /** Inbound bytes of one socket: `inboundBurstBytes` at once, then this many a second. */
    inboundBytesPerSecond: z.number().positive(),
    inboundBurstBytes: positive,
    /** The same across all sockets of one user (opening more sockets buys no more). */
    userInboundBytesPerSecond: z.number().positive(),
    userInboundBurstBytes: positive,
    /** Bytes refused since a socket's last accepted frame after which it is closed (4008). */
    abuseBytes: positive,
    /** Frames refused since a socket's last accepted frame after which it is closed (4008). */
    abuseFrames: positive,
    /** After such a close, the user's new sockets are refused (429) for this long. */
    abuseCooldownMs: z.number().int().min(0),
    /** Unsent bytes of one socket past which the server stops reading and serving it. */
    sendBudgetBytes: positive,
    /** The same across all sockets of one user. */
    userSendBudgetBytes: positive,
  })
  .strict()
export type ConnectionLimits = z.infer<typeof ConnectionLimits>

const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  socketsPerUser: 16,
  socketsPerAddress: 128,
  inboundBytesPerSecond: 256 * KIB,
  inboundBurstBytes: 2 * MIB,
  userInboundBytesPerSecond: 768 * KIB,
  userInboundBurstBytes: 6 * MIB,
  abuseBytes: 1 * MIB,
  abuseFrames: 1000,
  abuseCooldownMs: 10_000,
  sendBudgetBytes: 2 * MIB,
  userSendBudgetBytes: 8 * MIB,
})

/** The keys of the `--config` file that this module reads (receiptSettings.ts spreads them in). */
export const accessConfigFields = {
  registration: RegistrationMode.optional(),
  allowedHosts: z.array(z.string().min(1).max(253)).optional(),
  allowedOrigins: z.array(z.string().min(1).max(300)).optional(),
  authLimits: AuthLimits.partial().strict().optional(),
  connectionLimits: ConnectionLimits.partial().strict().optional(),
}

function resolve<T extends object>(
  name: string,
  schema: z.ZodType<T>,
  defaults: T,
  overrides?: Partial<T>,
): T {
  const merged = {
    ...defaults,
    ...Object.fromEntries(Object.entries(overrides ?? {}).filter(([, v]) => v !== undefined)),
  }
  const parsed = schema.safeParse(merged)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new Error(`invalid ${name}: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim())
  }
  return parsed.data
}

/** Defaults with the given fields; throws on a value out of range. */
export function resolveAuthLimits(overrides?: Partial<AuthLimits>): AuthLimits {
  return resolve('authLimits', AuthLimits, DEFAULT_AUTH_LIMITS, overrides)
}

/** Defaults with the given fields; throws on a value out of range. */
export function resolveConnectionLimits(overrides?: Partial<ConnectionLimits>): ConnectionLimits {
  return resolve('connectionLimits', ConnectionLimits, DEFAULT_CONNECTION_LIMITS, overrides)
}
