/** Group receipt operations of the engine (Easemob E6–E8, RongCloud R1–R6), without sockets. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ackGroupMessageRead,
  fetchGroupReadAcks,
  sendReadReceiptRequest,
  sendReadReceiptResponseV2,
} from '../../../src/main/engine/ops/groupReceipts'
import { sendMessage } from '../../../src/main/engine/ops/messages'
import { Code, CodedError, ok } from '../../../src/shared/codes'
import { groupWire, ME, TEAM, teamGroup, testContext, type TestContext } from '../fakeContext'

const codeOf = (code: number) => expect.objectContaining({ code }) as CodedError

describe('group read acks (Easemob)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
    ctx.store.upsertGroup(teamGroup('member'), 1)
  })
  afterEach(() => ctx.store.close())

  it('acks once per member, marks the message read and answered, and queues one ack', () => {
    const m = groupWire(1, { isNeedGroupAck: true })
    ctx.store.storeServerMessages(ME, [m], 1)
    ackGroupMessageRead(ctx, m.messageUId, 'seen on desktop')
    expect(ctx.store.outbox('ackGroupMessageRead', 10)).toEqual([
      expect.objectContaining({
        ref: m.messageUId,
        payload: JSON.stringify({ groupId: 'g_team', ext: 'seen on desktop' }),
      }),
    ])
    const changed = ctx.events('messagesChanged').flat()
    expect(changed.at(-1)).toMatchObject({ isUnread: false, readReceiptInfo: { hasRespond: true } })
    ackGroupMessageRead(ctx, m.messageUId, undefined)
    expect(ctx.store.outbox('ackGroupMessageRead', 10)).toHaveLength(1)
  })

  it('refuses messages that did not ask, and my own', () => {
    const plain = groupWire(1)
    const mine = groupWire(2, { senderId: ME, isNeedGroupAck: true })
    ctx.store.storeServerMessages(ME, [plain, mine], 1)
    expect(() => ackGroupMessageRead(ctx, plain.messageUId, undefined)).toThrow(
      codeOf(Code.RECEIPT_NOT_APPLICABLE),
    )
    expect(() => ackGroupMessageRead(ctx, mine.messageUId, undefined)).toThrow(
      codeOf(Code.NOT_MESSAGE_RECEIVER),
    )
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('asks for receipts only where the shared E8 rule allows, before anything is written', () => {
    ctx.store.upsertGroup(teamGroup('member', { whoMayRequest: 'ownerAndAdmins' }), 2)
    expect(() =>
      sendMessage(
        ctx,
        TEAM,
        { type: 'text', text: 'who read this?' },
        { isNeedGroupAck: true, channelId: '' },
      ),
    ).toThrow(codeOf(Code.GROUP_ACK_NOT_ALLOWED))
    ctx.store.upsertGroup(teamGroup('member', { maxGroupSize: 2 }), 3)
    expect(() =>
      sendMessage(
        ctx,
        TEAM,
        { type: 'text', text: 'who read this?' },
        { isNeedGroupAck: true, channelId: '' },
      ),
    ).toThrow(codeOf(Code.GROUP_TOO_LARGE))
    expect(ctx.store.outboxSize()).toBe(0)
    expect(ctx.store.history(TEAM, undefined, 10).list).toEqual([])
    // Without asking, the same member may write: one message, one send job, the outbox woken.
    const sent = sendMessage(
      ctx,
      TEAM,
      { type: 'text', text: 'hello' },
      { isNeedGroupAck: false, channelId: '' },
    )
    expect(sent).toMatchObject({ status: 'sending', revision: 0 })
    expect(ctx.store.outbox('send', 10)).toHaveLength(1)
    expect(ctx.kicks).toBe(1)
  })

  it('reads the reader list from the server without writing or telling anything (reads never write)', async () => {
    const mine = groupWire(1, { senderId: ME, isNeedGroupAck: true })
    ctx.store.storeServerMessages(ME, [mine], 1)
    const before = ctx.store.view(ctx.store.messageByUid(mine.messageUId)!.localId)
    ctx.emitted.length = 0
    const page = {
      acks: [
        { ackId: 'k1', messageUId: mine.messageUId, groupId: 'g_team', from: 'bob', timestamp: 5, count: 1 },
      ],
      count: 1,
      total: 2,
      hidden: 0,
    }
    ctx.fake.answer('fetchGroupReadAcks', () => ok(page))
    expect(await fetchGroupReadAcks(ctx, mine.messageUId, 20, undefined)).toEqual(page)
    expect(ctx.emitted).toEqual([])
    expect(ctx.store.view(ctx.store.messageByUid(mine.messageUId)!.localId)).toEqual(before)
  })
})

describe('read receipt requests and responses (RongCloud)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
    ctx.store.upsertGroup(teamGroup('member'), 1)
  })
  afterEach(() => ctx.store.close())

  it('builds the messageList from SQLite (R6), answers once, and marks the messages read', () => {
    const [a, b, other] = [groupWire(1), groupWire(2, { senderId: 'carol' }), groupWire(3)]
    ctx.store.storeServerMessages(ME, [a, b, other], 1)
    for (const m of [a, b]) ctx.store.markReceiptRequested(m.messageUId, 2)
    const { messageList } = sendReadReceiptResponseV2(ctx, 'g_team', undefined, undefined)
    expect(messageList).toEqual({ bob: [a.messageUId], carol: [b.messageUId] })
    expect(ctx.store.outbox('receiptResponse', 10)).toHaveLength(1)
    expect(
      ctx
        .events('messagesChanged')
        .flat()
        .map((m) => [m.messageUId, m.isUnread, m.readReceiptInfo.hasRespond]),
    ).toEqual([
      [a.messageUId, false, true],
      [b.messageUId, false, true],
    ])
    expect(sendReadReceiptResponseV2(ctx, 'g_team', undefined, undefined)).toEqual({ messageList: {} })
    expect(ctx.store.outbox('receiptResponse', 10)).toHaveLength(1)
  })

  it('answers a user id named after an Object property like any other', () => {
    const m = groupWire(1, { senderId: '__proto__' })
    ctx.store.storeServerMessages(ME, [m], 1)
    ctx.store.markReceiptRequested(m.messageUId, 2)
    const { messageList } = sendReadReceiptResponseV2(ctx, 'g_team', undefined, undefined)
    expect(Object.entries(messageList)).toEqual([['__proto__', [m.messageUId]]])
  })

  it('asks the group about a message of mine only after the server accepted, then marks it asked', async () => {
    const mine = groupWire(1, { senderId: ME })
    ctx.store.storeServerMessages(ME, [mine], 1)
    ctx.fake.answer('sendReadReceiptRequest', () => ({ code: Code.GROUP_ACK_DISABLED, msg: 'off' }))
    await expect(sendReadReceiptRequest(ctx, 'g_team', mine.messageUId)).rejects.toMatchObject({
      code: Code.GROUP_ACK_DISABLED,
    })
    expect(ctx.events('messagesChanged')).toEqual([])
    ctx.fake.answer('sendReadReceiptRequest', () => ok({}))
    await sendReadReceiptRequest(ctx, 'g_team', mine.messageUId)
    expect(ctx.events('messagesChanged')[0]).toEqual([
      expect.objectContaining({
        readReceiptInfo: expect.objectContaining({ isReceiptRequestMessage: true }),
      }),
    ])
  })
})
