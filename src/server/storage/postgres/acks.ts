/**
 * Acknowledgements, tracked reads, reminders and mentions (issue 15) on PostgreSQL, as
 * storage/acks.ts does on SQLite. What several nodes could break is kept here:
 * - an ack (or a tracked read) and the count on the message row change together, under the message
 *   row's lock taken first (as insertGroupReadAck does), so the count always equals the facts and
 *   the ack_ids of one message commit in increasing order (the panel's cursor is stable);
 * - a reminder is one upsert whose `count < max` is checked on the locked row, so two runs at once
 *   never pass the limit;
 * - a due schedule is claimed by one UPDATE over `FOR UPDATE SKIP LOCKED` rows: two nodes never both
 *   run one, and neither waits for the other.
 */
import type { AckPanelRow, MentionPassed, ReaderQuery, ReminderRunRow, TrackedMessageRow } from '../types'
import type { Sql } from './sql'

export async function setMessageAckInfo(
  sql: Sql,
  message: { id: number; convId: number; seq: number },
  info: {
    needAck: boolean
    tracksReads: boolean
    mentionedInfo: string | null
    mentioned: readonly string[]
  },
): Promise<void> {
  await sql.run('UPDATE messages SET need_ack = $1, tracks_reads = $2, mentioned_info = $3 WHERE id = $4', [
    info.needAck,
    info.tracksReads,
    info.mentionedInfo,
    message.id,
  ])
  if (info.tracksReads)
    await sql.run(
      `UPDATE messages SET ack_hidden_count = (SELECT count(*) FROM members m
         WHERE m.conv_id = messages.conv_id AND m.hides_receipts AND m.joined_seq < messages.seq
           AND (m.left_seq IS NULL OR m.left_seq >= messages.seq) AND m.user_id <> messages.sender_id)
       WHERE id = $1`,
      [message.id],
    )
  if (info.mentioned.length > 0)
    await sql.run(
      `INSERT INTO mentions (message_id, user_id, conv_id, seq)
       SELECT $1, u, $2, $3 FROM unnest($4::text[]) AS u ON CONFLICT DO NOTHING`,
      [message.id, message.convId, message.seq, [...info.mentioned]],
    )
}

export async function getAcksOf(
  sql: Sql,
  userId: string,
  messageIds: readonly number[],
): Promise<{ messageId: number; ackedAt: number }[]> {
  if (messageIds.length === 0) return []
  return sql.rows(
    `SELECT message_id AS "messageId", acked_at AS "ackedAt" FROM message_acks
     WHERE user_id = $1 AND message_id = ANY($2::bigint[])`,
    [userId, [...messageIds]],
  )
}

const LOCK_MESSAGE_SQL = 'SELECT id FROM messages WHERE id = $1 FOR UPDATE'

export async function insertMessageAck(
  sql: Sql,
  messageId: number,
  userId: string,
  at: number,
): Promise<{ count: number } | undefined> {
  return sql.atomic(async (tx) => {
    if (!(await tx.first(LOCK_MESSAGE_SQL, [messageId])))
      throw new Error(`insertMessageAck: no message ${messageId}`)
    const inserted = await tx.run(
      'INSERT INTO message_acks (message_id, user_id, acked_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [messageId, userId, at],
    )
    if (inserted === 0) return undefined
    const row = await tx.first<{ count: number }>(
      'UPDATE messages SET ack_count = ack_count + 1 WHERE id = $1 RETURNING ack_count AS count',
      [messageId],
    )
    // An ack implies a read: the acker's read fact, marked acked (kept, unmarked, if the ack is undone).
    const marked = await tx.run(
      'UPDATE message_reads SET acked = true WHERE message_id = $1 AND user_id = $2',
      [messageId, userId],
    )
    if (marked === 0) {
      await tx.run(
        'INSERT INTO message_reads (message_id, user_id, read_at, acked) VALUES ($1, $2, $3, true)',
        [messageId, userId, at],
      )
      await countRead(tx, messageId, userId, 1)
    }
    return { count: row?.count ?? 0 }
  })
}

export async function deleteMessageAck(
  sql: Sql,
  messageId: number,
  userId: string,
): Promise<{ count: number } | undefined> {
  return sql.atomic(async (tx) => {
    await tx.first(LOCK_MESSAGE_SQL, [messageId])
    const deleted = await tx.run('DELETE FROM message_acks WHERE message_id = $1 AND user_id = $2', [
      messageId,
      userId,
    ])
    if (deleted === 0) return undefined
    await tx.run('UPDATE message_reads SET acked = false WHERE message_id = $1 AND user_id = $2', [
      messageId,
      userId,
    ])
    const row = await tx.first<{ count: number }>(
      'UPDATE messages SET ack_count = ack_count - 1 WHERE id = $1 RETURNING ack_count AS count',
      [messageId],
    )
    return { count: row?.count ?? 0 }
  })
}

/** A read fact added (+1) or removed (-1): the read count, and the hidden count for a hider. */
async function countRead(sql: Sql, messageId: number, userId: string, delta: 1 | -1): Promise<void> {
  await sql.run(
    `UPDATE messages SET ack_read_count = ack_read_count + $3,
       ack_hidden_count = ack_hidden_count - $3 * coalesce((SELECT m.hides_receipts::int FROM members m
         WHERE m.conv_id = messages.conv_id AND m.user_id = $2), 0)
     WHERE id = $1`,
    [messageId, userId, delta],
  )
}

export async function adjustAckHidden(
  sql: Sql,
  convId: number,
  userId: string,
  delta: 1 | -1,
): Promise<void> {
  await sql.run(
    `UPDATE messages t SET ack_hidden_count = t.ack_hidden_count + $3
     FROM members m
     WHERE t.conv_id = $1 AND t.tracks_reads AND t.sender_id <> $2
       AND m.conv_id = t.conv_id AND m.user_id = $2
       AND t.seq > m.joined_seq AND (m.left_seq IS NULL OR t.seq <= m.left_seq)
       AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = t.id AND r.user_id = $2)`,
    [convId, userId, delta],
  )
}

export async function insertMessageRead(
  sql: Sql,
  messageId: number,
  userId: string,
  at: number,
): Promise<boolean> {
  return sql.atomic(async (tx) => {
    await tx.first(LOCK_MESSAGE_SQL, [messageId])
    const inserted = await tx.run(
      'INSERT INTO message_reads (message_id, user_id, read_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [messageId, userId, at],
    )
    if (inserted === 0) return false
    await countRead(tx, messageId, userId, 1)
    return true
  })
}

export async function deleteMessageRead(sql: Sql, messageId: number, userId: string): Promise<void> {
  await sql.atomic(async (tx) => {
    await tx.first(LOCK_MESSAGE_SQL, [messageId])
    const deleted = await tx.run('DELETE FROM message_reads WHERE message_id = $1 AND user_id = $2', [
      messageId,
      userId,
    ])
    if (deleted > 0) await countRead(tx, messageId, userId, -1)
  })
}

export async function listTrackedMessages(
  sql: Sql,
  convId: number,
  afterSeq: number,
  upToSeq: number,
): Promise<TrackedMessageRow[]> {
  if (upToSeq <= afterSeq) return []
  return sql.rows(
    `SELECT id, seq, sender_id AS "senderId" FROM messages
     WHERE conv_id = $1 AND tracks_reads AND seq > $2 AND seq <= $3 ORDER BY seq`,
    [convId, afterSeq, upToSeq],
  )
}

export async function markMentionsRead(
  sql: Sql,
  convId: number,
  userId: string,
  afterSeq: number,
  upToSeq: number,
  at: number,
): Promise<MentionPassed[]> {
  if (upToSeq <= afterSeq) return []
  // One statement: a mention is marked (and so reported) once, whichever node reads first.
  return sql.rows(
    `WITH marked AS (
       UPDATE mentions SET read_at = $5
       WHERE conv_id = $1 AND user_id = $2 AND seq > $3 AND seq <= $4 AND read_at IS NULL
       RETURNING message_id, seq
     )
     SELECT k.message_id AS "messageId", m.uid AS "messageUId", m.sender_id AS "senderId", k.seq
     FROM marked k JOIN messages m ON m.id = k.message_id ORDER BY k.seq`,
    [convId, userId, afterSeq, upToSeq, at],
  )
}

export async function listMentions(
  sql: Sql,
  messageId: number,
): Promise<{ userId: string; readAt: number | null; hides: boolean }[]> {
  return sql.rows(
    `SELECT n.user_id AS "userId", n.read_at AS "readAt", coalesce(mb.hides_receipts, false) AS hides
     FROM mentions n LEFT JOIN members mb ON mb.conv_id = n.conv_id AND mb.user_id = n.user_id
     WHERE n.message_id = $1 ORDER BY n.user_id`,
    [messageId],
  )
}

export async function getAckCounts(
  sql: Sql,
  messageId: number,
): Promise<{ acked: number; read: number; hidden: number }> {
  return (
    (await sql.first<{ acked: number; read: number; hidden: number }>(
      'SELECT ack_count AS acked, ack_read_count AS read, ack_hidden_count AS hidden FROM messages WHERE id = $1',
      [messageId],
    )) ?? { acked: 0, read: 0, hidden: 0 }
  )
}

const REMINDED = `coalesce((SELECT r.count FROM ack_reminders r WHERE r.message_id = $1
  AND r.user_id = u.id), 0) AS reminded`

/** $1 messageId, $2 after, $3 limit: a range of message_acks_page. */
const PG_LIST_ACKED_SQL = `SELECT a.ack_id AS key, a.user_id AS "userId", u.display_name AS "displayName",
    a.acked_at AS "ackedAt",
    (SELECT r.read_at FROM message_reads r WHERE r.message_id = a.message_id AND r.user_id = a.user_id) AS "readAt",
    ${REMINDED}
  FROM message_acks a JOIN users u ON u.id = a.user_id
  WHERE a.message_id = $1 AND a.ack_id > $2 ORDER BY a.ack_id LIMIT $3`

/** $1 messageId, $2 after, $3 limit: a range of the partial index message_reads_not_acked. */
const PG_LIST_READ_NOT_ACKED_SQL = `SELECT r.read_id AS key, r.user_id AS "userId",
    u.display_name AS "displayName", NULL::bigint AS "ackedAt", r.read_at AS "readAt", ${REMINDED}
  FROM message_reads r JOIN users u ON u.id = r.user_id
  WHERE r.message_id = $1 AND NOT r.acked AND r.read_id > $2
  ORDER BY r.read_id LIMIT $3`

/**
 * $1 messageId, $2 after, $3 limit, $4 convId, $5 seq, $6 senderId, $7 walk. The "not read" tab:
 * the next `walk` members in user id order (a range of the members primary key, materialized so it
 * stays one), of which those who share reads and have no read fact, each probed in the UNIQUE
 * (message_id, user_id) index (names and reminder counts are looked up for the page only); then one more row (key NULL) saying where the walk ended and how far
 * it went. Without the bounded walk PostgreSQL, planning a fresh table without statistics, fetched
 * every member of the group with a bitmap scan and sorted them (118 ms at 20,000 members; s10):
 * listNotReadPage walks again from where this ended until the page is full.
 */
const PG_LIST_NOT_READ_SQL = `WITH walk AS MATERIALIZED (
    SELECT m.user_id, m.hides_receipts, m.joined_seq, m.left_seq FROM members m
    WHERE m.conv_id = $4 AND m.user_id > $2 ORDER BY m.user_id LIMIT $7
  ), hits AS MATERIALIZED (
    SELECT w.user_id FROM walk w
    WHERE NOT w.hides_receipts AND w.joined_seq < $5 AND (w.left_seq IS NULL OR w.left_seq >= $5)
      AND w.user_id <> $6
      AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = $1 AND r.user_id = w.user_id)
    ORDER BY w.user_id LIMIT $3
  )
  SELECT * FROM (
    SELECT h.user_id AS key, h.user_id AS "userId", u.display_name AS "displayName",
      NULL::bigint AS "ackedAt", NULL::bigint AS "readAt", ${REMINDED},
      NULL::text AS "walkedTo", NULL::bigint AS walked
    FROM hits h JOIN users u ON u.id = h.user_id ORDER BY h.user_id
  ) page
  UNION ALL
  SELECT NULL, NULL, NULL, NULL, NULL, NULL, (SELECT max(user_id) FROM walk), (SELECT count(*) FROM walk)`

/** The hiders of the message with no read fact: a range of the hiders' partial index (few rows). */
const PG_LIST_ACK_HIDDEN_SQL = `SELECT m.user_id AS key, m.user_id AS "userId", u.display_name AS "displayName",
    NULL::bigint AS "ackedAt", NULL::bigint AS "readAt", ${REMINDED}
  FROM members m JOIN users u ON u.id = m.user_id
  WHERE m.conv_id = $4 AND m.user_id > $2 AND m.hides_receipts
    AND m.joined_seq < $5 AND (m.left_seq IS NULL OR m.left_seq >= $5) AND m.user_id <> $6
    AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = $1 AND r.user_id = m.user_id)
  ORDER BY m.user_id LIMIT $3`

const COUNT_ACK_HIDDEN_SQL = `SELECT count(*) AS n FROM members m
  WHERE m.conv_id = $1 AND m.hides_receipts
    AND m.joined_seq < $2 AND (m.left_seq IS NULL OR m.left_seq >= $2) AND m.user_id <> $3
    AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = $4 AND r.user_id = m.user_id)`

export function listAckedPage(
  sql: Sql,
  messageId: number,
  afterAckId: number,
  limit: number,
): Promise<AckPanelRow[]> {
  return sql.rows(PG_LIST_ACKED_SQL, [messageId, afterAckId, limit])
}

export function listReadNotAckedPage(
  sql: Sql,
  messageId: number,
  afterReadId: number,
  limit: number,
): Promise<AckPanelRow[]> {
  return sql.rows(PG_LIST_READ_NOT_ACKED_SQL, [messageId, afterReadId, limit])
}

/** Members walked per round at first (then four times more each round, up to the cap). */
const WALK_FIRST = 400
const WALK_MAX = 25_600

export async function listNotReadPage(
  sql: Sql,
  q: ReaderQuery,
  afterUserId: string,
  limit: number,
): Promise<AckPanelRow[]> {
  const page: AckPanelRow[] = []
  let after = afterUserId
  let walk = Math.max(WALK_FIRST, limit * 8)
  for (;;) {
    const rows = await sql.rows<AckPanelRow & { walkedTo: string | null; walked: number | null }>(
      PG_LIST_NOT_READ_SQL,
      [q.messageId, after, limit - page.length, q.convId, q.seq, q.senderId, walk],
    )
    const end = rows.at(-1)
    for (const { walkedTo: _w, walked: _n, ...row } of rows.slice(0, -1)) page.push(row)
    // Full, or the walk reached the last member.
    if (page.length >= limit || !end || end.walkedTo === null || (end.walked ?? 0) < walk) return page
    after = end.walkedTo
    walk = Math.min(WALK_MAX, walk * 4)
  }
}

export function listAckHiddenPage(
  sql: Sql,
  q: ReaderQuery,
  afterUserId: string,
  limit: number,
): Promise<AckPanelRow[]> {
  return sql.rows(PG_LIST_ACK_HIDDEN_SQL, [q.messageId, afterUserId, limit, q.convId, q.seq, q.senderId])
}

export async function countAckHidden(sql: Sql, q: ReaderQuery): Promise<number> {
  const row = await sql.first<{ n: number }>(COUNT_ACK_HIDDEN_SQL, [q.convId, q.seq, q.senderId, q.messageId])
  return row?.n ?? 0
}

/** $1 convId, $2 seq, $3 senderId, $4 messageId: the current recipients with no ack. */
const PENDING_SQL = `SELECT m.user_id FROM members m
  WHERE m.conv_id = $1 AND m.left_seq IS NULL AND m.joined_seq < $2 AND m.user_id <> $3
    AND NOT EXISTS (SELECT 1 FROM message_acks a WHERE a.message_id = $4 AND a.user_id = m.user_id)`

export async function remindPending(
  sql: Sql,
  q: ReaderQuery,
  at: number,
  max: number,
): Promise<{ reminded: { userId: string; n: number }[]; pending: number }> {
  return sql.atomic(async (tx) => {
    const params = [q.convId, q.seq, q.senderId, q.messageId]
    const counted = await tx.first<{ n: number }>(`SELECT count(*) AS n FROM (${PENDING_SQL}) p`, params)
    const pending = counted?.n ?? 0
    if (pending === 0) return { reminded: [], pending }
    const reminded = await tx.rows<{ userId: string; n: number }>(
      `INSERT INTO ack_reminders (message_id, user_id, count, last_at)
       SELECT $4, p.user_id, 1, $5 FROM (${PENDING_SQL}) p
       ON CONFLICT (message_id, user_id) DO UPDATE SET count = ack_reminders.count + 1, last_at = excluded.last_at
         WHERE ack_reminders.count < $6
       RETURNING user_id AS "userId", count AS n`,
      [...params, at, max],
    )
    return { reminded, pending }
  })
}

const RUN_COLUMNS = `message_id AS "messageId", last_run_at AS "lastRunAt", every_minutes AS "everyMinutes",
  times, remaining, next_at AS "nextAt"`

export async function getReminderRun(sql: Sql, messageId: number): Promise<ReminderRunRow | undefined> {
  return sql.first(`SELECT ${RUN_COLUMNS} FROM ack_reminder_runs WHERE message_id = $1`, [messageId])
}

export async function setReminderRunAt(sql: Sql, messageId: number, at: number): Promise<void> {
  await sql.run(
    `INSERT INTO ack_reminder_runs (message_id, last_run_at) VALUES ($1, $2)
     ON CONFLICT (message_id) DO UPDATE SET last_run_at = excluded.last_run_at`,
    [messageId, at],
  )
}

export async function setReminderSchedule(
  sql: Sql,
  messageId: number,
  schedule: { everyMinutes: number; times: number; nextAt: number } | null,
): Promise<ReminderRunRow> {
  const row = await sql.first<ReminderRunRow>(
    `INSERT INTO ack_reminder_runs (message_id, every_minutes, times, remaining, next_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (message_id) DO UPDATE SET every_minutes = excluded.every_minutes, times = excluded.times,
       remaining = excluded.remaining, next_at = excluded.next_at
     RETURNING ${RUN_COLUMNS}`,
    [
      messageId,
      schedule?.everyMinutes ?? null,
      schedule?.times ?? null,
      schedule?.times ?? 0,
      schedule?.nextAt ?? null,
    ],
  )
  if (!row) throw new Error(`setReminderSchedule: nothing written for message ${messageId}`)
  return row
}

export function claimDueReminders(
  sql: Sql,
  now: number,
  minuteMs: number,
  limit: number,
): Promise<ReminderRunRow[]> {
  return sql.rows(
    `UPDATE ack_reminder_runs SET remaining = remaining - 1, last_run_at = $1,
       next_at = CASE WHEN remaining > 1 THEN next_at + every_minutes * $2::bigint ELSE NULL END
     WHERE message_id IN (SELECT message_id FROM ack_reminder_runs
       WHERE next_at IS NOT NULL AND next_at <= $1 ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING ${RUN_COLUMNS}`,
    [now, minuteMs, limit],
  )
}

export async function getMessageUIdById(sql: Sql, messageId: number): Promise<string | undefined> {
  return (await sql.first<{ uid: string }>('SELECT uid FROM messages WHERE id = $1', [messageId]))?.uid
}

export async function endReminderSchedule(sql: Sql, messageId: number): Promise<void> {
  await sql.run('UPDATE ack_reminder_runs SET next_at = NULL WHERE message_id = $1', [messageId])
}

/** $1 userId: the user's current memberships, each a range of messages_needing_ack, probed in message_acks. */
const PENDING_ACKS_FROM = `FROM members mb
  JOIN messages m ON m.conv_id = mb.conv_id AND m.need_ack AND m.seq > mb.joined_seq
  WHERE mb.user_id = $1 AND mb.left_seq IS NULL AND m.sender_id <> $1 AND m.recalled_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM message_acks a WHERE a.message_id = m.id AND a.user_id = $1)
    AND NOT EXISTS (SELECT 1 FROM deleted_for_me d WHERE d.user_id = $1 AND d.conv_id = m.conv_id AND d.seq = m.seq)`

export function listPendingAcks(
  sql: Sql,
  userId: string,
  beforeId: number,
  limit: number,
): Promise<{ id: number; messageUId: string }[]> {
  return sql.rows(
    `SELECT m.id, m.uid AS "messageUId" ${PENDING_ACKS_FROM} AND m.id < $2 ORDER BY m.id DESC LIMIT $3`,
    [userId, beforeId, limit],
  )
}

export async function countPendingAcks(sql: Sql, userId: string): Promise<number> {
  const row = await sql.first<{ n: number }>(`SELECT count(*) AS n ${PENDING_ACKS_FROM}`, [userId])
  return row?.n ?? 0
}
