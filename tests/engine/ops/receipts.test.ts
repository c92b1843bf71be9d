/** Single-chat receipt operations of the engine, on an in-memory store with a scripted link. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ackConversationRead, ackMessageRead } from '../../../src/main/engine/ops/receipts'
import { Code, CodedError } from '../../../src/shared/codes'
import { ME, testContext, wire, type TestContext } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const

describe('ackMessageRead (Easemob, E3)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
  })
  afterEach(() => ctx.store.close())

  it('marks the message read in one change, queues the receipt its sender asked for, and moves the read mark', () => {
    const [asked, quiet] = [wire(1, { needReadAck: true }), wire(2)]
    ctx.store.storeServerMessages(ME, [asked, quiet], 1)
    ackMessageRead(ctx, asked.messageUId)
    const [changed] = ctx.events('messagesChanged')
    expect(changed).toEqual([
      expect.objectContaining({ messageUId: asked.messageUId, isUnread: false, revision: 1 }),
    ])
    expect(ctx.store.outbox('ackMessageRead', 10).map((j) => j.ref)).toEqual([asked.messageUId])
    // Everything up to seq 1 is read: the read mark for my other devices is queued too.
    expect(ctx.store.outbox('ackConversationRead', 10)).toHaveLength(1)
    expect(ctx.store.conversation(BOB)).toMatchObject({ readSeq: 1, unreadCount: 1 })
    expect(ctx.events('conversationChanged').at(-1)?.[0]).toMatchObject({ unreadCount: 1 })
    expect(ctx.kicks).toBe(1)

    // The message that did not ask is read here, and no receipt goes to its sender.
    ackMessageRead(ctx, quiet.messageUId)
    expect(ctx.store.outbox('ackMessageRead', 10)).toHaveLength(1)
    expect(ctx.store.conversation(BOB)).toMatchObject({ readSeq: 2, unreadCount: 0 })
  })

  it('acknowledges once: a second call changes nothing and reports the message as it is', () => {
    const m = wire(1, { needReadAck: true })
    ctx.store.storeServerMessages(ME, [m], 1)
    ackMessageRead(ctx, m.messageUId)
    const revision = ctx.events('messagesChanged')[0]?.[0]?.revision
    ackMessageRead(ctx, m.messageUId)
    expect(ctx.store.outbox('ackMessageRead', 10)).toHaveLength(1)
    // The copy a stale renderer is given is the current one: same revision, already read.
    expect(ctx.events('messagesChanged')[1]).toEqual([expect.objectContaining({ isUnread: false, revision })])
  })

  it('refuses my own messages and unknown ones, writing nothing', () => {
    const mine = wire(1, { senderId: ME, to: 'bob' })
    ctx.store.storeServerMessages(ME, [mine], 1)
    expect(() => ackMessageRead(ctx, mine.messageUId)).toThrow(
      expect.objectContaining({ code: Code.NOT_MESSAGE_RECEIVER }) as CodedError,
    )
    expect(() => ackMessageRead(ctx, 'ZZZZ-ZZZZ-ZZZZ-ZZZZ')).toThrow(
      expect.objectContaining({ code: Code.MESSAGE_NOT_FOUND }) as CodedError,
    )
    expect(ctx.store.outboxSize()).toBe(0)
    expect(ctx.emitted).toEqual([])
  })
})

describe('ackConversationRead (Easemob, E4)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
  })
  afterEach(() => ctx.store.close())

  it('reads everything, reports each message it turned read, and queues one read mark', () => {
    ctx.store.storeServerMessages(
      ME,
      [1, 2, 3].map((s) => wire(s)),
      1,
    )
    ackConversationRead(ctx, BOB)
    expect(ctx.events('messagesChanged')[0]?.map((m) => [m.seq, m.isUnread])).toEqual([
      [3, false],
      [2, false],
      [1, false],
    ])
    expect(ctx.store.outbox('ackConversationRead', 10)).toHaveLength(1)
    expect(ctx.events('conversationChanged').at(-1)?.[0]).toMatchObject({ unreadCount: 0 })
    // Nothing left to read: a second call sends nothing.
    ackConversationRead(ctx, BOB)
    expect(ctx.store.outbox('ackConversationRead', 10)).toHaveLength(1)
  })

  it('refuses a conversation this profile does not have', () => {
    expect(() => ackConversationRead(ctx, { type: 'private', targetId: 'nobody' })).toThrow(
      expect.objectContaining({ code: Code.NOT_A_MEMBER }) as CodedError,
    )
  })
})
