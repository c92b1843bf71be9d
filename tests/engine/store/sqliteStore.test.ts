import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { engineMigrations } from '../../../src/main/engine/store/migrations'
import { SchemaTooNewError, runMigrations } from '../../../src/node/migrate'
import { unrespondedMessageList } from '../../../src/main/engine/store/groupReceipts'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'
import type { Conversation } from '../../../src/shared/model'
import { ME, wire } from '../fakeContext'

const BOB: Conversation = { type: 'private', targetId: 'bob' }
const GROUP: Conversation = { type: 'group', targetId: 'g_team' }
/** The RongCloud messageList as the store would build it (read-only: through SQL of its own module). */
function unresponded(store: SqliteEngineStore, channelId: string): Record<string, string[]> {
  return { ...unrespondedMessageList(store.db, 'group', 'g_team', channelId) }
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
  let store: SqliteEngineStore
  beforeEach(() => {
    store = new SqliteEngineStore(':memory:')
  })
  afterEach(() => store.close())

  it('keeps the account settings whatever else reads the key/value table the same way', () => {
    const settings = { requireDeliveryAck: true, requireReadAck: true, shareReadReceipts: false }
    store.setSettings(settings)
    store.setRecallWindow(60_000)
    // The recall window is read through the same SQL with pluck(): the statement is shared.
    expect(store.recallWindow()).toBe(60_000)
    expect(store.settings()).toEqual(settings)
    expect(store.recallWindow()).toBe(60_000)
  })

  it('stores received messages once, counts unread, and tracks the contiguous synced mark', () => {
    const first = store.storeServerMessages(ME, [wire(1), wire(2), wire(4)], 5000)
    expect(first.inserted).toHaveLength(3)
    expect(store.conversation(BOB)).toMatchObject({ syncedSeq: 2, lastSeq: 4, unreadCount: 3 })
    const again = store.storeServerMessages(ME, [wire(3)], 5000)
    expect(again.inserted.map((m) => m.seq)).toEqual([3])
    expect(store.conversation(BOB)).toMatchObject({ syncedSeq: 4, unreadCount: 4 })
    expect(store.listConversations()[0]).toMatchObject({ unreadCount: 4, lastMessage: { seq: 4 } })
  })

  it('moves the synced mark over a pulled page and over what live pushes stored beyond it', () => {
    // Live pushes stored 5 and 6 first; then a pull brings 1–4, of which 2 came live too.
    store.storeServerMessages(ME, [wire(5), wire(6), wire(2)], 5000)
    expect(store.conversation(BOB)?.syncedSeq).toBe(0)
    store.storeServerMessages(ME, [wire(1), wire(2), wire(3)], 5000)
    expect(store.conversation(BOB)?.syncedSeq).toBe(3)
    store.storeServerMessages(ME, [wire(4)], 5000)
    expect(store.conversation(BOB)?.syncedSeq).toBe(6)
    store.storeServerMessages(ME, [wire(7), wire(8), wire(10)], 5000)
    expect(store.conversation(BOB)?.syncedSeq).toBe(8)
  })

  it('ignores a message it already has', () => {
    const m = wire(1)
    store.storeServerMessages(ME, [m], 1)
    expect(store.storeServerMessages(ME, [m], 1).inserted).toHaveLength(0)
    expect(store.conversation(BOB)?.unreadCount).toBe(1)
  })

  it('moves the read watermark forward only and recounts unread', () => {
    store.storeServerMessages(
      ME,
      [1, 2, 3, 4, 5].map((s) => wire(s)),
      1,
    )
    const read = store.readConversation(BOB, 3, 2, false)
    expect(read.conversationChanged).toBe(true)
    // The messages it turned read are reported, newest first, each with a new revision.
    expect(read.changed.map((m) => [m.seq, m.isUnread, m.revision])).toEqual([
      [3, false, 1],
      [2, false, 1],
      [1, false, 1],
    ])
    expect(store.conversation(BOB)).toMatchObject({ readSeq: 3, unreadCount: 2 })
    expect(store.readConversation(BOB, 1, 3, false)).toEqual({ changed: [], conversationChanged: false })
    expect(store.conversation(BOB)).toMatchObject({ readSeq: 3, unreadCount: 2 })
    const page = store.history(BOB, undefined, 10).list
    expect(page.filter((m) => m.isUnread).map((m) => m.seq)).toEqual([5, 4])
    expect(store.outbox('ackConversationRead', 10)).toHaveLength(0)
    store.readConversation(BOB, 5, 4, true)
    expect(store.outbox('ackConversationRead', 10)).toHaveLength(1)
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
    const history = store.history(BOB, undefined, 10).list
    expect(history).toHaveLength(1)
    expect(history[0]).toMatchObject({
      messageId: row.messageId,
      seq: 1,
      status: 'sent',
      messageDirection: 1,
    })
    expect(history[0].revision).toBeGreaterThan(row.revision)
  })

  it('keeps a receipt that arrives before its message and applies it on arrival', () => {
    const m = wire(1, { senderId: ME, to: 'bob' })
    expect(store.applyReceipts('read', [m.messageUId], 'bob', 50)).toHaveLength(0)
    const batch = store.storeServerMessages(ME, [m], 60)
    expect(batch.changed).toHaveLength(1)
    expect(batch.changed[0]).toMatchObject({ readTime: 50, deliveredTime: 50 })
  })

  it('applies receipts monotonically: a later delivery never undoes a read', () => {
    const m = wire(1, { senderId: ME, to: 'bob' })
    store.storeServerMessages(ME, [m], 1)
    expect(store.applyReceipts('read', [m.messageUId], 'bob', 30)).toHaveLength(1)
    expect(store.applyReceipts('delivered', [m.messageUId], 'bob', 40)).toHaveLength(0)
    expect(store.applyReceipts('read', [m.messageUId], 'bob', 30)).toHaveLength(0)
    const view = store.view(store.messageByUid(m.messageUId)!.localId)
    expect(view).toMatchObject({ readTime: 30, deliveredTime: 30, isReceiverRead: true, isDelivered: true })
    // One change, one revision: the refused receipts did not touch the row.
    expect(view?.revision).toBe(1)
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
    expect(store.conversation(GROUP)?.unreadCount).toBe(1)
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
    const first = store.history(BOB, undefined, 10)
    expect(first.list.map((r) => r.seq)).toEqual([null, 25, 24, 23, 22, 21, 20, 19, 18, 17, 16])
    expect(first.hasMore).toBe(true)
    const second = store.history(BOB, 16, 10)
    expect(second.list.map((r) => r.seq)).toEqual([15, 14, 13, 12, 11, 10, 9, 8, 7, 6])
    const last = store.history(BOB, 6, 10)
    expect(last.list.map((r) => r.seq)).toEqual([5, 4, 3, 2, 1])
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
    expect(unresponded(store, '')).toEqual({
      carol: expect.arrayContaining([fromCarol.messageUId, later.messageUId]),
      dave: [fromDave.messageUId],
    })
    expect(unresponded(store, 'ops')).toEqual({ carol: [inChannel.messageUId] })
    const answered = store.respondToReceiptRequests('g_team', '', undefined, 20)
    expect(answered.sent).toEqual({
      carol: expect.arrayContaining([fromCarol.messageUId, later.messageUId]),
      dave: [fromDave.messageUId],
    })
    expect(answered.changed).toHaveLength(3)
    expect(answered.changed.every((m) => m.readReceiptInfo.hasRespond && !m.isUnread)).toBe(true)
    expect(store.outbox('receiptResponse', 10)).toHaveLength(1)
    expect(unresponded(store, '')).toEqual({})
    // A second call answers nothing and queues nothing.
    expect(store.respondToReceiptRequests('g_team', '', undefined, 21)).toEqual({ sent: {}, changed: [] })
    expect(store.outbox('receiptResponse', 10)).toHaveLength(1)
    const info = store.view(store.messageByUid(fromCarol.messageUId)!.localId)!.readReceiptInfo
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
    const m = store.view(store.messageByUid(mine.messageUId)!.localId)!
    expect(m.groupAckCount).toBe(2)
    expect(m.readReceiptInfo).toMatchObject({
      readCount: 2,
      totalCount: 3,
      readerList: { bob: 101, carol: 300 },
    })
  })
})
