/**
 * What a new account starts with: the receipt options of Settings (`requireDeliveryAck`,
 * `requireReadAck`). Receipts are this product's headline, so a new account asks for both; an
 * operator may start accounts with either off (`--config` `{ "accountDefaults": { … } }`). Existing
 * accounts keep what they chose: this is read only when an account is created.
 */
import { z } from 'zod'
import type { AccountSettings } from '../shared/protocol'

export type AccountReceiptDefaults = Pick<AccountSettings, 'requireDeliveryAck' | 'requireReadAck'>

export const DEFAULT_ACCOUNT_RECEIPTS: AccountReceiptDefaults = Object.freeze({
  requireDeliveryAck: true,
  requireReadAck: true,
})

/** Some of the defaults; an unknown key is an error, not silently ignored. */
export const AccountDefaultsConfig = z
  .object({ requireDeliveryAck: z.boolean(), requireReadAck: z.boolean() })
  .partial()
  .strict()

/** The effective defaults: ours, with every field the operator set. */
export function resolveAccountDefaults(
  overrides: z.infer<typeof AccountDefaultsConfig> = {},
): AccountReceiptDefaults {
  const parsed = AccountDefaultsConfig.safeParse(overrides)
  if (!parsed.success) throw new Error(`invalid accountDefaults: ${parsed.error.issues[0]?.message ?? ''}`)
  return {
    requireDeliveryAck: parsed.data.requireDeliveryAck ?? DEFAULT_ACCOUNT_RECEIPTS.requireDeliveryAck,
    requireReadAck: parsed.data.requireReadAck ?? DEFAULT_ACCOUNT_RECEIPTS.requireReadAck,
  }
}
