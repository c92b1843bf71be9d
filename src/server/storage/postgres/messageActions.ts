/**
 * Reply, edit and recall (issue 13, H1) on PostgreSQL, as storage/messageActions.ts does on SQLite.
 * An edit locks the message row (the UPDATE) before it copies the replaced text, so two edits on
 * two nodes number their versions one after the other.
 */
import type { MessageContent } from '../../../shared/model'
import type { MessageVersion } from '../../../shared/protocol'
import { RECALLED_CONTENT } from '../messageActionFields'
import type { Sql } from './sql'

export async function setReplyTo(sql: Sql, messageId: number, replyToUId: string): Promise<void> {
  await sql.run('UPDATE messages SET reply_to = $1 WHERE id = $2', [replyToUId, messageId])
}

export async function editMessage(
  sql: Sql,
  messageId: number,
  content: MessageContent,
  at: number,
): Promise<number | undefined> {
  return sql.atomic(async (tx) => {
    const old = await tx.first<{ content: string; editCount: number; at: number }>(
      `SELECT content, edit_count AS "editCount", coalesce(edited_at, sent_at) AS at FROM messages
       WHERE id = $1 AND recalled_at IS NULL FOR UPDATE`,
      [messageId],
    )
    if (!old) return undefined
    await tx.run(
      'INSERT INTO message_versions (message_id, version, content, created_at) VALUES ($1, $2, $3, $4)',
      [messageId, old.editCount + 1, old.content, old.at],
    )
    await tx.run('UPDATE messages SET content = $1, edited_at = $2, edit_count = $3 WHERE id = $4', [
      JSON.stringify(content),
      at,
      old.editCount + 1,
      messageId,
    ])
    return old.editCount + 1
  })
}

export async function recallMessage(sql: Sql, messageId: number, at: number): Promise<boolean> {
  return sql.atomic(async (tx) => {
    const changed = await tx.run(
      'UPDATE messages SET content = $1, recalled_at = $2 WHERE id = $3 AND recalled_at IS NULL',
      [RECALLED_CONTENT, at, messageId],
    )
    await tx.run('DELETE FROM message_versions WHERE message_id = $1', [messageId])
    return changed > 0
  })
}

export async function listMessageVersions(sql: Sql, messageId: number): Promise<MessageVersion[]> {
  const rows = await sql.rows<{ version: number; content: string; at: number }>(
    `SELECT version, content, created_at AS at FROM message_versions WHERE message_id = $1 ORDER BY version`,
    [messageId],
  )
  return rows.map((r) => ({ version: r.version, content: JSON.parse(r.content) as MessageContent, at: r.at }))
}

export async function listMessageViewers(sql: Sql, convId: number, seq: number): Promise<string[]> {
  const rows = await sql.rows<{ userId: string }>(
    `SELECT user_id AS "userId" FROM members
     WHERE conv_id = $1 AND joined_seq < $2 AND (left_seq IS NULL OR left_seq >= $2) ORDER BY user_id`,
    [convId, seq],
  )
  return rows.map((r) => r.userId)
}
