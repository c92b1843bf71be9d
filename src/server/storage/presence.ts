/**
 * Profile, privacy settings, live presence and the relations they depend on (issue 13, H4), on
 * SQLite. The PostgreSQL twin is postgres/presence.ts; the meaning of each call is on StorageOps.
 */
import type { PrivacySettings, Visibility } from '../../shared/presence'
import { prepare, transact, type Db } from './db'
import type { PresenceRow, RelationScope } from './types'

export function getPrivacy(db: Db, userId: string): PrivacySettings | undefined {
  return prepare<[string], PrivacySettings>(
    db,
    'SELECT typing_visibility AS typing, presence_visibility AS presence FROM users WHERE id = ?',
  ).get(userId)
}

export function updatePrivacy(db: Db, userId: string, patch: Partial<PrivacySettings>): PrivacySettings {
  prepare<[{ userId: string; typing: Visibility | null; presence: Visibility | null }]>(
    db,
    `UPDATE users SET typing_visibility = coalesce(@typing, typing_visibility),
       presence_visibility = coalesce(@presence, presence_visibility)
     WHERE id = @userId`,
  ).run({ userId, typing: patch.typing ?? null, presence: patch.presence ?? null })
  const privacy = getPrivacy(db, userId)
  if (!privacy) throw new Error(`updatePrivacy: no user ${userId}`)
  return privacy
}

export function updateDisplayName(db: Db, userId: string, displayName: string): void {
  prepare<[string, string]>(db, 'UPDATE users SET display_name = ? WHERE id = ?').run(displayName, userId)
}

export function renameGroup(db: Db, groupId: string, name: string): void {
  prepare<[string, string]>(db, 'UPDATE groups SET name = ? WHERE id = ?').run(name, groupId)
}

export function updatePasswordHash(db: Db, userId: string, passwordHash: string): void {
  prepare<[string, string]>(db, 'UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, userId)
}

export function revokeOtherSessions(db: Db, userId: string, keep: Buffer): Buffer[] {
  return prepare<[string, Buffer], Buffer>(
    db,
    `UPDATE sessions SET revoked = 1 WHERE user_id = ? AND token_hash <> ? AND revoked = 0
     RETURNING token_hash`,
  )
    .pluck()
    .all(userId, keep)
}

/**
 * Exported for the query-plan test. Current co-members of the user's conversations (single chats
 * only for 'contacts'): the user's rows by members_by_user, each conversation's members by the
 * members primary key.
 */
export const RELATED_SQL = `SELECT DISTINCT b.user_id FROM members a
  JOIN conversations c ON c.id = a.conv_id
  JOIN members b ON b.conv_id = a.conv_id AND b.user_id <> a.user_id AND b.left_seq IS NULL
  WHERE a.user_id = @userId AND a.left_seq IS NULL AND (@scope = 'everyone' OR c.type = 'private')`

export function relatedUsers(
  db: Db,
  userId: string,
  scope: RelationScope,
  among?: readonly string[],
): string[] {
  if (among === undefined)
    return prepare<[{ userId: string; scope: RelationScope }], string>(db, RELATED_SQL)
      .pluck()
      .all({ userId, scope })
  if (among.length === 0) return []
  return prepare<[{ userId: string; scope: RelationScope; among: string }], string>(
    db,
    `${RELATED_SQL} AND b.user_id IN (SELECT value FROM json_each(@among))`,
  )
    .pluck()
    .all({ userId, scope, among: JSON.stringify(among) })
}

function liveSockets(db: Db, userId: string, liveAfter: number): number {
  return prepare<[string, number], number>(
    db,
    'SELECT coalesce(sum(sockets), 0) FROM presence WHERE user_id = ? AND seen_at > ?',
  )
    .pluck()
    .get(userId, liveAfter) as number
}

export function addPresenceSocket(
  db: Db,
  userId: string,
  nodeId: string,
  at: number,
  liveAfter: number,
): boolean {
  return transact(db, () => {
    const before = liveSockets(db, userId, liveAfter)
    prepare<[string, string, number]>(
      db,
      `INSERT INTO presence (user_id, node_id, sockets, seen_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (user_id, node_id) DO UPDATE SET sockets = sockets + 1, seen_at = excluded.seen_at`,
    ).run(userId, nodeId, at)
    prepare<[number, string]>(db, 'UPDATE users SET last_seen_at = ? WHERE id = ?').run(at, userId)
    return before === 0
  })
}

export function removePresenceSocket(
  db: Db,
  userId: string,
  nodeId: string,
  at: number,
  liveAfter: number,
): boolean {
  return transact(db, () => {
    // The last socket deletes the row, any other one counts down (in this order, or both would).
    prepare<[string, string]>(
      db,
      'DELETE FROM presence WHERE user_id = ? AND node_id = ? AND sockets = 1',
    ).run(userId, nodeId)
    prepare<[string, string]>(
      db,
      'UPDATE presence SET sockets = sockets - 1 WHERE user_id = ? AND node_id = ? AND sockets > 1',
    ).run(userId, nodeId)
    prepare<[number, string]>(db, 'UPDATE users SET last_seen_at = ? WHERE id = ?').run(at, userId)
    return liveSockets(db, userId, liveAfter) === 0
  })
}

export function refreshPresence(db: Db, nodeId: string, at: number): void {
  prepare<[number, string]>(db, 'UPDATE presence SET seen_at = ? WHERE node_id = ?').run(at, nodeId)
}

export function sweepPresence(db: Db, liveAfter: number): string[] {
  return transact(db, () => {
    const gone = prepare<[number], { userId: string; seenAt: number }>(
      db,
      'DELETE FROM presence WHERE seen_at <= ? RETURNING user_id AS userId, seen_at AS seenAt',
    ).all(liveAfter)
    const offline: string[] = []
    for (const { userId, seenAt } of gone) {
      prepare<[number, string]>(
        db,
        'UPDATE users SET last_seen_at = max(coalesce(last_seen_at, 0), ?) WHERE id = ?',
      ).run(seenAt, userId)
      if (!offline.includes(userId) && liveSockets(db, userId, liveAfter) === 0) offline.push(userId)
    }
    return offline
  })
}

export function getPresence(db: Db, userIds: readonly string[], liveAfter: number): PresenceRow[] {
  if (userIds.length === 0) return []
  return prepare<
    [{ ids: string; liveAfter: number }],
    { userId: string; online: number; lastSeenAt: number | null; visibility: Visibility }
  >(
    db,
    `SELECT u.id AS userId, u.last_seen_at AS lastSeenAt, u.presence_visibility AS visibility,
       EXISTS (SELECT 1 FROM presence p WHERE p.user_id = u.id AND p.seen_at > @liveAfter) AS online
     FROM users u WHERE u.id IN (SELECT value FROM json_each(@ids)) ORDER BY u.id`,
  )
    .all({ ids: JSON.stringify(userIds), liveAfter })
    .map((r) => ({ ...r, online: r.online === 1 }))
}
