/**
 * Issue 15, beyond read: must-acknowledge messages, reminders that chase only who has not
 * acknowledged, "Waiting for me", and mentions that show who saw them. The schemas both the wire
 * (protocol.ts) and the IPC contract (ipc.ts) use; the rules live in the server's ops/acks*.ts.
 *
 * Words:
 * - An **ack** ("acknowledgement") is a recipient's "I have seen this and I will act on it", on a
 *   message whose sender marked it `needAck`. It is a reader fact like a group read ack, one per
 *   recipient per message, kept by the server; only an explicit undo within the server's
 *   `ackUndoWindowMs` (default 5 minutes) removes it. It never goes backwards otherwise.
 * - The **recipients** of a message are fixed when it is sent: the peer of a single chat, or the
 *   group's members at that moment (sender excluded, `memberCount` of the message). A member who
 *   joins later is not asked; one who leaves keeps their ack (and stays counted).
 * - A **reminder** is a notification on every device of each recipient who has not acknowledged,
 *   sent by the sender (now, or on a schedule: every N minutes, at most K times). A member is
 *   reminded of one message at most `remindersPerMember` times (server setting, default 5).
 * - A **mention** (`mentionedInfo`, RongCloud's MentionedInfo) names members of a group (or
 *   everyone): they are notified even in a muted group, and the sender sees, per mentioned member,
 *   whether they have read the message (their read position in the group passed it), or that they
 *   hide their read receipts: never "not read" for a hidden one.
 */
import { z } from 'zod'
import { UserId } from './model'

export { MentionedInfo } from './model'

export const ACK_LIMITS = {
  /** Entries per page of the acknowledgement panel. */
  ackPageMax: 200,
  /** A reminder schedule: every N minutes (1 minute to 1 day), at most K times. */
  scheduleEveryMinutesMax: 24 * 60,
  scheduleTimesMax: 20,
  /** Messages per page of "Waiting for me". */
  pendingPageMax: 200,
} as const

/** The three tabs of a message's acknowledgement panel (sender only). */
export const AckState = z.enum(['acked', 'readNotAcked', 'notRead'])
export type AckState = z.infer<typeof AckState>

/**
 * The wire's lists (fetchMessageAcks): the three tabs, and 'hidden': recipients who hide their read
 * receipts and have not acknowledged (no read time). No tab shows them (they are only counted in
 * `hidden`); the CSV export (exportMessageAcks) lists them with state `hidden`.
 */
export const AckListState = z.enum([...AckState.options, 'hidden'])
export type AckListState = z.infer<typeof AckListState>

/** The counts above the tabs: "n of m acknowledged", "n of m read" and who hides their reads. */
export const AckCounts = z.object({
  acked: z.number().int().nonnegative(),
  /** Recipients who read it (acked ones included: an ack implies a read), among those who share. */
  read: z.number().int().nonnegative(),
  /** Recipients fixed at send time (m). */
  total: z.number().int().nonnegative(),
  /** Recipients who hide their read receipts: never listed as "not read" (they may still ack). */
  hidden: z.number().int().nonnegative(),
})
export type AckCounts = z.infer<typeof AckCounts>

/** One recipient in one tab of the panel. */
export const AckEntry = z.object({
  userId: UserId,
  displayName: z.string(),
  /** 'acked': when they acknowledged. */
  ackedAt: z.number().optional(),
  /** 'acked' and 'readNotAcked': when they read it, where they share read receipts. */
  readAt: z.number().optional(),
  /** Reminders this recipient got for this message so far. */
  reminded: z.number().int().nonnegative(),
})
export type AckEntry = z.infer<typeof AckEntry>

/** A page of one tab, on a stable opaque cursor (like fetchGroupReadAcks). */
export const AckPage = z.object({
  state: AckState,
  entries: z.array(AckEntry),
  /** Cursor for the next page of the same tab; absent on the last page. */
  nextCursor: z.string().max(80).optional(),
  counts: AckCounts,
})
export type AckPage = z.infer<typeof AckPage>

/** A page as the wire sends it: of a tab, or of the hidden recipients (for the export). */
export const AckListPage = AckPage.extend({ state: AckListState })
export type AckListPage = z.infer<typeof AckListPage>

/** A reminder schedule the sender set: every `everyMinutes`, at most `times` reminders in all. */
export const ReminderSchedule = z.object({
  everyMinutes: z.number().int().min(1).max(ACK_LIMITS.scheduleEveryMinutesMax),
  times: z.number().int().min(1).max(ACK_LIMITS.scheduleTimesMax),
})
export type ReminderSchedule = z.infer<typeof ReminderSchedule>

/** A schedule as the server keeps it: how many runs are left and when the next one is due. */
export const ReminderScheduleState = ReminderSchedule.extend({
  remaining: z.number().int().nonnegative(),
  nextAt: z.number().nullable(),
})
export type ReminderScheduleState = z.infer<typeof ReminderScheduleState>

/** What one reminder run did. */
export const ReminderResult = z.object({
  /** Pending recipients reminded now. */
  reminded: z.number().int().nonnegative(),
  /** Pending recipients skipped: they were reminded of this message remindersPerMember times. */
  limited: z.number().int().nonnegative(),
})
export type ReminderResult = z.infer<typeof ReminderResult>

/** Per mentioned member: read (with when), not read yet, or hiding their read receipts. */
const MentionReadState = z.object({
  userId: UserId,
  state: z.enum(['read', 'unread', 'hidden']),
  readAt: z.number().optional(),
})
type MentionReadState = z.infer<typeof MentionReadState>

/** fetchMentionReads: a dot per named member; for '@all', counts like the reader panel's. */
export const MentionReads = z.object({
  members: z.array(MentionReadState),
  /** '@all' only: read / total / hidden among the recipients. */
  all: z.object({ read: z.number().int(), total: z.number().int(), hidden: z.number().int() }).optional(),
})
export type MentionReads = z.infer<typeof MentionReads>

export const AckCursor = z.string().min(1).max(80)
