/**
 * Retention, quotas and lookups on PostgreSQL (the SQLite side: ../retention.ts, ../lookups.ts).
 * Pruning deletes a prefix per user or conversation and records its mark, at most `maxRows` rows a
 * call, in one transaction (its own, or the caller's).
 */
import type { PruneResult, UsageDelta, UsageLimits } from '../types'
import type { Sql } from './sql'

/** Rows read at a time while looking for the end of a prefix to delete. */
const WALK_PAGE = 500

export async function eventsPrunedSeq(sql: Sql, userId: string): Promise<number> {
  const row = await sql.first<{ seq: number }>('SELECT events_pruned_seq AS seq FROM users WHERE id = $1', [
    userId,
  ])
  return row?.seq ?? 0
}

export async function messagesPrunedSeq(sql: Sql, convId: number): Promise<number> {
  const row = await sql.first<{ seq: number }>('SELECT pruned_seq AS seq FROM conversations WHERE id = $1', [
    convId,
  ])
  return row?.seq ?? 0
}

export async function deleteDeadSessions(sql: Sql, now: number): Promise<number> {
  return sql.run('DELETE FROM sessions WHERE revoked OR expires_at <= $1', [now])
}

interface PrefixRow {
  key: number
  at: number
  id?: number
}

/**
 * The end (the last key) of the leading run of rows older than `before`, at most `budget` rows.
 * Pages start at one row and double, so a user or conversation with nothing old costs one row read.
 */
async function prefixEnd(
  start: number,
  before: number,
  budget: number,
  rows: (after: number, limit: number) => Promise<PrefixRow[]>,
  ids?: number[],
): Promise<{ end: number; count: number }> {
  let end = start
  let count = 0
  for (let limit = 1; ; limit = Math.min(limit * 2, WALK_PAGE)) {
    const page = await rows(end, limit)
    for (const row of page) {
      if (row.at >= before || count >= budget) return { end, count }
      end = row.key
      count++
      if (ids && row.id !== undefined) ids.push(row.id)
    }
    if (page.length < limit) return { end, count }
  }
}

/**
 * Receipt events created before `before`, user by user in id order from `fromUserId` (inclusive).
 * New events of a user only ever get higher eventSeqs, so a prefix deleted here is never written to.
 */
export async function pruneUserEvents(
  sql: Sql,
  before: number,
  fromUserId: string,
  maxRows: number,
): Promise<PruneResult<string>> {
  return sql.atomic(async (tx) => {
    const users = await tx.rows<{ id: string; pruned: number }>(
      'SELECT id, events_pruned_seq AS pruned FROM users WHERE id >= $1 ORDER BY id LIMIT $2',
      [fromUserId, WALK_PAGE + 1],
    )
    let deleted = 0
    for (const [i, user] of users.entries()) {
      if (i === WALK_PAGE || deleted >= maxRows) return { deleted, next: user.id }
      const { end, count } = await prefixEnd(user.pruned, before, maxRows - deleted, (after, limit) =>
        tx.rows<PrefixRow>(
          `SELECT event_seq AS key, created_at AS at FROM user_events
           WHERE user_id = $1 AND event_seq > $2 ORDER BY event_seq LIMIT $3`,
          [user.id, after, limit],
        ),
      )
      if (count === 0) continue
      await tx.run('DELETE FROM user_events WHERE user_id = $1 AND event_seq <= $2', [user.id, end])
      await tx.run('UPDATE users SET events_pruned_seq = GREATEST(events_pruned_seq, $2) WHERE id = $1', [
        user.id,
        end,
      ])
      deleted += count
      // A user cut short by the budget is visited again by the next call.
      if (deleted >= maxRows) return { deleted, next: user.id }
    }
    return { deleted }
  })
}

/**
 * Messages sent before `before`, with their reader facts and receipt requests, a prefix per
 * conversation. The messages are locked before their facts are deleted: an ack or a receipt request
 * arriving for one of them meanwhile waits, and then finds the message gone (its request fails),
 * instead of leaving a fact behind that would block the delete.
 */
export async function pruneMessages(
  sql: Sql,
  before: number,
  fromConvId: number,
  maxRows: number,
): Promise<PruneResult<number>> {
  return sql.atomic(async (tx) => {
    const conversations = await tx.rows<{ id: number; pruned: number }>(
      'SELECT id, pruned_seq AS pruned FROM conversations WHERE id >= $1 ORDER BY id LIMIT $2',
      [fromConvId, WALK_PAGE + 1],
    )
    let deleted = 0
    for (const [i, conv] of conversations.entries()) {
      if (i === WALK_PAGE || deleted >= maxRows) return { deleted, next: conv.id }
      const ids: number[] = []
      const { end, count } = await prefixEnd(
        conv.pruned,
        before,
        maxRows - deleted,
        (after, limit) =>
          tx.rows<PrefixRow>(
            `SELECT seq AS key, sent_at AS at, id FROM messages
             WHERE conv_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
            [conv.id, after, limit],
          ),
        ids,
      )
      if (count === 0) continue
      await tx.rows('SELECT id FROM messages WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE', [ids])
      for (const statement of [
        'DELETE FROM group_read_acks WHERE message_id = ANY($1::bigint[])',
        'DELETE FROM receipt_requests WHERE message_id = ANY($1::bigint[])',
        // Issue 15 (postgres/acks.ts): the acks, reads, reminders and mentions of those messages.
        'DELETE FROM message_acks WHERE message_id = ANY($1::bigint[])',
        'DELETE FROM message_reads WHERE message_id = ANY($1::bigint[])',
        'DELETE FROM ack_reminders WHERE message_id = ANY($1::bigint[])',
        'DELETE FROM ack_reminder_runs WHERE message_id = ANY($1::bigint[])',
        'DELETE FROM mentions WHERE message_id = ANY($1::bigint[])',
        'DELETE FROM messages WHERE id = ANY($1::bigint[])',
      ])
        await tx.run(statement, [ids])
      await tx.run('UPDATE conversations SET pruned_seq = GREATEST(pruned_seq, $2) WHERE id = $1', [
        conv.id,
        end,
      ])
      // H6: who deleted them for themselves goes with them.
      await tx.run('DELETE FROM deleted_for_me WHERE conv_id = $1 AND seq <= $2', [conv.id, end])
      deleted += count
      if (deleted >= maxRows) return { deleted, next: conv.id }
    }
    return { deleted }
  })
}

/**
 * Adds `delta` unless that would pass a limit, in one upsert: a second charge of the same user and
 * day at the same moment waits for the row lock and is checked against the row as the first left
 * it, so charges at once never pass the limit together. False when over: nothing is added.
 */
export async function chargeUsage(
  sql: Sql,
  userId: string,
  day: number,
  delta: UsageDelta,
  limits: UsageLimits,
): Promise<boolean> {
  if (delta.messages > limits.messages || delta.bytes > limits.bytes || delta.groups > limits.groups)
    return false
  const written = await sql.run(
    `INSERT INTO usage_daily AS u (user_id, day, messages, bytes, groups) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (user_id, day) DO UPDATE SET
       messages = u.messages + excluded.messages, bytes = u.bytes + excluded.bytes,
       groups = u.groups + excluded.groups
     WHERE u.messages + excluded.messages <= $6 AND u.bytes + excluded.bytes <= $7
       AND u.groups + excluded.groups <= $8`,
    [userId, day, delta.messages, delta.bytes, delta.groups, limits.messages, limits.bytes, limits.groups],
  )
  return written === 1
}

export async function deleteUsageBefore(sql: Sql, day: number): Promise<number> {
  return sql.run('DELETE FROM usage_daily WHERE day < $1', [day])
}

/**
 * The users of `ids` who share a conversation (current or former) with `userId`: the caller's
 * membership rows by members_by_user, each probed for the ids by the members primary key.
 */
export async function knownUsers(sql: Sql, userId: string, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await sql.rows<{ userId: string }>(
    `SELECT DISTINCT b.user_id AS "userId" FROM members a
     JOIN members b ON b.conv_id = a.conv_id AND b.user_id = ANY($1::text[])
     WHERE a.user_id = $2`,
    [ids, userId],
  )
  return rows.map((r) => r.userId)
}
