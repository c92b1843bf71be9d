/** Group receipts on PostgreSQL: per-group settings overrides, receipt requests, reader facts. */
import type { GroupReceiptSettings } from '../../../shared/model'
import { newAckId } from '../../ids'
import type { GroupReadAckRow, GroupUnreadMember, ReaderQuery } from '../types'
import type { Sql } from './sql'

// ---- per-group overrides of the receipt settings ----

export interface ReceiptOverrideColumns {
  enabled: boolean | null
  whoMayRequest: GroupReceiptSettings['whoMayRequest'] | null
  validityMs: number | null
  maxGroupSize: number | null
  countVisibility: GroupReceiptSettings['countVisibility'] | null
  /** Issue 15 (acks.ts): acks of older messages are refused. */
  ackValidityMs: number | null
}

/** Exported for listGroupsOfUser, which reads the same columns in its join. */
export const OVERRIDE_COLUMNS = `s.enabled, s.who_may_request AS "whoMayRequest", s.validity_ms AS "validityMs",
  s.max_group_size AS "maxGroupSize", s.count_visibility AS "countVisibility",
  s.ack_validity_ms AS "ackValidityMs"`

/** NULL columns are "inherit the server default" and are left out. */
export function toOverrides(r: ReceiptOverrideColumns | undefined): Partial<GroupReceiptSettings> {
  const overrides: Partial<GroupReceiptSettings> = {}
  if (!r) return overrides
  if (r.enabled !== null) overrides.enabled = r.enabled
  if (r.whoMayRequest !== null) overrides.whoMayRequest = r.whoMayRequest
  if (r.validityMs !== null) overrides.validityMs = r.validityMs
  if (r.maxGroupSize !== null) overrides.maxGroupSize = r.maxGroupSize
  if (r.countVisibility !== null) overrides.countVisibility = r.countVisibility
  if (r.ackValidityMs !== null && r.ackValidityMs !== undefined) overrides.ackValidityMs = r.ackValidityMs
  return overrides
}

export async function getGroupReceiptOverrides(
  sql: Sql,
  groupId: string,
): Promise<Partial<GroupReceiptSettings>> {
  return toOverrides(
    await sql.first<ReceiptOverrideColumns>(
      `SELECT ${OVERRIDE_COLUMNS} FROM group_receipt_settings s WHERE s.group_id = $1`,
      [groupId],
    ),
  )
}

/** One upsert: two owners' patches at once both land, field by field, whichever comes second winning a field. */
export async function setGroupReceiptOverrides(
  sql: Sql,
  groupId: string,
  patch: Partial<GroupReceiptSettings>,
): Promise<void> {
  await sql.run(
    `INSERT INTO group_receipt_settings
       (group_id, enabled, who_may_request, validity_ms, max_group_size, count_visibility, ack_validity_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (group_id) DO UPDATE SET
       enabled = coalesce(excluded.enabled, group_receipt_settings.enabled),
       who_may_request = coalesce(excluded.who_may_request, group_receipt_settings.who_may_request),
       validity_ms = coalesce(excluded.validity_ms, group_receipt_settings.validity_ms),
       max_group_size = coalesce(excluded.max_group_size, group_receipt_settings.max_group_size),
       count_visibility = coalesce(excluded.count_visibility, group_receipt_settings.count_visibility),
       ack_validity_ms = coalesce(excluded.ack_validity_ms, group_receipt_settings.ack_validity_ms)`,
    [
      groupId,
      patch.enabled ?? null,
      patch.whoMayRequest ?? null,
      patch.validityMs ?? null,
      patch.maxGroupSize ?? null,
      patch.countVisibility ?? null,
      patch.ackValidityMs ?? null,
    ],
  )
}

// ---- RongCloud requests ----

export async function getReceiptRequestedAt(sql: Sql, messageId: number): Promise<number | undefined> {
  const row = await sql.first<{ at: number }>(
    'SELECT requested_at AS at FROM receipt_requests WHERE message_id = $1',
    [messageId],
  )
  return row?.at
}

export async function insertReceiptRequest(sql: Sql, messageId: number, at: number): Promise<boolean> {
  const written = await sql.run(
    'INSERT INTO receipt_requests (message_id, requested_at) VALUES ($1, $2) ON CONFLICT DO NOTHING',
    [messageId, at],
  )
  return written === 1
}

// ---- reader facts ----

const ACK_COLUMNS = `ack_id AS "ackId", public_id AS "publicId", message_id AS "messageId", user_id AS "userId",
  ext, created_at AS "createdAt", count_after AS "countAfter"`

/** Exported for the query-plan test: a range of the group_read_acks_page index. */
export const PG_LIST_GROUP_READ_ACKS_SQL = `SELECT ${ACK_COLUMNS} FROM group_read_acks
  WHERE message_id = $1 AND ack_id > $2 ORDER BY ack_id LIMIT $3`

/**
 * Exported for the query-plan test. The eligible readers of a message (seq, sender) with no fact: a
 * range of the members primary key from the cursor on, each probed in the UNIQUE (message_id,
 * user_id) index of group_read_acks. $1 convId, $2 afterUserId, $3 seq, $4 senderId, $5 messageId, $6 limit.
 */
export const PG_LIST_GROUP_UNREAD_MEMBERS_SQL = `SELECT m.user_id AS "userId", u.display_name AS "displayName"
  FROM members m JOIN users u ON u.id = m.user_id
  WHERE m.conv_id = $1 AND m.user_id > $2
    AND m.joined_seq < $3 AND (m.left_seq IS NULL OR m.left_seq >= $3) AND m.user_id <> $4
    AND NOT EXISTS (SELECT 1 FROM group_read_acks a WHERE a.message_id = $5 AND a.user_id = m.user_id)
    AND NOT m.hides_receipts
  ORDER BY m.user_id LIMIT $6`

/** Eligible readers who hide their receipts, with no fact: a range of members_hiding_receipts. */
const COUNT_HIDDEN_READERS_SQL = `SELECT count(*) AS n FROM members m
  WHERE m.conv_id = $1 AND m.hides_receipts
    AND m.joined_seq < $2 AND (m.left_seq IS NULL OR m.left_seq >= $2) AND m.user_id <> $3
    AND NOT EXISTS (SELECT 1 FROM group_read_acks a WHERE a.message_id = $4 AND a.user_id = m.user_id)`

export async function getGroupReadAck(
  sql: Sql,
  messageId: number,
  userId: string,
): Promise<GroupReadAckRow | undefined> {
  return sql.first<GroupReadAckRow>(
    `SELECT ${ACK_COLUMNS} FROM group_read_acks WHERE message_id = $1 AND user_id = $2`,
    [messageId, userId],
  )
}

/** Locks the message row until the transaction ends and reads its count. */
const LOCK_MESSAGE_SQL = 'SELECT group_ack_count AS count FROM messages WHERE id = $1 FOR UPDATE'

/** The fact and the new count, in one statement; nothing at all on a conflict. */
const INSERT_ACK_SQL = `WITH inserted AS (
    INSERT INTO group_read_acks (public_id, message_id, user_id, ext, created_at, count_after)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT DO NOTHING
    RETURNING ack_id, count_after
  )
  UPDATE messages SET group_ack_count = inserted.count_after FROM inserted WHERE messages.id = $2
  RETURNING inserted.ack_id AS "ackId"`

/** A public id already taken (131 random bits: practically never) is drawn again, this many times at most. */
const PUBLIC_ID_DRAWS = 8

/**
 * The reader fact and the count, in one transaction (its own, or the caller's). The message row is
 * locked first, so the facts of one message are added one at a time, each after the previous one
 * committed: the count read under the lock is the number of facts, count_after is exact, a second
 * fact by the same reader (another device, another node) finds the first and writes nothing, and
 * ack_ids of one message commit in increasing order (the fetchGroupReadAcks cursor is stable).
 */
export async function insertGroupReadAck(
  sql: Sql,
  ack: { messageId: number; userId: string; ext: string | null; at: number },
): Promise<GroupReadAckRow | undefined> {
  return sql.atomic(async (tx) => {
    const message = await tx.first<{ count: number }>(LOCK_MESSAGE_SQL, [ack.messageId])
    if (!message) throw new Error(`insertGroupReadAck: no message ${ack.messageId}`)
    const countAfter = message.count + 1
    for (let draw = 0; draw < PUBLIC_ID_DRAWS; draw++) {
      const publicId = newAckId()
      const row = await tx.first<{ ackId: number }>(INSERT_ACK_SQL, [
        publicId,
        ack.messageId,
        ack.userId,
        ack.ext,
        ack.at,
        countAfter,
      ])
      if (row)
        return {
          ackId: row.ackId,
          publicId,
          messageId: ack.messageId,
          userId: ack.userId,
          ext: ack.ext,
          createdAt: ack.at,
          countAfter,
        }
      if (await getGroupReadAck(tx, ack.messageId, ack.userId)) return undefined
    }
    throw new Error(`insertGroupReadAck: no free public id in ${PUBLIC_ID_DRAWS} draws`)
  })
}

export async function listGroupReadAcks(
  sql: Sql,
  messageId: number,
  afterAckId: number,
  limit: number,
): Promise<GroupReadAckRow[]> {
  return sql.rows<GroupReadAckRow>(PG_LIST_GROUP_READ_ACKS_SQL, [messageId, afterAckId, limit])
}

export async function listGroupUnreadMembers(
  sql: Sql,
  query: ReaderQuery,
  afterUserId: string,
  limit: number,
): Promise<GroupUnreadMember[]> {
  return sql.rows<GroupUnreadMember>(PG_LIST_GROUP_UNREAD_MEMBERS_SQL, [
    query.convId,
    afterUserId,
    query.seq,
    query.senderId,
    query.messageId,
    limit,
  ])
}

export async function countHiddenReaders(sql: Sql, query: ReaderQuery): Promise<number> {
  const row = await sql.first<{ n: number }>(COUNT_HIDDEN_READERS_SQL, [
    query.convId,
    query.seq,
    query.senderId,
    query.messageId,
  ])
  return row?.n ?? 0
}

export async function listCurrentEligibleReaders(
  sql: Sql,
  query: Omit<ReaderQuery, 'messageId'>,
): Promise<string[]> {
  const rows = await sql.rows<{ userId: string }>(
    `SELECT user_id AS "userId" FROM members
     WHERE conv_id = $1 AND left_seq IS NULL AND joined_seq < $2 AND user_id <> $3
     ORDER BY user_id`,
    [query.convId, query.seq, query.senderId],
  )
  return rows.map((r) => r.userId)
}

/** The internal cursor (ack_id) of the message's fact whose public id is `publicId`: one UNIQUE index lookup. */
export async function findGroupReadAckCursor(
  sql: Sql,
  messageId: number,
  publicId: string,
): Promise<number | undefined> {
  const row = await sql.first<{ ackId: number }>(
    'SELECT ack_id AS "ackId" FROM group_read_acks WHERE public_id = $1 AND message_id = $2',
    [publicId, messageId],
  )
  return row?.ackId
}
