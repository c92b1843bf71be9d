/** Messages: the per-conversation seq, exactly-once sends, pulls, unread counts, single-chat receipts. */
import type { MessageContent } from '../../../shared/model'
import { newMessageUId } from '../../ids'
import type { NewMessage, StoredMessage } from '../types'
import { messageActionFields, type MessageActionColumns } from '../messageActionFields'
import { ackFields, type AckColumns } from '../ackFields'
import type { Sql } from './sql'

interface MessageRecord
  extends
    Omit<StoredMessage, 'content' | keyof MessageActionColumns | keyof AckColumns>,
    MessageActionColumns,
    AckColumns {
  content: string
}

const MESSAGE_COLUMNS = `m.id, m.conv_id AS "convId", m.uid AS "messageUId", m.client_msg_id AS "clientMsgId",
  c.type AS "convType", m.sender_id AS "senderId", m.to_id AS "to", m.channel_id AS "channelId", m.seq,
  m.content, m.sent_at AS "sentAt", m.need_delivery_ack AS "needDeliveryAck", m.need_read_ack AS "needReadAck",
  m.need_group_ack AS "isNeedGroupAck", m.member_count AS "memberCount",
  m.delivered_at AS "deliveredAt", m.read_at AS "readAt", m.group_ack_count AS "groupAckCount",
  EXISTS (SELECT 1 FROM receipt_requests r WHERE r.message_id = m.id) AS "receiptRequested",
  m.reply_to AS "replyTo", m.edited_at AS "editedAt", m.edit_count AS "editCount", m.recalled_at AS "recalledAt",
  m.need_ack AS "needAck", m.ack_count AS "ackCount", m.mentioned_info AS "mentionedInfo"`
const FROM_MESSAGES = 'FROM messages m JOIN conversations c ON c.id = m.conv_id'

/** Exported for the query-plan test: a range of the UNIQUE (conv_id, seq) index. */
export const PG_LIST_MESSAGES_SQL = `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES}
  WHERE m.conv_id = $1 AND m.seq > $2 AND m.seq <= $3 ORDER BY m.seq LIMIT $4`

/** H6: a user's pull leaves out what they deleted for themselves (a primary-key lookup per row). */
const PG_LIST_MESSAGES_FOR_SQL = `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES}
  WHERE m.conv_id = $1 AND m.seq > $2 AND m.seq <= $3
    AND NOT EXISTS (SELECT 1 FROM deleted_for_me d WHERE d.user_id = $5 AND d.conv_id = m.conv_id AND d.seq = m.seq)
  ORDER BY m.seq LIMIT $4`

/**
 * Two index range counts, on (conv_id, seq) and (conv_id, sender_id, seq): neither reads the table;
 * less the others' messages the user deleted for themselves (H6, their own rows' primary key).
 */
const COUNT_UNREAD_SQL = `SELECT
  (SELECT count(*) FROM messages WHERE conv_id = $1 AND seq > $3 AND seq <= $4)
  - (SELECT count(*) FROM messages WHERE conv_id = $1 AND sender_id = $2 AND seq > $3 AND seq <= $4)
  - (SELECT count(*) FROM deleted_for_me
     WHERE user_id = $2 AND conv_id = $1 AND seq > $3 AND seq <= $4 AND NOT own) AS n`

function toMessage(r: MessageRecord): StoredMessage {
  const { replyTo, editedAt, editCount, recalledAt, needAck, ackCount, mentionedInfo, ...rest } = r
  // Written by insertMessage from validated content; the database is ours.
  return {
    ...rest,
    content: JSON.parse(r.content) as MessageContent,
    ...messageActionFields({ replyTo, editedAt, editCount, recalledAt }),
    ...ackFields({ needAck, ackCount, mentionedInfo }),
  }
}

export async function findMessageByClientId(
  sql: Sql,
  senderId: string,
  clientMsgId: string,
): Promise<StoredMessage | undefined> {
  const row = await sql.first<MessageRecord>(
    `SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES} WHERE m.sender_id = $1 AND m.client_msg_id = $2`,
    [senderId, clientMsgId],
  )
  return row && toMessage(row)
}

export async function getMessageByUId(sql: Sql, uid: string): Promise<StoredMessage | undefined> {
  const row = await sql.first<MessageRecord>(`SELECT ${MESSAGE_COLUMNS} ${FROM_MESSAGES} WHERE m.uid = $1`, [
    uid,
  ])
  return row && toMessage(row)
}

/** Locks the conversation row until the transaction ends and reads the last seq handed out. */
const LOCK_CONVERSATION_SQL = 'SELECT last_seq AS "lastSeq" FROM conversations WHERE id = $1 FOR UPDATE'

/**
 * Writes the message with the given seq and moves last_seq to it, in one statement; on any
 * uniqueness conflict (sender + client id, uid) it writes nothing, last_seq included.
 */
const INSERT_MESSAGE_SQL = `WITH inserted AS (
    INSERT INTO messages (uid, conv_id, seq, sender_id, client_msg_id, to_id, channel_id, content, sent_at,
      need_delivery_ack, need_read_ack, need_group_ack, member_count)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
    ON CONFLICT DO NOTHING
    RETURNING id, seq
  )
  UPDATE conversations SET last_seq = inserted.seq FROM inserted WHERE conversations.id = $2
  RETURNING inserted.id`

/** A freshly drawn uid that is taken (41 random bits per millisecond) is drawn again, this many times at most. */
const UID_DRAWS = 8

/**
 * The message with the conversation's next seq, in one transaction (its own, or the caller's):
 * 1. `SELECT … FOR UPDATE` locks the conversation row. A writer in another transaction, on this node
 *    or another, waits here until this one commits or rolls back, and then reads the last_seq this
 *    one left. So seqs are handed out one at a time, each after the previous one committed: no two
 *    sends get the same seq, none is skipped, and they commit in seq order (a pull by seq never
 *    passes over a message that commits later).
 * 2. The insert + last_seq move, which writes nothing on a conflict. A duplicate (sender,
 *    clientMsgId) therefore uses no seq; if the other copy is still uncommitted (a send of it on
 *    another conversation, or another node), the insert waits for it and then sees it.
 * 3. On a conflict: the stored copy (`duplicate: true`), or else the uid was taken: another uid.
 */
export async function insertMessage(
  sql: Sql,
  message: NewMessage,
): Promise<{ message: StoredMessage; duplicate: boolean }> {
  return sql.atomic(async (tx) => {
    const content = JSON.stringify(message.content)
    let uid = message.uid
    for (let draw = 0; draw < UID_DRAWS; draw++) {
      const conv = await tx.first<{ lastSeq: number }>(LOCK_CONVERSATION_SQL, [message.convId])
      if (!conv) throw new Error(`insertMessage: no conversation ${message.convId}`)
      const seq = conv.lastSeq + 1
      const row = await tx.first<{ id: number }>(INSERT_MESSAGE_SQL, [
        uid,
        message.convId,
        seq,
        message.senderId,
        message.clientMsgId,
        message.to,
        message.channelId,
        content,
        message.sentAt,
        message.needDeliveryAck,
        message.needReadAck,
        message.isNeedGroupAck,
        message.memberCount,
      ])
      if (row) {
        return { message: { ...newStoredMessage(message, uid), id: row.id, seq }, duplicate: false }
      }
      const existing = await findMessageByClientId(tx, message.senderId, message.clientMsgId)
      if (existing) return { message: existing, duplicate: true }
      uid = newMessageUId(message.sentAt)
    }
    throw new Error(`insertMessage: no free uid in ${UID_DRAWS} draws (conversation ${message.convId})`)
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

export async function listMessages(
  sql: Sql,
  convId: number,
  afterSeq: number,
  maxSeq: number,
  limit: number,
  forUserId?: string,
): Promise<StoredMessage[]> {
  const rows =
    forUserId === undefined
      ? await sql.rows<MessageRecord>(PG_LIST_MESSAGES_SQL, [convId, afterSeq, maxSeq, limit])
      : await sql.rows<MessageRecord>(PG_LIST_MESSAGES_FOR_SQL, [convId, afterSeq, maxSeq, limit, forUserId])
  return rows.map(toMessage)
}

export async function countUnread(
  sql: Sql,
  convId: number,
  userId: string,
  afterSeq: number,
  maxSeq: number,
): Promise<number> {
  if (maxSeq <= afterSeq) return 0
  const row = await sql.first<{ n: number }>(COUNT_UNREAD_SQL, [convId, userId, afterSeq, maxSeq])
  return row?.n ?? 0
}

/**
 * One UPDATE each. Two at once on one message: the second waits for the row lock, then PostgreSQL
 * re-checks `… IS NULL` on the row as the first left it, and writes (and returns) nothing.
 */
const MARK_RECEIVED_SQL = {
  delivered: `UPDATE messages SET delivered_at = $3
     WHERE uid = $1 AND to_id = $2 AND delivered_at IS NULL
       AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = messages.conv_id AND c.type = 'private')
     RETURNING sender_id AS "senderId"`,
  // Only while both members share read receipts (src/server/ops/receiptPrivacy.ts): otherwise the
  // read is private and the caller records a delivery instead.
  read: `UPDATE messages SET read_at = $3, delivered_at = coalesce(delivered_at, $3)
     WHERE uid = $1 AND to_id = $2 AND read_at IS NULL
       AND EXISTS (SELECT 1 FROM conversations c WHERE c.id = messages.conv_id AND c.type = 'private')
       AND NOT EXISTS (SELECT 1 FROM members m WHERE m.conv_id = messages.conv_id AND m.hides_receipts)
     RETURNING sender_id AS "senderId"`,
}

export async function markReceived(
  sql: Sql,
  kind: 'delivered' | 'read',
  uid: string,
  receiverId: string,
  at: number,
): Promise<string | undefined> {
  const row = await sql.first<{ senderId: string }>(MARK_RECEIVED_SQL[kind], [uid, receiverId, at])
  return row?.senderId
}
