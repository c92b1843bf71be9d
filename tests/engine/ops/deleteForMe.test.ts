/**
 * Delete for me on all my devices (issue 13, H6), engine side: the local delete stays immediate and
 * queues a durable job; only messages the server has are told; the job's frames and answers; the
 * push from another device deletes the same way and says so with the same events.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { deleteMessageForMe } from '../../../src/main/engine/ops/messageActions'
import { sendMessage } from '../../../src/main/engine/ops/messages'
import { Outbox } from '../../../src/main/engine/outbox/outbox'
import { Sync } from '../../../src/main/engine/sync/sync'
import { Code, fail, ok } from '../../../src/shared/codes'
import type { ConversationState, PushFrame } from '../../../src/shared/protocol'
import { ME, testContext, wire, type TestContext } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const

/** The chat with Bob as syncState describes it. */
function bobState(lastSeq: number): ConversationState {
  return {
    conversation: BOB,
    title: 'Bob',
    lastSeq,
    readSeq: 0,
    shareReadReceipts: null,
    readReceiptsShared: true,
    peerReadSeq: 0,
    peerDeliveredSeq: 0,
    joinedSeq: 0,
    leftSeq: null,
    unreadCount: 0,
  }
}

describe('delete for me on all my devices', () => {
  let ctx: TestContext
  let outbox: Outbox
  beforeEach(() => {
    ctx = testContext()
    outbox = new Outbox(ctx, {
      backoff: { minMs: 60_000, maxMs: 60_000 },
      deliveryReceiptDelay: { minMs: 0, maxMs: 0 },
    })
  })
  afterEach(async () => {
    await outbox.close()
    ctx.store.close()
  })

  const localIdOf = (uid: string) => String(ctx.store.messageByUid(uid)?.localId)

  it('deletes here at once and tells the server with a durable job', async () => {
    const [a, b] = [wire(1), wire(2)]
    ctx.store.storeServerMessages(ME, [a, b], 10)
    expect(ctx.store.conversation(BOB)?.unreadCount).toBe(2)
    deleteMessageForMe(ctx, localIdOf(b.messageUId))
    expect(ctx.store.messageByUid(b.messageUId)).toBeUndefined()
    expect(ctx.store.conversation(BOB)?.unreadCount).toBe(1)
    expect(ctx.events('messagesDeleted')).toEqual([{ conversation: BOB, messageIds: [expect.any(String)] }])
    expect(ctx.store.outbox('deleteForMe', 10).map((j) => j.ref)).toEqual([b.messageUId])
    expect(ctx.kicks).toBe(1)

    // A refusal for now keeps the job; the next pass sends it in one frame with the next deletion.
    ctx.fake.answer('deleteMessagesForMe', () => fail(Code.RATE_LIMITED))
    await outbox.flush()
    expect(ctx.store.outbox('deleteForMe', 10)).toHaveLength(1)
    deleteMessageForMe(ctx, localIdOf(a.messageUId))
    ctx.fake.answer('deleteMessagesForMe', (d) => ok({ deleted: d.messageUIds, rejected: [] }))
    await outbox.flush()
    expect(ctx.fake.sent.filter((s) => s.op === 'deleteMessagesForMe').at(-1)?.data).toEqual({
      messageUIds: [b.messageUId, a.messageUId],
    })
    expect(ctx.store.outboxSize()).toBe(0)
    // A pull cannot bring them back.
    ctx.store.storeServerMessages(ME, [a, b], 20)
    expect(ctx.store.messageByUid(a.messageUId)).toBeUndefined()
  })

  it('keeps a message that never reached the server on this device only', async () => {
    ctx.fake.answer('sendMessage', () => fail(Code.USER_NOT_FOUND))
    const failed = sendMessage(
      ctx,
      BOB,
      { type: 'text', text: 'to nobody' },
      { isNeedGroupAck: false, channelId: '' },
    )
    await outbox.flush()
    expect(ctx.store.view(Number(failed.messageId))?.status).toBe('failed')
    deleteMessageForMe(ctx, failed.messageId)
    expect(ctx.store.view(Number(failed.messageId))).toBeUndefined()
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('a deletion from my other device: the same deletion and events; tombstones for the rest', () => {
    const sync = new Sync(ctx, { onRevoked: () => undefined })
    const [a, b, later] = [wire(1), wire(2), wire(3)]
    ctx.store.storeServerMessages(ME, [a, b], 10)
    const push = (eventSeq: number) =>
      sync.onPush({
        type: 'push',
        event: 'messagesDeletedForMe',
        data: { messageUIds: [b.messageUId, later.messageUId], at: 30 },
        eventSeq,
      } as PushFrame)
    push(1)
    expect(ctx.store.messageByUid(b.messageUId)).toBeUndefined()
    expect(ctx.store.conversation(BOB)?.unreadCount).toBe(1)
    expect(ctx.events('messagesDeleted')).toEqual([{ conversation: BOB, messageIds: [expect.any(String)] }])
    expect(ctx.events('conversationChanged')).toHaveLength(1)
    // Told, not telling: no job goes back to the server.
    expect(ctx.store.outboxSize()).toBe(0)
    // The message not here yet never arrives, by push or pull; a replay changes nothing.
    ctx.store.storeServerMessages(ME, [later], 40)
    expect(ctx.store.messageByUid(later.messageUId)).toBeUndefined()
    push(1)
    expect(ctx.events('messagesDeleted')).toHaveLength(1)
    // A receipt for it is not kept waiting for a message that will never come.
    sync.onPush({
      type: 'push',
      event: 'messageRead',
      data: { messageUIds: [later.messageUId], by: 'bob', at: 50 },
    } as PushFrame)
    expect(ctx.store.db.prepare('SELECT count(*) FROM pending_receipts').pluck().get()).toBe(0)
  })

  it("a pull's throughSeq moves synced over messages deleted for me: no gap pulled again", async () => {
    const sync = new Sync(ctx, { onRevoked: () => undefined })
    const [a, c] = [wire(1), wire(3)]
    ctx.store.applyConversationState(bobState(4), 5)
    // Seqs 2 and 4 were deleted for me on another device: the server leaves them out.
    ctx.fake.answer('pullMessages', () => ok({ messages: [a, c], hasMore: false, throughSeq: 4 }))
    await sync.pullConversation(BOB)
    expect(ctx.store.conversation(BOB)?.syncedSeq).toBe(4)
    expect(ctx.store.conversationsBehind()).toEqual([])
    expect(ctx.fake.ops().filter((op) => op === 'pullMessages')).toHaveLength(1)
  })

  it('a full resync (the events I missed were pruned) deletes what the server no longer returns to me', async () => {
    const sync = new Sync(ctx, { onRevoked: () => undefined })
    const [a, b, c] = [wire(1), wire(2), wire(3)]
    ctx.store.applyConversationState(bobState(3), 5)
    ctx.store.storeServerMessages(ME, [a, b, c], 10)
    expect(ctx.store.conversation(BOB)?.syncedSeq).toBe(3)
    ctx.fake.answer('syncState', () =>
      ok({
        user: { userId: ME, displayName: ME },
        settings: { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: true },
        conversations: [bobState(3)],
        groups: [],
        lastEventSeq: 9,
        serverTime: 20,
      }),
    )
    let replays = 0
    ctx.fake.answer('syncEvents', () =>
      ok(replays++ === 0 ? { events: [], hasMore: false, prunedThrough: 9 } : { events: [], hasMore: false }),
    )
    // Bob's "2" was deleted for me on my other device; the event saying so is gone from the log.
    ctx.fake.answer('pullMessages', () => ok({ messages: [a, c], hasMore: false, throughSeq: 3 }))
    await sync.run()
    expect(ctx.store.messageByUid(b.messageUId)).toBeUndefined()
    expect(ctx.store.messageByUid(a.messageUId)).toBeDefined()
    expect(ctx.store.messageByUid(c.messageUId)).toBeDefined()
    expect(ctx.store.conversation(BOB)?.unreadCount).toBe(2)
    expect(ctx.events('messagesDeleted')).toEqual([{ conversation: BOB, messageIds: [expect.any(String)] }])
  })
})
