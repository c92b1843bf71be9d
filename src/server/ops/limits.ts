/**
 * The per-user limits operations apply (issue #11; settings in src/server/policy.ts): the daily
 * quotas, charged in the request's own transaction (so a refused request stores nothing), and the
 * budget for looking up users the caller shares no conversation with (enumeration).
 */
import { Code, CodedError } from '../../shared/codes'
import { dayOf } from '../policy'
import type { UsageDelta } from '../storage/types'
import type { OpContext } from './context'

/** Adds to the caller's usage of the day; QUOTA_EXCEEDED (and the request rolled back) when over. */
export async function chargeUsage(ctx: OpContext, delta: Partial<UsageDelta>): Promise<void> {
  if (!ctx.policy) return
  const full = { messages: 0, bytes: 0, groups: 0, ...delta }
  if (!(await ctx.storage.chargeUsage(ctx.userId, dayOf(ctx.now), full, ctx.policy.usageLimits))) {
    throw new CodedError(Code.QUOTA_EXCEEDED)
  }
}

/**
 * Charges one lookup per id the caller shares no conversation with, before anything says whether
 * that user exists; RATE_LIMITED when the caller's budget is spent. Known people cost nothing.
 */
export async function chargeLookups(ctx: OpContext, ids: readonly string[]): Promise<void> {
  if (!ctx.policy) return
  const others = [...new Set(ids)].filter((id) => id !== ctx.userId)
  if (others.length === 0) return
  const known = new Set(await ctx.storage.knownUsers(ctx.userId, others))
  const strangers = others.filter((id) => !known.has(id)).length
  if (!(await ctx.policy.lookups.take(ctx.userId, strangers, ctx.now))) {
    throw new CodedError(
      Code.RATE_LIMITED,
      'too many lookups of users you share no conversation with; retry later',
    )
  }
}
