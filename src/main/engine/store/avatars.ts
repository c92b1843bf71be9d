/**
 * Who has which picture (issue 13, H7), as this device last heard it: one JSON document in the kv
 * table (a few hundred entries at most, read whole by the renderer), so no table of its own. The
 * pictures' bytes live in the profile's cache folder (files/avatars.ts), by file id.
 */
import { prepare, type Db } from '../../../node/sqlite'
import type { AvatarDirectory } from '../../../shared/avatars'

const KEY = 'avatars'

export function avatarDirectory(db: Db): AvatarDirectory {
  const stored = prepare<[string], { value: string }>(db, 'SELECT value FROM kv WHERE key = ?').get(
    KEY,
  )?.value
  if (!stored) return { users: {}, groups: {} }
  const parsed = JSON.parse(stored) as Partial<AvatarDirectory>
  return { users: parsed.users ?? {}, groups: parsed.groups ?? {} }
}

/**
 * Applies pictures heard of (a file id, or null: none); with `replace`, the kind's whole list (a
 * sync: those left out have none). True when anything changed.
 */
export function updateAvatars(
  db: Db,
  kind: keyof AvatarDirectory,
  entries: Record<string, string | null>,
  replace = false,
): boolean {
  const directory = avatarDirectory(db)
  const before = JSON.stringify(directory)
  const next: Record<string, string> = replace ? {} : { ...directory[kind] }
  for (const [id, fileId] of Object.entries(entries)) {
    if (fileId === null) delete next[id]
    else next[id] = fileId
  }
  directory[kind] = next
  const after = JSON.stringify(directory)
  if (after === before) return false
  prepare<[string, string]>(
    db,
    'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(KEY, after)
  return true
}
