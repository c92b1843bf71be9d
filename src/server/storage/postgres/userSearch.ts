/**
 * People search (issue 13, H2) on PostgreSQL; the SQLite side and the ranking: ../userSearch.ts.
 * ILIKE folds case for every alphabet. A scan of `users`, like SQLite's; a pg_trgm GIN index on
 * id and display_name would serve it on a large directory without changing this query.
 */
import { likePatterns } from '../userSearch'
import type { UserSearchRow } from '../types'
import type { Sql } from './sql'

export async function searchUsers(
  sql: Sql,
  me: string,
  query: string,
  limit: number,
): Promise<UserSearchRow[]> {
  const { contains, prefix } = likePatterns(query)
  return sql.rows<UserSearchRow>(
    `SELECT u.id, u.display_name AS "displayName",
       EXISTS (SELECT 1 FROM members a JOIN members b ON b.conv_id = a.conv_id AND b.user_id = u.id
               WHERE a.user_id = $1) AS known
     FROM users u
     WHERE u.id <> $1 AND (u.id ILIKE $2 OR u.display_name ILIKE $2)
     ORDER BY known DESC, lower(u.id) = lower($3) DESC, u.id ILIKE $4 DESC,
       u.display_name ILIKE $4 DESC, u.display_name, u.id
     LIMIT $5`,
    [me, contains, query, prefix, limit],
  )
}
