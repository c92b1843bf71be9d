/**
 * The messages table as rows, and a row as the renderer sees it (`Message`). Every domain file of
 * the store reads messages with MESSAGE_COLUMNS so that one shape, and one mapping, serve them all.
 */
import { prepare, type Db } from '../../../node/sqlite'
import {
  MessageDirection,
  type Conversation,
  type Message,
  type MessageContent,
  type MessageStatus,
} from '../../../shared/model'
import type { WireMessage } from '../../../shared/protocol'
import { ackView } from './ackView'
import { messageActionView } from './messageActions'
import type { MessageRecord } from './types'

/** A row of `messages` as SQLite returns it (snake_case, integers for flags). */
export interface MessageRow {
  local_id: number
  client_msg_id: string
  message_uid: string | null
  conv_type: 'private' | 'group'
  target_id: string
  channel_id: string
  seq: number | null
  sender_id: string
  direction: MessageDirection
  content: string
  sent_at: number
  status: MessageStatus
  is_unread: number
  need_delivery_ack: number
  need_read_ack: number
  is_need_group_ack: number
  member_count: number
  delivered_at: number | null
  read_at: number | null
  group_ack_count: number
  is_receipt_request: number
  has_respond: number
  fail_code: number | null
  fail_reason: string | null
  revision: number
  stored_at: number | null
  my_read_at: number | null
  // reply, edit, recall (H1: messageActions.ts)
  reply_to: string | null
  edited_at: number | null
  edit_count: number
  recalled_at: number | null
  // acknowledgements and mentions (issue 15: acks.ts)
  need_ack: number
  ack_count: number
  my_ack_at: number | null
  mentioned_info: string | null
  mentions_me: number
}

export const MESSAGE_COLUMNS = `local_id, client_msg_id, message_uid, conv_type, target_id, channel_id, seq,
  sender_id, direction, content, sent_at, status, is_unread, need_delivery_ack, need_read_ack,
  is_need_group_ack, member_count, delivered_at, read_at, group_ack_count, is_receipt_request,
  has_respond, fail_code, fail_reason, revision, stored_at, my_read_at,
  reply_to, edited_at, edit_count, recalled_at,
  need_ack, ack_count, my_ack_at, mentioned_info, mentions_me`

/** Reader lists carried on messages stop here; the reader panel pages through the rest. */
const READER_LIST_MAX = 100

export const READERS_OF_SQL =
  'SELECT reader_id, read_at FROM message_readers WHERE message_uid = ? ORDER BY read_at LIMIT ?'

export function conversationOfRow(row: Pick<MessageRow, 'conv_type' | 'target_id'>): Conversation {
  return { type: row.conv_type, targetId: row.target_id }
}

/** The conversation a server message belongs to, seen from `me`. */
export function conversationOf(me: string, m: WireMessage): Conversation {
  if (m.convType === 'group') return { type: 'group', targetId: m.to }
  return { type: 'private', targetId: m.senderId === me ? m.to : m.senderId }
}

export function toRecord(row: MessageRow): MessageRecord {
  return {
    localId: row.local_id,
    clientMsgId: row.client_msg_id,
    messageUId: row.message_uid,
    conversation: conversationOfRow(row),
    channelId: row.channel_id,
    seq: row.seq,
    senderId: row.sender_id,
    direction: row.direction,
    status: row.status,
    isUnread: row.is_unread === 1,
    needReadAck: row.need_read_ack === 1,
    isNeedGroupAck: row.is_need_group_ack === 1,
    isReceiptRequest: row.is_receipt_request === 1,
    hasRespond: row.has_respond === 1,
    revision: row.revision,
  }
}

/**
 * A message as the renderer sees it. The read count of a group message of mine that asked for
 * receipts is one column (group_ack_count, max-merged by the store), shown under both SDK names:
 * Easemob's groupAckCount and RongCloud's readReceiptInfo.readCount.
 */
export function toMessage(db: Db, row: MessageRow): Message {
  const sendSide = row.direction === MessageDirection.SEND
  const asked = row.is_need_group_ack === 1 || row.is_receipt_request === 1
  const groupSender = sendSide && row.conv_type === 'group'
  let readers: Record<string, number> | undefined
  if (groupSender && asked && row.message_uid) {
    readers = Object.create(null) as Record<string, number>
    const rows = prepare<[string, number], { reader_id: string; read_at: number }>(db, READERS_OF_SQL).all(
      row.message_uid,
      READER_LIST_MAX,
    )
    for (const r of rows) readers[r.reader_id] = r.read_at
  }
  return {
    messageId: String(row.local_id),
    revision: row.revision,
    messageUId: row.message_uid,
    conversation: conversationOfRow(row),
    channelId: row.channel_id,
    senderUserId: row.sender_id,
    messageDirection: row.direction,
    // Written by the store from validated content; the database is ours.
    content: JSON.parse(row.content) as MessageContent,
    sentTime: row.sent_at,
    seq: row.seq,
    status: row.status,
    needDeliveryAck: row.need_delivery_ack === 1,
    needReadAck: row.need_read_ack === 1,
    isDelivered: row.delivered_at !== null,
    deliveredTime: row.delivered_at,
    isReceiverRead: row.read_at !== null,
    readTime: row.read_at,
    isUnread: row.is_unread === 1,
    storedTime: row.stored_at,
    readByMeTime: row.is_unread === 1 ? null : row.my_read_at,
    isNeedGroupAck: row.is_need_group_ack === 1,
    groupAckCount: row.group_ack_count,
    groupMemberCount: row.member_count,
    ...(row.fail_code !== null ? { failure: { code: row.fail_code, msg: row.fail_reason ?? '' } } : {}),
    readReceiptInfo: {
      isReceiptRequestMessage: row.is_receipt_request === 1,
      hasRespond: row.has_respond === 1,
      ...(groupSender ? { readCount: row.group_ack_count, totalCount: row.member_count } : {}),
      ...(readers ? { readerList: readers } : {}),
    },
    ...messageActionView(db, row),
    ...ackView(db, row),
  }
}

export function rowByLocalId(db: Db, localId: number): MessageRow | undefined {
  return prepare<[number], MessageRow>(db, `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE local_id = ?`).get(
    localId,
  )
}

export function rowByUid(db: Db, uid: string): MessageRow | undefined {
  return prepare<[string], MessageRow>(
    db,
    `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE message_uid = ?`,
  ).get(uid)
}

export function viewByLocalId(db: Db, localId: number): Message | undefined {
  const row = rowByLocalId(db, localId)
  return row && toMessage(db, row)
}

/** Views of changed rows, each read once (a row changed twice in one call is reported once). */
export function viewsOf(db: Db, localIds: Iterable<number>): Message[] {
  const out: Message[] = []
  for (const id of new Set(localIds)) {
    const m = viewByLocalId(db, id)
    if (m) out.push(m)
  }
  return out
}
