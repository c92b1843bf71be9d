/**
 * People search (issue 13, H2) on SQLite; PostgreSQL: postgres/userSearch.ts. The ranking is the
 * same on both: people the searcher shares (or shared) a conversation with first, then an exact id,
 * then id and name prefixes, then the rest by name.
 *
 * A scan of `users` (a substring of a name can use no B-tree index): fine for a directory of some
 * ten thousand accounts, each call reads at most the matches' ids and names. A larger deployment
 * would want a trigram index (pg_trgm on PostgreSQL, FTS5 here); the reply shape does not change.
 * SQLite's LIKE folds the case of ASCII letters only.
 */
import { prepare, type Db } from './db'
import type { UserSearchRow } from './types'

/** `%text%` and `text%` patterns for LIKE, with its wildcards escaped. */
export function likePatterns(query: string): { contains: string; prefix: string } {
  const escaped = query.replace(/[\\%_]/g, (c) => `\\${c}`)
  return { contains: `%${escaped}%`, prefix: `${escaped}%` }
}

/** Exported for the query-plan test. */
const SEARCH_USERS_SQL = `SELECT u.id, u.display_name AS displayName,
    EXISTS (SELECT 1 FROM members a JOIN members b ON b.conv_id = a.conv_id AND b.user_id = u.id
            WHERE a.user_id = @me) AS known
  FROM users u
  WHERE u.id <> @me AND (u.id LIKE @contains ESCAPE '\\' OR u.display_name LIKE @contains ESCAPE '\\')
  ORDER BY known DESC, lower(u.id) = lower(@query) DESC, u.id LIKE @prefix ESCAPE '\\' DESC,
    u.display_name LIKE @prefix ESCAPE '\\' DESC, u.display_name, u.id
  LIMIT @limit`

export function searchUsers(db: Db, me: string, query: string, limit: number): UserSearchRow[] {
  const rows = prepare<
    [{ me: string; query: string; contains: string; prefix: string; limit: number }],
    { id: string; displayName: string; known: number }
  >(db, SEARCH_USERS_SQL).all({ me, query, limit, ...likePatterns(query) })
  return rows.map((r) => ({ id: r.id, displayName: r.displayName, known: r.known === 1 }))
}
