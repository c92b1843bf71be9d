/** Conversations, membership (with the receipt watermarks) and groups, on PostgreSQL. */
import type { ConversationType, GroupRole } from '../../../shared/model'
import type {
  ConversationOfUser,
  ConversationRow,
  GroupMemberView,
  GroupOfUser,
  GroupRow,
  MemberRow,
} from '../types'
import { OVERRIDE_COLUMNS, toOverrides, type ReceiptOverrideColumns } from './groupReceipts'
import type { Sql } from './sql'

const CONVERSATION_COLUMNS = 'id, key, type, last_seq AS "lastSeq", created_at AS "createdAt"'
const MEMBER_COLUMNS = `m.conv_id AS "convId", m.user_id AS "userId", m.role, m.joined_seq AS "joinedSeq",
  m.left_seq AS "leftSeq", m.joined_at AS "joinedAt", m.read_seq AS "readSeq", m.delivered_seq AS "deliveredSeq",
  m.shared_read_seq AS "sharedReadSeq", m.share_read_receipts AS "shareReadReceipts"`
const GROUP_COLUMNS = 'id, conv_id AS "convId", name, owner_id AS "ownerId", created_at AS "createdAt"'

/** The effective shareReadReceipts of member m (alias `m`, user alias `u`): override, else account. */

export async function getConversationByKey(sql: Sql, key: string): Promise<ConversationRow | undefined> {
  return sql.first<ConversationRow>(`SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE key = $1`, [key])
}

/**
 * Callers look the key up first, in the same transaction. On one SQLite database nothing can come in
 * between; here another node may create the same single chat at that moment. Its insert makes this
 * one wait until it commits, then write nothing, and the row it wrote is returned: both requests go
 * on in one conversation, as one after the other would have.
 */
export async function insertConversation(
  sql: Sql,
  conv: { key: string; type: ConversationType; createdAt: number },
): Promise<ConversationRow> {
  const row =
    (await sql.first<ConversationRow>(
      `INSERT INTO conversations (key, type, created_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO NOTHING RETURNING ${CONVERSATION_COLUMNS}`,
      [conv.key, conv.type, conv.createdAt],
    )) ?? (await getConversationByKey(sql, conv.key))
  if (!row) throw new Error(`insertConversation: ${conv.key} neither inserted nor found`)
  return row
}

export async function getMember(sql: Sql, convId: number, userId: string): Promise<MemberRow | undefined> {
  return sql.first<MemberRow>(
    `SELECT ${MEMBER_COLUMNS}, NOT m.hides_receipts AS "sharesReadReceipts"
     FROM members m WHERE m.conv_id = $1 AND m.user_id = $2`,
    [convId, userId],
  )
}

export async function setMemberReceiptSharing(
  sql: Sql,
  convId: number,
  userId: string,
  share: boolean | null,
): Promise<void> {
  await sql.run(
    `UPDATE members SET share_read_receipts = $3::boolean,
       hides_receipts = NOT coalesce($3::boolean, (SELECT share_read_receipts FROM users WHERE id = $2))
     WHERE conv_id = $1 AND user_id = $2`,
    [convId, userId, share],
  )
}

export async function countMembersHidingReceipts(sql: Sql, convId: number): Promise<number> {
  const row = await sql.first<{ n: number }>(
    'SELECT count(*) AS n FROM members WHERE conv_id = $1 AND hides_receipts AND left_seq IS NULL',
    [convId],
  )
  return row?.n ?? 0
}

export async function readReceiptsExchanged(sql: Sql, convId: number): Promise<boolean> {
  const row = await sql.first<{ exchanged: boolean }>(
    'SELECT NOT EXISTS (SELECT 1 FROM members WHERE conv_id = $1 AND hides_receipts) AS exchanged',
    [convId],
  )
  return row?.exchanged ?? true
}

export async function listCurrentMemberIds(sql: Sql, convId: number): Promise<string[]> {
  const rows = await sql.rows<{ userId: string }>(
    'SELECT user_id AS "userId" FROM members WHERE conv_id = $1 AND left_seq IS NULL ORDER BY user_id',
    [convId],
  )
  return rows.map((r) => r.userId)
}

export async function countCurrentMembers(sql: Sql, convId: number): Promise<number> {
  const row = await sql.first<{ n: number }>(
    'SELECT count(*) AS n FROM members WHERE conv_id = $1 AND left_seq IS NULL',
    [convId],
  )
  return row?.n ?? 0
}

export async function upsertMember(
  sql: Sql,
  m: { convId: number; userId: string; role: GroupRole | null; joinedSeq: number; joinedAt: number },
): Promise<void> {
  await sql.run(
    `INSERT INTO members (conv_id, user_id, role, joined_seq, joined_at, hides_receipts)
     VALUES ($1, $2, $3, $4, $5, (SELECT NOT share_read_receipts FROM users WHERE id = $2))
     ON CONFLICT (conv_id, user_id) DO UPDATE SET
       role = excluded.role, joined_seq = excluded.joined_seq, joined_at = excluded.joined_at, left_seq = NULL`,
    [m.convId, m.userId, m.role, m.joinedSeq, m.joinedAt],
  )
}

export async function setMemberRole(
  sql: Sql,
  convId: number,
  userId: string,
  role: GroupRole,
): Promise<void> {
  await sql.run('UPDATE members SET role = $3 WHERE conv_id = $1 AND user_id = $2', [convId, userId, role])
}

export async function markMemberLeft(
  sql: Sql,
  convId: number,
  userId: string,
  leftSeq: number,
): Promise<void> {
  // A former admin who is added back later comes back as a plain member.
  await sql.run(`UPDATE members SET left_seq = $3, role = 'member' WHERE conv_id = $1 AND user_id = $2`, [
    convId,
    userId,
    leftSeq,
  ])
}

/**
 * One UPDATE: a concurrent one on the same member waits for the row lock, then PostgreSQL
 * re-evaluates GREATEST on the row as that one left it, so no watermark ever moves backwards.
 */
export async function setMemberWatermarks(
  sql: Sql,
  convId: number,
  userId: string,
  readSeq: number,
  deliveredSeq: number,
  sharedReadSeq = 0,
): Promise<void> {
  await sql.run(
    `UPDATE members SET read_seq = GREATEST(read_seq, $3), delivered_seq = GREATEST(delivered_seq, $4),
       shared_read_seq = GREATEST(shared_read_seq, $5)
     WHERE conv_id = $1 AND user_id = $2`,
    [convId, userId, readSeq, deliveredSeq, sharedReadSeq],
  )
}

interface ConversationOfUserRecord {
  id: number
  key: string
  type: ConversationType
  lastSeq: number
  convCreatedAt: number
  role: GroupRole | null
  joinedSeq: number
  leftSeq: number | null
  joinedAt: number
  readSeq: number
  deliveredSeq: number
  sharedReadSeq: number
  shareOverride: boolean | null
  shares: boolean
  peerId: string | null
  peerName: string | null
  peerReadSeq: number | null
  peerDeliveredSeq: number | null
  peerShares: boolean | null
  groupId: string | null
  groupName: string | null
  ownerId: string | null
  groupCreatedAt: number | null
}

export async function listConversationsOfUser(sql: Sql, userId: string): Promise<ConversationOfUser[]> {
  const rows = await sql.rows<ConversationOfUserRecord>(
    `SELECT c.id, c.key, c.type, c.last_seq AS "lastSeq", c.created_at AS "convCreatedAt",
            m.role, m.joined_seq AS "joinedSeq", m.left_seq AS "leftSeq", m.joined_at AS "joinedAt",
            m.read_seq AS "readSeq", m.delivered_seq AS "deliveredSeq", m.shared_read_seq AS "sharedReadSeq",
            m.share_read_receipts AS "shareOverride",
            NOT m.hides_receipts AS shares,
            p.user_id AS "peerId", pu.display_name AS "peerName",
            p.shared_read_seq AS "peerReadSeq", p.delivered_seq AS "peerDeliveredSeq",
            NOT p.hides_receipts AS "peerShares",
            g.id AS "groupId", g.name AS "groupName", g.owner_id AS "ownerId", g.created_at AS "groupCreatedAt"
     FROM members m
     JOIN conversations c ON c.id = m.conv_id
     LEFT JOIN members p ON c.type = 'private' AND p.conv_id = m.conv_id AND p.user_id <> m.user_id
     LEFT JOIN users pu ON pu.id = p.user_id
     LEFT JOIN groups g ON c.type = 'group' AND g.conv_id = c.id
     WHERE m.user_id = $1
     ORDER BY c.id`,
    [userId],
  )
  return rows.map((r) => ({
    conv: { id: r.id, key: r.key, type: r.type, lastSeq: r.lastSeq, createdAt: r.convCreatedAt },
    me: {
      convId: r.id,
      userId,
      role: r.role,
      joinedSeq: r.joinedSeq,
      leftSeq: r.leftSeq,
      joinedAt: r.joinedAt,
      readSeq: r.readSeq,
      deliveredSeq: r.deliveredSeq,
      sharedReadSeq: r.sharedReadSeq,
      shareReadReceipts: r.shareOverride,
      sharesReadReceipts: r.shares,
    },
    peer:
      r.peerId === null
        ? null
        : {
            userId: r.peerId,
            displayName: r.peerName ?? r.peerId,
            readSeq: r.peerReadSeq ?? 0,
            deliveredSeq: r.peerDeliveredSeq ?? 0,
            sharesReadReceipts: r.peerShares === true,
          },
    group:
      r.groupId === null
        ? null
        : {
            id: r.groupId,
            convId: r.id,
            name: r.groupName ?? '',
            ownerId: r.ownerId ?? '',
            createdAt: r.groupCreatedAt ?? 0,
          },
  }))
}

export async function insertGroup(sql: Sql, group: GroupRow): Promise<void> {
  await sql.run('INSERT INTO groups (id, conv_id, name, owner_id, created_at) VALUES ($1, $2, $3, $4, $5)', [
    group.id,
    group.convId,
    group.name,
    group.ownerId,
    group.createdAt,
  ])
}

export async function getGroup(sql: Sql, id: string): Promise<GroupRow | undefined> {
  return sql.first<GroupRow>(`SELECT ${GROUP_COLUMNS} FROM groups WHERE id = $1`, [id])
}

/**
 * One statement, so atomic on its own: the group's owner changes only while `fromUserId` owns it and
 * `toUserId` is a current member; then both member rows change with it.
 */
export async function transferGroupOwnership(
  sql: Sql,
  groupId: string,
  fromUserId: string,
  toUserId: string,
): Promise<boolean> {
  if (fromUserId === toUserId) return false
  const changed = await sql.run(
    `WITH moved AS (
       UPDATE groups g SET owner_id = $3
       WHERE g.id = $1 AND g.owner_id = $2
         AND EXISTS (SELECT 1 FROM members m WHERE m.conv_id = g.conv_id AND m.user_id = $3 AND m.left_seq IS NULL)
       RETURNING g.conv_id
     )
     UPDATE members SET role = CASE WHEN user_id = $3 THEN 'owner' ELSE 'admin' END
     WHERE conv_id IN (SELECT conv_id FROM moved) AND user_id IN ($2, $3)`,
    [groupId, fromUserId, toUserId],
  )
  return changed > 0
}

export async function listGroupMembers(sql: Sql, convId: number): Promise<GroupMemberView[]> {
  return sql.rows<GroupMemberView>(
    `SELECT m.user_id AS "userId", u.display_name AS "displayName", m.role, m.joined_at AS "joinedAt"
     FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.conv_id = $1 AND m.left_seq IS NULL
     ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, m.joined_at, m.user_id`,
    [convId],
  )
}

export async function listGroupsOfUser(sql: Sql, userId: string): Promise<GroupOfUser[]> {
  const rows = await sql.rows<
    GroupRow &
      ReceiptOverrideColumns & { memberCount: number; role: GroupRole | null; leftSeq: number | null }
  >(
    `SELECT g.id, g.conv_id AS "convId", g.name, g.owner_id AS "ownerId", g.created_at AS "createdAt",
            m.role, m.left_seq AS "leftSeq",
            (SELECT count(*) FROM members a WHERE a.conv_id = g.conv_id AND a.left_seq IS NULL) AS "memberCount",
            ${OVERRIDE_COLUMNS}
     FROM members m JOIN groups g ON g.conv_id = m.conv_id
     LEFT JOIN group_receipt_settings s ON s.group_id = g.id
     WHERE m.user_id = $1
     ORDER BY g.created_at, g.id`,
    [userId],
  )
  return rows.map((r) => ({
    group: { id: r.id, convId: r.convId, name: r.name, ownerId: r.ownerId, createdAt: r.createdAt },
    memberCount: r.memberCount,
    myRole: r.leftSeq === null ? r.role : null,
    receiptOverrides: toOverrides(r),
  }))
}
