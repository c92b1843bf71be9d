/**
 * Acknowledgements, tracked reads, reminders and mentions (issue 15) on SQLite. The rules are in
 * ops/acks.ts; here every count is kept on the message row in the same step as its facts (SQLite has
 * one writer, so a transaction is enough), and every list is a range of an index:
 * message_acks_page (message_id, ack_id), message_reads_page (message_id, read_id), the members
 * primary key (conv_id, user_id) probed in the UNIQUE (message_id, user_id) indexes, and the partial
 * index of the members who hide their read receipts.
 */
import { prepare, transact, type Db } from './db'
import type { AckPanelRow, MentionPassed, ReaderQuery, ReminderRunRow, TrackedMessageRow } from './types'

export function setMessageAckInfo(
  db: Db,
  message: { id: number; convId: number; seq: number },
  info: {
    needAck: boolean
    tracksReads: boolean
    mentionedInfo: string | null
    mentioned: readonly string[]
  },
): void {
  prepare<[number, number, string | null, number]>(
    db,
    'UPDATE messages SET need_ack = ?, tracks_reads = ?, mentioned_info = ? WHERE id = ?',
  ).run(info.needAck ? 1 : 0, info.tracksReads ? 1 : 0, info.mentionedInfo, message.id)
  // No read facts yet: every recipient who hides their reads is hidden.
  if (info.tracksReads)
    prepare<[number]>(
      db,
      `UPDATE messages SET ack_hidden_count = (SELECT count(*) FROM members m INDEXED BY members_hiding_window
         WHERE m.conv_id = messages.conv_id AND m.hides_receipts = 1 AND m.joined_seq < messages.seq
           AND (m.left_seq IS NULL OR m.left_seq >= messages.seq) AND m.user_id <> messages.sender_id)
       WHERE id = ?`,
    ).run(message.id)
  const insert = prepare<[number, string, number, number]>(
    db,
    'INSERT INTO mentions (message_id, user_id, conv_id, seq) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
  )
  for (const userId of info.mentioned) insert.run(message.id, userId, message.convId, message.seq)
}

export function getAcksOf(
  db: Db,
  userId: string,
  messageIds: readonly number[],
): { messageId: number; ackedAt: number }[] {
  if (messageIds.length === 0) return []
  return prepare<[string, string], { messageId: number; ackedAt: number }>(
    db,
    `SELECT message_id AS messageId, acked_at AS ackedAt FROM message_acks
     WHERE user_id = ? AND message_id IN (SELECT value FROM json_each(?))`,
  ).all(userId, JSON.stringify(messageIds))
}

export function insertMessageAck(
  db: Db,
  messageId: number,
  userId: string,
  at: number,
): { count: number } | undefined {
  return transact(db, () => {
    const inserted = prepare<[number, string, number]>(
      db,
      'INSERT INTO message_acks (message_id, user_id, acked_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(messageId, userId, at)
    if (inserted.changes === 0) return undefined
    const count = prepare<[number], number>(
      db,
      'UPDATE messages SET ack_count = ack_count + 1 WHERE id = ? RETURNING ack_count',
    )
      .pluck()
      .get(messageId)
    if (count === undefined) throw new Error(`insertMessageAck: no message ${messageId}`)
    // An ack implies a read: the acker's read fact, marked acked (kept, unmarked, if the ack is undone).
    const marked = prepare<[number, string]>(
      db,
      'UPDATE message_reads SET acked = 1 WHERE message_id = ? AND user_id = ?',
    ).run(messageId, userId)
    if (marked.changes === 0) {
      prepare<[number, string, number]>(
        db,
        'INSERT INTO message_reads (message_id, user_id, read_at, acked) VALUES (?, ?, ?, 1)',
      ).run(messageId, userId, at)
      countRead(db, messageId, userId, 1)
    }
    return { count }
  })
}

export function deleteMessageAck(db: Db, messageId: number, userId: string): { count: number } | undefined {
  return transact(db, () => {
    const deleted = prepare<[number, string]>(
      db,
      'DELETE FROM message_acks WHERE message_id = ? AND user_id = ?',
    ).run(messageId, userId)
    if (deleted.changes === 0) return undefined
    prepare<[number, string]>(
      db,
      'UPDATE message_reads SET acked = 0 WHERE message_id = ? AND user_id = ?',
    ).run(messageId, userId)
    const count = prepare<[number], number>(
      db,
      'UPDATE messages SET ack_count = ack_count - 1 WHERE id = ? RETURNING ack_count',
    )
      .pluck()
      .get(messageId)
    return { count: count ?? 0 }
  })
}

/**
 * A read fact added (+1) or removed (-1): the read count moves with it, and so does the hidden count
 * when the reader hides their read receipts (a hider with a read fact is not hidden).
 */
function countRead(db: Db, messageId: number, userId: string, delta: 1 | -1): void {
  prepare<[Record<string, number | string>]>(
    db,
    `UPDATE messages SET ack_read_count = ack_read_count + @delta,
       ack_hidden_count = ack_hidden_count - @delta * coalesce((SELECT m.hides_receipts FROM members m
         WHERE m.conv_id = messages.conv_id AND m.user_id = @userId), 0)
     WHERE id = @messageId`,
  ).run({ messageId, userId, delta })
}

export function adjustAckHidden(db: Db, convId: number, userId: string, delta: 1 | -1): void {
  prepare<[Record<string, number | string>]>(
    db,
    `UPDATE messages SET ack_hidden_count = ack_hidden_count + @delta
     WHERE id IN (SELECT t.id FROM messages t INDEXED BY messages_tracking_reads
       JOIN members m ON m.conv_id = t.conv_id AND m.user_id = @userId
       WHERE t.conv_id = @convId AND t.tracks_reads = 1 AND t.sender_id <> @userId
         AND t.seq > m.joined_seq AND (m.left_seq IS NULL OR t.seq <= m.left_seq)
         AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = t.id AND r.user_id = @userId))`,
  ).run({ convId, userId, delta })
}

export function insertMessageRead(db: Db, messageId: number, userId: string, at: number): boolean {
  return transact(db, () => {
    const inserted = prepare<[number, string, number]>(
      db,
      'INSERT INTO message_reads (message_id, user_id, read_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(messageId, userId, at)
    if (inserted.changes === 0) return false
    countRead(db, messageId, userId, 1)
    return true
  })
}

/** Exported for the query-plan test: a range of the partial index messages_tracking_reads. */
export const LIST_TRACKED_MESSAGES_SQL = `SELECT id, seq, sender_id AS senderId FROM messages
  INDEXED BY messages_tracking_reads
  WHERE conv_id = ? AND tracks_reads = 1 AND seq > ? AND seq <= ? ORDER BY seq`

export function listTrackedMessages(
  db: Db,
  convId: number,
  afterSeq: number,
  upToSeq: number,
): TrackedMessageRow[] {
  if (upToSeq <= afterSeq) return []
  return prepare<[number, number, number], TrackedMessageRow>(db, LIST_TRACKED_MESSAGES_SQL).all(
    convId,
    afterSeq,
    upToSeq,
  )
}

/** Exported for the query-plan test: a range of mentions_by_member, never a scan of messages. */
export const MENTIONS_PASSED_SQL = `SELECT n.message_id AS messageId, m.uid AS messageUId, m.sender_id AS senderId,
    n.seq
  FROM mentions n JOIN messages m ON m.id = n.message_id
  WHERE n.conv_id = ? AND n.user_id = ? AND n.seq > ? AND n.seq <= ? AND n.read_at IS NULL
  ORDER BY n.seq`

export function markMentionsRead(
  db: Db,
  convId: number,
  userId: string,
  afterSeq: number,
  upToSeq: number,
  at: number,
): MentionPassed[] {
  if (upToSeq <= afterSeq) return []
  return transact(db, () => {
    const passed = prepare<[number, string, number, number], MentionPassed>(db, MENTIONS_PASSED_SQL).all(
      convId,
      userId,
      afterSeq,
      upToSeq,
    )
    const mark = prepare<[number, number, string]>(
      db,
      'UPDATE mentions SET read_at = ? WHERE message_id = ? AND user_id = ? AND read_at IS NULL',
    )
    for (const p of passed) mark.run(at, p.messageId, userId)
    return passed
  })
}

export function listMentions(
  db: Db,
  messageId: number,
): { userId: string; readAt: number | null; hides: boolean }[] {
  return prepare<[number], { userId: string; readAt: number | null; hides: number }>(
    db,
    `SELECT n.user_id AS userId, n.read_at AS readAt, coalesce(mb.hides_receipts, 0) AS hides
     FROM mentions n LEFT JOIN members mb ON mb.conv_id = n.conv_id AND mb.user_id = n.user_id
     WHERE n.message_id = ? ORDER BY n.user_id`,
  )
    .all(messageId)
    .map((r) => ({ userId: r.userId, readAt: r.readAt, hides: r.hides === 1 }))
}

export function getAckCounts(db: Db, messageId: number): { acked: number; read: number; hidden: number } {
  return (
    prepare<[number], { acked: number; read: number; hidden: number }>(
      db,
      'SELECT ack_count AS acked, ack_read_count AS read, ack_hidden_count AS hidden FROM messages WHERE id = ?',
    ).get(messageId) ?? { acked: 0, read: 0, hidden: 0 }
  )
}

const REMINDED = `coalesce((SELECT r.count FROM ack_reminders r WHERE r.message_id = @messageId
  AND r.user_id = u.id), 0) AS reminded`

/** Exported for the query-plan test: a range of message_acks_page. */
export const LIST_ACKED_SQL = `SELECT a.ack_id AS key, a.user_id AS userId, u.display_name AS displayName,
    a.acked_at AS ackedAt,
    (SELECT r.read_at FROM message_reads r WHERE r.message_id = a.message_id AND r.user_id = a.user_id) AS readAt,
    ${REMINDED}
  FROM message_acks a JOIN users u ON u.id = a.user_id
  WHERE a.message_id = @messageId AND a.ack_id > @after ORDER BY a.ack_id LIMIT @limit`

/** Exported for the query-plan test: a range of the partial index message_reads_not_acked. */
export const LIST_READ_NOT_ACKED_SQL = `SELECT r.read_id AS key, r.user_id AS userId, u.display_name AS displayName,
    NULL AS ackedAt, r.read_at AS readAt, ${REMINDED}
  FROM message_reads r INDEXED BY message_reads_not_acked JOIN users u ON u.id = r.user_id
  WHERE r.message_id = @messageId AND r.acked = 0 AND r.read_id > @after
  ORDER BY r.read_id LIMIT @limit`

/**
 * Exported for the query-plan test: the recipients (members whose window holds seq, sender
 * excluded) who share reads, a range of the members primary key from the cursor on, each probed in
 * the UNIQUE (message_id, user_id) indexes of message_reads and message_acks.
 */
export const LIST_NOT_READ_SQL = `SELECT m.user_id AS key, m.user_id AS userId, u.display_name AS displayName,
    NULL AS ackedAt, NULL AS readAt, ${REMINDED}
  FROM members m JOIN users u ON u.id = m.user_id
  WHERE m.conv_id = @convId AND m.user_id > @after
    AND m.joined_seq < @seq AND (m.left_seq IS NULL OR m.left_seq >= @seq) AND m.user_id <> @senderId
    AND m.hides_receipts = 0
    AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = @messageId AND r.user_id = m.user_id)
  ORDER BY m.user_id LIMIT @limit`

/**
 * Exported for the query-plan test: a range of the covering partial index of the hiders, each probed
 * once in message_reads (every acker has a read fact, so no probe of message_acks is needed).
 */
export const COUNT_ACK_HIDDEN_SQL = `SELECT count(*) FROM members m INDEXED BY members_hiding_window
  WHERE m.conv_id = @convId AND m.hides_receipts = 1
    AND m.joined_seq < @seq AND (m.left_seq IS NULL OR m.left_seq >= @seq) AND m.user_id <> @senderId
    AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = @messageId AND r.user_id = m.user_id)`

/** Exported for the query-plan test: the hiders' partial index, by user id from the cursor on. */
export const LIST_ACK_HIDDEN_SQL = `SELECT m.user_id AS key, m.user_id AS userId, u.display_name AS displayName,
    NULL AS ackedAt, NULL AS readAt, ${REMINDED}
  FROM members m INDEXED BY members_hiding_window JOIN users u ON u.id = m.user_id
  WHERE m.conv_id = @convId AND m.hides_receipts = 1 AND m.user_id > @after
    AND m.joined_seq < @seq AND (m.left_seq IS NULL OR m.left_seq >= @seq) AND m.user_id <> @senderId
    AND NOT EXISTS (SELECT 1 FROM message_reads r WHERE r.message_id = @messageId AND r.user_id = m.user_id)
  ORDER BY m.user_id LIMIT @limit`

export function listAckHiddenPage(
  db: Db,
  query: ReaderQuery,
  afterUserId: string,
  limit: number,
): AckPanelRow[] {
  return prepare<[Record<string, number | string>], PanelRecord>(db, LIST_ACK_HIDDEN_SQL).all({
    ...query,
    after: afterUserId,
    limit,
  })
}

export function deleteMessageRead(db: Db, messageId: number, userId: string): void {
  transact(db, () => {
    const deleted = prepare<[number, string]>(
      db,
      'DELETE FROM message_reads WHERE message_id = ? AND user_id = ?',
    ).run(messageId, userId)
    if (deleted.changes > 0) countRead(db, messageId, userId, -1)
  })
}

interface PanelRecord extends Omit<AckPanelRow, 'key'> {
  key: number | string
}

export function listAckedPage(db: Db, messageId: number, afterAckId: number, limit: number): AckPanelRow[] {
  return prepare<[Record<string, number>], PanelRecord>(db, LIST_ACKED_SQL).all({
    messageId,
    after: afterAckId,
    limit,
  })
}

export function listReadNotAckedPage(
  db: Db,
  messageId: number,
  afterReadId: number,
  limit: number,
): AckPanelRow[] {
  return prepare<[Record<string, number>], PanelRecord>(db, LIST_READ_NOT_ACKED_SQL).all({
    messageId,
    after: afterReadId,
    limit,
  })
}

export function listNotReadPage(
  db: Db,
  query: ReaderQuery,
  afterUserId: string,
  limit: number,
): AckPanelRow[] {
  return prepare<[Record<string, number | string>], PanelRecord>(db, LIST_NOT_READ_SQL).all({
    ...query,
    after: afterUserId,
    limit,
  })
}

export function countAckHidden(db: Db, query: ReaderQuery): number {
  return prepare<[Record<string, number | string>], number>(db, COUNT_ACK_HIDDEN_SQL)
    .pluck()
    .get({ ...query }) as number
}

/** The current recipients with no ack (the reminder's audience). */
const PENDING_WHERE = `m.conv_id = @convId AND m.left_seq IS NULL AND m.joined_seq < @seq
    AND m.user_id <> @senderId
    AND NOT EXISTS (SELECT 1 FROM message_acks a WHERE a.message_id = @messageId AND a.user_id = m.user_id)`

export function remindPending(
  db: Db,
  query: ReaderQuery,
  at: number,
  max: number,
): { reminded: { userId: string; n: number }[]; pending: number } {
  return transact(db, () => {
    const pending = prepare<[Record<string, number | string>], number>(
      db,
      `SELECT count(*) FROM members m WHERE ${PENDING_WHERE}`,
    )
      .pluck()
      .get({ ...query }) as number
    if (pending === 0) return { reminded: [], pending }
    const reminded = prepare<[Record<string, number | string>], { userId: string; n: number }>(
      db,
      `INSERT INTO ack_reminders (message_id, user_id, count, last_at)
       SELECT @messageId, m.user_id, 1, @at FROM members m WHERE ${PENDING_WHERE}
       ON CONFLICT (message_id, user_id) DO UPDATE SET count = count + 1, last_at = excluded.last_at
         WHERE ack_reminders.count < @max
       RETURNING user_id AS userId, count AS n`,
    ).all({ ...query, at, max })
    return { reminded, pending }
  })
}

const RUN_COLUMNS = `message_id AS messageId, last_run_at AS lastRunAt, every_minutes AS everyMinutes, times,
  remaining, next_at AS nextAt`

export function getReminderRun(db: Db, messageId: number): ReminderRunRow | undefined {
  return prepare<[number], ReminderRunRow>(
    db,
    `SELECT ${RUN_COLUMNS} FROM ack_reminder_runs WHERE message_id = ?`,
  ).get(messageId)
}

export function setReminderRunAt(db: Db, messageId: number, at: number): void {
  prepare<[number, number]>(
    db,
    `INSERT INTO ack_reminder_runs (message_id, last_run_at) VALUES (?, ?)
     ON CONFLICT (message_id) DO UPDATE SET last_run_at = excluded.last_run_at`,
  ).run(messageId, at)
}

export function setReminderSchedule(
  db: Db,
  messageId: number,
  schedule: { everyMinutes: number; times: number; nextAt: number } | null,
): ReminderRunRow {
  return prepare<[number, number | null, number | null, number, number | null], ReminderRunRow>(
    db,
    `INSERT INTO ack_reminder_runs (message_id, every_minutes, times, remaining, next_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (message_id) DO UPDATE SET every_minutes = excluded.every_minutes, times = excluded.times,
       remaining = excluded.remaining, next_at = excluded.next_at
     RETURNING ${RUN_COLUMNS}`,
  ).get(
    messageId,
    schedule?.everyMinutes ?? null,
    schedule?.times ?? null,
    schedule?.times ?? 0,
    schedule?.nextAt ?? null,
  ) as ReminderRunRow
}

export function claimDueReminders(db: Db, now: number, minuteMs: number, limit: number): ReminderRunRow[] {
  return prepare<[Record<string, number>], ReminderRunRow>(
    db,
    `UPDATE ack_reminder_runs SET remaining = remaining - 1, last_run_at = @now,
       next_at = CASE WHEN remaining > 1 THEN next_at + every_minutes * @minuteMs ELSE NULL END
     WHERE message_id IN (SELECT message_id FROM ack_reminder_runs INDEXED BY ack_reminder_runs_due
       WHERE next_at IS NOT NULL AND next_at <= @now ORDER BY next_at LIMIT @limit)
     RETURNING ${RUN_COLUMNS}`,
  ).all({ now, minuteMs, limit })
}

export function getMessageUIdById(db: Db, messageId: number): string | undefined {
  return prepare<[number], string>(db, 'SELECT uid FROM messages WHERE id = ?').pluck().get(messageId)
}

export function endReminderSchedule(db: Db, messageId: number): void {
  prepare<[number]>(db, 'UPDATE ack_reminder_runs SET next_at = NULL WHERE message_id = ?').run(messageId)
}

/**
 * Exported for the query-plan test: the user's memberships (members_by_user), each a range of the
 * partial index messages_needing_ack, each probed in message_acks.
 */
export const PENDING_ACKS_FROM = `FROM members mb
  JOIN messages m INDEXED BY messages_needing_ack ON m.conv_id = mb.conv_id AND m.need_ack = 1
    AND m.seq > mb.joined_seq
  WHERE mb.user_id = @userId AND mb.left_seq IS NULL AND m.sender_id <> @userId AND m.recalled_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM message_acks a WHERE a.message_id = m.id AND a.user_id = @userId)
    AND NOT EXISTS (SELECT 1 FROM deleted_for_me d WHERE d.user_id = @userId AND d.conv_id = m.conv_id AND d.seq = m.seq)`

export function listPendingAcks(
  db: Db,
  userId: string,
  beforeId: number,
  limit: number,
): { id: number; messageUId: string }[] {
  return prepare<[Record<string, number | string>], { id: number; messageUId: string }>(
    db,
    `SELECT m.id, m.uid AS messageUId ${PENDING_ACKS_FROM} AND m.id < @beforeId ORDER BY m.id DESC LIMIT @limit`,
  ).all({ userId, beforeId, limit })
}

export function countPendingAcks(db: Db, userId: string): number {
  return prepare<[Record<string, string>], number>(db, `SELECT count(*) ${PENDING_ACKS_FROM}`)
    .pluck()
    .get({ userId }) as number
}
