/** Profile and group pictures (issue 13, H7), on PostgreSQL (as storage/avatars.ts). */
import type { AvatarOwner, AvatarOwnerKind, AvatarRow } from '../types'
import type { Sql } from './sql'

/** Sets (fileId) or removes (null) the picture of a user or a group; the file it replaced, if any. */
export async function setAvatar(
  sql: Sql,
  kind: AvatarOwnerKind,
  ownerId: string,
  fileId: string | null,
  at: number,
): Promise<string | null> {
  // The row is locked while read, so two devices setting at once each see what they replaced.
  const before =
    (
      await sql.first<{ fileId: string }>(
        'SELECT file_id AS "fileId" FROM avatars WHERE owner_kind = $1 AND owner_id = $2 FOR UPDATE',
        [kind, ownerId],
      )
    )?.fileId ?? null
  if (fileId === null) {
    await sql.run('DELETE FROM avatars WHERE owner_kind = $1 AND owner_id = $2', [kind, ownerId])
  } else {
    await sql.run(
      `INSERT INTO avatars (owner_kind, owner_id, file_id, set_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (owner_kind, owner_id) DO UPDATE SET file_id = excluded.file_id, set_at = excluded.set_at`,
      [kind, ownerId, fileId, at],
    )
  }
  return before === fileId ? null : before
}

export async function getAvatars(
  sql: Sql,
  kind: AvatarOwnerKind,
  ownerIds: readonly string[],
): Promise<AvatarRow[]> {
  if (ownerIds.length === 0) return []
  return sql.rows<AvatarRow>(
    `SELECT owner_id AS "ownerId", file_id AS "fileId" FROM avatars
     WHERE owner_kind = $1 AND owner_id = ANY($2::text[])`,
    [kind, [...ownerIds]],
  )
}

export async function avatarOwners(sql: Sql, fileId: string): Promise<AvatarOwner[]> {
  return sql.rows<AvatarOwner>(
    'SELECT owner_kind AS kind, owner_id AS "ownerId" FROM avatars WHERE file_id = $1',
    [fileId],
  )
}
