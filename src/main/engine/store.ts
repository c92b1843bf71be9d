/**
 * The engine's local store: every read and write of the profile's SQLite file, as prepared
 * statements in one place. Hot queries (history page, conversation list, unresponded receipt
 * requests) are index lookups; tests/unit/engineStore.test.ts asserts their query plans.
 */
import Database from 'better-sqlite3'
import {
  GroupReceiptSettings,
  type Conversation,
  type GroupInfo,
  type GroupReadAck,
  type Message,
  type MessageContent,
  type UserProfile,
} from '../../shared/model'
import type { ConversationState, WireMessage } from '../../shared/protocol'
import { applyReceipt, advanceWatermark, type ReceiptKind } from '../../shared/receiptState'
import type { ConversationSummary } from '../../shared/model'
import { runMigrations } from '../../node/migrate'
import { engineMigrations } from './migrations'

export interface MessageRow {
  local_id: number
  client_msg_id: string
  message_uid: string | null
  conv_type: 'private' | 'group'
  target_id: string
  channel_id: string
  seq: number | null
  sender_id: string
  direction: 1 | 2
  content: string
  sent_at: number
  status: 'sending' | 'sent' | 'failed'
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
  receipt_request_at: number | null
  fail_code: number | null
  fail_reason: string | null
}

interface ConversationRow {
  conv_type: 'private' | 'group'
  target_id: string
  title: string
  last_seq: number
  synced_seq: number
  joined_seq: number
  left_seq: number | null
  read_seq: number
  peer_read_seq: number
  peer_delivered_seq: number
  unread_count: number
  last_local_id: number | null
  updated_at: number
}

export interface OutboxRow {
  id: number
  kind: OutboxKind
  ref: string
  payload: string
  created_at: number
  attempts: number
}

export type OutboxKind =
  | 'send'
  | 'ackDelivered'
  | 'ackMessageRead'
  | 'ackConversationRead'
  | 'ackGroupMessageRead'
  | 'receiptResponse'

export interface StoredBatch {
  /** Messages that were new to this store (received ones and my own from other devices). */
  inserted: Message[]
  /** Messages of mine whose receipt state changed because a pending receipt was applied. */
  receiptsApplied: Message[]
  conversations: Set<string>
}

export function rowToMessage(row: MessageRow, readers?: Record<string, number>): Message {
  const conversation = { type: row.conv_type, targetId: row.target_id } as Conversation
  const sendSide = row.direction === 1
  return {
    messageId: String(row.local_id),
    messageUId: row.message_uid,
    conversation,
    channelId: row.channel_id,
    senderUserId: row.sender_id,
    messageDirection: row.direction,
    content: JSON.parse(row.content) as MessageContent,
    sentTime: row.sent_at,
    seq: row.seq,
    status: row.status,
    isDelivered: row.delivered_at !== null,
    deliveredTime: row.delivered_at,
    isReceiverRead: row.read_at !== null,
    readTime: row.read_at,
    isUnread: row.is_unread === 1,
    isNeedGroupAck: row.is_need_group_ack === 1,
    groupAckCount: row.group_ack_count,
    groupMemberCount: row.member_count,
    ...(row.fail_code !== null ? { failure: { code: row.fail_code, msg: row.fail_reason ?? '' } } : {}),
    readReceiptInfo: {
      isReceiptRequestMessage: row.is_receipt_request === 1,
      hasRespond: row.has_respond === 1,
      ...(sendSide && row.conv_type === 'group'
        ? { readCount: row.group_ack_count, totalCount: row.member_count }
        : {}),
      ...(readers ? { readerList: readers } : {}),
    },
  }
}

export function conversationOf(me: string, m: WireMessage): Conversation {
  if (m.convType === 'group') return { type: 'group', targetId: m.to } as Conversation
  return { type: 'private', targetId: m.senderId === me ? m.to : m.senderId } as Conversation
}

const key = (type: string, targetId: string): string => `${type}:${targetId}`

/**
 * A conversation with its display name (the peer's or the group's, when known) and its last message,
 * in one row; the message columns are NULL when it has none.
 */
const SUMMARY_SELECT = `SELECT c.conv_type, c.target_id, c.title AS c_title, c.last_seq AS c_last_seq,
    c.unread_count AS c_unread_count, c.updated_at AS c_updated_at,
    CASE c.conv_type WHEN 'private' THEN u.display_name ELSE g.name END AS known_name,
    m.local_id, m.client_msg_id, m.message_uid, m.channel_id, m.seq, m.sender_id, m.direction, m.content,
    m.sent_at, m.status, m.is_unread, m.need_delivery_ack, m.need_read_ack, m.is_need_group_ack, m.member_count,
    m.delivered_at, m.read_at, m.group_ack_count, m.is_receipt_request, m.has_respond, m.receipt_request_at
  FROM conversations c
  LEFT JOIN messages m ON m.local_id = c.last_local_id
  LEFT JOIN users u ON c.conv_type = 'private' AND u.user_id = c.target_id
  LEFT JOIN groups g ON c.conv_type = 'group' AND g.group_id = c.target_id`

type SummaryRow = {
  [K in keyof MessageRow]: K extends 'conv_type' | 'target_id' ? MessageRow[K] : MessageRow[K] | null
} & {
  c_title: string
  c_last_seq: number
  c_unread_count: number
  c_updated_at: number
  known_name: string | null
}

/** The columns of an inserted message, in the insertMessage statement's order. */
type InsertMessageArgs = [
  clientMsgId: string,
  messageUId: string | null,
  convType: string,
  targetId: string,
  channelId: string,
  seq: number | null,
  senderId: string,
  direction: 1 | 2,
  content: string,
  sentAt: number,
  status: 'sending' | 'sent',
  isUnread: 0 | 1,
  needDeliveryAck: 0 | 1,
  needReadAck: 0 | 1,
  isNeedGroupAck: 0 | 1,
  memberCount: number,
]

/** What one storeServerMessages batch does to a conversation. */
interface TouchedConversation {
  c: Conversation
  readSeq: number
  /** synced_seq before the batch; the lowest seq the batch inserted and how many (newestSeq: the highest). */
  syncedSeq: number
  lowestInserted: number
  insertedCount: number
  unread: number
  newestSeq: number
  newestLocalId: number
  at: number
}

/** Reader lists carried on history messages stop here; the reader panel pages through the rest. */
const READER_LIST_MAX = 100

export class LocalStore {
  readonly db: Database.Database
  private readonly s

  /** `nativeBinding`: the better-sqlite3 addon built for Electron's ABI (the default one is Node's). */
  constructor(file: string, options: { nativeBinding?: string } = {}) {
    this.db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma('foreign_keys = ON')
    runMigrations(this.db, engineMigrations, 'app')
    const db = this.db
    this.s = {
      kvGet: db.prepare<[string], { value: string }>('SELECT value FROM kv WHERE key = ?'),
      kvSet: db.prepare<[string, string]>(
        'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
      convGet: db.prepare<[string, string], ConversationRow>(
        'SELECT * FROM conversations WHERE conv_type = ? AND target_id = ?',
      ),
      convInsert: db.prepare<[string, string, string, number]>(
        `INSERT INTO conversations (conv_type, target_id, title, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (conv_type, target_id) DO NOTHING`,
      ),
      convAll: db.prepare<[], ConversationRow>('SELECT * FROM conversations ORDER BY updated_at DESC'),
      summaryAll: db.prepare<[], SummaryRow>(`${SUMMARY_SELECT} ORDER BY c.updated_at DESC`),
      summaryOne: db.prepare<[string, string], SummaryRow>(
        `${SUMMARY_SELECT} WHERE c.conv_type = ? AND c.target_id = ?`,
      ),
      convUpdateFromServer: db.prepare(
        `UPDATE conversations SET
           title = CASE WHEN :title = '' THEN title ELSE :title END,
           last_seq = max(last_seq, :lastSeq),
           joined_seq = :joinedSeq,
           left_seq = :leftSeq,
           synced_seq = max(synced_seq, :joinedSeq),
           read_seq = max(read_seq, :readSeq),
           peer_read_seq = max(peer_read_seq, :peerReadSeq),
           peer_delivered_seq = max(peer_delivered_seq, :peerDeliveredSeq, :peerReadSeq)
         WHERE conv_type = :type AND target_id = :targetId`,
      ),
      convAfterInsert: db.prepare(
        `UPDATE conversations SET
           last_seq = max(last_seq, coalesce(:seq, 0)),
           unread_count = unread_count + :unread,
           last_local_id = CASE
             WHEN last_local_id IS NULL THEN :localId
             WHEN :seq IS NULL THEN :localId
             WHEN (SELECT seq FROM messages WHERE local_id = last_local_id) IS NULL THEN last_local_id
             WHEN (SELECT seq FROM messages WHERE local_id = last_local_id) < :seq THEN :localId
             ELSE last_local_id END,
           updated_at = max(updated_at, :at)
         WHERE conv_type = :type AND target_id = :targetId`,
      ),
      convSetSynced: db.prepare<[number, string, string]>(
        'UPDATE conversations SET synced_seq = ? WHERE conv_type = ? AND target_id = ?',
      ),
      convSetRead: db.prepare<[number, number, string, string]>(
        'UPDATE conversations SET read_seq = ?, unread_count = ? WHERE conv_type = ? AND target_id = ?',
      ),
      convSetUnread: db.prepare<[number, string, string]>(
        'UPDATE conversations SET unread_count = ? WHERE conv_type = ? AND target_id = ?',
      ),
      convSetPeerRead: db.prepare<{ seq: number; type: string; targetId: string }>(
        `UPDATE conversations SET peer_read_seq = max(peer_read_seq, :seq),
           peer_delivered_seq = max(peer_delivered_seq, :seq)
         WHERE conv_type = :type AND target_id = :targetId`,
      ),
      seqsAfter: db.prepare<[string, string, number, number], { seq: number }>(
        `SELECT seq FROM messages WHERE conv_type = ? AND target_id = ? AND seq > ? ORDER BY seq LIMIT ?`,
      ),
      countUnread: db.prepare<[string, string, number], { n: number }>(
        `SELECT count(*) AS n FROM messages
         WHERE conv_type = ? AND target_id = ? AND seq > ? AND direction = 2 AND is_unread = 1`,
      ),
      countUnreadBetween: db.prepare<[string, string, number, number], { n: number }>(
        `SELECT count(*) AS n FROM messages WHERE conv_type = ? AND target_id = ? AND seq > ? AND seq <= ?
           AND direction = 2 AND is_unread = 1`,
      ),
      markReadUpTo: db.prepare<[string, string, number]>(
        `UPDATE messages SET is_unread = 0
         WHERE conv_type = ? AND target_id = ? AND seq <= ? AND direction = 2 AND is_unread = 1`,
      ),
      // Positional parameters: binding by name looks every key up on the object, which showed in the
      // ingest profile (bench s2) for the one statement run once per message.
      insertMessage: db.prepare<InsertMessageArgs>(
        `INSERT INTO messages (client_msg_id, message_uid, conv_type, target_id, channel_id, seq, sender_id,
           direction, content, sent_at, status, is_unread, need_delivery_ack, need_read_ack, is_need_group_ack,
           member_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      byLocalId: db.prepare<[number], MessageRow>('SELECT * FROM messages WHERE local_id = ?'),
      byUid: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE message_uid = ?'),
      ownUnsentByClientId: db.prepare<[string, string], MessageRow>(
        'SELECT * FROM messages WHERE client_msg_id = ? AND sender_id = ? AND direction = 1',
      ),
      markSent: db.prepare(
        `UPDATE messages SET message_uid = :messageUId, seq = :seq, sent_at = :sentAt, status = 'sent',
           need_delivery_ack = :needDeliveryAck, need_read_ack = :needReadAck, member_count = :memberCount
         WHERE local_id = :localId`,
      ),
      markFailed: db.prepare<[number, string, number]>(
        `UPDATE messages SET status = 'failed', fail_code = ?, fail_reason = ? WHERE local_id = ?`,
      ),
      setReceipt: db.prepare<[number | null, number | null, number]>(
        'UPDATE messages SET delivered_at = ?, read_at = ? WHERE local_id = ?',
      ),
      markOneRead: db.prepare<[number]>(
        'UPDATE messages SET is_unread = 0 WHERE local_id = ? AND is_unread = 1',
      ),
      sentUnreadUpTo: db.prepare<[string, string, number], MessageRow>(
        `SELECT * FROM messages WHERE conv_type = ? AND target_id = ? AND seq <= ? AND direction = 1
           AND need_read_ack = 1 AND read_at IS NULL`,
      ),
      historyNewest: db.prepare<[string, string, number], MessageRow>(
        `SELECT * FROM messages WHERE conv_type = ? AND target_id = ? AND seq IS NOT NULL
         ORDER BY seq DESC LIMIT ?`,
      ),
      historyBefore: db.prepare<[string, string, number, number], MessageRow>(
        `SELECT * FROM messages WHERE conv_type = ? AND target_id = ? AND seq < ? AND seq IS NOT NULL
         ORDER BY seq DESC LIMIT ?`,
      ),
      unsent: db.prepare<[string, string], MessageRow>(
        `SELECT * FROM messages WHERE conv_type = ? AND target_id = ? AND seq IS NULL ORDER BY local_id DESC`,
      ),
      pendingForUid: db.prepare<
        [string],
        { kind: ReceiptKind | 'request' | 'readers'; by_user: string; at: number }
      >('SELECT kind, by_user, at FROM pending_receipts WHERE message_uid = ?'),
      pendingAny: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM pending_receipts'),
      pendingDelete: db.prepare<[string]>('DELETE FROM pending_receipts WHERE message_uid = ?'),
      pendingInsert: db.prepare<[string, string, string, number]>(
        `INSERT INTO pending_receipts (message_uid, kind, by_user, at) VALUES (?, ?, ?, ?)
         ON CONFLICT DO UPDATE SET at = min(at, excluded.at)`,
      ),
      outboxInsert: db.prepare<[string, string, string, number]>(
        'INSERT INTO outbox (kind, ref, payload, created_at) VALUES (?, ?, ?, ?)',
      ),
      outboxByKind: db.prepare<[string, number], OutboxRow>(
        'SELECT * FROM outbox WHERE kind = ? ORDER BY id LIMIT ?',
      ),
      outboxCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM outbox'),
      outboxDelete: db.prepare<[number]>('DELETE FROM outbox WHERE id = ?'),
      outboxAttempt: db.prepare<[number]>('UPDATE outbox SET attempts = attempts + 1 WHERE id = ?'),
      groupUpsert: db.prepare(
        `INSERT INTO groups (group_id, name, owner_id, member_count, created_at, my_role, receipt_settings)
         VALUES (:groupId, :name, :ownerId, :memberCount, :createdAt, :myRole, :receiptSettings)
         ON CONFLICT (group_id) DO UPDATE SET name = excluded.name, owner_id = excluded.owner_id,
           member_count = excluded.member_count, my_role = excluded.my_role,
           receipt_settings = excluded.receipt_settings`,
      ),
      groupGet: db.prepare<[string], GroupRowDb>('SELECT * FROM groups WHERE group_id = ?'),
      userUpsert: db.prepare<[string, string]>(
        `INSERT INTO users (user_id, display_name) VALUES (?, ?)
         ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name`,
      ),
      userGet: db.prepare<[string], { display_name: string }>(
        'SELECT display_name FROM users WHERE user_id = ?',
      ),
      readerInsert: db.prepare<[string, string, number]>(
        `INSERT INTO message_readers (message_uid, reader_id, read_at) VALUES (?, ?, ?)
         ON CONFLICT DO UPDATE SET read_at = min(read_at, excluded.read_at)`,
      ),
      readerCount: db.prepare<[string], { n: number }>(
        'SELECT count(*) AS n FROM message_readers WHERE message_uid = ?',
      ),
      readersOf: db.prepare<[string, number], { reader_id: string; read_at: number }>(
        'SELECT reader_id, read_at FROM message_readers WHERE message_uid = ? ORDER BY read_at LIMIT ?',
      ),
      setAckCount: db.prepare<[number, number]>(
        'UPDATE messages SET group_ack_count = max(group_ack_count, ?) WHERE local_id = ?',
      ),
      setRequested: db.prepare<[number, number]>(
        `UPDATE messages SET is_receipt_request = 1, receipt_request_at = coalesce(receipt_request_at, ?)
         WHERE local_id = ?`,
      ),
      unresponded: db.prepare<[string, string, string], { sender_id: string; message_uid: string }>(
        `SELECT sender_id, message_uid FROM messages
         WHERE conv_type = ? AND target_id = ? AND channel_id = ?
           AND direction = 2 AND is_receipt_request = 1 AND has_respond = 0`,
      ),
      setResponded: db.prepare<[string]>(
        'UPDATE messages SET has_respond = 1 WHERE message_uid = ? AND direction = 2 AND has_respond = 0',
      ),
      convSetTitle: db.prepare<[string, string, string]>(
        `UPDATE conversations SET title = ? WHERE conv_type = ? AND target_id = ?`,
      ),
    }
  }

  close(): void {
    this.db.close()
  }

  // ---- key/value --------------------------------------------------------------------------

  getKv(k: string): string | undefined {
    return this.s.kvGet.get(k)?.value
  }

  setKv(k: string, v: string): void {
    this.s.kvSet.run(k, v)
  }

  get lastEventSeq(): number {
    return Number(this.getKv('lastEventSeq') ?? 0)
  }

  set lastEventSeq(v: number) {
    if (v > this.lastEventSeq) this.setKv('lastEventSeq', String(v))
  }

  // ---- conversations ----------------------------------------------------------------------

  ensureConversation(c: Conversation, title: string, now: number): void {
    this.s.convInsert.run(c.type, c.targetId, title, now)
  }

  conversationRow(c: Conversation): ConversationRow | undefined {
    return this.s.convGet.get(c.type, c.targetId)
  }

  /** Max-merges the server's view of a conversation into the local one (watermarks never go back). */
  applyConversationState(st: ConversationState, now: number): void {
    this.db.transaction(() => {
      this.ensureConversation(st.conversation, st.title, now)
      this.s.convUpdateFromServer.run({
        type: st.conversation.type,
        targetId: st.conversation.targetId,
        title: st.title,
        lastSeq: st.lastSeq,
        joinedSeq: st.joinedSeq,
        leftSeq: st.leftSeq,
        readSeq: st.readSeq,
        peerReadSeq: st.peerReadSeq,
        peerDeliveredSeq: st.peerDeliveredSeq,
      })
      this.applyReadWatermark(st.conversation, st.readSeq)
    })()
  }

  /** How many messages each conversation still has to pull from the server. */
  conversationsBehind(): { conversation: Conversation; afterSeq: number; upTo: number }[] {
    return this.s.convAll
      .all()
      .map((r) => ({
        conversation: { type: r.conv_type, targetId: r.target_id } as Conversation,
        afterSeq: r.synced_seq,
        upTo: r.left_seq === null ? r.last_seq : Math.min(r.last_seq, r.left_seq),
      }))
      .filter((c) => c.upTo > c.afterSeq)
  }

  summary(c: Conversation): ConversationSummary | undefined {
    const r = this.s.summaryOne.get(c.type, c.targetId)
    return r && this.rowToSummary(r)
  }

  /** One statement for the whole list (names and last messages joined), not four per conversation. */
  listConversations(): ConversationSummary[] {
    return this.s.summaryAll.all().map((r) => this.rowToSummary(r))
  }

  private rowToSummary(r: SummaryRow): ConversationSummary {
    return {
      conversation: { type: r.conv_type, targetId: r.target_id } as Conversation,
      title: r.known_name ?? (r.c_title || r.target_id),
      // The extra c_* columns are ignored by toMessage.
      lastMessage: r.local_id === null ? null : this.toMessage(r as MessageRow),
      unreadCount: r.c_unread_count,
      lastSeq: r.c_last_seq,
      updatedAt: r.c_updated_at,
    }
  }

  /**
   * Moves my read watermark forward (never back), clears the unread flag of received messages up
   * to it and recounts the conversation's unread messages. Returns whether anything changed.
   */
  applyReadWatermark(c: Conversation, seq: number): boolean {
    const row = this.s.convGet.get(c.type, c.targetId)
    if (!row) return false
    const readSeq = advanceWatermark(row.read_seq, seq)
    this.s.markReadUpTo.run(c.type, c.targetId, readSeq)
    const unread = this.s.countUnread.get(c.type, c.targetId, readSeq)?.n ?? 0
    if (readSeq === row.read_seq && unread === row.unread_count) return false
    this.s.convSetRead.run(readSeq, unread, c.type, c.targetId)
    return true
  }

  /** Marks one received message read locally. Returns its conversation's new unread count, or null. */
  markMessageReadLocally(messageUId: string): { row: MessageRow; changed: boolean } | undefined {
    const row = this.s.byUid.get(messageUId)
    if (!row) return undefined
    const changed = this.s.markOneRead.run(row.local_id).changes > 0
    if (changed) {
      const conv = this.s.convGet.get(row.conv_type, row.target_id)
      if (conv) this.s.convSetUnread.run(Math.max(0, conv.unread_count - 1), row.conv_type, row.target_id)
    }
    return { row: { ...row, is_unread: 0 }, changed }
  }

  /** True when no received message at or below `seq` is still unread. */
  allReadUpTo(c: Conversation, seq: number): boolean {
    const row = this.s.convGet.get(c.type, c.targetId)
    if (!row) return false
    const stillUnread = this.s.countUnreadBetween.get(c.type, c.targetId, row.read_seq, seq)
    return (stillUnread?.n ?? 0) === 0
  }

  // ---- messages ---------------------------------------------------------------------------

  messageByLocalId(localId: number): MessageRow | undefined {
    return this.s.byLocalId.get(localId)
  }

  messageByUid(uid: string): MessageRow | undefined {
    return this.s.byUid.get(uid)
  }

  /** Writes a message of mine and its outbox entry in one transaction. */
  insertOutgoing(input: {
    me: string
    clientMsgId: string
    conversation: Conversation
    channelId: string
    content: MessageContent
    isNeedGroupAck: boolean
    now: number
    title: string
  }): MessageRow {
    return this.db.transaction(() => {
      const { conversation: c } = input
      this.ensureConversation(c, input.title, input.now)
      const info = this.s.insertMessage.run(
        input.clientMsgId,
        null,
        c.type,
        c.targetId,
        input.channelId,
        null,
        input.me,
        1,
        JSON.stringify(input.content),
        input.now,
        'sending',
        0,
        0,
        0,
        input.isNeedGroupAck ? 1 : 0,
        0,
      )
      const localId = Number(info.lastInsertRowid)
      this.s.convAfterInsert.run({
        seq: null,
        unread: 0,
        localId,
        at: input.now,
        type: c.type,
        targetId: c.targetId,
      })
      this.s.outboxInsert.run(
        'send',
        String(localId),
        JSON.stringify({
          clientMsgId: input.clientMsgId,
          conversation: c,
          channelId: input.channelId,
          content: input.content,
          isNeedGroupAck: input.isNeedGroupAck,
        }),
        input.now,
      )
      const row = this.s.byLocalId.get(localId)
      if (!row) throw new Error('inserted message vanished')
      return row
    })()
  }

  /**
   * Stores messages from the server (pushes, pulls, and the reply to my own send) in one
   * transaction: inserts new ones, confirms my own unsent ones, counts unread, queues delivery
   * acks the senders asked for, applies receipts that arrived early, advances the synced mark.
   * `collectInserted: false` (a sync pull, which tells the renderer nothing per message) leaves
   * `inserted` empty instead of building a Message for every row.
   */
  storeServerMessages(
    me: string,
    messages: readonly WireMessage[],
    now: number,
    options: { collectInserted?: boolean } = {},
  ): StoredBatch {
    const collect = options.collectInserted ?? true
    const batch: StoredBatch = { inserted: [], receiptsApplied: [], conversations: new Set() }
    if (messages.length === 0) return batch
    const checkPending = (this.s.pendingAny.get()?.n ?? 0) > 0
    this.db.transaction(() => {
      // Per conversation: its read mark (for unread flags) and what the batch adds, written once at
      // the end (last_seq, unread_count, last message, updated_at) instead of once per message.
      const touched = new Map<string, TouchedConversation>()
      for (const m of messages) {
        const c = conversationOf(me, m)
        const k = key(c.type, c.targetId)
        let t = touched.get(k)
        if (!t) {
          this.ensureConversation(c, '', now)
          const row = this.s.convGet.get(c.type, c.targetId)
          t = {
            c,
            readSeq: row?.read_seq ?? 0,
            syncedSeq: row?.synced_seq ?? 0,
            lowestInserted: Infinity,
            insertedCount: 0,
            unread: 0,
            newestSeq: 0,
            newestLocalId: 0,
            at: 0,
          }
          touched.set(k, t)
        }
        const mine = m.senderId === me
        const unread = !mine && m.seq > t.readSeq ? 1 : 0
        const content = JSON.stringify(m.content)
        const info = this.s.insertMessage.run(
          m.clientMsgId,
          m.messageUId,
          c.type,
          c.targetId,
          m.channelId,
          m.seq,
          m.senderId,
          mine ? 1 : 2,
          content,
          m.sentAt,
          'sent',
          unread,
          m.needDeliveryAck ? 1 : 0,
          m.needReadAck ? 1 : 0,
          m.isNeedGroupAck ? 1 : 0,
          m.memberCount,
        )
        if (info.changes === 0) {
          // Already stored. If it is my own message written on this device, this is the server's
          // copy of it: the first one confirms it (seq, messageUId). Looked up only on conflict, so
          // ingesting a backlog costs one statement per message.
          if (mine) this.confirmOwn(m, c, batch, checkPending)
          continue
        }
        const localId = Number(info.lastInsertRowid)
        t.insertedCount++
        if (m.seq < t.lowestInserted) t.lowestInserted = m.seq
        t.unread += unread
        t.at = Math.max(t.at, m.sentAt)
        if (m.seq > t.newestSeq) {
          t.newestSeq = m.seq
          t.newestLocalId = localId
        }
        if (!mine && m.convType === 'private' && m.needDeliveryAck) {
          this.s.outboxInsert.run('ackDelivered', m.messageUId, '{}', now)
        }
        if (checkPending) this.applyPendingReceipts(m.messageUId, batch)
        if (!collect) continue
        // Live messages come one or a few at a time: reading the row back keeps one source of truth
        // for its shape (sync pulls do not collect, so the backlog path never pays this).
        const row = this.s.byLocalId.get(localId)
        if (row) batch.inserted.push(rowToMessage(row))
      }
      for (const [k, t] of touched) {
        if (t.newestLocalId !== 0) {
          // The same update as one per message: max seq, summed unread, newest message, latest time.
          this.s.convAfterInsert.run({
            seq: t.newestSeq,
            unread: t.unread,
            localId: t.newestLocalId,
            at: t.at,
            type: t.c.type,
            targetId: t.c.targetId,
          })
        }
        // A pull inserts the seqs right after synced_seq, with no gap (seqs are unique, so count =
        // span means contiguous): synced_seq moves over them without reading them back.
        const contiguous =
          t.insertedCount > 0 &&
          t.lowestInserted === t.syncedSeq + 1 &&
          t.newestSeq - t.lowestInserted + 1 === t.insertedCount
        this.advanceSynced(t.c, contiguous ? t.newestSeq : 0)
        batch.conversations.add(k)
      }
    })()
    return batch
  }

  private confirmOwn(m: WireMessage, c: Conversation, batch: StoredBatch, checkPending: boolean): void {
    const own = this.s.ownUnsentByClientId.get(m.clientMsgId, m.senderId)
    if (!own || own.seq !== null) return
    this.s.markSent.run({
      localId: own.local_id,
      messageUId: m.messageUId,
      seq: m.seq,
      sentAt: m.sentAt,
      needDeliveryAck: m.needDeliveryAck ? 1 : 0,
      needReadAck: m.needReadAck ? 1 : 0,
      memberCount: m.memberCount,
    })
    this.s.convAfterInsert.run({
      seq: m.seq,
      unread: 0,
      localId: own.local_id,
      at: m.sentAt,
      type: c.type,
      targetId: c.targetId,
    })
    if (checkPending) this.applyPendingReceipts(m.messageUId, batch)
  }

  /**
   * Moves synced_seq over every contiguous stored sequence number; `knownUpTo`: the caller knows
   * every seq up to it is stored, so only what lies beyond it is read.
   */
  private advanceSynced(c: Conversation, knownUpTo = 0): void {
    const row = this.s.convGet.get(c.type, c.targetId)
    if (!row) return
    let synced = Math.max(row.synced_seq, knownUpTo)
    for (;;) {
      const next = this.s.seqsAfter.all(c.type, c.targetId, synced, 512)
      let advanced = 0
      for (const { seq } of next) {
        if (seq !== synced + 1) break
        synced = seq
        advanced++
      }
      if (advanced < 512) break
    }
    if (synced !== row.synced_seq) this.s.convSetSynced.run(synced, c.type, c.targetId)
  }

  markSent(localId: number, m: WireMessage): MessageRow | undefined {
    this.storeServerMessages(m.senderId, [m], Date.now())
    return this.s.byLocalId.get(localId)
  }

  markFailed(localId: number, code: number, reason: string): MessageRow | undefined {
    this.s.markFailed.run(code, reason, localId)
    return this.s.byLocalId.get(localId)
  }

  getHistory(
    c: Conversation,
    beforeSeq: number | undefined,
    count: number,
  ): { rows: MessageRow[]; hasMore: boolean } {
    const rows: MessageRow[] = []
    if (beforeSeq === undefined) rows.push(...this.s.unsent.all(c.type, c.targetId))
    const stored =
      beforeSeq === undefined
        ? this.s.historyNewest.all(c.type, c.targetId, count + 1)
        : this.s.historyBefore.all(c.type, c.targetId, beforeSeq, count + 1)
    const hasMore = stored.length > count
    rows.push(...stored.slice(0, count))
    return { rows, hasMore }
  }

  // ---- receipts on my sent messages -------------------------------------------------------

  /**
   * Applies delivered/read receipts to messages of mine, through applyReceipt (the one place
   * where receipt state changes). Receipts for messages not stored yet are kept for later.
   */
  applyReceipts(kind: ReceiptKind, messageUIds: readonly string[], by: string, at: number): MessageRow[] {
    const changed: MessageRow[] = []
    this.db.transaction(() => {
      for (const uid of messageUIds) {
        const row = this.s.byUid.get(uid)
        if (!row) {
          this.s.pendingInsert.run(uid, kind, by, at)
          continue
        }
        const next = this.applyReceiptToRow(row, kind, at)
        if (next) changed.push(next)
      }
    })()
    return changed
  }

  /**
   * The peer read everything up to `seq` in a single chat: every message of mine up to it that asked
   * for read receipts (requireReadAck was on when I sent it) is now read.
   */
  applyPeerConversationRead(c: Conversation, seq: number, at: number): MessageRow[] {
    const changed: MessageRow[] = []
    this.db.transaction(() => {
      this.s.convSetPeerRead.run({ seq, type: c.type, targetId: c.targetId })
      for (const row of this.s.sentUnreadUpTo.all(c.type, c.targetId, seq)) {
        const next = this.applyReceiptToRow(row, 'read', at)
        if (next) changed.push(next)
      }
    })()
    return changed
  }

  private applyReceiptToRow(row: MessageRow, kind: ReceiptKind, at: number): MessageRow | undefined {
    if (row.direction !== 1) return undefined
    const current = { deliveredAt: row.delivered_at, readAt: row.read_at }
    const next = applyReceipt(current, { kind, at })
    if (next === current) return undefined
    this.s.setReceipt.run(next.deliveredAt, next.readAt, row.local_id)
    return { ...row, delivered_at: next.deliveredAt, read_at: next.readAt }
  }

  private applyPendingReceipts(uid: string, batch: StoredBatch): void {
    const pending = this.s.pendingForUid.all(uid)
    if (pending.length === 0) return
    let row = this.s.byUid.get(uid)
    for (const p of pending) {
      if (!row) break
      if (p.kind === 'request') {
        this.s.setRequested.run(p.at, row.local_id)
        row = this.s.byLocalId.get(row.local_id)
      } else if (p.kind === 'readers') {
        if (row.direction !== 1) continue
        this.s.setAckCount.run(this.s.readerCount.get(uid)?.n ?? 0, row.local_id)
        row = this.s.byLocalId.get(row.local_id)
      } else row = this.applyReceiptToRow(row, p.kind, p.at) ?? row
    }
    this.s.pendingDelete.run(uid)
    if (row) batch.receiptsApplied.push(this.toMessage(row))
  }

  // ---- group receipts (both models share one reader fact per message and member) ----------

  /** A message as the renderer sees it, with the reader list on the sender's side of group receipts. */
  toMessage(row: MessageRow): Message {
    const asked = row.is_need_group_ack === 1 || row.is_receipt_request === 1
    if (row.direction !== 1 || row.conv_type !== 'group' || !asked || !row.message_uid)
      return rowToMessage(row)
    const readers: Record<string, number> = {}
    for (const r of this.s.readersOf.all(row.message_uid, READER_LIST_MAX)) readers[r.reader_id] = r.read_at
    return rowToMessage(row, readers)
  }

  private addReaders(
    uid: string,
    readers: readonly { userId: string; at: number }[],
    serverCount = 0,
  ): MessageRow | undefined {
    const row = this.s.byUid.get(uid)
    if (row && row.direction !== 1) return undefined
    for (const r of readers) this.s.readerInsert.run(uid, r.userId, r.at)
    if (!row) {
      // My message whose server id is not known here yet (the reply to its send is still on the way,
      // or it was sent from another device): the readers are kept and counted when it arrives.
      this.s.pendingInsert.run(uid, 'readers', '', 0)
      return undefined
    }
    const count = Math.max(serverCount, this.s.readerCount.get(uid)?.n ?? 0)
    if (count <= row.group_ack_count) return undefined
    this.s.setAckCount.run(count, row.local_id)
    return { ...row, group_ack_count: count }
  }

  /** Easemob groupMessageRead on the sender's side: reader rows plus the server's count. */
  applyGroupReadAcks(acks: readonly GroupReadAck[]): MessageRow[] {
    const changed = new Map<number, MessageRow>()
    this.db.transaction(() => {
      for (const a of acks) {
        const row = this.addReaders(a.messageUId, [{ userId: a.from, at: a.timestamp }], a.count)
        if (row) changed.set(row.local_id, row)
      }
    })()
    return [...changed.values()]
  }

  /** RongCloud MESSAGE_RECEIPT_RESPONSE on the sender's side. */
  applyReceiptResponse(uids: readonly string[], reader: string, at: number): MessageRow[] {
    const changed: MessageRow[] = []
    this.db.transaction(() => {
      for (const uid of uids) {
        const row = this.addReaders(uid, [{ userId: reader, at }])
        if (row) changed.push(row)
      }
    })()
    return changed
  }

  /** RongCloud: a request was made for this message (on the sender's and the members' side). */
  markReceiptRequested(uid: string, at: number): MessageRow | undefined {
    const row = this.s.byUid.get(uid)
    if (!row) {
      this.s.pendingInsert.run(uid, 'request', '', at)
      return undefined
    }
    if (row.is_receipt_request === 1) return undefined
    this.s.setRequested.run(at, row.local_id)
    return this.s.byLocalId.get(row.local_id)
  }

  /**
   * R6: the RongCloud messageList, built from RECEIVE messages of the conversation that carry an
   * unanswered receipt request, grouped by sender. Served by the partial index messages_unresponded.
   */
  buildUnrespondedMessageList(c: Conversation, channelId: string): Record<string, string[]> {
    const list: Record<string, string[]> = {}
    for (const r of this.s.unresponded.all(c.type, c.targetId, channelId))
      (list[r.sender_id] ??= []).push(r.message_uid)
    return list
  }

  markResponded(uids: readonly string[]): MessageRow[] {
    const changed: MessageRow[] = []
    this.db.transaction(() => {
      for (const uid of uids) {
        if (this.s.setResponded.run(uid).changes === 0) continue
        const row = this.s.byUid.get(uid)
        if (row) changed.push(row)
      }
    })()
    return changed
  }

  // ---- outbox -----------------------------------------------------------------------------

  enqueue(kind: OutboxKind, ref: string, payload: unknown, now: number): void {
    this.s.outboxInsert.run(kind, ref, JSON.stringify(payload), now)
  }

  outbox(kind: OutboxKind, limit: number): OutboxRow[] {
    return this.s.outboxByKind.all(kind, limit)
  }

  outboxSize(): number {
    return this.s.outboxCount.get()?.n ?? 0
  }

  removeFromOutbox(ids: readonly number[]): void {
    this.db.transaction(() => {
      for (const id of ids) this.s.outboxDelete.run(id)
    })()
  }

  countAttempt(id: number): void {
    this.s.outboxAttempt.run(id)
  }

  // ---- groups and users -------------------------------------------------------------------

  upsertGroup(g: GroupInfo, now: number): void {
    this.db.transaction(() => {
      this.s.groupUpsert.run({
        groupId: g.groupId,
        name: g.name,
        ownerId: g.ownerId,
        memberCount: g.memberCount,
        createdAt: g.createdAt,
        myRole: g.myRole ?? null,
        receiptSettings: JSON.stringify(g.receiptSettings),
      })
      this.ensureConversation({ type: 'group', targetId: g.groupId } as Conversation, g.name, now)
      this.s.convSetTitle.run(g.name, 'group', g.groupId)
    })()
  }

  group(groupId: string): GroupInfo | undefined {
    const r = this.s.groupGet.get(groupId)
    if (!r) return undefined
    return {
      groupId: r.group_id,
      name: r.name,
      ownerId: r.owner_id,
      memberCount: r.member_count,
      createdAt: r.created_at,
      ...(r.my_role ? { myRole: r.my_role } : {}),
      receiptSettings: GroupReceiptSettings.parse(JSON.parse(r.receipt_settings)),
    }
  }

  upsertUsers(users: readonly UserProfile[]): void {
    this.db.transaction(() => {
      for (const u of users) this.s.userUpsert.run(u.userId, u.displayName)
    })()
  }

  displayName(userId: string): string | undefined {
    return this.s.userGet.get(userId)?.display_name
  }
}

interface GroupRowDb {
  group_id: string
  name: string
  owner_id: string
  member_count: number
  created_at: number
  my_role: 'owner' | 'admin' | 'member' | null
  receipt_settings: string
}
