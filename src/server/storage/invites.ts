import { prepare, type Db } from './db'

/** Invite codes are stored only as their sha256 (like session tokens): a copy of the database opens nothing. */
export function insertInvite(db: Db, codeHash: Buffer, createdAt: number, expiresAt: number): void {
  prepare<[Buffer, number, number]>(
    db,
    'INSERT INTO invites (code_hash, created_at, expires_at) VALUES (?, ?, ?)',
  ).run(codeHash, createdAt, expiresAt)
}

/** Marks the invite used by `userId`; false when it is unknown, used or expired (nothing written). */
export function useInvite(db: Db, codeHash: Buffer, userId: string, at: number): boolean {
  return (
    prepare<[string, number, Buffer, number]>(
      db,
      `UPDATE invites SET used_by = ?, used_at = ?
       WHERE code_hash = ? AND used_by IS NULL AND expires_at > ?`,
    ).run(userId, at, codeHash, at).changes === 1
  )
}
