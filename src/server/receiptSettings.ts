/**
 * Group read-receipt settings (SPEC E8): the server's defaults, and the `--config` file that sets them.
 * Per-group overrides live in the database (group_receipt_settings) and are set by the group owner.
 */
import { readFileSync } from 'node:fs'
import { z } from 'zod'
import { GroupReceiptSettings } from '../shared/model'
import { AccountDefaultsConfig } from './accountDefaults'
import { accessConfigFields } from './limits'
import { policyConfigFields } from './policy'
import { MessageActionSettings } from './messageActions'
import { ackConfigFields } from './ackSettings'
import { FileLimits } from '../shared/files'

const DAY_MS = 24 * 60 * 60 * 1000

/**
 * Easemob's limits table, except the switch: Easemob ships the feature off until it is enabled in
 * its console; receipts are this product's headline, so ours is on.
 */
export const DEFAULT_GROUP_RECEIPT_SETTINGS: GroupReceiptSettings = Object.freeze({
  enabled: true,
  whoMayRequest: 'all',
  validityMs: 3 * DAY_MS,
  maxGroupSize: 200,
  countVisibility: 'sender',
})

/** Some of the settings; an unknown key is an error, not silently ignored. */
const GroupReceiptOverrides = GroupReceiptSettings.partial().strict()

/**
 * The JSON file of `--config`: `{ "groupReceipts": { "maxGroupSize": 500, … }, "accountDefaults":
 * { "requireReadAck": false }, "retention": { … },
 * "quotas": { … }, "lookups": { … } }` (the last three: src/server/policy.ts), and the access keys of
 * src/server/limits.ts (registration, allowedHosts, allowedOrigins, authLimits, connectionLimits).
 */
export const ServerConfigFile = z
  .object({
    groupReceipts: GroupReceiptOverrides.optional(),
    /** The receipt options a new account starts with (accountDefaults.ts; default both on). */
    accountDefaults: AccountDefaultsConfig.optional(),
    /** How long a message may be recalled (messageActions.ts; default 24 h). */
    messageActions: MessageActionSettings.partial().optional(),
    /** Files and images (files/fileApi.ts): the largest upload, and the largest image (bytes). */
    files: FileLimits.partial().strict().optional(),
    /** Acknowledgements (issue 15, ackSettings.ts): ackUndoWindowMs, ackReminders. */
    ...ackConfigFields,
    ...policyConfigFields,
    ...accessConfigFields,
  })
  .strict()
export type ServerConfigFile = z.infer<typeof ServerConfigFile>

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map(
      (issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
    )
    .join('; ')
}

/** Effective settings: `base` with every field `overrides` sets. */
export function mergeReceiptSettings(
  base: GroupReceiptSettings,
  overrides: Partial<GroupReceiptSettings>,
): GroupReceiptSettings {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined))
  return { ...base, ...defined }
}

/** The server defaults from `startServer({ groupReceipts })`; throws on a value out of range. */
export function resolveReceiptDefaults(overrides: Partial<GroupReceiptSettings> = {}): GroupReceiptSettings {
  const parsed = GroupReceiptOverrides.safeParse(overrides)
  if (!parsed.success) throw new Error(`invalid groupReceipts settings: ${describe(parsed.error)}`)
  return mergeReceiptSettings(DEFAULT_GROUP_RECEIPT_SETTINGS, parsed.data)
}

/** Reads and validates a `--config` file; the error message is one line that names the file. */
export function loadServerConfig(file: string): ServerConfigFile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : String(error)
    throw new Error(`cannot read config file ${file}: ${reason}`, { cause: error })
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new Error(
      `config file ${file} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    )
  }
  const parsed = ServerConfigFile.safeParse(value)
  if (!parsed.success) throw new Error(`invalid config file ${file}: ${describe(parsed.error)}`)
  return parsed.data
}
