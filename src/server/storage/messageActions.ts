/**
 * Reply, edit and recall (issue 13, H1) on SQLite. An edit keeps the message row (so its receipts
 * stay) and moves the text it replaces to message_versions; a recall deletes the content and every
 * version. One writer: each call's statements run in one transaction.
 */
import type { MessageContent } from '../../shared/model'
import type { MessageVersion } from '../../shared/protocol'
import { prepare, transact, type Db } from './db'

import { RECALLED_CONTENT } from './messageActionFields'

export function setReplyTo(db: Db, messageId: number, replyToUId: string): void {
  prepare<[string, number]>(db, 'UPDATE messages SET reply_to = ? WHERE id = ?').run(replyToUId, messageId)
}

export function editMessage(
  db: Db,
  messageId: number,
  content: MessageContent,
  at: number,
): number | undefined {
  return transact(db, () => {
    const saved = prepare<[number]>(
      db,
      `INSERT INTO message_versions (message_id, version, content, created_at)
       SELECT id, edit_count + 1, content, coalesce(edited_at, sent_at) FROM messages
       WHERE id = ? AND recalled_at IS NULL`,
    ).run(messageId)
    if (saved.changes === 0) return undefined
    return prepare<[string, number, number], number>(
      db,
      `UPDATE messages SET content = ?, edited_at = ?, edit_count = edit_count + 1 WHERE id = ?
       RETURNING edit_count`,
    )
      .pluck()
      .get(JSON.stringify(content), at, messageId)
  })
}

export function recallMessage(db: Db, messageId: number, at: number): boolean {
  return transact(db, () => {
    const changed = prepare<[string, number, number]>(
      db,
      'UPDATE messages SET content = ?, recalled_at = ? WHERE id = ? AND recalled_at IS NULL',
    ).run(RECALLED_CONTENT, at, messageId).changes
    prepare<[number]>(db, 'DELETE FROM message_versions WHERE message_id = ?').run(messageId)
    return changed > 0
  })
}

export function listMessageVersions(db: Db, messageId: number): MessageVersion[] {
  return prepare<[number], { version: number; content: string; at: number }>(
    db,
    `SELECT version, content, created_at AS at FROM message_versions WHERE message_id = ? ORDER BY version`,
  )
    .all(messageId)
    .map((r) => ({ version: r.version, content: JSON.parse(r.content) as MessageContent, at: r.at }))
}

/** Everyone who may see the message of `seq`: joined before it, not left before it (its sender too). */
export function listMessageViewers(db: Db, convId: number, seq: number): string[] {
  return prepare<[number, number, number], string>(
    db,
    `SELECT user_id FROM members
     WHERE conv_id = ? AND joined_seq < ? AND (left_seq IS NULL OR left_seq >= ?) ORDER BY user_id`,
  )
    .pluck()
    .all(convId, seq, seq)
}
