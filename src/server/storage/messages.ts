import type { ConversationType, MessageContent } from '../../shared/model'
import { fromBool, prepare, toBool, transact, type Db } from './db'
import type { NewMessage, StoredMessage } from './types'

interface MessageRecord {
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
}

const MESSAGE_COLUMNS = `m.id, m.conv_id AS convId, m.uid AS messageUId, m.client_msg_id AS clientMsgId,
  c.type AS convType, m.sender_id AS senderId, m.to_id AS "to", m.channel_id AS channelId, m.seq,
  m.content, m.sent_at AS sentAt, m.need_delivery_ack AS needDeliveryAck, m.need_read_ack AS needReadAck,
  m.need_group_ack AS isNeedGroupAck, m.member_count AS memberCount,
  m.delivered_at AS deliveredAt, m.read_at AS readAt, m.group_ack_count AS groupAckCount`
const FROM_MESSAGES = 'FROM messages m JOIN conversations c ON c.id = m.conv_id'

/** Exported for the query-plan test: both must be index range scans on (conv_id, seq). */
export const LIST_MESSAGES_SQL = `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES}
  WHERE m.conv_id = ? AND m.seq > ? AND m.seq <= ? ORDER BY m.seq LIMIT ?`
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

export function messageUIdExists(db: Db, uid: string): boolean {
  return prepare<[string], number>(db, 'SELECT 1 FROM messages WHERE uid = ?').pluck().get(uid) !== undefined
}

export function insertMessage(db: Db, message: NewMessage): StoredMessage {
  return transact(db, () => {
    const seq = prepare<[number], number>(
      db,
      'UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ? RETURNING last_seq',
    )
      .pluck()
      .get(message.convId)
    if (seq === undefined) throw new Error(`insertMessage: no conversation ${message.convId}`)
    const id = prepare<[Record<string, string | number>], number>(
      db,
      `INSERT INTO messages (uid, conv_id, seq, sender_id, client_msg_id, to_id, channel_id, content, sent_at,
         need_delivery_ack, need_read_ack, need_group_ack, member_count)
       VALUES (@uid, @convId, @seq, @senderId, @clientMsgId, @to, @channelId, @content, @sentAt,
         @needDeliveryAck, @needReadAck, @isNeedGroupAck, @memberCount)
       RETURNING id`,
    )
      .pluck()
      .get({
        uid: message.uid,
        convId: message.convId,
        seq,
        senderId: message.senderId,
        clientMsgId: message.clientMsgId,
        to: message.to,
        channelId: message.channelId,
        content: JSON.stringify(message.content),
        sentAt: message.sentAt,
        needDeliveryAck: fromBool(message.needDeliveryAck),
        needReadAck: fromBool(message.needReadAck),
        isNeedGroupAck: fromBool(message.isNeedGroupAck),
        memberCount: message.memberCount,
      })
    if (id === undefined) throw new Error('insertMessage returned no row')
    return {
      id,
      convId: message.convId,
      messageUId: message.uid,
      clientMsgId: message.clientMsgId,
      convType: message.convType,
      senderId: message.senderId,
      to: message.to,
      channelId: message.channelId,
      seq,
      content: message.content,
      sentAt: message.sentAt,
      needDeliveryAck: message.needDeliveryAck,
      needReadAck: message.needReadAck,
      isNeedGroupAck: message.isNeedGroupAck,
      memberCount: message.memberCount,
      deliveredAt: null,
      readAt: null,
      groupAckCount: 0,
    }
  })
}

export function listMessages(
  db: Db,
  convId: number,
  afterSeq: number,
  maxSeq: number,
  limit: number,
): StoredMessage[] {
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
  return (all ?? 0) - (own ?? 0)
}

export function markDelivered(db: Db, messageId: number, at: number): boolean {
  return (
    prepare<[number, number]>(
      db,
      'UPDATE messages SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL',
    ).run(at, messageId).changes === 1
  )
}

export function markRead(db: Db, messageId: number, at: number): boolean {
  return (
    prepare<[{ at: number; id: number }]>(
      db,
      `UPDATE messages SET read_at = @at, delivered_at = coalesce(delivered_at, @at)
       WHERE id = @id AND read_at IS NULL`,
    ).run({ at, id: messageId }).changes === 1
  )
}
