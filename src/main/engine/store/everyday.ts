/**
 * This device's marks on a conversation (issue 13): its text draft and whether it notifies. A
 * draft stays here (what was typed on this device); the notification mark is the column the
 * server's copy is kept in (H8, store/mutedConversations.ts: muting follows me to all my devices,
 * as RongCloud's and Easemob's server-side do-not-disturb).
 */
import { prepare, type Db } from '../../../node/sqlite'
import type { Conversation, NotificationStatus } from '../../../shared/model'

/** notification_status as stored: RongCloud's NotificationStatus numbers (OPEN 1, CLOSE 2). */
const STATUS_CODES: Record<NotificationStatus, number> = { notify: 1, doNotDisturb: 2 }

export function notificationStatusOf(code: number): NotificationStatus {
  // An unknown number (a newer level written by a later version) notifies: never silently lose a chat.
  return code === STATUS_CODES.doNotDisturb ? 'doNotDisturb' : 'notify'
}

/** The draft of a conversation ('' for none), or undefined when this device has no such conversation. */
export function draft(db: Db, c: Conversation): string | undefined {
  return prepare<[string, string], { draft: string }>(
    db,
    'SELECT draft FROM conversations WHERE conv_type = ? AND target_id = ?',
  ).get(c.type, c.targetId)?.draft
}

/** Saves (or with '' clears) a draft; true when it changed. Saving does not move the chat in the list. */
export function saveDraft(db: Db, c: Conversation, text: string, now: number): boolean {
  return (
    prepare<[string, number | null, string, string, string]>(
      db,
      `UPDATE conversations SET draft = ?, draft_at = ?
       WHERE conv_type = ? AND target_id = ? AND draft <> ?`,
    ).run(text, text === '' ? null : now, c.type, c.targetId, text).changes > 0
  )
}

export function notificationStatus(db: Db, c: Conversation): NotificationStatus | undefined {
  const r = prepare<[string, string], { status: number }>(
    db,
    'SELECT notification_status AS status FROM conversations WHERE conv_type = ? AND target_id = ?',
  ).get(c.type, c.targetId)
  return r && notificationStatusOf(r.status)
}

/** true when it changed. */
export function setNotificationStatus(db: Db, c: Conversation, status: NotificationStatus): boolean {
  const code = STATUS_CODES[status]
  return (
    prepare<[number, string, string, number]>(
      db,
      `UPDATE conversations SET notification_status = ?
       WHERE conv_type = ? AND target_id = ? AND notification_status <> ?`,
    ).run(code, c.type, c.targetId, code).changes > 0
  )
}
