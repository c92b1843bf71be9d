/** Conversations of the local store: their marks, the conversation list, and my read mark. */
import { prepare, transact, type Db } from '../../../node/sqlite'
import type { Conversation, ConversationSummary, Message } from '../../../shared/model'
import type { ConversationState } from '../../../shared/protocol'
import { advanceWatermark, visibleUpTo } from '../../../shared/receipts'
import { notificationStatusOf } from './everyday'
import { enqueue } from './outbox'
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows'
import {
  READ_CHANGES_REPORTED,
  type BehindConversation,
  type ConversationRecord,
  type ReadResult,
} from './types'

interface ConversationRow {
  conv_type: 'private' | 'group'
  target_id: string
  title: string
  last_seq: number
  synced_seq: number
  joined_seq: number
  left_seq: number | null
  read_seq: number
  unread_count: number
  last_local_id: number | null
  updated_at: number
  share_override: number | null
  receipts_shared: number
}

export const conversationKeyOf = (c: Conversation): string => `${c.type}:${c.targetId}`

/**
 * A conversation with its display name (the peer's or the group's, when known) and its last message,
 * in one row; the message columns are NULL when it has none.
 */
export const SUMMARY_SQL = `SELECT ${MESSAGE_COLUMNS.split(',')
  .map((c) => `m.${c.trim()}`)
  .join(', ')},
    c.conv_type AS c_type, c.target_id AS c_target, c.title AS c_title, c.last_seq AS c_last_seq,
    c.unread_count AS c_unread_count, c.updated_at AS c_updated_at,
    c.share_override AS c_share_override, c.receipts_shared AS c_receipts_shared,
    c.draft AS c_draft, c.notification_status AS c_notification_status,
    CASE c.conv_type WHEN 'private' THEN u.display_name ELSE g.name END AS known_name
  FROM conversations c
  LEFT JOIN messages m ON m.local_id = c.last_local_id
  LEFT JOIN users u ON c.conv_type = 'private' AND u.user_id = c.target_id
  LEFT JOIN groups g ON c.conv_type = 'group' AND g.group_id = c.target_id`

type SummaryRow = { [K in keyof MessageRow]: MessageRow[K] | null } & {
  c_type: 'private' | 'group'
  c_target: string
  c_title: string
  c_last_seq: number
  c_unread_count: number
  c_updated_at: number
  c_share_override: number | null
  c_receipts_shared: number
  c_draft: string
  c_notification_status: number
  known_name: string | null
}

/** Unread received messages up to a seq: served by the partial index messages_unread. */
export const MARK_READ_UP_TO_SQL = `UPDATE messages SET is_unread = 0, my_read_at = ?, revision = revision + 1
  WHERE conv_type = ? AND target_id = ? AND seq <= ? AND direction = 2 AND is_unread = 1
  RETURNING ${MESSAGE_COLUMNS}`
export const COUNT_UNREAD_SQL = `SELECT count(*) AS n FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq > ? AND direction = 2 AND is_unread = 1`
export const COUNT_UNREAD_BETWEEN_SQL = `SELECT count(*) AS n FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq > ? AND seq <= ? AND direction = 2 AND is_unread = 1`

function row(db: Db, c: Conversation): ConversationRow | undefined {
  return prepare<[string, string], ConversationRow>(
    db,
    'SELECT * FROM conversations WHERE conv_type = ? AND target_id = ?',
  ).get(c.type, c.targetId)
}

export function ensureConversation(db: Db, c: Conversation, title: string, now: number): void {
  prepare<[string, string, string, number]>(
    db,
    `INSERT INTO conversations (conv_type, target_id, title, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (conv_type, target_id) DO NOTHING`,
  ).run(c.type, c.targetId, title, now)
}

export function conversation(db: Db, c: Conversation): ConversationRecord | undefined {
  const r = row(db, c)
  if (!r) return undefined
  return {
    conversation: c,
    title: r.title,
    lastSeq: r.last_seq,
    syncedSeq: r.synced_seq,
    joinedSeq: r.joined_seq,
    leftSeq: r.left_seq,
    readSeq: r.read_seq,
    unreadCount: r.unread_count,
  }
}

export function applyConversationState(db: Db, st: ConversationState, now: number): Message[] {
  return transact(db, () => {
    const c = st.conversation
    ensureConversation(db, c, st.title, now)
    prepare(
      db,
      `UPDATE conversations SET
         title = CASE WHEN :title = '' THEN title ELSE :title END,
         last_seq = max(last_seq, :lastSeq),
         joined_seq = :joinedSeq,
         left_seq = :leftSeq,
         synced_seq = max(synced_seq, :joinedSeq)
       WHERE conv_type = :type AND target_id = :targetId`,
    ).run({
      type: c.type,
      targetId: c.targetId,
      title: st.title,
      lastSeq: st.lastSeq,
      joinedSeq: st.joinedSeq,
      leftSeq: st.leftSeq,
    })
    setReceiptSharing(db, c, st.shareReadReceipts, st.readReceiptsShared)
    return readConversation(db, c, st.readSeq, now, false).changed
  })
}

export function conversationsBehind(db: Db): BehindConversation[] {
  const out: BehindConversation[] = []
  for (const r of prepare<[], ConversationRow>(
    db,
    'SELECT * FROM conversations ORDER BY updated_at DESC',
  ).all()) {
    const upTo = visibleUpTo(r.last_seq, r.left_seq)
    if (upTo > r.synced_seq)
      out.push({ conversation: { type: r.conv_type, targetId: r.target_id }, afterSeq: r.synced_seq, upTo })
  }
  return out
}

function toSummary(db: Db, r: SummaryRow): ConversationSummary {
  return {
    conversation: { type: r.c_type, targetId: r.c_target },
    title: r.known_name ?? (r.c_title || r.c_target),
    lastMessage: r.local_id === null ? null : toMessage(db, r as MessageRow),
    unreadCount: r.c_unread_count,
    lastSeq: r.c_last_seq,
    updatedAt: r.c_updated_at,
    shareReadReceipts: r.c_share_override === null ? null : r.c_share_override === 1,
    readReceiptsShared: r.c_receipts_shared === 1,
    draft: r.c_draft,
    notificationStatus: notificationStatusOf(r.c_notification_status),
  }
}

export function summary(db: Db, c: Conversation): ConversationSummary | undefined {
  const r = prepare<[string, string], SummaryRow>(
    db,
    `${SUMMARY_SQL} WHERE c.conv_type = ? AND c.target_id = ?`,
  ).get(c.type, c.targetId)
  return r && toSummary(db, r)
}

/** One statement for the whole list (names and last messages joined), not four per conversation. */
export function listConversations(db: Db): ConversationSummary[] {
  return prepare<[], SummaryRow>(db, `${SUMMARY_SQL} ORDER BY c.updated_at DESC`)
    .all()
    .map((r) => toSummary(db, r))
}

/** After a message was stored: last seq, unread count, last message and time of its conversation. */
export function noteInserted(
  db: Db,
  c: Conversation,
  m: { seq: number | null; unread: number; localId: number; at: number },
): void {
  prepare(
    db,
    `UPDATE conversations SET
       last_seq = max(last_seq, coalesce(:seq, 0)),
       unread_count = unread_count + :unread,
       last_local_id = CASE
         WHEN last_local_id IS NULL THEN :localId
         WHEN :seq IS NULL THEN :localId
         WHEN (SELECT seq FROM messages WHERE local_id = last_local_id) IS NULL THEN last_local_id
         WHEN (SELECT seq FROM messages WHERE local_id = last_local_id) < :seq THEN :localId
         ELSE last_local_id END,
       updated_at = max(updated_at, :at)
     WHERE conv_type = :type AND target_id = :targetId`,
  ).run({ ...m, type: c.type, targetId: c.targetId })
}

export function setSynced(db: Db, c: Conversation, synced: number): void {
  prepare<[number, string, string]>(
    db,
    'UPDATE conversations SET synced_seq = ? WHERE conv_type = ? AND target_id = ?',
  ).run(synced, c.type, c.targetId)
}

export function syncedSeq(db: Db, c: Conversation): number | undefined {
  return row(db, c)?.synced_seq
}

/**
 * Moves my read mark to `seq` (never back), clears the read flag of received messages up to it and
 * recounts unread. Reports at most READ_CHANGES_REPORTED changed messages, the newest: a read mark
 * after a long offline backlog can cover thousands, more than anyone has on screen; an older copy
 * the renderer still holds is refreshed when it asks for it (ackMessageRead reports the row).
 */
export function readConversation(
  db: Db,
  c: Conversation,
  seq: number,
  now: number,
  queueAck: boolean,
): ReadResult {
  return transact(db, () => {
    const r = row(db, c)
    if (!r) return { changed: [], conversationChanged: false }
    const readSeq = advanceWatermark(r.read_seq, seq)
    // The rows as they are after the update: the changed messages are built from them, no re-read.
    const marked = prepare<[number, string, string, number], MessageRow>(db, MARK_READ_UP_TO_SQL).all(
      now,
      c.type,
      c.targetId,
      readSeq,
    )
    const unread =
      prepare<[string, string, number], { n: number }>(db, COUNT_UNREAD_SQL).get(c.type, c.targetId, readSeq)
        ?.n ?? 0
    const conversationChanged = readSeq !== r.read_seq || unread !== r.unread_count
    if (conversationChanged) setRead(db, c, readSeq, unread)
    if (queueAck)
      enqueue(
        db,
        { kind: 'ackConversationRead', ref: conversationKeyOf(c), payload: { conversation: c, seq } },
        now,
      )
    marked.sort((a, b) => (b.seq ?? 0) - (a.seq ?? 0))
    if (marked.length > READ_CHANGES_REPORTED) marked.length = READ_CHANGES_REPORTED
    return { changed: marked.map((m) => toMessage(db, m)), conversationChanged }
  })
}

function setRead(db: Db, c: Conversation, readSeq: number, unread: number): void {
  prepare<[number, number, string, string]>(
    db,
    'UPDATE conversations SET read_seq = ?, unread_count = ? WHERE conv_type = ? AND target_id = ?',
  ).run(readSeq, unread, c.type, c.targetId)
}

/** Whether read receipts are shared in the conversation (see ConversationSummary); true if it changed. */
export function setReceiptSharing(
  db: Db,
  c: Conversation,
  override: boolean | null,
  shared: boolean,
): boolean {
  const values = { override: override === null ? null : override ? 1 : 0, shared: shared ? 1 : 0 }
  return (
    prepare(
      db,
      `UPDATE conversations SET share_override = :override, receipts_shared = :shared
       WHERE conv_type = :type AND target_id = :targetId
         AND (share_override IS NOT :override OR receipts_shared IS NOT :shared)`,
    ).run({ ...values, type: c.type, targetId: c.targetId }).changes > 0
  )
}

/** One received message was read: one fewer unread. */
export function countOneRead(db: Db, c: Conversation): void {
  prepare<[string, string]>(
    db,
    `UPDATE conversations SET unread_count = max(0, unread_count - 1) WHERE conv_type = ? AND target_id = ?`,
  ).run(c.type, c.targetId)
}

/** True when no received message at or below `seq` is still unread. */
export function allReadUpTo(db: Db, c: Conversation, seq: number): boolean {
  const r = row(db, c)
  if (!r) return false
  const stillUnread = prepare<[string, string, number, number], { n: number }>(
    db,
    COUNT_UNREAD_BETWEEN_SQL,
  ).get(c.type, c.targetId, r.read_seq, seq)
  return (stillUnread?.n ?? 0) === 0
}
