/**
 * Mute per chat on all my devices (issue 13, H8), engine side: the local mark stays immediate and
 * queues a durable job; the job's frames (the latest change per chat) and answers; the server's mark
 * (push, replayed event, syncState) is applied with the same events, unless a change of this device
 * still waits to be sent.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { setConversationNotificationStatus } from '../../../src/main/engine/ops/everyday'
import { Outbox } from '../../../src/main/engine/outbox/outbox'
import { Sync } from '../../../src/main/engine/sync/sync'
import { Code, fail, ok } from '../../../src/shared/codes'
import type { NotificationStatus } from '../../../src/shared/model'
import type { ConversationState, PushFrame } from '../../../src/shared/protocol'
import { ME, TEAM, testContext, wire, type TestContext } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const

function bobState(notificationStatus?: NotificationStatus): ConversationState {
  return {
    conversation: BOB,
    title: 'Bob',
    lastSeq: 1,
    readSeq: 0,
    shareReadReceipts: null,
    readReceiptsShared: true,
    peerReadSeq: 0,
    peerDeliveredSeq: 0,
    joinedSeq: 0,
    leftSeq: null,
    unreadCount: 1,
    ...(notificationStatus ? { notificationStatus } : {}),
  }
}

describe('mute per chat on all my devices', () => {
  let ctx: TestContext
  let outbox: Outbox
  let sync: Sync
  let eventSeq: number
  beforeEach(() => {
    ctx = testContext()
    outbox = new Outbox(ctx, {
      backoff: { minMs: 60_000, maxMs: 60_000 },
      deliveryReceiptDelay: { minMs: 0, maxMs: 0 },
    })
    sync = new Sync(ctx, { onRevoked: () => undefined })
    eventSeq = 0
    ctx.store.storeServerMessages(ME, [wire(1)], 1)
  })
  afterEach(async () => {
    await outbox.close()
    ctx.store.close()
  })

  const status = () => ctx.store.notificationStatus(BOB)
  const jobs = () => ctx.store.outbox('notificationStatus', 10).map((j) => JSON.parse(j.payload) as unknown)
  const sentFrames = () =>
    ctx.fake.sent.filter((s) => s.op === 'setConversationNotificationStatus').map((s) => s.data)
  /** My other device changed it: the live push (or its replay, the same frame). */
  const pushed = (s: NotificationStatus) =>
    sync.onPush({
      type: 'push',
      event: 'conversationNotificationStatusChanged',
      data: { conversation: BOB, status: s, at: 50 },
      eventSeq: ++eventSeq,
    } as PushFrame)
  /** A run's answers: syncState with these conversations, nothing to pull or replay. */
  const answerSync = (conversations: () => ConversationState[], lastEventSeq: number) => {
    ctx.fake.answer('syncState', () =>
      ok({
        user: { userId: ME, displayName: ME },
        settings: { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: true },
        conversations: conversations(),
        groups: [],
        lastEventSeq,
        serverTime: 20,
      }),
    )
    ctx.fake.answer('syncEvents', () => ok({ events: [], hasMore: false }))
    ctx.fake.answer('pullMessages', () => ok({ messages: [], hasMore: false }))
    ctx.fake.answer('listGroupInvites', () => ok({ invites: [] }))
  }
  const answerOk = () => ctx.fake.answer('setConversationNotificationStatus', (d) => ok({ ...d, at: 60 }))

  it('mutes here at once and tells the server with a durable job, only the latest change per chat', async () => {
    setConversationNotificationStatus(ctx, BOB, 'doNotDisturb')
    expect(status()).toBe('doNotDisturb')
    expect(jobs()).toEqual([{ conversation: BOB, status: 'doNotDisturb' }])
    expect(ctx.kicks).toBe(1)
    // Saying it again writes no job.
    setConversationNotificationStatus(ctx, BOB, 'doNotDisturb')
    expect(jobs()).toHaveLength(1)

    // A refusal for now keeps the job; changed twice more meanwhile, one frame says the last.
    ctx.fake.answer('setConversationNotificationStatus', () => fail(Code.RATE_LIMITED))
    await outbox.flush()
    expect(jobs()).toHaveLength(1)
    setConversationNotificationStatus(ctx, BOB, 'notify')
    setConversationNotificationStatus(ctx, BOB, 'doNotDisturb')
    answerOk()
    await outbox.flush()
    expect(sentFrames()).toEqual([
      { conversation: BOB, status: 'doNotDisturb' },
      { conversation: BOB, status: 'doNotDisturb' },
    ])
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('a chat the server does not know as mine stays muted here, its job settled', async () => {
    setConversationNotificationStatus(ctx, BOB, 'doNotDisturb')
    ctx.fake.answer('setConversationNotificationStatus', () => fail(Code.NOT_A_MEMBER))
    await outbox.flush()
    expect(ctx.store.outboxSize()).toBe(0)
    expect(status()).toBe('doNotDisturb')
  })

  it('a change from my other device: set here with the summary the renderer hears, and no job back', () => {
    pushed('doNotDisturb')
    expect(status()).toBe('doNotDisturb')
    expect(ctx.events('conversationChanged').at(-1)).toEqual([
      expect.objectContaining({ conversation: BOB, notificationStatus: 'doNotDisturb' }),
    ])
    expect(ctx.store.outboxSize()).toBe(0)
    // A replay of the same changes nothing and says nothing.
    const told = ctx.events('conversationChanged').length
    pushed('doNotDisturb')
    expect(ctx.events('conversationChanged')).toHaveLength(told)
    pushed('notify')
    expect(status()).toBe('notify')
    // For a group not known here yet, the chat is made and muted.
    sync.onPush({
      type: 'push',
      event: 'conversationNotificationStatusChanged',
      data: { conversation: TEAM, status: 'doNotDisturb', at: 70 },
      eventSeq: ++eventSeq,
    } as PushFrame)
    expect(ctx.store.notificationStatus(TEAM)).toBe('doNotDisturb')
  })

  it('a change of mine still waiting to be sent outlives the older server mark, until it is sent', async () => {
    ctx.fake.isOpen = false
    setConversationNotificationStatus(ctx, BOB, 'doNotDisturb')
    // Back online: the other device's older unmute (replayed) and syncState do not undo it.
    pushed('notify')
    expect(status()).toBe('doNotDisturb')
    answerSync(() => [bobState('notify')], eventSeq)
    ctx.fake.isOpen = true
    await sync.run()
    expect(status()).toBe('doNotDisturb')
    answerOk()
    await outbox.flush()
    expect(sentFrames()).toEqual([{ conversation: BOB, status: 'doNotDisturb' }])
    // Sent: the server's word counts again (a later unmute on my other device).
    pushed('notify')
    expect(status()).toBe('notify')
  })

  it('syncState gives a new or resyncing device every chat mark; an older server that sends none changes nothing', async () => {
    let state = bobState('doNotDisturb')
    answerSync(() => [state], 0)
    await sync.run()
    expect(status()).toBe('doNotDisturb')
    expect(ctx.events('conversationChanged').at(-1)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ conversation: BOB, notificationStatus: 'doNotDisturb' }),
      ]),
    )
    state = bobState()
    await sync.run()
    expect(status()).toBe('doNotDisturb')
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('a syncState older than an event applied here does not undo it', async () => {
    // The unmute from my other device arrived first (pushed across server nodes), then a reply
    // read before it: its lastEventSeq is behind this device's.
    pushed('doNotDisturb')
    pushed('notify')
    answerSync(() => [bobState('doNotDisturb')], eventSeq - 1)
    await sync.run()
    expect(status()).toBe('notify')
  })
})
