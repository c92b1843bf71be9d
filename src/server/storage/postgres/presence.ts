/**
 * Profile, privacy settings, live presence and the relations they depend on (issue 13, H4), on
 * PostgreSQL; the SQLite twin is ../presence.ts. Several nodes write `presence` at once: each only
 * its own rows (user, node), so the counts need no lock beyond the row's; "was anyone online before"
 * may race between two nodes, which at worst pushes "online" twice.
 */
import type { PrivacySettings } from '../../../shared/presence'
import type { PresenceRow, RelationScope } from '../types'
import type { Sql } from './sql'

const PRIVACY_COLUMNS = 'typing_visibility AS typing, presence_visibility AS presence'

export async function getPrivacy(sql: Sql, userId: string): Promise<PrivacySettings | undefined> {
  return sql.first<PrivacySettings>(`SELECT ${PRIVACY_COLUMNS} FROM users WHERE id = $1`, [userId])
}

export async function updatePrivacy(
  sql: Sql,
  userId: string,
  patch: Partial<PrivacySettings>,
): Promise<PrivacySettings> {
  const row = await sql.first<PrivacySettings>(
    `UPDATE users SET typing_visibility = coalesce($2, typing_visibility),
       presence_visibility = coalesce($3, presence_visibility)
     WHERE id = $1 RETURNING ${PRIVACY_COLUMNS}`,
    [userId, patch.typing ?? null, patch.presence ?? null],
  )
  if (!row) throw new Error(`updatePrivacy: no user ${userId}`)
  return row
}

export async function updateDisplayName(sql: Sql, userId: string, displayName: string): Promise<void> {
  await sql.run('UPDATE users SET display_name = $2 WHERE id = $1', [userId, displayName])
}

export async function renameGroup(sql: Sql, groupId: string, name: string): Promise<void> {
  await sql.run('UPDATE groups SET name = $2 WHERE id = $1', [groupId, name])
}

export async function updatePasswordHash(sql: Sql, userId: string, passwordHash: string): Promise<void> {
  await sql.run('UPDATE users SET password_hash = $2 WHERE id = $1', [userId, passwordHash])
}

export async function revokeOtherSessions(sql: Sql, userId: string, keep: Buffer): Promise<Buffer[]> {
  const rows = await sql.rows<{ tokenHash: Buffer }>(
    `UPDATE sessions SET revoked = true WHERE user_id = $1 AND token_hash <> $2 AND NOT revoked
     RETURNING token_hash AS "tokenHash"`,
    [userId, keep],
  )
  return rows.map((r) => r.tokenHash)
}

/** As RELATED_SQL of ../presence.ts. */
const RELATED_SQL = `SELECT DISTINCT b.user_id AS "userId" FROM members a
  JOIN conversations c ON c.id = a.conv_id
  JOIN members b ON b.conv_id = a.conv_id AND b.user_id <> a.user_id AND b.left_seq IS NULL
  WHERE a.user_id = $1 AND a.left_seq IS NULL AND ($2 = 'everyone' OR c.type = 'private')`

export async function relatedUsers(
  sql: Sql,
  userId: string,
  scope: RelationScope,
  among?: readonly string[],
): Promise<string[]> {
  if (among?.length === 0) return []
  const rows =
    among === undefined
      ? await sql.rows<{ userId: string }>(RELATED_SQL, [userId, scope])
      : await sql.rows<{ userId: string }>(`${RELATED_SQL} AND b.user_id = ANY($3::text[])`, [
          userId,
          scope,
          among,
        ])
  return rows.map((r) => r.userId)
}

async function liveSockets(sql: Sql, userId: string, liveAfter: number): Promise<number> {
  const row = await sql.first<{ n: number }>(
    'SELECT coalesce(sum(sockets), 0)::int AS n FROM presence WHERE user_id = $1 AND seen_at > $2',
    [userId, liveAfter],
  )
  return row?.n ?? 0
}

export async function addPresenceSocket(
  sql: Sql,
  userId: string,
  nodeId: string,
  at: number,
  liveAfter: number,
): Promise<boolean> {
  return sql.atomic(async (tx) => {
    const before = await liveSockets(tx, userId, liveAfter)
    await tx.run(
      `INSERT INTO presence (user_id, node_id, sockets, seen_at) VALUES ($1, $2, 1, $3)
       ON CONFLICT (user_id, node_id) DO UPDATE SET sockets = presence.sockets + 1, seen_at = excluded.seen_at`,
      [userId, nodeId, at],
    )
    await tx.run('UPDATE users SET last_seen_at = $2 WHERE id = $1', [userId, at])
    return before === 0
  })
}

export async function removePresenceSocket(
  sql: Sql,
  userId: string,
  nodeId: string,
  at: number,
  liveAfter: number,
): Promise<boolean> {
  return sql.atomic(async (tx) => {
    // The last socket deletes the row, any other one counts down (in this order, or both would).
    await tx.run('DELETE FROM presence WHERE user_id = $1 AND node_id = $2 AND sockets = 1', [userId, nodeId])
    await tx.run(
      'UPDATE presence SET sockets = sockets - 1 WHERE user_id = $1 AND node_id = $2 AND sockets > 1',
      [userId, nodeId],
    )
    await tx.run('UPDATE users SET last_seen_at = $2 WHERE id = $1', [userId, at])
    return (await liveSockets(tx, userId, liveAfter)) === 0
  })
}

export async function refreshPresence(sql: Sql, nodeId: string, at: number): Promise<void> {
  await sql.run('UPDATE presence SET seen_at = $2 WHERE node_id = $1', [nodeId, at])
}

export async function sweepPresence(sql: Sql, liveAfter: number): Promise<string[]> {
  return sql.atomic(async (tx) => {
    // Of two nodes sweeping at once, each row goes to one of them (DELETE … RETURNING).
    const gone = await tx.rows<{ userId: string; seenAt: number }>(
      'DELETE FROM presence WHERE seen_at <= $1 RETURNING user_id AS "userId", seen_at AS "seenAt"',
      [liveAfter],
    )
    const offline: string[] = []
    for (const { userId, seenAt } of gone) {
      await tx.run('UPDATE users SET last_seen_at = GREATEST(coalesce(last_seen_at, 0), $2) WHERE id = $1', [
        userId,
        seenAt,
      ])
      if (!offline.includes(userId) && (await liveSockets(tx, userId, liveAfter)) === 0) offline.push(userId)
    }
    return offline
  })
}

export async function getPresence(
  sql: Sql,
  userIds: readonly string[],
  liveAfter: number,
): Promise<PresenceRow[]> {
  if (userIds.length === 0) return []
  return sql.rows<PresenceRow>(
    `SELECT u.id AS "userId", u.last_seen_at AS "lastSeenAt", u.presence_visibility AS visibility,
       EXISTS (SELECT 1 FROM presence p WHERE p.user_id = u.id AND p.seen_at > $2) AS online
     FROM users u WHERE u.id = ANY($1::text[]) ORDER BY u.id`,
    [userIds, liveAfter],
  )
}
