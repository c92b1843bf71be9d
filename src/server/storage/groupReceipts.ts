import type { GroupReceiptSettings } from '../../shared/model'
import { newAckId } from '../ids'
import { fromBool, prepare, toBool, transact, type Db } from './db'
import type { GroupReadAckRow, GroupUnreadMember, ReaderQuery } from './types'

// ---- per-group overrides of the receipt settings ----

export interface ReceiptOverrideColumns {
  enabled: number | null
  whoMayRequest: GroupReceiptSettings['whoMayRequest'] | null
  validityMs: number | null
  maxGroupSize: number | null
  countVisibility: GroupReceiptSettings['countVisibility'] | null
  /** Issue 15 (acks.ts): acks of older messages are refused. */
  ackValidityMs: number | null
}

/** Exported for listGroupsOfUser, which reads the same columns in its join. */
export const OVERRIDE_COLUMNS = `s.enabled, s.who_may_request AS whoMayRequest, s.validity_ms AS validityMs,
  s.max_group_size AS maxGroupSize, s.count_visibility AS countVisibility,
  s.ack_validity_ms AS ackValidityMs`

/** NULL columns are "inherit the server default" and are left out. */
export function toOverrides(r: ReceiptOverrideColumns | undefined): Partial<GroupReceiptSettings> {
  const overrides: Partial<GroupReceiptSettings> = {}
  if (!r) return overrides
  if (r.enabled !== null) overrides.enabled = toBool(r.enabled)
  if (r.whoMayRequest !== null) overrides.whoMayRequest = r.whoMayRequest
  if (r.validityMs !== null) overrides.validityMs = r.validityMs
  if (r.maxGroupSize !== null) overrides.maxGroupSize = r.maxGroupSize
  if (r.countVisibility !== null) overrides.countVisibility = r.countVisibility
  if (r.ackValidityMs !== null && r.ackValidityMs !== undefined) overrides.ackValidityMs = r.ackValidityMs
  return overrides
}

export function getGroupReceiptOverrides(db: Db, groupId: string): Partial<GroupReceiptSettings> {
  return toOverrides(
    prepare<[string], ReceiptOverrideColumns>(
      db,
      `SELECT ${OVERRIDE_COLUMNS} FROM group_receipt_settings s WHERE s.group_id = ?`,
    ).get(groupId),
  )
}

export function setGroupReceiptOverrides(
  db: Db,
  groupId: string,
  patch: Partial<GroupReceiptSettings>,
): void {
  prepare<[Record<string, string | number | null>]>(
    db,
    `INSERT INTO group_receipt_settings
       (group_id, enabled, who_may_request, validity_ms, max_group_size, count_visibility, ack_validity_ms)
     VALUES (@groupId, @enabled, @whoMayRequest, @validityMs, @maxGroupSize, @countVisibility, @ackValidityMs)
     ON CONFLICT (group_id) DO UPDATE SET
       enabled = coalesce(excluded.enabled, enabled),
       who_may_request = coalesce(excluded.who_may_request, who_may_request),
       validity_ms = coalesce(excluded.validity_ms, validity_ms),
       max_group_size = coalesce(excluded.max_group_size, max_group_size),
       count_visibility = coalesce(excluded.count_visibility, count_visibility),
       ack_validity_ms = coalesce(excluded.ack_validity_ms, ack_validity_ms)`,
  ).run({
    groupId,
    enabled: patch.enabled === undefined ? null : fromBool(patch.enabled),
    whoMayRequest: patch.whoMayRequest ?? null,
    validityMs: patch.validityMs ?? null,
    maxGroupSize: patch.maxGroupSize ?? null,
    countVisibility: patch.countVisibility ?? null,
    ackValidityMs: patch.ackValidityMs ?? null,
  })
}

// ---- RongCloud requests ----

export function getReceiptRequestedAt(db: Db, messageId: number): number | undefined {
  return prepare<[number], number>(db, 'SELECT requested_at FROM receipt_requests WHERE message_id = ?')
    .pluck()
    .get(messageId)
}

export function insertReceiptRequest(db: Db, messageId: number, at: number): boolean {
  return (
    prepare<[number, number]>(
      db,
      'INSERT INTO receipt_requests (message_id, requested_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
    ).run(messageId, at).changes === 1
  )
}

// ---- reader facts ----

const ACK_COLUMNS = `ack_id AS ackId, public_id AS publicId, message_id AS messageId, user_id AS userId, ext,
  created_at AS createdAt, count_after AS countAfter`

/** Exported for the query-plan test: a range of the group_read_acks_page index. */
export const LIST_GROUP_READ_ACKS_SQL = `SELECT ${ACK_COLUMNS} FROM group_read_acks
  WHERE message_id = ? AND ack_id > ? ORDER BY ack_id LIMIT ?`

/**
 * Exported for the query-plan test. The eligible readers of a message (seq, sender) are the members
 * whose window contains seq, the sender excluded; a range of the members primary key, each checked
 * against the UNIQUE (message_id, user_id) index of group_read_acks.
 */
export const LIST_GROUP_UNREAD_MEMBERS_SQL = `SELECT m.user_id AS userId, u.display_name AS displayName
  FROM members m JOIN users u ON u.id = m.user_id
  WHERE m.conv_id = @convId AND m.user_id > @afterUserId
    AND m.joined_seq < @seq AND (m.left_seq IS NULL OR m.left_seq >= @seq) AND m.user_id <> @senderId
    AND NOT EXISTS (SELECT 1 FROM group_read_acks a WHERE a.message_id = @messageId AND a.user_id = m.user_id)
    AND m.hides_receipts = 0
  ORDER BY m.user_id LIMIT @limit`

/**
 * The eligible readers who hide their read receipts and have no shared reader fact: neither "read"
 * nor "not read yet". A range of the partial index members_hiding_receipts (hiders only): named,
 * since without statistics SQLite would walk the whole group by the primary key instead.
 */
export const COUNT_HIDDEN_READERS_SQL = `SELECT count(*) FROM members m INDEXED BY members_hiding_receipts
  WHERE m.conv_id = @convId AND m.hides_receipts = 1
    AND m.joined_seq < @seq AND (m.left_seq IS NULL OR m.left_seq >= @seq) AND m.user_id <> @senderId
    AND NOT EXISTS (SELECT 1 FROM group_read_acks a WHERE a.message_id = @messageId AND a.user_id = m.user_id)`

export function getGroupReadAck(db: Db, messageId: number, userId: string): GroupReadAckRow | undefined {
  return prepare<[number, string], GroupReadAckRow>(
    db,
    `SELECT ${ACK_COLUMNS} FROM group_read_acks WHERE message_id = ? AND user_id = ?`,
  ).get(messageId, userId)
}

export function insertGroupReadAck(
  db: Db,
  ack: { messageId: number; userId: string; ext: string | null; at: number },
): GroupReadAckRow | undefined {
  return transact(db, () => {
    if (getGroupReadAck(db, ack.messageId, ack.userId)) return undefined
    const countAfter = prepare<[number], number>(
      db,
      'UPDATE messages SET group_ack_count = group_ack_count + 1 WHERE id = ? RETURNING group_ack_count',
    )
      .pluck()
      .get(ack.messageId)
    if (countAfter === undefined) throw new Error(`insertGroupReadAck: no message ${ack.messageId}`)
    const insert = prepare<[string, number, string, string | null, number, number], number>(
      db,
      `INSERT INTO group_read_acks (public_id, message_id, user_id, ext, created_at, count_after)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (public_id) DO NOTHING RETURNING ack_id`,
    ).pluck()
    // A public id already taken (131 random bits: practically never) is drawn again.
    for (;;) {
      const publicId = newAckId()
      const ackId = insert.get(publicId, ack.messageId, ack.userId, ack.ext, ack.at, countAfter)
      if (ackId === undefined) continue
      return {
        ackId,
        publicId,
        messageId: ack.messageId,
        userId: ack.userId,
        ext: ack.ext,
        createdAt: ack.at,
        countAfter,
      }
    }
  })
}

export function listGroupReadAcks(
  db: Db,
  messageId: number,
  afterAckId: number,
  limit: number,
): GroupReadAckRow[] {
  return prepare<[number, number, number], GroupReadAckRow>(db, LIST_GROUP_READ_ACKS_SQL).all(
    messageId,
    afterAckId,
    limit,
  )
}

export function listGroupUnreadMembers(
  db: Db,
  query: ReaderQuery,
  afterUserId: string,
  limit: number,
): GroupUnreadMember[] {
  return prepare<[Record<string, string | number>], GroupUnreadMember>(db, LIST_GROUP_UNREAD_MEMBERS_SQL).all(
    {
      ...query,
      afterUserId,
      limit,
    },
  )
}

export function countHiddenReaders(db: Db, query: ReaderQuery): number {
  return prepare<[Record<string, string | number>], number>(db, COUNT_HIDDEN_READERS_SQL)
    .pluck()
    .get({ ...query }) as number
}

export function listCurrentEligibleReaders(db: Db, query: Omit<ReaderQuery, 'messageId'>): string[] {
  return prepare<[Record<string, string | number>], string>(
    db,
    `SELECT user_id FROM members
     WHERE conv_id = @convId AND left_seq IS NULL AND joined_seq < @seq AND user_id <> @senderId
     ORDER BY user_id`,
  )
    .pluck()
    .all(query)
}

/** Exported for the query-plan test: one lookup in the UNIQUE index on public_id. */
export const FIND_ACK_CURSOR_SQL = 'SELECT ack_id FROM group_read_acks WHERE public_id = ? AND message_id = ?'

/** The internal cursor (ack_id) of the message's fact whose public id is `publicId`. */
export function findGroupReadAckCursor(db: Db, messageId: number, publicId: string): number | undefined {
  return prepare<[string, number], number>(db, FIND_ACK_CURSOR_SQL).pluck().get(publicId, messageId)
}
