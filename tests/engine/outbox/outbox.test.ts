/**
 * The outbox runner and its job kinds, with a scripted link: what goes out, in how many frames,
 * what is retried, and when a job is given up (its `attempts` against the kind's policy).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { sendMessage } from '../../../src/main/engine/ops/messages'
import { ackConversationRead } from '../../../src/main/engine/ops/receipts'
import { Outbox } from '../../../src/main/engine/outbox/outbox'
import { Code, fail, ok } from '../../../src/shared/codes'
import type { WireMessage } from '../../../src/shared/protocol'
import { groupWire, ME, teamGroup, testContext, wire, type TestContext } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const
const text = (t: string) => ({ type: 'text', text: t }) as const

/** The server's copy of a message sent with `data`, as its reply carries it. */
function accepted(data: { clientMsgId: string; content: WireMessage['content'] }, seq: number): WireMessage {
  return wire(seq, { senderId: ME, to: 'bob', clientMsgId: data.clientMsgId, content: data.content })
}

describe('the outbox', () => {
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
    vi.useRealTimers()
  })

  it('sends my messages in order, and says "sent" only once the job is gone', async () => {
    let seq = 0
    ctx.fake.answer('sendMessage', (d) => ok({ message: accepted(d, ++seq), duplicate: false }))
    sendMessage(ctx, BOB, text('one'), { isNeedGroupAck: false, channelId: '' })
    sendMessage(ctx, BOB, text('two'), { isNeedGroupAck: false, channelId: '' })
    const outboxWhenTold: number[] = []
    const emit = ctx.emit
    ctx.emit = (event, payload) => {
      if (event === 'messagesChanged') outboxWhenTold.push(ctx.store.outboxSize())
      emit(event, payload)
    }
    await outbox.flush()
    expect(ctx.fake.sent.map((s) => (s.data as { content: { text: string } }).content.text)).toEqual([
      'one',
      'two',
    ])
    expect(ctx.store.history(BOB, undefined, 10).list.map((m) => [m.seq, m.status])).toEqual([
      [2, 'sent'],
      [1, 'sent'],
    ])
    expect(outboxWhenTold).toEqual([0])
    expect(
      ctx
        .events('messagesChanged')
        .flat()
        .map((m) => m.status),
    ).toEqual(['sent', 'sent'])
  })

  it('marks a message the server refuses for good as failed, with its reason, and drops the job', async () => {
    ctx.fake.answer('sendMessage', () => fail(Code.USER_NOT_FOUND, 'no such user'))
    sendMessage(ctx, BOB, text('boo'), { isNeedGroupAck: false, channelId: '' })
    await outbox.flush()
    expect(ctx.store.outboxSize()).toBe(0)
    expect(ctx.events('messagesChanged').flat()).toEqual([
      expect.objectContaining({
        status: 'failed',
        failure: { code: Code.USER_NOT_FOUND, msg: 'no such user' },
      }),
    ])
  })

  it('keeps a refused job with its attempt counted, retries later, and gives up at the kind’s limit', async () => {
    vi.useFakeTimers()
    ctx.fake.answer('sendMessage', () => fail(Code.RATE_LIMITED, 'slow down'))
    sendMessage(ctx, BOB, text('busy'), { isNeedGroupAck: false, channelId: '' })
    await outbox.flush()
    expect(ctx.store.outbox('send', 10)).toEqual([expect.objectContaining({ attempts: 1 })])
    expect(ctx.events('messagesChanged')).toEqual([])
    // Each retry is one more refusal; the 20th gives the message up, with the reason.
    for (let i = 2; i <= 20; i++) await vi.advanceTimersByTimeAsync(60_000)
    expect(ctx.fake.ops().filter((op) => op === 'sendMessage')).toHaveLength(20)
    expect(ctx.store.outboxSize()).toBe(0)
    expect(ctx.events('messagesChanged').flat()).toEqual([
      expect.objectContaining({
        status: 'failed',
        failure: { code: Code.RATE_LIMITED, msg: 'gave up after 20 refusals: slow down' },
      }),
    ])
  })

  it('does not count a lost connection as a refusal: the job waits, however long', async () => {
    ctx.fake.answer('sendMessage', () => {
      ctx.fake.isOpen = false
      return fail(Code.SERVER_UNREACHABLE, 'gone')
    })
    sendMessage(ctx, BOB, text('later'), { isNeedGroupAck: false, channelId: '' })
    await outbox.flush()
    expect(ctx.store.outbox('send', 10)).toEqual([expect.objectContaining({ attempts: 0 })])
    ctx.fake.isOpen = true
    ctx.fake.answer('sendMessage', (d) => ok({ message: accepted(d, 1), duplicate: false }))
    await outbox.flush()
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('drops a job whose stored payload fails its schema, and fails its message with the reason', async () => {
    const sent = sendMessage(ctx, BOB, text('x'), { isNeedGroupAck: false, channelId: '' })
    ctx.store.db.prepare(`UPDATE outbox SET payload = '{"clientMsgId": 5}' WHERE kind = 'send'`).run()
    await outbox.flush()
    expect(ctx.fake.sent).toEqual([])
    expect(ctx.store.outboxSize()).toBe(0)
    expect(ctx.events('messagesChanged').flat()).toEqual([
      expect.objectContaining({
        messageId: sent.messageId,
        status: 'failed',
        failure: { code: Code.INTERNAL, msg: 'its stored payload is unreadable' },
      }),
    ])
  })

  it('holds delivery receipts a random moment, then sends every one that came meanwhile in one frame', async () => {
    vi.useFakeTimers()
    let now = 0
    ctx.now = () => now
    outbox = new Outbox(ctx, { deliveryReceiptDelay: { minMs: 200, maxMs: 1200 }, random: () => 0.5 })
    ctx.fake.answer('ackDelivered', (d) => ok({ accepted: d.messageUIds, rejected: [] }))
    const first = wire(1, { needDeliveryAck: true })
    ctx.store.storeServerMessages(ME, [first], now)
    await outbox.flush()
    expect(ctx.fake.sent).toEqual([])
    now = 400
    const second = wire(2, { needDeliveryAck: true })
    ctx.store.storeServerMessages(ME, [second], now)
    await outbox.flush()
    expect(ctx.fake.sent).toEqual([])
    // Held 200 + 0.5 × 1000 ms from the first: both go out together, once.
    now = 700
    await vi.advanceTimersByTimeAsync(700)
    expect(ctx.fake.sent).toEqual([
      { op: 'ackDelivered', data: { messageUIds: [first.messageUId, second.messageUId] } },
    ])
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('coalesces receipts: one frame per kind, one per group, the highest read mark per conversation', async () => {
    ctx.store.upsertGroup(teamGroup('member'), 1)
    const privates = [1, 2, 3].map((s) => wire(s, { needDeliveryAck: true }))
    ctx.store.storeServerMessages(ME, privates, 1)
    ackConversationRead(ctx, BOB)
    ctx.store.storeServerMessages(ME, [wire(4)], 2)
    ackConversationRead(ctx, BOB)
    const acked = [groupWire(1, { isNeedGroupAck: true }), groupWire(2, { isNeedGroupAck: true })]
    ctx.store.storeServerMessages(ME, acked, 3)
    for (const m of acked)
      ctx.store.respond(m.messageUId, 4, {
        kind: 'ackGroupMessageRead',
        ref: m.messageUId,
        payload: { groupId: 'g_team' },
      })
    for (const op of ['ackDelivered', 'ackGroupMessageRead', 'ackConversationRead'] as const)
      ctx.fake.answer(op, () => ok({ rejected: [] }) as never)
    await outbox.flush()
    expect(ctx.fake.sent).toEqual([
      { op: 'ackDelivered', data: { messageUIds: privates.map((m) => m.messageUId) } },
      {
        op: 'ackGroupMessageRead',
        data: { groupId: 'g_team', acks: acked.map((m) => ({ messageUId: m.messageUId })) },
      },
      { op: 'ackConversationRead', data: { conversation: BOB, seq: 4 } },
    ])
    expect(ctx.store.outboxSize()).toBe(0)
  })
})
