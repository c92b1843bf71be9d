/**
 * Reply, edit, recall and delete for me in the local store (issue 13, H1). Every change is an
 * ordinary UPDATE or DELETE of the messages row, so triggers over its text (search) follow it, and
 * bumps the revision, so the renderer takes the new copy. Edits only move forward (a higher
 * edit_count wins; a recall wins over any edit), so a late or repeated event changes nothing.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import type { Conversation, Message, MessageContent, MessageQuote } from '../../../shared/model'
import type { WireMessage } from '../../../shared/protocol'
import { conversationOfRow, rowByLocalId, viewsOf, type MessageRow } from './rows'

const RECALLED = JSON.stringify({ type: 'recalled' } satisfies MessageContent)

/** A quote shows this many characters of the quoted text. */
const EXCERPT_MAX = 120

/** The columns of migration 8, as rows.ts reads them. */
export interface MessageActionRow {
  reply_to: string | null
  edited_at: number | null
  edit_count: number
  recalled_at: number | null
}

/** What a quote shows of the quoted message, as stored here now. */
function quoteOf(db: Db, uid: string): MessageQuote {
  const quoted = prepare<
    [string],
    { local_id: number; sender_id: string; content: string; recalled_at: number | null }
  >(db, 'SELECT local_id, sender_id, content, recalled_at FROM messages WHERE message_uid = ?').get(uid)
  if (!quoted) return { messageUId: uid, state: 'missing' }
  const base = { messageUId: uid, senderUserId: quoted.sender_id, messageId: String(quoted.local_id) }
  if (quoted.recalled_at !== null) return { ...base, state: 'recalled' }
  const content = JSON.parse(quoted.content) as MessageContent
  return { ...base, state: 'ok', excerpt: excerptOf(content) }
}

function excerptOf(content: MessageContent): string {
  if (content.type === 'text')
    return content.text.length > EXCERPT_MAX ? `${content.text.slice(0, EXCERPT_MAX)}…` : content.text
  if ('name' in content && typeof content.name === 'string') return content.name
  return ''
}

/** The Message fields of migration 8 (absent when they do not apply). */
export function messageActionView(
  db: Db,
  row: MessageActionRow,
): Pick<Message, 'replyTo' | 'editedTime' | 'editCount' | 'recalledTime'> {
  return {
    ...(row.reply_to !== null ? { replyTo: quoteOf(db, row.reply_to) } : {}),
    ...(row.edit_count > 0 && row.edited_at !== null
      ? { editedTime: row.edited_at, editCount: row.edit_count }
      : {}),
    ...(row.recalled_at !== null ? { recalledTime: row.recalled_at } : {}),
  }
}

export function setReplyTo(db: Db, localId: number, replyTo: string): void {
  prepare<[string, number]>(db, 'UPDATE messages SET reply_to = ? WHERE local_id = ?').run(replyTo, localId)
}

/**
 * What a server copy says of reply, edit and recall, onto the stored row (new, or pulled again):
 * its quote, and its edit or recall when newer than what is here. True when the row changed.
 */
export function mergeServerCopy(db: Db, m: WireMessage): boolean {
  let changed = false
  if (m.replyTo !== undefined) {
    changed =
      prepare<[string, string]>(
        db,
        'UPDATE messages SET reply_to = ? WHERE message_uid = ? AND reply_to IS NULL',
      ).run(m.replyTo, m.messageUId).changes > 0
  }
  if (m.recalledAt !== undefined) return recall(db, m.messageUId, m.recalledAt).length > 0 || changed
  if (m.editCount !== undefined && m.editedAt !== undefined)
    return edit(db, m.messageUId, m.content, m.editedAt, m.editCount).length > 0 || changed
  return changed
}

/** Whether a server copy carries anything of this file (most do not: a cheap test first). */
export function carriesActions(m: WireMessage): boolean {
  return m.replyTo !== undefined || m.editCount !== undefined || m.recalledAt !== undefined
}

/** Local ids of the messages that quote `uid`: their quote changed with it. */
function repliesTo(db: Db, uid: string): number[] {
  return prepare<[string], number>(
    db,
    'UPDATE messages SET revision = revision + 1 WHERE reply_to = ? RETURNING local_id',
  )
    .pluck()
    .all(uid)
}

/** A newer edit of the message: its text replaced in place. Returns the changed messages. */
export function edit(
  db: Db,
  uid: string,
  content: MessageContent,
  editedAt: number,
  editCount: number,
): Message[] {
  return transact(db, () => {
    const localId = prepare<[string, number, number, string, number], number>(
      db,
      `UPDATE messages SET content = ?, edited_at = ?, edit_count = ?, revision = revision + 1
       WHERE message_uid = ? AND edit_count < ? AND recalled_at IS NULL RETURNING local_id`,
    )
      .pluck()
      .get(JSON.stringify(content), editedAt, editCount, uid, editCount)
    if (localId === undefined) return []
    return viewsOf(db, [localId, ...repliesTo(db, uid)])
  })
}

/**
 * The message was recalled by its sender: its content is deleted here too (the row stays, with its
 * receipts, as "recalled"). Returns the changed messages (it, and the replies that quote it).
 */
export function recall(db: Db, uid: string, recalledAt: number): Message[] {
  return transact(db, () => {
    const localId = prepare<[string, number, string], number>(
      db,
      `UPDATE messages SET content = ?, recalled_at = ?, revision = revision + 1
       WHERE message_uid = ? AND recalled_at IS NULL RETURNING local_id`,
    )
      .pluck()
      .get(RECALLED, recalledAt, uid)
    if (localId === undefined) return []
    return viewsOf(db, [localId, ...repliesTo(db, uid)])
  })
}

const RECALL_WINDOW_KEY = 'recallWindowMs'

export function recallWindow(db: Db): number | null {
  const value = prepare<[string], string>(db, 'SELECT value FROM kv WHERE key = ?')
    .pluck()
    .get(RECALL_WINDOW_KEY)
  return value === undefined ? null : Number(value)
}

export function setRecallWindow(db: Db, ms: number): void {
  prepare<[string, string]>(
    db,
    'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(RECALL_WINDOW_KEY, String(ms))
}

/** What deleting a message for me did. */
export interface DeletedForMe {
  conversation: Conversation
  messageId: string
  /** Messages that quote it: their quote now says "not available". */
  changed: Message[]
}

/**
 * Deletes the message from this device's history, for good: a tombstone keeps a later pull or push
 * from storing it again (trigger messages_stay_deleted). Not while it is still being sent.
 */
export function deleteForMe(db: Db, localId: number, now: number): DeletedForMe | undefined {
  return transact(db, () => {
    const row: MessageRow | undefined = rowByLocalId(db, localId)
    if (!row || row.status === 'sending') return undefined
    const c = conversationOfRow(row)
    if (row.message_uid !== null) {
      prepare<[string, number]>(
        db,
        'INSERT INTO deleted_messages (message_uid, deleted_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
      ).run(row.message_uid, now)
      prepare<[string]>(db, 'DELETE FROM message_readers WHERE message_uid = ?').run(row.message_uid)
    } else {
      // A failed message of mine: its send job goes with it.
      prepare<[string]>(db, `DELETE FROM outbox WHERE kind = 'send' AND ref = ?`).run(String(localId))
    }
    prepare<[number]>(db, 'DELETE FROM messages WHERE local_id = ?').run(localId)
    // The conversation's last message and unread count no longer count it.
    prepare(
      db,
      `UPDATE conversations SET
         unread_count = max(0, unread_count - :unread),
         last_local_id = CASE WHEN last_local_id = :localId THEN (
           SELECT local_id FROM messages WHERE conv_type = :type AND target_id = :targetId
           ORDER BY seq IS NULL DESC, seq DESC, local_id DESC LIMIT 1) ELSE last_local_id END
       WHERE conv_type = :type AND target_id = :targetId`,
    ).run({ unread: row.is_unread, localId, type: c.type, targetId: c.targetId })
    const changed = row.message_uid !== null ? viewsOf(db, repliesTo(db, row.message_uid)) : []
    return { conversation: c, messageId: String(localId), changed }
  })
}
