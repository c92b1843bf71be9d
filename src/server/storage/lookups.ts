import { prepare, type Db } from './db'

/**
 * Exported for the query-plan test. The users of `ids` who share a conversation (current or former,
 * single or group) with `userId`: the caller's membership rows by the members_by_user index, each
 * probed for the ids by the members primary key.
 */
export const KNOWN_USERS_SQL = `SELECT DISTINCT b.user_id FROM members a
  JOIN members b ON b.conv_id = a.conv_id AND b.user_id IN (SELECT value FROM json_each(?))
  WHERE a.user_id = ?`

export function knownUsers(db: Db, userId: string, ids: readonly string[]): string[] {
  if (ids.length === 0) return []
  return prepare<[string, string], string>(db, KNOWN_USERS_SQL).pluck().all(JSON.stringify(ids), userId)
}
