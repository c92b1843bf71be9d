/**
 * Delete for me on all my devices (issue 13, H6) on PostgreSQL, as storage/deleteForMe.ts does on
 * SQLite. One statement: two nodes deleting the same message for the same user at once both
 * succeed, and only one of them reports it as new (ON CONFLICT on the primary key).
 */
import type { DeletedForMeInput } from '../types'
import type { Sql } from './sql'

export async function deleteMessagesForMe(
  sql: Sql,
  userId: string,
  messages: readonly DeletedForMeInput[],
  at: number,
): Promise<number[]> {
  if (messages.length === 0) return []
  const rows = await sql.rows<{ id: number }>(
    `INSERT INTO deleted_for_me (user_id, conv_id, seq, message_id, own, deleted_at)
     SELECT $1, conv_id, seq, message_id, own, $2
     FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::boolean[]) AS t(conv_id, seq, message_id, own)
     ON CONFLICT DO NOTHING RETURNING message_id AS id`,
    [
      userId,
      at,
      messages.map((m) => m.convId),
      messages.map((m) => m.seq),
      messages.map((m) => m.id),
      messages.map((m) => m.own),
    ],
  )
  return rows.map((r) => r.id)
}
