/**
 * The operator's limits beyond group receipts (issue #11): how long data is kept (retention), how
 * much one user may add per day (quotas), and how fast one user may look up users it shares no
 * conversation with (lookups). Set with `startServer({ retention, quotas, lookups })` or in the
 * `--config` file under the same keys; every field is optional and has a default.
 */
import { z } from 'zod'
import { MemoryLimits, type BucketRule, type SharedLimits } from './sharedLimits'
import type { UsageLimits } from './storage/types'

export const DAY_MS = 24 * 60 * 60 * 1000

export const RetentionSettings = z
  .object({
    /** Receipt events (syncEvents) are kept this many days; a device further behind does a full resync. */
    eventsDays: z.number().positive(),
    /** Messages are kept this many days, with their receipts; null keeps them forever. */
    messagesDays: z.number().positive().nullable(),
    /** How often the sweep runs (it also deletes expired and revoked sessions). */
    sweepIntervalMs: z.number().int().positive(),
  })
  .strict()
export type RetentionSettings = z.infer<typeof RetentionSettings>

/** Per user and UTC day; null: no limit. Over one: QUOTA_EXCEEDED, nothing stored. */
export const QuotaSettings = z
  .object({
    messagesPerDay: z.number().int().positive().nullable(),
    /** Bytes of message content (its JSON). */
    bytesPerDay: z.number().int().positive().nullable(),
    groupsPerDay: z.number().int().positive().nullable(),
  })
  .strict()
export type QuotaSettings = z.infer<typeof QuotaSettings>

/**
 * Looking up users the caller shares no conversation with (getUsers, a first message, creating a
 * group or adding members): a token bucket per user. Over it: RATE_LIMITED.
 */
export const LookupSettings = z
  .object({
    burst: z.number().int().positive(),
    perHour: z.number().positive(),
  })
  .strict()
export type LookupSettings = z.infer<typeof LookupSettings>

const DEFAULT_RETENTION: RetentionSettings = Object.freeze({
  eventsDays: 30,
  messagesDays: null,
  sweepIntervalMs: 60 * 60 * 1000,
})

/** Far above a person's day, low enough that one account cannot fill the disk. */
const DEFAULT_QUOTAS: QuotaSettings = Object.freeze({
  messagesPerDay: 50_000,
  bytesPerDay: 50 * 1024 * 1024,
  groupsPerDay: 500,
})

const DEFAULT_LOOKUPS: LookupSettings = Object.freeze({ burst: 600, perHour: 600 })

/** The keys of the `--config` file besides groupReceipts (see receiptSettings.ts). */
export const policyConfigFields = {
  retention: RetentionSettings.partial().optional(),
  quotas: QuotaSettings.partial().optional(),
  lookups: LookupSettings.partial().optional(),
  /** 'direct' (default): added members are members; 'accept': they get an invitation first. */
  groupInvites: z.enum(['direct', 'accept']).optional(),
  /** Delivery receipts one sender may trigger at one receiver (deliveryBudget.ts). */
  deliveryReceiptBudget: z
    .object({ burst: z.number().int().min(1), perMinute: z.number().min(0) })
    .strict()
    .optional(),
}

/** The effective settings: the defaults with what is given; throws on a value out of range. */
export function resolvePolicy(given: {
  retention?: Partial<RetentionSettings> | undefined
  quotas?: Partial<QuotaSettings> | undefined
  lookups?: Partial<LookupSettings> | undefined
}): { retention: RetentionSettings; quotas: QuotaSettings; lookups: LookupSettings } {
  const parse = <T>(schema: z.ZodType<T>, value: unknown, what: string): T => {
    const parsed = schema.safeParse(value)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new Error(`invalid ${what} settings: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`)
    }
    return parsed.data
  }
  return {
    retention: parse(RetentionSettings, { ...DEFAULT_RETENTION, ...given.retention }, 'retention'),
    quotas: parse(QuotaSettings, { ...DEFAULT_QUOTAS, ...given.quotas }, 'quotas'),
    lookups: parse(LookupSettings, { ...DEFAULT_LOOKUPS, ...given.lookups }, 'lookups'),
  }
}

/** "No limit" as a number SQLite can compare with. */
export function usageLimits(quotas: QuotaSettings): UsageLimits {
  const or = (v: number | null) => v ?? Number.MAX_SAFE_INTEGER
  return {
    messages: or(quotas.messagesPerDay),
    bytes: or(quotas.bytesPerDay),
    groups: or(quotas.groupsPerDay),
  }
}

/** The UTC day of a time, the key of usage_daily. */
export function dayOf(time: number): number {
  return Math.floor(time / DAY_MS)
}

/**
 * One token bucket per user for lookups of strangers, on the server's clock (so tests use a fake
 * one). The buckets are a SharedLimits (sharedLimits.ts): this process's memory on one node, the
 * shared database on several, so a user's budget is the same whichever nodes its devices use. Full
 * buckets are dropped by the retention sweep, so what is kept follows active users.
 */
export class LookupBudget {
  private readonly rule: BucketRule

  constructor(
    settings: LookupSettings,
    private readonly limits: SharedLimits = new MemoryLimits(),
  ) {
    this.rule = { burst: settings.burst, refill: settings.perHour, intervalMs: 60 * 60 * 1000 }
  }

  /** Takes `count` lookups at once, or none (false) when fewer are left. */
  async take(userId: string, count: number, now: number): Promise<boolean> {
    if (count <= 0) return true
    return (await this.limits.take('lookups', userId, count, this.rule, now)).ok
  }
}

/** What operations need of these settings (OpContext.policy). */
export interface OpPolicy {
  usageLimits: UsageLimits
  lookups: LookupBudget
  /** 'accept': an addition to a group is an invitation the invitee accepts (ops/groupInvites.ts). */
  groupInvites?: GroupInvitesSetting
  /** How long after sending a message may be recalled (messageActions.ts; default 24 h). */
  recallWindowMs?: number
  /** Acknowledgements and reminders (ackSettings.ts; absent: the defaults). */
  acks?: import('./ackSettings').AckSettings
}

export type GroupInvitesSetting = 'direct' | 'accept'
