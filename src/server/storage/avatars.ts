/** Profile and group pictures (issue 13, H7), on SQLite: which image upload is whose picture. */
import { prepare, type Db } from './db'
import type { AvatarOwner, AvatarOwnerKind, AvatarRow } from './types'

/** Sets (fileId) or removes (null) the picture of a user or a group; the file it replaced, if any. */
export function setAvatar(
  db: Db,
  kind: AvatarOwnerKind,
  ownerId: string,
  fileId: string | null,
  at: number,
): string | null {
  const before =
    prepare<[string, string], { fileId: string }>(
      db,
      'SELECT file_id AS fileId FROM avatars WHERE owner_kind = ? AND owner_id = ?',
    ).get(kind, ownerId)?.fileId ?? null
  if (fileId === null) {
    prepare<[string, string]>(db, 'DELETE FROM avatars WHERE owner_kind = ? AND owner_id = ?').run(
      kind,
      ownerId,
    )
  } else {
    prepare<[string, string, string, number]>(
      db,
      `INSERT INTO avatars (owner_kind, owner_id, file_id, set_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (owner_kind, owner_id) DO UPDATE SET file_id = excluded.file_id, set_at = excluded.set_at`,
    ).run(kind, ownerId, fileId, at)
  }
  return before === fileId ? null : before
}

/** The pictures of these users or groups (those without one left out). */
export function getAvatars(db: Db, kind: AvatarOwnerKind, ownerIds: readonly string[]): AvatarRow[] {
  if (ownerIds.length === 0) return []
  return prepare<[string, string], AvatarRow>(
    db,
    `SELECT owner_id AS ownerId, file_id AS fileId FROM avatars
     WHERE owner_kind = ? AND owner_id IN (SELECT value FROM json_each(?))`,
  ).all(kind, JSON.stringify(ownerIds))
}

/** Whose picture the file is (index avatars_by_file). */
export function avatarOwners(db: Db, fileId: string): AvatarOwner[] {
  return prepare<[string], AvatarOwner>(
    db,
    'SELECT owner_kind AS kind, owner_id AS ownerId FROM avatars WHERE file_id = ?',
  ).all(fileId)
}
