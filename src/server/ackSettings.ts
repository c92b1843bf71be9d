/**
 * The operator's settings of acknowledgements and reminders (issue 15): `startServer({
 * ackUndoWindowMs, ackReminders })` or the `--config` file's `"ackUndoWindowMs": …` and
 * `"ackReminders": { "remindersPerMember": …, "intervalMs": …, "minuteMs": … }`.
 *
 * - ackUndoWindowMs, default 5 minutes: long enough to take back an ack tapped by mistake, short
 *   enough that the sender can rely on what the panel says (0: acks cannot be undone; at most a day).
 * - remindersPerMember, default 5: how many times one member may be reminded of one message, so a
 *   sender cannot use reminders to flood someone (REMINDER_LIMIT_REACHED past it).
 * - intervalMs, default 60 s: the shortest pause between two reminder runs of one message
 *   (REMINDER_TOO_SOON), whoever starts them.
 * - minuteMs, default 60,000: the length of a schedule's "minute" (setAckReminderSchedule's
 *   everyMinutes); test servers make it short so a schedule runs in seconds.
 */
import { z } from 'zod'

const MINUTE_MS = 60_000
const DAY_MS = 24 * 60 * MINUTE_MS

export const AckRemindersConfig = z
  .object({
    remindersPerMember: z.number().int().min(1).max(100),
    intervalMs: z.number().int().min(0).max(DAY_MS),
    minuteMs: z.number().int().min(1).max(MINUTE_MS),
  })
  .strict()

/** The keys of the --config file (receiptSettings.ts ServerConfigFile). */
export const ackConfigFields = {
  /** How long an ack may be taken back (ms; default 5 minutes). */
  ackUndoWindowMs: z.number().int().min(0).max(DAY_MS).optional(),
  /** Reminder limits (acks.ts). */
  ackReminders: AckRemindersConfig.partial().optional(),
}

export interface AckSettings {
  undoWindowMs: number
  remindersPerMember: number
  reminderIntervalMs: number
  minuteMs: number
}

export const DEFAULT_ACK_SETTINGS: AckSettings = Object.freeze({
  undoWindowMs: 5 * MINUTE_MS,
  remindersPerMember: 5,
  reminderIntervalMs: MINUTE_MS,
  minuteMs: MINUTE_MS,
})

/** The effective settings; throws on a value out of range. */
export function resolveAckSettings(
  given: { ackUndoWindowMs?: number; ackReminders?: Partial<z.infer<typeof AckRemindersConfig>> } = {},
): AckSettings {
  const parsed = z.object(ackConfigFields).safeParse(given)
  if (!parsed.success) throw new Error(`invalid ack settings: ${parsed.error.issues[0]?.message}`)
  const r = parsed.data.ackReminders ?? {}
  return {
    undoWindowMs: parsed.data.ackUndoWindowMs ?? DEFAULT_ACK_SETTINGS.undoWindowMs,
    remindersPerMember: r.remindersPerMember ?? DEFAULT_ACK_SETTINGS.remindersPerMember,
    reminderIntervalMs: r.intervalMs ?? DEFAULT_ACK_SETTINGS.reminderIntervalMs,
    minuteMs: r.minuteMs ?? DEFAULT_ACK_SETTINGS.minuteMs,
  }
}
