/** Uploaded files and the messages that carry them (issue 13, H3), on SQLite. */
import type { AttachmentKind } from '../../shared/files'
import { prepare, type Db } from './db'
import type { FileRow } from './types'

interface Row {
  id: string
  owner_id: string
  name: string
  mime: string
  kind: AttachmentKind
  size: number
  created_at: number
  completed_at: number | null
}

const toFile = (r: Row): FileRow => ({
  id: r.id,
  ownerId: r.owner_id,
  name: r.name,
  mime: r.mime,
  kind: r.kind,
  size: r.size,
  createdAt: r.created_at,
  completedAt: r.completed_at,
})

export function insertFile(db: Db, f: FileRow): void {
  prepare<[string, string, string, string, string, number, number, number | null]>(
    db,
    `INSERT INTO files (id, owner_id, name, mime, kind, size, created_at, completed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(f.id, f.ownerId, f.name, f.mime, f.kind, f.size, f.createdAt, f.completedAt)
}

export function getFile(db: Db, id: string): FileRow | undefined {
  const row = prepare<[string], Row>(db, 'SELECT * FROM files WHERE id = ?').get(id)
  return row && toFile(row)
}

export function completeFile(db: Db, id: string, at: number): void {
  prepare<[number, string]>(
    db,
    'UPDATE files SET completed_at = ? WHERE id = ? AND completed_at IS NULL',
  ).run(at, id)
}

export function deleteUnattachedFile(db: Db, id: string): boolean {
  return (
    prepare<[string]>(
      db,
      `DELETE FROM files WHERE id = ?
       AND NOT EXISTS (SELECT 1 FROM message_files WHERE file_id = files.id)
       AND NOT EXISTS (SELECT 1 FROM avatars WHERE file_id = files.id)`,
    ).run(id).changes === 1
  )
}

export function attachFile(db: Db, fileId: string, convId: number, seq: number): void {
  prepare<[string, number, number]>(
    db,
    'INSERT OR IGNORE INTO message_files (file_id, conv_id, seq) VALUES (?, ?, ?)',
  ).run(fileId, convId, seq)
}

export function listFileMessages(db: Db, fileId: string): { convId: number; seq: number }[] {
  return prepare<[string], { convId: number; seq: number }>(
    db,
    'SELECT conv_id AS convId, seq FROM message_files WHERE file_id = ?',
  ).all(fileId)
}

/** Files whose every message was pruned by retention (conversations.pruned_seq passed them). */
export function listFilesOfPrunedMessages(db: Db, limit: number): string[] {
  return prepare<[number], { id: string }>(
    db,
    `SELECT DISTINCT mf.file_id AS id FROM message_files mf JOIN conversations c ON c.id = mf.conv_id
     WHERE mf.seq <= c.pruned_seq
       AND NOT EXISTS (SELECT 1 FROM message_files k JOIN conversations kc ON kc.id = k.conv_id
                       WHERE k.file_id = mf.file_id AND k.seq > kc.pruned_seq)
     LIMIT ?`,
  )
    .all(limit)
    .map((r) => r.id)
}

/** Deletes the file's row and which messages carried it. */
export function deleteFile(db: Db, id: string): void {
  prepare<[string]>(db, 'DELETE FROM message_files WHERE file_id = ?').run(id)
  prepare<[string]>(db, 'DELETE FROM files WHERE id = ?').run(id)
}

export function listStaleUploads(db: Db, before: number, limit: number): string[] {
  return prepare<[number, number], { id: string }>(
    db,
    'SELECT id FROM files WHERE completed_at IS NULL AND created_at < ? LIMIT ?',
  )
    .all(before, limit)
    .map((r) => r.id)
}
