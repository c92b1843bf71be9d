/** Uploaded files and the messages that carry them (issue 13, H3), on PostgreSQL. */
import type { FileRow } from '../types'
import type { Sql } from './sql'

const FILE_COLUMNS = `id, owner_id AS "ownerId", name, mime, kind, size, created_at AS "createdAt",
  completed_at AS "completedAt"`

export async function insertFile(sql: Sql, f: FileRow): Promise<void> {
  await sql.run(
    `INSERT INTO files (id, owner_id, name, mime, kind, size, created_at, completed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [f.id, f.ownerId, f.name, f.mime, f.kind, f.size, f.createdAt, f.completedAt],
  )
}

export async function getFile(sql: Sql, id: string): Promise<FileRow | undefined> {
  return sql.first<FileRow>(`SELECT ${FILE_COLUMNS} FROM files WHERE id = $1`, [id])
}

export async function completeFile(sql: Sql, id: string, at: number): Promise<void> {
  await sql.run('UPDATE files SET completed_at = $2 WHERE id = $1 AND completed_at IS NULL', [id, at])
}

export async function deleteUnattachedFile(sql: Sql, id: string): Promise<boolean> {
  const deleted = await sql.run(
    `DELETE FROM files WHERE id = $1
     AND NOT EXISTS (SELECT 1 FROM message_files WHERE file_id = files.id)
     AND NOT EXISTS (SELECT 1 FROM avatars WHERE file_id = files.id)`,
    [id],
  )
  return deleted === 1
}

export async function attachFile(sql: Sql, fileId: string, convId: number, seq: number): Promise<void> {
  await sql.run(
    'INSERT INTO message_files (file_id, conv_id, seq) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
    [fileId, convId, seq],
  )
}

export async function listFileMessages(sql: Sql, fileId: string): Promise<{ convId: number; seq: number }[]> {
  return sql.rows('SELECT conv_id AS "convId", seq FROM message_files WHERE file_id = $1', [fileId])
}

/** Files whose every message was pruned by retention (conversations.pruned_seq passed them). */
export async function listFilesOfPrunedMessages(sql: Sql, limit: number): Promise<string[]> {
  const rows = await sql.rows<{ id: string }>(
    `SELECT DISTINCT mf.file_id AS id FROM message_files mf JOIN conversations c ON c.id = mf.conv_id
     WHERE mf.seq <= c.pruned_seq
       AND NOT EXISTS (SELECT 1 FROM message_files k JOIN conversations kc ON kc.id = k.conv_id
                       WHERE k.file_id = mf.file_id AND k.seq > kc.pruned_seq)
     LIMIT $1`,
    [limit],
  )
  return rows.map((r) => r.id)
}

/** Deletes the file's row and which messages carried it, in one transaction. */
export async function deleteFile(sql: Sql, id: string): Promise<void> {
  await sql.atomic(async (tx) => {
    await tx.run('DELETE FROM message_files WHERE file_id = $1', [id])
    await tx.run('DELETE FROM files WHERE id = $1', [id])
  })
}

export async function listStaleUploads(sql: Sql, before: number, limit: number): Promise<string[]> {
  const rows = await sql.rows<{ id: string }>(
    'SELECT id FROM files WHERE completed_at IS NULL AND created_at < $1 LIMIT $2',
    [before, limit],
  )
  return rows.map((r) => r.id)
}
