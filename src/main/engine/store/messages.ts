/**
 * Messages of the local store: my outgoing ones, ingest of the server's (pushes and pulls, one
 * transaction per batch), and history pages. Hot paths are index lookups; the query-plan test
 * (tests/engine/store/queryPlans.test.ts) checks the statements exported here.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import { MessageDirection, type Conversation, type Message } from '../../../shared/model'
import type { WireMessage } from '../../../shared/protocol'
import { conversationKeyOf, ensureConversation, noteInserted, setSynced, syncedSeq } from './conversations'
import { enqueue } from './outbox'
import { setAckCount, setRequested } from './groupReceipts'
import { applyCarriedReceipts, applyPending, hasPending } from './receipts'
import { carriesActions, mergeServerCopy, setReplyTo } from './messageActions'
import { carriesAcks, mergeAckCopy, setOutgoing as setOutgoingAcks } from './acks'
import { conversationOf, MESSAGE_COLUMNS, rowByUid, toMessage, viewByLocalId, type MessageRow } from './rows'
import type { OutgoingMessage, StoredBatch } from './types'

/** The columns of an inserted message, in INSERT_MESSAGE_SQL's order. */
type InsertMessageArgs = [
  clientMsgId: string,
  messageUId: string | null,
  convType: string,
  targetId: string,
  channelId: string,
  seq: number | null,
  senderId: string,
  direction: MessageDirection,
  content: string,
  sentAt: number,
  status: 'sending' | 'sent',
  isUnread: 0 | 1,
  needDeliveryAck: 0 | 1,
  needReadAck: 0 | 1,
  isNeedGroupAck: 0 | 1,
  memberCount: number,
  storedAt: number | null,
]

// Positional parameters: binding by name looks every key up on the object, which showed in the
// ingest profile (bench s2) for the one statement run once per message.
const INSERT_MESSAGE_SQL = `INSERT INTO messages (client_msg_id, message_uid, conv_type, target_id, channel_id,
    seq, sender_id, direction, content, sent_at, status, is_unread, need_delivery_ack, need_read_ack,
    is_need_group_ack, member_count, stored_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT DO NOTHING`

export const HISTORY_NEWEST_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq IS NOT NULL ORDER BY seq DESC LIMIT ?`
export const HISTORY_BEFORE_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq < ? AND seq IS NOT NULL ORDER BY seq DESC LIMIT ?`
export const UNSENT_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq IS NULL ORDER BY local_id DESC`
export const SEQS_AFTER_SQL = `SELECT seq FROM messages WHERE conv_type = ? AND target_id = ? AND seq > ?
  ORDER BY seq LIMIT ?`
const OWN_BY_CLIENT_ID_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE client_msg_id = ? AND sender_id = ? AND direction = 1`

function insertStatement(db: Db) {
  return prepare<InsertMessageArgs>(db, INSERT_MESSAGE_SQL)
}

export function insertOutgoing(db: Db, input: OutgoingMessage): Message {
  return transact(db, () => {
    const { conversation: c } = input
    ensureConversation(db, c, input.title, input.now)
    const info = insertStatement(db).run(
      input.clientMsgId,
      null,
      c.type,
      c.targetId,
      input.channelId,
      null,
      input.me,
      MessageDirection.SEND,
      JSON.stringify(input.content),
      input.now,
      'sending',
      0,
      0,
      0,
      input.isNeedGroupAck ? 1 : 0,
      0,
      input.now,
    )
    const localId = Number(info.lastInsertRowid)
    if (input.replyTo !== undefined) setReplyTo(db, localId, input.replyTo)
    setOutgoingAcks(db, localId, input.needAck === true, input.mentionedInfo)
    noteInserted(db, c, { seq: null, unread: 0, localId, at: input.now })
    enqueue(
      db,
      {
        kind: 'send',
        ref: String(localId),
        payload: {
          clientMsgId: input.clientMsgId,
          conversation: c,
          channelId: input.channelId,
          content: input.content,
          isNeedGroupAck: input.isNeedGroupAck,
          ...(input.replyTo !== undefined ? { replyTo: input.replyTo } : {}),
          ...(input.needAck ? { needAck: true } : {}),
          ...(input.mentionedInfo !== undefined ? { mentionedInfo: input.mentionedInfo } : {}),
        },
      },
      input.now,
    )
    const view = viewByLocalId(db, localId)
    if (!view) throw new Error('inserted message vanished')
    return view
  })
}

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

function touch(
  db: Db,
  touched: Map<string, TouchedConversation>,
  c: Conversation,
  now: number,
): TouchedConversation {
  const k = conversationKeyOf(c)
  let t = touched.get(k)
  if (t) return t
  ensureConversation(db, c, '', now)
  const row = prepare<[string, string], { read_seq: number; synced_seq: number }>(
    db,
    'SELECT read_seq, synced_seq FROM conversations WHERE conv_type = ? AND target_id = ?',
  ).get(c.type, c.targetId)
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
  return t
}

export function storeServerMessages(
  db: Db,
  me: string,
  messages: readonly WireMessage[],
  now: number,
  options: { collectInserted?: boolean } = {},
): StoredBatch {
  const collect = options.collectInserted ?? true
  const batch: StoredBatch = { inserted: [], changed: [], conversations: [] }
  if (messages.length === 0) return batch
  const checkPending = hasPending(db)
  const insert = insertStatement(db)
  transact(db, () => {
    // Per conversation: its read mark (for unread flags) and what the batch adds, written once at
    // the end (last_seq, unread_count, last message, updated_at) instead of once per message.
    const touched = new Map<string, TouchedConversation>()
    for (const m of messages) {
      const c = conversationOf(me, m)
      const t = touch(db, touched, c, now)
      const mine = m.senderId === me
      const unread = !mine && m.seq > t.readSeq ? 1 : 0
      const info = insert.run(
        m.clientMsgId,
        m.messageUId,
        c.type,
        c.targetId,
        m.channelId,
        m.seq,
        m.senderId,
        mine ? MessageDirection.SEND : MessageDirection.RECEIVE,
        JSON.stringify(m.content),
        m.sentAt,
        'sent',
        unread,
        m.needDeliveryAck ? 1 : 0,
        m.needReadAck ? 1 : 0,
        m.isNeedGroupAck ? 1 : 0,
        m.memberCount,
        // Mine from another device was not written here: no local write time.
        mine ? null : now,
      )
      if (info.changes === 0) {
        // Already stored. If it is my own message written on this device, this is the server's
        // copy of it: the first one confirms it (seq, messageUId). Looked up only on conflict, so
        // ingesting a backlog costs one statement per message.
        const confirmed = mine ? confirmOwn(db, m, c, checkPending) : undefined
        // Issue 15: the sender's ack count, my ack on another device, a mention (store/acks.ts).
        if (confirmed) {
          const acked = carriesAcks(m) && mergeAckCopy(db, me, m)
          batch.changed.push((acked && viewOfUid(db, m.messageUId)) || confirmed)
        }
        // A copy pulled again (a full resync) brings the receipt state its pruned events had.
        else {
          const carried = carriesReceipts(m) && applyCarried(db, m, mine)
          // An edit or recall its events did not bring here (H1).
          const acted = carriesActions(m) && mergeServerCopy(db, m)
          const acked = carriesAcks(m) && mergeAckCopy(db, me, m)
          const view = carried || acted || acked ? viewOfUid(db, m.messageUId) : undefined
          if (view) batch.changed.push(view)
        }
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
        enqueue(db, { kind: 'ackDelivered', ref: m.messageUId, payload: {} }, now)
      }
      // New here, so nobody holds a copy to update: what it carries is simply part of it.
      if (carriesReceipts(m)) applyCarried(db, m, mine)
      if (carriesActions(m)) mergeServerCopy(db, m)
      if (carriesAcks(m)) mergeAckCopy(db, me, m)
      const early = checkPending ? applyPending(db, m.messageUId) : undefined
      if (early) batch.changed.push(early)
      if (!collect) continue
      // Live messages come one or a few at a time: reading the row back keeps one source of truth
      // for its shape (sync pulls do not collect, so the backlog path never pays this).
      const stored = early ?? viewByLocalId(db, localId)
      if (stored) batch.inserted.push(stored)
    }
    for (const t of touched.values()) {
      if (t.newestLocalId !== 0) {
        // The same update as one per message: max seq, summed unread, newest message, latest time.
        noteInserted(db, t.c, { seq: t.newestSeq, unread: t.unread, localId: t.newestLocalId, at: t.at })
      }
      // A pull inserts the seqs right after synced_seq, with no gap (seqs are unique, so count =
      // span means contiguous): synced_seq moves over them without reading them back.
      const contiguous =
        t.insertedCount > 0 &&
        t.lowestInserted === t.syncedSeq + 1 &&
        t.newestSeq - t.lowestInserted + 1 === t.insertedCount
      advanceSynced(db, t.c, contiguous ? t.newestSeq : 0)
      batch.conversations.push(t.c)
    }
  })
  return batch
}

/** Whether a pulled copy carries receipt state (WireMessage deliveredAt … receiptRequested). */
function carriesReceipts(m: WireMessage): boolean {
  return (
    m.deliveredAt !== undefined ||
    m.readAt !== undefined ||
    m.groupAckCount !== undefined ||
    m.receiptRequested === true
  )
}

/**
 * Applies the receipt state a pulled copy carries, as the receipt events would have: delivery and
 * read of my single-chat messages (earliest wins), the read count of a group message (never
 * lowered: mine, or another member's when the group shows counts to all), a read receipt request
 * (either side). True when the row changed.
 */
function applyCarried(db: Db, m: WireMessage, mine: boolean): boolean {
  const row = rowByUid(db, m.messageUId)
  if (!row) return false
  let changed = false
  if (mine && applyCarriedReceipts(db, row, m.deliveredAt, m.readAt)) changed = true
  if (
    m.groupAckCount !== undefined &&
    m.convType === 'group' &&
    setAckCount(db, row.local_id, m.groupAckCount)
  ) {
    changed = true
  }
  // Either side: a request made from another device of mine, or one whose push I missed.
  if (m.receiptRequested && setRequested(db, row.local_id, m.sentAt)) changed = true
  return changed
}

function viewOfUid(db: Db, uid: string): Message | undefined {
  const row = rowByUid(db, uid)
  return row && viewByLocalId(db, row.local_id)
}

/**
 * The server no longer keeps messages up to `seq` of the conversation (its retention): they count
 * as synced, so the pull goes on after them instead of asking for them again and again.
 */
export function skipPrunedMessages(db: Db, c: Conversation, seq: number): void {
  transact(db, () => {
    const current = syncedSeq(db, c)
    if (current === undefined || seq <= current) return
    setSynced(db, c, seq)
    advanceSynced(db, c)
  })
}

/** The server's copy of a message of mine written here: it is sent (seq, messageUId, counts). */
function confirmOwn(db: Db, m: WireMessage, c: Conversation, checkPending: boolean): Message | undefined {
  const own = prepare<[string, string], MessageRow>(db, OWN_BY_CLIENT_ID_SQL).get(m.clientMsgId, m.senderId)
  if (!own || own.seq !== null) return undefined
  prepare(
    db,
    `UPDATE messages SET message_uid = :messageUId, seq = :seq, sent_at = :sentAt, status = 'sent',
       need_delivery_ack = :needDeliveryAck, need_read_ack = :needReadAck, member_count = :memberCount,
       fail_code = NULL, fail_reason = NULL, revision = revision + 1
     WHERE local_id = :localId`,
  ).run({
    localId: own.local_id,
    messageUId: m.messageUId,
    seq: m.seq,
    sentAt: m.sentAt,
    needDeliveryAck: m.needDeliveryAck ? 1 : 0,
    needReadAck: m.needReadAck ? 1 : 0,
    memberCount: m.memberCount,
  })
  noteInserted(db, c, { seq: m.seq, unread: 0, localId: own.local_id, at: m.sentAt })
  if (checkPending) applyPending(db, m.messageUId)
  return viewByLocalId(db, own.local_id)
}

/**
 * Moves synced_seq over every contiguous stored sequence number; `knownUpTo`: the caller knows
 * every seq up to it is stored, so only what lies beyond it is read.
 */
function advanceSynced(db: Db, c: Conversation, knownUpTo = 0): void {
  const current = syncedSeq(db, c)
  if (current === undefined) return
  let synced = Math.max(current, knownUpTo)
  const after = prepare<[string, string, number, number], { seq: number }>(db, SEQS_AFTER_SQL)
  for (;;) {
    const next = after.all(c.type, c.targetId, synced, 512)
    let advanced = 0
    for (const { seq } of next) {
      if (seq !== synced + 1) break
      synced = seq
      advanced++
    }
    if (advanced < 512) break
  }
  if (synced !== current) setSynced(db, c, synced)
}

export function markFailed(db: Db, localId: number, code: number, reason: string): Message | undefined {
  prepare<[number, string, number]>(
    db,
    `UPDATE messages SET status = 'failed', fail_code = ?, fail_reason = ?, revision = revision + 1
     WHERE local_id = ? AND status = 'sending'`,
  ).run(code, reason, localId)
  return viewByLocalId(db, localId)
}

export function history(
  db: Db,
  c: Conversation,
  beforeSeq: number | undefined,
  count: number,
): { list: Message[]; hasMore: boolean } {
  const rows: MessageRow[] = []
  if (beforeSeq === undefined)
    rows.push(...prepare<[string, string], MessageRow>(db, UNSENT_SQL).all(c.type, c.targetId))
  const stored =
    beforeSeq === undefined
      ? prepare<[string, string, number], MessageRow>(db, HISTORY_NEWEST_SQL).all(
          c.type,
          c.targetId,
          count + 1,
        )
      : prepare<[string, string, number, number], MessageRow>(db, HISTORY_BEFORE_SQL).all(
          c.type,
          c.targetId,
          beforeSeq,
          count + 1,
        )
  const hasMore = stored.length > count
  rows.push(...stored.slice(0, count))
  return { list: rows.map((r) => toMessage(db, r)), hasMore }
}
