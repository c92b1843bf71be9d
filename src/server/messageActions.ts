/**
 * The operator's settings of message actions (issue 13, H1): `startServer({ messageActions })` or
 * the `--config` file's `"messageActions": { "recallWindowMs": … }`.
 *
 * recallWindowMs, default 24 hours: long enough to take back a message sent to the wrong chat and
 * noticed the next morning (Signal's "delete for everyone" is 24 h too; WeChat's 2 minutes is too
 * short to notice a mistake), short enough that what people read yesterday and answered stays as
 * it was. 0 turns recall off; at most 30 days.
 */
import { z } from 'zod'

const HOUR_MS = 60 * 60 * 1000

export const DEFAULT_RECALL_WINDOW_MS = 24 * HOUR_MS

export const MessageActionSettings = z
  .object({
    recallWindowMs: z
      .number()
      .int()
      .min(0)
      .max(30 * 24 * HOUR_MS),
  })
  .strict()
export type MessageActionSettings = z.infer<typeof MessageActionSettings>

/** The effective settings; throws on a value out of range. */
export function resolveMessageActions(given: Partial<MessageActionSettings> = {}): MessageActionSettings {
  const parsed = MessageActionSettings.partial().safeParse(given)
  if (!parsed.success) throw new Error(`invalid messageActions settings: ${parsed.error.issues[0]?.message}`)
  return { recallWindowMs: parsed.data.recallWindowMs ?? DEFAULT_RECALL_WINDOW_MS }
}
