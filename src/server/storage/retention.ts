/**
 * What keeps the database from growing forever (issue #11): dead sessions, receipt events past their
 * window, messages past the operator's retention (with their reader facts and receipt requests),
 * and the per-user daily usage that quotas are checked against.
 *
 * Pruning always deletes a prefix: the oldest events of a user up to some eventSeq, the oldest
 * messages of a conversation up to some seq, and records that mark (users.events_pruned_seq,
 * conversations.pruned_seq), so "everything up to the mark is gone, everything after it is kept"
 * holds even if a clock once went backwards. Each call deletes at most `maxRows` rows, so a sweep
 * can go in small transactions between the gateway's group commits.
 */
import { prepare, transact, type Db } from './db'
import type { PruneResult, UsageDelta, UsageLimits } from './types'

/** Rows read at a time while looking for the end of a prefix to delete. */
const WALK_PAGE = 500

export function eventsPrunedSeq(db: Db, userId: string): number {
  return (
    prepare<[string], number>(db, 'SELECT events_pruned_seq FROM users WHERE id = ?').pluck().get(userId) ?? 0
  )
}

export function messagesPrunedSeq(db: Db, convId: number): number {
  return (
    prepare<[number], number>(db, 'SELECT pruned_seq FROM conversations WHERE id = ?').pluck().get(convId) ??
    0
  )
}

/** Expired and revoked sessions: their tokens open nothing, so their rows go. */
export function deleteDeadSessions(db: Db, now: number): number {
  return prepare<[number]>(db, 'DELETE FROM sessions WHERE revoked = 1 OR expires_at <= ?').run(now).changes
}

/**
 * The end (the last key) of the leading run of rows older than `before`, at most `budget` rows:
 * `rows(after, limit)` reads the next rows in key order. Pages start at one row and double, so a
 * user or conversation with nothing old costs one row read.
 */
function prefixEnd(
  start: number,
  before: number,
  budget: number,
  rows: (after: number, limit: number) => { key: number; at: number; id?: number }[],
  ids?: number[],
): { end: number; count: number } {
  let end = start
  let count = 0
  for (let limit = 1; ; limit = Math.min(limit * 2, WALK_PAGE)) {
    const page = rows(end, limit)
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
 * Deletes receipt events created before `before`, user by user in id order from `fromUserId`
 * (inclusive), at most `maxRows` in all, moving each user's events_pruned_seq over what it deleted.
 * `next`: where the following call goes on (a user cut short by the budget is visited again).
 */
export function pruneUserEvents(
  db: Db,
  before: number,
  fromUserId: string,
  maxRows: number,
): PruneResult<string> {
  return transact(db, () => {
    // At most WALK_PAGE users per call (one more is read for the cursor), so no call holds the
    // database long however many users there are.
    const users = prepare<[string, number], { id: string; pruned: number }>(
      db,
      'SELECT id, events_pruned_seq AS pruned FROM users WHERE id >= ? ORDER BY id LIMIT ?',
    ).all(fromUserId, WALK_PAGE + 1)
    const page = prepare<[string, number, number], { key: number; at: number }>(
      db,
      `SELECT event_seq AS key, created_at AS at FROM user_events
       WHERE user_id = ? AND event_seq > ? ORDER BY event_seq LIMIT ?`,
    )
    let deleted = 0
    for (const [i, user] of users.entries()) {
      if (i === WALK_PAGE || deleted >= maxRows) return { deleted, next: user.id }
      const { end, count } = prefixEnd(user.pruned, before, maxRows - deleted, (after, limit) =>
        page.all(user.id, after, limit),
      )
      if (count === 0) continue
      prepare<[string, number]>(db, 'DELETE FROM user_events WHERE user_id = ? AND event_seq <= ?').run(
        user.id,
        end,
      )
      prepare<[number, string]>(
        db,
        'UPDATE users SET events_pruned_seq = max(events_pruned_seq, ?) WHERE id = ?',
      ).run(end, user.id)
      deleted += count
      // A user cut short by the budget is visited again by the next call.
      if (deleted >= maxRows) return { deleted, next: user.id }
    }
    return { deleted }
  })
}

export function pruneMessages(
  db: Db,
  before: number,
  fromConvId: number,
  maxRows: number,
): PruneResult<number> {
  return transact(db, () => {
    // At most WALK_PAGE conversations per call (one more is read for the cursor).
    const conversations = prepare<[number, number], { id: number; pruned: number }>(
      db,
      'SELECT id, pruned_seq AS pruned FROM conversations WHERE id >= ? ORDER BY id LIMIT ?',
    ).all(fromConvId, WALK_PAGE + 1)
    const page = prepare<[number, number, number], { key: number; at: number; id: number }>(
      db,
      `SELECT seq AS key, sent_at AS at, id FROM messages WHERE conv_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
    )
    let deleted = 0
    for (const [i, conv] of conversations.entries()) {
      if (i === WALK_PAGE || deleted >= maxRows) return { deleted, next: conv.id }
      const ids: number[] = []
      const { end, count } = prefixEnd(
        conv.pruned,
        before,
        maxRows - deleted,
        (after, limit) => page.all(conv.id, after, limit),
        ids,
      )
      if (count === 0) continue
      const list = JSON.stringify(ids)
      for (const sql of [
        'DELETE FROM group_read_acks WHERE message_id IN (SELECT value FROM json_each(?))',
        'DELETE FROM receipt_requests WHERE message_id IN (SELECT value FROM json_each(?))',
        // Issue 15 (storage/acks.ts): the acks, reads, reminders and mentions of those messages.
        'DELETE FROM message_acks WHERE message_id IN (SELECT value FROM json_each(?))',
        'DELETE FROM message_reads WHERE message_id IN (SELECT value FROM json_each(?))',
        'DELETE FROM ack_reminders WHERE message_id IN (SELECT value FROM json_each(?))',
        'DELETE FROM ack_reminder_runs WHERE message_id IN (SELECT value FROM json_each(?))',
        'DELETE FROM mentions WHERE message_id IN (SELECT value FROM json_each(?))',
        'DELETE FROM messages WHERE id IN (SELECT value FROM json_each(?))',
      ])
        prepare<[string]>(db, sql).run(list)
      prepare<[number, number]>(
        db,
        'UPDATE conversations SET pruned_seq = max(pruned_seq, ?) WHERE id = ?',
      ).run(end, conv.id)
      // H6: who deleted them for themselves goes with them.
      prepare<[number, number]>(db, 'DELETE FROM deleted_for_me WHERE conv_id = ? AND seq <= ?').run(
        conv.id,
        end,
      )
      deleted += count
      if (deleted >= maxRows) return { deleted, next: conv.id }
    }
    return { deleted }
  })
}

/**
 * Adds `delta` to the user's usage of `day` unless that would pass a limit, in one statement (so
 * two sends at once cannot both slip under it). False when over: nothing is added.
 */
export function chargeUsage(
  db: Db,
  userId: string,
  day: number,
  delta: UsageDelta,
  limits: UsageLimits,
): boolean {
  if (delta.messages > limits.messages || delta.bytes > limits.bytes || delta.groups > limits.groups)
    return false
  return (
    prepare<[Record<string, string | number>]>(
      db,
      `INSERT INTO usage_daily (user_id, day, messages, bytes, groups)
       VALUES (@userId, @day, @messages, @bytes, @groups)
       ON CONFLICT (user_id, day) DO UPDATE SET
         messages = messages + excluded.messages, bytes = bytes + excluded.bytes, groups = groups + excluded.groups
       WHERE messages + excluded.messages <= @maxMessages AND bytes + excluded.bytes <= @maxBytes
         AND groups + excluded.groups <= @maxGroups`,
    ).run({
      userId,
      day,
      ...delta,
      maxMessages: limits.messages,
      maxBytes: limits.bytes,
      maxGroups: limits.groups,
    }).changes === 1
  )
}

/** Usage rows of days before `day`: quotas look at the current day only. */
export function deleteUsageBefore(db: Db, day: number): number {
  return prepare<[number]>(db, 'DELETE FROM usage_daily WHERE day < ?').run(day).changes
}
