import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { engineMigrations } from '../../src/main/engine/migrations'
import { SchemaTooNewError, runMigrations } from '../../src/node/migrate'
import { LocalStore } from '../../src/main/engine/store'
import type { Conversation } from '../../src/shared/model'
import type { WireMessage } from '../../src/shared/protocol'

const ME = 'alice'
const BOB: Conversation = { type: 'private', targetId: 'bob' }
const GROUP: Conversation = { type: 'group', targetId: 'g_team' }
let uidCounter = 0
const uid = (): string => {
  const n = (uidCounter++).toString(36).toUpperCase().padStart(16, '0')
  return `${n.slice(0, 4)}-${n.slice(4, 8)}-${n.slice(8, 12)}-${n.slice(12, 16)}`
}

function wire(seq: number, over: Partial<WireMessage> = {}): WireMessage {
  return {
    messageUId: uid(),
    clientMsgId: `client-${seq}-${uidCounter}`,
    convType: 'private',
    senderId: 'bob',
    to: ME,
    channelId: '',
    seq,
    content: { type: 'text', text: `message ${seq}` },
    sentAt: 1000 + seq,
    needDeliveryAck: false,
    needReadAck: false,
    isNeedGroupAck: false,
    memberCount: 1,
    ...over,
  }
}

function plan(db: Database.Database, sql: string, ...params: unknown[]): string {
  return db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((r) => (r as { detail: string }).detail)
    .join('\n')
}

describe('engine migrations', () => {
  it('migrates a fresh database and is idempotent', () => {
    const db = new Database(':memory:')
    expect(runMigrations(db, engineMigrations, 'app')).toEqual({ from: 0, to: engineMigrations.length })
    expect(runMigrations(db, engineMigrations, 'app')).toEqual({
      from: engineMigrations.length,
      to: engineMigrations.length,
    })
    db.close()
  })

  it('refuses a database written by a newer app, and leaves it untouched', () => {
    const db = new Database(':memory:')
    db.pragma('user_version = 99')
    expect(() => runMigrations(db, engineMigrations, 'app')).toThrow(SchemaTooNewError)
    expect(db.pragma('user_version', { simple: true })).toBe(99)
    db.close()
  })

  it('rejects a migration list with a gap', () => {
    const db = new Database(':memory:')
    expect(() => runMigrations(db, [{ version: 2, name: 'x', up() {} }], 'app')).toThrow(/out of order/)
    db.close()
  })
})

describe('local store', () => {
  let store: LocalStore
  beforeEach(() => {
    store = new LocalStore(':memory:')
  })
  afterEach(() => store.close())

  it('stores received messages once, counts unread, and tracks the contiguous synced mark', () => {
    const first = store.storeServerMessages(ME, [wire(1), wire(2), wire(4)], 5000)
    expect(first.inserted).toHaveLength(3)
    expect(store.conversationRow(BOB)).toMatchObject({ synced_seq: 2, last_seq: 4, unread_count: 3 })
    const again = store.storeServerMessages(ME, [wire(3)], 5000)
    expect(again.inserted.map((m) => m.seq)).toEqual([3])
    expect(store.conversationRow(BOB)).toMatchObject({ synced_seq: 4, unread_count: 4 })
    expect(store.listConversations()[0]).toMatchObject({ unreadCount: 4, lastMessage: { seq: 4 } })
  })

  it('moves the synced mark over a pulled page and over what live pushes stored beyond it', () => {
    // Live pushes stored 5 and 6 first; then a pull brings 1–4, of which 2 came live too.
    store.storeServerMessages(ME, [wire(5), wire(6), wire(2)], 5000)
    expect(store.conversationRow(BOB)?.synced_seq).toBe(0)
    store.storeServerMessages(ME, [wire(1), wire(2), wire(3)], 5000)
    expect(store.conversationRow(BOB)?.synced_seq).toBe(3)
    store.storeServerMessages(ME, [wire(4)], 5000)
    expect(store.conversationRow(BOB)?.synced_seq).toBe(6)
    store.storeServerMessages(ME, [wire(7), wire(8), wire(10)], 5000)
    expect(store.conversationRow(BOB)?.synced_seq).toBe(8)
  })

  it('ignores a message it already has', () => {
    const m = wire(1)
    store.storeServerMessages(ME, [m], 1)
    expect(store.storeServerMessages(ME, [m], 1).inserted).toHaveLength(0)
    expect(store.conversationRow(BOB)?.unread_count).toBe(1)
  })

  it('moves the read watermark forward only and recounts unread', () => {
    store.storeServerMessages(
      ME,
      [1, 2, 3, 4, 5].map((s) => wire(s)),
      1,
    )
    expect(store.applyReadWatermark(BOB, 3)).toBe(true)
    expect(store.conversationRow(BOB)).toMatchObject({ read_seq: 3, unread_count: 2 })
    expect(store.applyReadWatermark(BOB, 1)).toBe(false)
    expect(store.conversationRow(BOB)).toMatchObject({ read_seq: 3, unread_count: 2 })
    const page = store.getHistory(BOB, undefined, 10).rows
    expect(page.filter((r) => r.is_unread === 1).map((r) => r.seq)).toEqual([5, 4])
  })

  it('confirms my own unsent message when the server echoes it, with no duplicate row', () => {
    const row = store.insertOutgoing({
      me: ME,
      clientMsgId: 'my-client-id-1',
      conversation: BOB,
      channelId: '',
      content: { type: 'text', text: 'hi' },
      isNeedGroupAck: false,
      now: 10,
      title: 'bob',
    })
    expect(row.status).toBe('sending')
    expect(store.outbox('send', 10)).toHaveLength(1)
    store.storeServerMessages(ME, [wire(1, { senderId: ME, to: 'bob', clientMsgId: 'my-client-id-1' })], 20)
    const history = store.getHistory(BOB, undefined, 10).rows
    expect(history).toHaveLength(1)
    expect(history[0]).toMatchObject({ local_id: row.local_id, seq: 1, status: 'sent', direction: 1 })
  })

  it('keeps a receipt that arrives before its message and applies it on arrival', () => {
    const m = wire(1, { senderId: ME, to: 'bob' })
    expect(store.applyReceipts('read', [m.messageUId], 'bob', 50)).toHaveLength(0)
    const batch = store.storeServerMessages(ME, [m], 60)
    expect(batch.receiptsApplied).toHaveLength(1)
    expect(store.messageByUid(m.messageUId)).toMatchObject({ read_at: 50, delivered_at: 50 })
  })

  it('applies receipts monotonically: a later delivery never undoes a read', () => {
    const m = wire(1, { senderId: ME, to: 'bob' })
    store.storeServerMessages(ME, [m], 1)
    expect(store.applyReceipts('read', [m.messageUId], 'bob', 30)).toHaveLength(1)
    expect(store.applyReceipts('delivered', [m.messageUId], 'bob', 40)).toHaveLength(0)
    expect(store.applyReceipts('read', [m.messageUId], 'bob', 30)).toHaveLength(0)
    expect(store.messageByUid(m.messageUId)).toMatchObject({ read_at: 30, delivered_at: 30 })
  })

  it('marks my sent messages read up to the peer’s conversation read mark', () => {
    store.storeServerMessages(
      ME,
      [1, 2, 3, 4].map((s) => wire(s, { senderId: ME, to: 'bob', needReadAck: s !== 2 })),
      1,
    )
    // message 2 was sent without asking for read receipts: it never shows as read
    expect(store.applyPeerConversationRead(BOB, 3, 99).map((r) => r.seq)).toEqual([1, 3])
    expect(store.applyPeerConversationRead(BOB, 3, 120)).toHaveLength(0)
    expect(store.conversationRow(BOB)?.peer_read_seq).toBe(3)
  })

  it('queues a delivery ack only for single-chat messages whose sender asked for it', () => {
    store.storeServerMessages(
      ME,
      [
        wire(1, { needDeliveryAck: true }),
        wire(2),
        wire(1, {
          convType: 'group',
          to: 'g_team',
          senderId: 'carol',
          needDeliveryAck: true,
          memberCount: 2,
        }),
      ],
      1,
    )
    expect(store.outbox('ackDelivered', 10)).toHaveLength(1)
    expect(store.conversationRow(GROUP)?.unread_count).toBe(1)
  })

  it('pages history newest first with unsent messages on the first page only', () => {
    store.storeServerMessages(
      ME,
      Array.from({ length: 25 }, (_, i) => wire(i + 1)),
      1,
    )
    store.insertOutgoing({
      me: ME,
      clientMsgId: 'unsent-00001',
      conversation: BOB,
      channelId: '',
      content: { type: 'text', text: 'pending' },
      isNeedGroupAck: false,
      now: 5,
      title: 'bob',
    })
    const first = store.getHistory(BOB, undefined, 10)
    expect(first.rows.map((r) => r.seq)).toEqual([null, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16])
    expect(first.hasMore).toBe(true)
    const second = store.getHistory(BOB, 16, 10)
    expect(second.rows.map((r) => r.seq)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6])
    const last = store.getHistory(BOB, 6, 10)
    expect(last.rows.map((r) => r.seq)).toEqual([5, 4, 3, 2, 1])
    expect(last.hasMore).toBe(false)
  })

  it('builds the RongCloud messageList from unanswered requests, grouped by sender (R6)', () => {
    const fromCarol = wire(1, { convType: 'group', to: 'g_team', senderId: 'carol', memberCount: 2 })
    const fromDave = wire(2, { convType: 'group', to: 'g_team', senderId: 'dave', memberCount: 2 })
    const later = wire(3, { convType: 'group', to: 'g_team', senderId: 'carol', memberCount: 2 })
    const inChannel = wire(4, {
      convType: 'group',
      to: 'g_team',
      senderId: 'carol',
      memberCount: 2,
      channelId: 'ops',
    })
    // The request for `later` arrives before the message itself: kept, applied on arrival.
    expect(store.markReceiptRequested(later.messageUId, 5)).toBeUndefined()
    store.storeServerMessages(ME, [fromCarol, fromDave, later, inChannel], 10)
    store.markReceiptRequested(fromCarol.messageUId, 11)
    store.markReceiptRequested(fromDave.messageUId, 12)
    store.markReceiptRequested(inChannel.messageUId, 12)
    expect(store.buildUnrespondedMessageList(GROUP, '')).toEqual({
      carol: expect.arrayContaining([fromCarol.messageUId, later.messageUId]),
      dave: [fromDave.messageUId],
    })
    expect(store.buildUnrespondedMessageList(GROUP, 'ops')).toEqual({ carol: [inChannel.messageUId] })
    expect(store.markResponded([fromCarol.messageUId, later.messageUId, fromDave.messageUId])).toHaveLength(3)
    expect(store.buildUnrespondedMessageList(GROUP, '')).toEqual({})
    const info = store.toMessage(store.messageByUid(fromCarol.messageUId)!).readReceiptInfo
    expect(info).toEqual({ isReceiptRequestMessage: true, hasRespond: true })
  })

  it('counts group readers once per member, from either model, on the sender side', () => {
    const mine = wire(1, {
      convType: 'group',
      to: 'g_team',
      senderId: ME,
      isNeedGroupAck: true,
      memberCount: 3,
    })
    store.storeServerMessages(ME, [mine], 1)
    const ack = (from: string, count: number) => ({
      ackId: String(count),
      messageUId: mine.messageUId,
      groupId: 'g_team',
      from,
      timestamp: 100 + count,
      count,
    })
    expect(store.applyGroupReadAcks([ack('bob', 1)])).toHaveLength(1)
    expect(store.applyGroupReadAcks([ack('bob', 1)])).toHaveLength(0)
    expect(store.applyReceiptResponse([mine.messageUId], 'carol', 300)).toHaveLength(1)
    expect(store.applyReceiptResponse([mine.messageUId], 'carol', 300)).toHaveLength(0)
    const m = store.toMessage(store.messageByUid(mine.messageUId)!)
    expect(m.groupAckCount).toBe(2)
    expect(m.readReceiptInfo).toMatchObject({
      readCount: 2,
      totalCount: 3,
      readerList: { bob: 101, carol: 300 },
    })
  })

  it('serves hot queries from indexes (EXPLAIN QUERY PLAN)', () => {
    const db = store.db
    expect(
      plan(
        db,
        'SELECT * FROM messages WHERE conv_type = ? AND target_id = ? AND seq < ? AND seq IS NOT NULL ORDER BY seq DESC LIMIT 50',
        'private',
        'bob',
        100,
      ),
    ).toMatch(/USING INDEX messages_conv_seq/)
    expect(
      plan(
        db,
        'SELECT count(*) FROM messages WHERE conv_type = ? AND target_id = ? AND seq > ? AND direction = 2 AND is_unread = 1',
        'private',
        'bob',
        3,
      ),
    ).toMatch(/USING COVERING INDEX messages_unread/)
    // Marking read up to a seq touches the unread rows only, never the conversation's whole history.
    expect(
      plan(
        db,
        `UPDATE messages SET is_unread = 0
         WHERE conv_type = ? AND target_id = ? AND seq <= ? AND direction = 2 AND is_unread = 1`,
        'private',
        'bob',
        3,
      ),
    ).toMatch(/USING INDEX messages_unread/)
    // The conversation list: one scan of the conversations, a key lookup per joined row.
    expect(
      plan(
        db,
        `SELECT c.target_id, m.content FROM conversations c LEFT JOIN messages m ON m.local_id = c.last_local_id
         ORDER BY c.updated_at DESC`,
      ),
    ).toMatch(/SCAN c USING INDEX conversations_updated\n.*SEARCH m USING INTEGER PRIMARY KEY/)
    expect(
      plan(
        db,
        `SELECT sender_id, message_uid FROM messages WHERE conv_type = 'group' AND target_id = ? AND channel_id = ''
           AND direction = 2 AND is_receipt_request = 1 AND has_respond = 0`,
        'g_team',
      ),
    ).toMatch(/USING (COVERING )?INDEX messages_unresponded/)
  })
})
