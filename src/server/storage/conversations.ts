import type { ConversationType, GroupRole } from '../../shared/model'
import { prepare, transact, type Db } from './db'
import { OVERRIDE_COLUMNS, toOverrides, type ReceiptOverrideColumns } from './groupReceipts'
import type {
  ConversationOfUser,
  ConversationRow,
  GroupMemberView,
  GroupOfUser,
  GroupRow,
  MemberRow,
} from './types'

const CONVERSATION_COLUMNS = 'id, key, type, last_seq AS lastSeq, created_at AS createdAt'
const MEMBER_COLUMNS = `conv_id AS convId, user_id AS userId, role, joined_seq AS joinedSeq,
  left_seq AS leftSeq, joined_at AS joinedAt, read_seq AS readSeq, delivered_seq AS deliveredSeq`
const GROUP_COLUMNS = 'id, conv_id AS convId, name, owner_id AS ownerId, created_at AS createdAt'

export function getConversationByKey(db: Db, key: string): ConversationRow | undefined {
  return prepare<[string], ConversationRow>(
    db,
    `SELECT ${CONVERSATION_COLUMNS} FROM conversations WHERE key = ?`,
  ).get(key)
}

export function insertConversation(
  db: Db,
  conv: { key: string; type: ConversationType; createdAt: number },
): ConversationRow {
  const row = prepare<[typeof conv], ConversationRow>(
    db,
    `INSERT INTO conversations (key, type, created_at) VALUES (@key, @type, @createdAt)
     RETURNING ${CONVERSATION_COLUMNS}`,
  ).get(conv)
  if (!row) throw new Error('insertConversation returned no row')
  return row
}

type MemberRecord = Omit<MemberRow, 'shareReadReceipts' | 'sharesReadReceipts'> & {
  shareOverride: number | null
  shares: number
}

/** The effective shareReadReceipts of member m (alias `m`, user alias `u`): override, else account. */
export function getMember(db: Db, convId: number, userId: string): MemberRow | undefined {
  const r = prepare<[number, string], MemberRecord>(
    db,
    `SELECT ${MEMBER_COLUMNS}, m.shared_read_seq AS sharedReadSeq, m.share_read_receipts AS shareOverride,
            1 - m.hides_receipts AS shares
     FROM members m WHERE m.conv_id = ? AND m.user_id = ?`,
  ).get(convId, userId)
  if (!r) return undefined
  const { shareOverride, shares, ...rest } = r
  return {
    ...rest,
    shareReadReceipts: shareOverride === null ? null : shareOverride === 1,
    sharesReadReceipts: shares === 1,
  }
}

export function setMemberReceiptSharing(db: Db, convId: number, userId: string, share: boolean | null): void {
  prepare<[{ share: number | null; convId: number; userId: string }]>(
    db,
    `UPDATE members SET share_read_receipts = @share,
       hides_receipts = (coalesce(@share, (SELECT share_read_receipts FROM users WHERE id = @userId)) = 0)
     WHERE conv_id = @convId AND user_id = @userId`,
  ).run({ share: share === null ? null : share ? 1 : 0, convId, userId })
}

export function countMembersHidingReceipts(db: Db, convId: number): number {
  return prepare<[number], number>(
    db,
    'SELECT count(*) FROM members WHERE conv_id = ? AND hides_receipts = 1 AND left_seq IS NULL',
  )
    .pluck()
    .get(convId) as number
}

export function readReceiptsExchanged(db: Db, convId: number): boolean {
  return (
    prepare<[number], number>(db, 'SELECT count(*) FROM members WHERE conv_id = ? AND hides_receipts = 1')
      .pluck()
      .get(convId) === 0
  )
}

export function listCurrentMemberIds(db: Db, convId: number): string[] {
  return prepare<[number], string>(
    db,
    'SELECT user_id FROM members WHERE conv_id = ? AND left_seq IS NULL ORDER BY user_id',
  )
    .pluck()
    .all(convId)
}

export function countCurrentMembers(db: Db, convId: number): number {
  return (
    prepare<[number], number>(db, 'SELECT count(*) FROM members WHERE conv_id = ? AND left_seq IS NULL')
      .pluck()
      .get(convId) ?? 0
  )
}

export function upsertMember(
  db: Db,
  m: { convId: number; userId: string; role: GroupRole | null; joinedSeq: number; joinedAt: number },
): void {
  prepare<[typeof m]>(
    db,
    `INSERT INTO members (conv_id, user_id, role, joined_seq, joined_at, hides_receipts)
     VALUES (@convId, @userId, @role, @joinedSeq, @joinedAt,
       (SELECT share_read_receipts = 0 FROM users WHERE id = @userId))
     ON CONFLICT (conv_id, user_id) DO UPDATE SET
       role = excluded.role, joined_seq = excluded.joined_seq, joined_at = excluded.joined_at, left_seq = NULL`,
  ).run(m)
}

export function setMemberRole(db: Db, convId: number, userId: string, role: GroupRole): void {
  prepare<[GroupRole, number, string]>(
    db,
    'UPDATE members SET role = ? WHERE conv_id = ? AND user_id = ?',
  ).run(role, convId, userId)
}

export function markMemberLeft(db: Db, convId: number, userId: string, leftSeq: number): void {
  // A former admin who is added back later comes back as a plain member.
  prepare<[number, number, string]>(
    db,
    `UPDATE members SET left_seq = ?, role = 'member' WHERE conv_id = ? AND user_id = ?`,
  ).run(leftSeq, convId, userId)
}

export function setMemberWatermarks(
  db: Db,
  convId: number,
  userId: string,
  readSeq: number,
  deliveredSeq: number,
  sharedReadSeq = 0,
): void {
  // max() here as well as in the caller: a watermark must never move backwards, whoever calls.
  prepare<[number, number, number, number, string]>(
    db,
    `UPDATE members SET read_seq = max(read_seq, ?), delivered_seq = max(delivered_seq, ?),
       shared_read_seq = max(shared_read_seq, ?)
     WHERE conv_id = ? AND user_id = ?`,
  ).run(readSeq, deliveredSeq, sharedReadSeq, convId, userId)
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
  peerId: string | null
  peerName: string | null
  peerReadSeq: number | null
  peerDeliveredSeq: number | null
  peerShares: number | null
  shareOverride: number | null
  sharedReadSeq: number
  shares: number
  groupId: string | null
  groupName: string | null
  ownerId: string | null
  groupCreatedAt: number | null
}

export function listConversationsOfUser(db: Db, userId: string): ConversationOfUser[] {
  const rows = prepare<[string], ConversationOfUserRecord>(
    db,
    `SELECT c.id, c.key, c.type, c.last_seq AS lastSeq, c.created_at AS convCreatedAt,
            m.role, m.joined_seq AS joinedSeq, m.left_seq AS leftSeq, m.joined_at AS joinedAt,
            m.read_seq AS readSeq, m.delivered_seq AS deliveredSeq, m.shared_read_seq AS sharedReadSeq,
            m.share_read_receipts AS shareOverride,
            1 - m.hides_receipts AS shares,
            p.user_id AS peerId, pu.display_name AS peerName,
            p.shared_read_seq AS peerReadSeq, p.delivered_seq AS peerDeliveredSeq,
            1 - p.hides_receipts AS peerShares,
            g.id AS groupId, g.name AS groupName, g.owner_id AS ownerId, g.created_at AS groupCreatedAt
     FROM members m
     JOIN conversations c ON c.id = m.conv_id
     LEFT JOIN members p ON c.type = 'private' AND p.conv_id = m.conv_id AND p.user_id <> m.user_id
     LEFT JOIN users pu ON pu.id = p.user_id
     LEFT JOIN groups g ON c.type = 'group' AND g.conv_id = c.id
     WHERE m.user_id = ?
     ORDER BY c.id`,
  ).all(userId)
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
      shareReadReceipts: r.shareOverride === null ? null : r.shareOverride === 1,
      sharesReadReceipts: r.shares === 1,
    },
    peer:
      r.peerId === null
        ? null
        : {
            userId: r.peerId,
            displayName: r.peerName ?? r.peerId,
            readSeq: r.peerReadSeq ?? 0,
            deliveredSeq: r.peerDeliveredSeq ?? 0,
            sharesReadReceipts: r.peerShares === 1,
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

export function insertGroup(db: Db, group: GroupRow): void {
  prepare<[GroupRow]>(
    db,
    `INSERT INTO groups (id, conv_id, name, owner_id, created_at)
     VALUES (@id, @convId, @name, @ownerId, @createdAt)`,
  ).run(group)
}

export function getGroup(db: Db, id: string): GroupRow | undefined {
  return prepare<[string], GroupRow>(db, `SELECT ${GROUP_COLUMNS} FROM groups WHERE id = ?`).get(id)
}

export function transferGroupOwnership(
  db: Db,
  groupId: string,
  fromUserId: string,
  toUserId: string,
): boolean {
  if (fromUserId === toUserId) return false
  return transact(db, () => {
    const group = prepare<[string, string], { convId: number }>(
      db,
      'SELECT conv_id AS convId FROM groups WHERE id = ? AND owner_id = ?',
    ).get(groupId, fromUserId)
    if (!group) return false
    const target = prepare<[number, string], { n: number }>(
      db,
      'SELECT 1 AS n FROM members WHERE conv_id = ? AND user_id = ? AND left_seq IS NULL',
    ).get(group.convId, toUserId)
    if (!target) return false
    prepare<[string, string]>(db, 'UPDATE groups SET owner_id = ? WHERE id = ?').run(toUserId, groupId)
    const role = prepare<[string, number, string]>(
      db,
      'UPDATE members SET role = ? WHERE conv_id = ? AND user_id = ?',
    )
    role.run('owner', group.convId, toUserId)
    role.run('admin', group.convId, fromUserId)
    return true
  })
}

export function listGroupMembers(db: Db, convId: number): GroupMemberView[] {
  return prepare<[number], GroupMemberView>(
    db,
    `SELECT m.user_id AS userId, u.display_name AS displayName, m.role, m.joined_at AS joinedAt
     FROM members m JOIN users u ON u.id = m.user_id
     WHERE m.conv_id = ? AND m.left_seq IS NULL
     ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, m.joined_at, m.user_id`,
  ).all(convId)
}

export function listGroupsOfUser(db: Db, userId: string): GroupOfUser[] {
  const rows = prepare<
    [string],
    GroupRow &
      ReceiptOverrideColumns & { memberCount: number; role: GroupRole | null; leftSeq: number | null }
  >(
    db,
    `SELECT g.id, g.conv_id AS convId, g.name, g.owner_id AS ownerId, g.created_at AS createdAt,
            m.role, m.left_seq AS leftSeq,
            (SELECT count(*) FROM members a WHERE a.conv_id = g.conv_id AND a.left_seq IS NULL) AS memberCount,
            ${OVERRIDE_COLUMNS}
     FROM members m JOIN groups g ON g.conv_id = m.conv_id
     LEFT JOIN group_receipt_settings s ON s.group_id = g.id
     WHERE m.user_id = ?
     ORDER BY g.created_at, g.id`,
  ).all(userId)
  return rows.map((r) => ({
    group: { id: r.id, convId: r.convId, name: r.name, ownerId: r.ownerId, createdAt: r.createdAt },
    memberCount: r.memberCount,
    myRole: r.leftSeq === null ? r.role : null,
    receiptOverrides: toOverrides(r),
  }))
}
