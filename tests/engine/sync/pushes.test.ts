/**
 * Pushes, one handler each: the store decides the state, the engine emits one state event
 * (messagesChanged) for what changed, and the SDK-named notification beside it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Sync } from '../../../src/main/engine/sync/sync'
import type { PushFrame } from '../../../src/shared/protocol'
import { groupWire, ME, teamGroup, testContext, wire, type TestContext } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const

describe('push handlers', () => {
  let ctx: TestContext
  let sync: Sync
  let revoked = 0
  beforeEach(() => {
    ctx = testContext()
    sync = new Sync(ctx, { onRevoked: () => revoked++ })
  })
  afterEach(() => ctx.store.close())

  const push = (frame: { event: PushFrame['event']; data: unknown; eventSeq?: number }): void =>
    sync.onPush({ type: 'push', ...frame } as PushFrame)

  it('a read receipt: one state change of my message, and the SDK notification', () => {
    const mine = wire(1, { senderId: ME, to: 'bob', needReadAck: true })
    ctx.store.storeServerMessages(ME, [mine], 1)
    push({ event: 'messageRead', data: { messageUIds: [mine.messageUId], by: 'bob', at: 50 } })
    expect(ctx.events('messagesChanged')).toEqual([
      [expect.objectContaining({ isReceiverRead: true, readTime: 50, isDelivered: true, revision: 1 })],
    ])
    expect(ctx.events('messageRead')).toHaveLength(1)
    // A duplicate changes nothing and tells nothing.
    push({ event: 'messageRead', data: { messageUIds: [mine.messageUId], by: 'bob', at: 60 } })
    expect(ctx.events('messagesChanged')).toHaveLength(1)
    expect(ctx.events('messageRead')).toHaveLength(1)
  })

  it('my read mark from another device: the messages it read change here, and the unread count', () => {
    ctx.store.storeServerMessages(
      ME,
      [1, 2].map((s) => wire(s)),
      1,
    )
    push({ event: 'conversationRead', data: { conversation: BOB, from: ME, to: 'bob', seq: 2, at: 9 } })
    expect(ctx.events('messagesChanged')[0]?.map((m) => [m.seq, m.isUnread])).toEqual([
      [2, false],
      [1, false],
    ])
    expect(ctx.events('conversationChanged').at(-1)?.[0]).toMatchObject({ unreadCount: 0 })
    expect(ctx.events('conversationRead')).toEqual([{ conversation: BOB, from: ME, to: 'bob', seq: 2 }])
  })

  it('a group read ack: the count and reader list of my message move once; the notification is separate', () => {
    ctx.store.upsertGroup(teamGroup('owner'), 1)
    const mine = groupWire(1, { senderId: ME, isNeedGroupAck: true })
    ctx.store.storeServerMessages(ME, [mine], 1)
    const ack = {
      ackId: 'k1',
      messageUId: mine.messageUId,
      groupId: 'g_team',
      from: 'bob',
      timestamp: 7,
      count: 1,
    }
    push({ event: 'groupMessageRead', data: { acks: [ack] } })
    expect(ctx.events('messagesChanged')).toEqual([
      [
        expect.objectContaining({
          groupAckCount: 1,
          readReceiptInfo: expect.objectContaining({ readCount: 1, totalCount: 3, readerList: { bob: 7 } }),
        }),
      ],
    ])
    expect(ctx.events('groupMessageRead')).toEqual([[ack]])
    push({ event: 'groupMessageRead', data: { acks: [ack] } })
    expect(ctx.events('messagesChanged')).toHaveLength(1)
  })

  it('a receipt that arrives before its message is applied when the message is stored', () => {
    const mine = wire(1, { senderId: ME, to: 'bob', needDeliveryAck: true })
    push({ event: 'messageDelivered', data: { messageUIds: [mine.messageUId], by: 'bob', at: 5 } })
    expect(ctx.events('messagesChanged')).toEqual([])
    push({ event: 'message', data: mine })
    expect(ctx.events('messageReceived').flat()).toEqual([
      expect.objectContaining({ isDelivered: true, deliveredTime: 5 }),
    ])
  })

  it('a revoked session ends it', () => {
    push({ event: 'sessionRevoked', data: {} })
    expect(revoked).toBe(1)
  })

  it('a gap in the event sequence replays the log from the last event applied', async () => {
    const settings = (requireReadAck: boolean) => ({
      requireDeliveryAck: true,
      requireReadAck,
      shareReadReceipts: true,
    })
    ctx.fake.answer('syncEvents', () => ({ code: 0, data: { events: [], hasMore: false } }))
    push({
      event: 'settingsChanged',
      data: { settings: settings(false) },
      eventSeq: 1,
    })
    expect(ctx.store.lastEventSeq()).toBe(1)
    push({
      event: 'settingsChanged',
      data: { settings: settings(true) },
      eventSeq: 3,
    })
    await sync.catchUpEvents()
    expect(ctx.fake.sent).toEqual([{ op: 'syncEvents', data: { afterEventSeq: 1, limit: 500 } }])
    expect(ctx.store.settings()).toEqual(settings(true))
  })
})
