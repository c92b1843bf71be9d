import type { ConversationType, MessageContent } from '../../shared/model'
import { newMessageUId } from '../ids'
import { fromBool, prepare, toBool, transact, type Db } from './db'
import { messageActionFields, type MessageActionColumns } from './messageActionFields'
import { ackFields, type AckColumns } from './ackFields'
import type { NewMessage, StoredMessage } from './types'

interface MessageRecord extends MessageActionColumns, AckColumns {
  id: number
  convId: number
  messageUId: string
  clientMsgId: string
  convType: ConversationType
  senderId: string
  to: string
  channelId: string
  seq: number
  content: string
  sentAt: number
  needDeliveryAck: number
  needReadAck: number
  isNeedGroupAck: number
  memberCount: number
  deliveredAt: number | null
  readAt: number | null
  groupAckCount: number
  receiptRequested: number
}

const MESSAGE_COLUMNS = `m.id, m.conv_id AS convId, m.uid AS messageUId, m.client_msg_id AS clientMsgId,
  c.type AS convType, m.sender_id AS senderId, m.to_id AS "to", m.channel_id AS channelId, m.seq,
  m.content, m.sent_at AS sentAt, m.need_delivery_ack AS needDeliveryAck, m.need_read_ack AS needReadAck,
  m.need_group_ack AS isNeedGroupAck, m.member_count AS memberCount,
  m.delivered_at AS deliveredAt, m.read_at AS readAt, m.group_ack_count AS groupAckCount,
  EXISTS (SELECT 1 FROM receipt_requests r WHERE r.message_id = m.id) AS receiptRequested,
  m.reply_to AS replyTo, m.edited_at AS editedAt, m.edit_count AS editCount, m.recalled_at AS recalledAt,
  m.need_ack AS needAck, m.ack_count AS ackCount, m.mentioned_info AS mentionedInfo`
const FROM_MESSAGES = 'FROM messages m JOIN conversations c ON c.id = m.conv_id'

/** Exported for the query-plan test: both must be index range scans on (conv_id, seq). */
export const LIST_MESSAGES_SQL = `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES}
  WHERE m.conv_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq LIMIT ?`
/** H6: a user's pull leaves out what they deleted for themselves (a primary-key lookup per row). */
export const LIST_MESSAGES_FOR_SQL = `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES}
  WHERE m.conv_id = ? AND m.seq > ? AND m.seq <= ?
    AND NOT EXISTS (SELECT 1 FROM deleted_for_me d WHERE d.user_id = ? AND d.conv_id = m.conv_id AND d.seq = m.seq)
  ORDER BY m.seq LIMIT ?`
/** H6: messages of others the user deleted for themselves in a seq range (they are not unread). */
export const COUNT_DELETED_FOR_ME_SQL = `SELECT count(*) FROM deleted_for_me
  WHERE user_id = ? AND conv_id = ? AND seq > ? AND seq <= ? AND own = 0`
export const COUNT_IN_RANGE_SQL = 'SELECT count(*) FROM messages WHERE conv_id = ? AND seq > ? AND seq <= ?'
export const COUNT_OWN_IN_RANGE_SQL =
  'SELECT count(*) FROM messages WHERE conv_id = ? AND sender_id = ? AND seq > ? AND seq <= ?'

function toMessage(r: MessageRecord): StoredMessage {
  return {
    id: r.id,
    convId: r.convId,
    messageUId: r.messageUId,
    clientMsgId: r.clientMsgId,
    convType: r.convType,
    senderId: r.senderId,
    to: r.to,
    channelId: r.channelId,
    seq: r.seq,
    // Written by insertMessage from validated content; the database is ours.
    content: JSON.parse(r.content) as MessageContent,
    sentAt: r.sentAt,
    needDeliveryAck: toBool(r.needDeliveryAck),
    needReadAck: toBool(r.needReadAck),
    isNeedGroupAck: toBool(r.isNeedGroupAck),
    memberCount: r.memberCount,
    deliveredAt: r.deliveredAt,
    readAt: r.readAt,
    groupAckCount: r.groupAckCount,
    receiptRequested: toBool(r.receiptRequested),
    ...messageActionFields(r),
    ...ackFields(r),
  }
}

export function findMessageByClientId(
  db: Db,
  senderId: string,
  clientMsgId: string,
): StoredMessage | undefined {
  const row = prepare<[string, string], MessageRecord>(
    db,
    `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES} WHERE m.sender_id = ? AND m.client_msg_id = ?`,
  ).get(senderId, clientMsgId)
  return row && toMessage(row)
}

export function getMessageByUId(db: Db, uid: string): StoredMessage | undefined {
  const row = prepare<[string], MessageRecord>(
    db,
    `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES} WHERE m.uid = ?`,
  ).get(uid)
  return row && toMessage(row)
}

const INSERT_MESSAGE_SQL = `INSERT INTO messages (uid, conv_id, seq, sender_id, client_msg_id, to_id, channel_id,
     content, sent_at, need_delivery_ack, need_read_ack, need_group_ack, member_count)
   VALUES (?, ?, (SELECT last_seq + 1 FROM conversations WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
   ON CONFLICT DO NOTHING
   RETURNING id, seq`

/**
 * The message with the conversation's next seq. One insert that reads the next seq and one update
 * that moves last_seq, in one transaction; the insert writes nothing on any uniqueness conflict, so a
 * duplicate (sender, clientMsgId) uses no seq. A taken uid (82 random bits: practically never) is
 * drawn again.
 */
export function insertMessage(db: Db, message: NewMessage): { message: StoredMessage; duplicate: boolean } {
  return transact(db, () => {
    const content = JSON.stringify(message.content)
    let uid = message.uid
    for (;;) {
      const row = prepare<(string | number)[], { id: number; seq: number | null }>(
        db,
        INSERT_MESSAGE_SQL,
      ).get(
        uid,
        message.convId,
        message.convId,
        message.senderId,
        message.clientMsgId,
        message.to,
        message.channelId,
        content,
        message.sentAt,
        fromBool(message.needDeliveryAck),
        fromBool(message.needReadAck),
        fromBool(message.isNeedGroupAck),
        message.memberCount,
      )
      if (row) {
        if (row.seq === null) throw new Error(`insertMessage: no conversation ${message.convId}`)
        prepare<[number, number]>(db, 'UPDATE conversations SET last_seq = ? WHERE id = ?').run(
          row.seq,
          message.convId,
        )
        return { message: { ...newStoredMessage(message, uid), id: row.id, seq: row.seq }, duplicate: false }
      }
      const existing = findMessageByClientId(db, message.senderId, message.clientMsgId)
      if (existing) return { message: existing, duplicate: true }
      uid = newMessageUId(message.sentAt)
    }
  })
}

function newStoredMessage(message: NewMessage, uid: string): Omit<StoredMessage, 'id' | 'seq'> {
  const { uid: _drawn, ...fields } = message
  return {
    ...fields,
    messageUId: uid,
    deliveredAt: null,
    readAt: null,
    groupAckCount: 0,
    receiptRequested: false,
  }
}

export function listMessages(
  db: Db,
  convId: number,
  afterSeq: number,
  maxSeq: number,
  limit: number,
  forUserId?: string,
): StoredMessage[] {
  if (forUserId !== undefined)
    return prepare<[number, number, number, string, number], MessageRecord>(db, LIST_MESSAGES_FOR_SQL)
      .all(convId, afterSeq, maxSeq, forUserId, limit)
      .map(toMessage)
  return prepare<[number, number, number, number], MessageRecord>(db, LIST_MESSAGES_SQL)
    .all(convId, afterSeq, maxSeq, limit)
    .map(toMessage)
}

export function countUnread(
  db: Db,
  convId: number,
  userId: string,
  afterSeq: number,
  maxSeq: number,
): number {
  if (maxSeq <= afterSeq) return 0
  // Two index range counts instead of one filtered scan: neither reads a message row.
  const all = prepare<[number, number, number], number>(db, COUNT_IN_RANGE_SQL)
    .pluck()
    .get(convId, afterSeq, maxSeq)
  const own = prepare<[number, string, number, number], number>(db, COUNT_OWN_IN_RANGE_SQL)
    .pluck()
    .get(convId, userId, afterSeq, maxSeq)
  const deleted = prepare<[string, number, number, number], number>(db, COUNT_DELETED_FOR_ME_SQL)
    .pluck()
    .get(userId, convId, afterSeq, maxSeq)
  return (all ?? 0) - (own ?? 0) - (deleted ?? 0)
}

const MARK_RECEIVED_SQL = {
  delivered: `UPDATE messages SET delivered_at = @at
     WHERE uid = @uid AND to_id = @receiverId AND delivered_at IS NULL
       AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = messages.conv_id AND c.type = 'private')
     RETURNING sender_id`,
  // Only while both members share read receipts (src/server/ops/receiptPrivacy.ts): otherwise the
  // read is private and the caller records a delivery instead.
  read: `UPDATE messages SET read_at = @at, delivered_at = coalesce(delivered_at, @at)
     WHERE uid = @uid AND to_id = @receiverId AND read_at IS NULL
       AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = messages.conv_id AND c.type = 'private')
       AND NOT EXISTS (SELECT 1 FROM members m WHERE m.conv_id = messages.conv_id AND m.hides_receipts = 1)
     RETURNING sender_id`,
}

/**
 * Records the first delivery or read of a single-chat message by its receiver, in one statement;
 * read implies delivered. The sender's id when this call set it; undefined when it was set already
 * or the message is not a single-chat message to `receiverId` (the caller looks up which).
 */
export function markReceived(
  db: Db,
  kind: 'delivered' | 'read',
  uid: string,
  receiverId: string,
  at: number,
): string | undefined {
  return prepare<[{ uid: string; receiverId: string; at: number }], string>(db, MARK_RECEIVED_SQL[kind])
    .pluck()
    .get({ uid, receiverId, at })
}
