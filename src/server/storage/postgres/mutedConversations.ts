/** Mute per chat on all my devices (issue 13, H8), on PostgreSQL (as storage/mutedConversations.ts). */
import type { Sql } from './sql'

/** Mutes (true) or unmutes a conversation for a user; true when that changed something. */
export async function setConversationMuted(
  sql: Sql,
  userId: string,
  convId: number,
  muted: boolean,
  at: number,
): Promise<boolean> {
  if (!muted)
    return (
      (await sql.run('DELETE FROM muted_conversations WHERE user_id = $1 AND conv_id = $2', [
        userId,
        convId,
      ])) > 0
    )
  return (
    (await sql.run(
      `INSERT INTO muted_conversations (user_id, conv_id, muted_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [userId, convId, at],
    )) > 0
  )
}

/** The conversations a user muted. */
export async function listMutedConversations(sql: Sql, userId: string): Promise<number[]> {
  const rows = await sql.rows<{ convId: string | number }>(
    'SELECT conv_id AS "convId" FROM muted_conversations WHERE user_id = $1',
    [userId],
  )
  return rows.map((r) => Number(r.convId))
}
