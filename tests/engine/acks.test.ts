/**
 * Acknowledgements and mentions in the engine (issue 15), against an in-memory store and a scripted
 * link: my ack (at once here, durable in the outbox, the server's time once taken, undone), the
 * sender's count and mention dots from pushes, reminders, "Waiting for me" and its count, and the
 * CSV export.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  ackMessage,
  csvCell,
  exportMessageAcks,
  getMessageAcks,
  getPendingAckMessages,
  remindUnacknowledged,
  toCsv,
  undoAckMessage,
} from '../../src/main/engine/ops/acks'
import { sendMessage } from '../../src/main/engine/ops/messages'
import { Outbox } from '../../src/main/engine/outbox/outbox'
import { PENDING_ACKS_SQL } from '../../src/main/engine/store/acks'
import { Sync } from '../../src/main/engine/sync/sync'
import type { AckListPage, AckListState } from '../../src/shared/acks'
import { Code, CodedError, fail, ok } from '../../src/shared/codes'
import type { Message } from '../../src/shared/model'
import type { PushFrame, WireMessage } from '../../src/shared/protocol'
import { groupWire, ME, TEAM, teamGroup, testContext, wire, type TestContext } from './fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const
const text = (t: string) => ({ type: 'text', text: t }) as const

function viewOf(ctx: TestContext, uid: string): Message {
  const row = ctx.store.messageByUid(uid)
  const m = row && ctx.store.view(row.localId)
  if (!m) throw new Error(`no message ${uid}`)
  return m
}

type Stored = Message & { messageUId: string }

/** Stores server messages as a push would, and returns their views. */
function receive(ctx: TestContext, ...messages: WireMessage[]): Stored[] {
  ctx.store.storeServerMessages(ME, messages, 1)
  return messages.map((m) => viewOf(ctx, m.messageUId) as Stored)
}

async function codeOf(fn: () => unknown): Promise<number | undefined> {
  try {
    await fn()
  } catch (err) {
    if (err instanceof CodedError) return err.code
    throw err
  }
  return undefined
}

describe('my acknowledgements', () => {
  let ctx: TestContext
  let outbox: Outbox
  beforeEach(() => {
    ctx = testContext()
    outbox = new Outbox(ctx, { backoff: { minMs: 60_000, maxMs: 60_000 } })
    // An ack reads the message: its read mark goes out too.
    ctx.fake.answer('ackConversationRead', ({ seq }) => ok({ readSeq: seq }))
  })
  afterEach(async () => {
    await outbox.close()
    ctx.store.close()
  })

  it('an ack shows at once, leaves "Waiting for me", reads the message, and goes out once', async () => {
    const [m] = receive(ctx, wire(1, { needAck: true }), wire(2))
    expect(m).toMatchObject({ needAck: true, myAckTime: null, isUnread: true })
    expect(getPendingAckMessages(ctx, 50)).toEqual({
      messages: [expect.objectContaining({ seq: 1 })],
      total: 1,
    })

    const acked = ackMessage(ctx, m!.messageId)
    expect(acked).toMatchObject({ myAckTime: expect.any(Number), isUnread: false })
    expect(acked.revision).toBeGreaterThan(m!.revision)
    expect(ctx.events('pendingAcksChanged')).toEqual([{ count: 0 }])
    expect(
      ctx
        .events('messagesChanged')
        .flat()
        .map((x) => x.messageUId),
    ).toContain(m!.messageUId)
    expect(getPendingAckMessages(ctx, 50)).toEqual({ messages: [], total: 0 })
    // Twice: nothing more to send.
    expect(ackMessage(ctx, m!.messageId).myAckTime).toBe(acked.myAckTime)
    expect(ctx.store.outbox('ack', 10)).toHaveLength(1)

    ctx.fake.answer('ackMessage', ({ messageUIds }) =>
      ok({ accepted: messageUIds.map((u) => ({ messageUId: u, at: 777 })), rejected: [] }),
    )
    await outbox.flush()
    expect(ctx.fake.sent.filter((s) => s.op === 'ackMessage').map((s) => s.data)).toEqual([
      { messageUIds: [m!.messageUId] },
    ])
    // The server's time replaces this device's.
    expect(viewOf(ctx, m!.messageUId).myAckTime).toBe(777)
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('acks given offline wait in the outbox and go out in one frame once connected', async () => {
    const list = receive(ctx, ...[1, 2, 3].map((s) => wire(s, { needAck: true })))
    ctx.fake.isOpen = false
    for (const m of list) ackMessage(ctx, m.messageId)
    await outbox.flush()
    expect(ctx.fake.sent).toEqual([])
    expect(getPendingAckMessages(ctx, 50).total).toBe(0)

    ctx.fake.isOpen = true
    ctx.fake.answer('ackMessage', ({ messageUIds }) =>
      ok({ accepted: messageUIds.map((u) => ({ messageUId: u, at: 500 })), rejected: [] }),
    )
    await outbox.flush()
    const frames = ctx.fake.sent.filter((s) => s.op === 'ackMessage')
    expect(frames).toHaveLength(1)
    expect((frames[0]?.data as { messageUIds: string[] }).messageUIds.sort()).toEqual(
      list.map((m) => m.messageUId).sort(),
    )
    expect(list.map((m) => viewOf(ctx, m.messageUId).myAckTime)).toEqual([500, 500, 500])
  })

  it('an ack the server refuses is taken back here: the message waits for me again', async () => {
    const [a, b] = receive(ctx, wire(1, { needAck: true }), wire(2, { needAck: true }))
    ackMessage(ctx, a!.messageId)
    ackMessage(ctx, b!.messageId)
    ctx.fake.answer('ackMessage', () =>
      ok({
        accepted: [{ messageUId: a!.messageUId, at: 600 }],
        rejected: [{ messageUId: b!.messageUId, code: Code.ACK_EXPIRED, msg: 'too old' }],
      }),
    )
    await outbox.flush()
    expect(viewOf(ctx, a!.messageUId).myAckTime).toBe(600)
    expect(viewOf(ctx, b!.messageUId).myAckTime).toBeNull()
    expect(ctx.events('pendingAcksChanged').at(-1)).toEqual({ count: 1 })
    expect(ctx.store.outboxSize()).toBe(0)
  })

  it('a refusal for now keeps the acks for the next pass', async () => {
    const [a] = receive(ctx, wire(1, { needAck: true }))
    ackMessage(ctx, a!.messageId)
    ctx.fake.answer('ackMessage', () => fail(Code.RATE_LIMITED, 'slow down'))
    await outbox.flush()
    expect(ctx.store.outbox('ack', 10)).toHaveLength(1)
    expect(viewOf(ctx, a!.messageUId).myAckTime).not.toBeNull()
  })

  it('refuses what cannot be acknowledged, with a typed error, changing nothing', async () => {
    const [plain, asking] = receive(ctx, wire(1), wire(2, { needAck: true }))
    ctx.store.upsertGroup(teamGroup('member', { ackValidityMs: 1000 } as never), 1)
    const [old] = receive(ctx, groupWire(1, { needAck: true, sentAt: 1 }))
    sendMessage(ctx, BOB, text('mine'), { isNeedGroupAck: false, channelId: '', needAck: true })
    const mine = ctx.store.history(BOB, undefined, 10).list.find((m) => m.senderUserId === ME)
    expect(await codeOf(() => ackMessage(ctx, plain!.messageId))).toBe(Code.ACK_NOT_REQUESTED)
    expect(await codeOf(() => ackMessage(ctx, mine!.messageId))).toBe(Code.NOT_AN_ACK_RECIPIENT)
    expect(await codeOf(() => ackMessage(ctx, '999999'))).toBe(Code.MESSAGE_NOT_FOUND)
    expect(await codeOf(() => ackMessage(ctx, old!.messageId))).toBe(Code.ACK_EXPIRED)
    expect(await codeOf(() => undoAckMessage(ctx, asking!.messageId))).toBe(Code.ACK_NOT_FOUND)
    expect(await codeOf(() => getMessageAcks(ctx, asking!.messageId, 'acked', 10, undefined))).toBe(
      Code.NOT_MESSAGE_SENDER,
    )
    expect(await codeOf(() => remindUnacknowledged(ctx, plain!.messageId))).toBe(Code.NOT_MESSAGE_SENDER)
    expect(ctx.store.outbox('ack', 10)).toEqual([])
    expect(ctx.fake.sent).toEqual([])
  })

  it('undo: an unsent ack is dropped here; a sent one asks the server, which may refuse', async () => {
    const [a, b] = receive(ctx, wire(1, { needAck: true }), wire(2, { needAck: true }))
    ctx.fake.isOpen = false
    ackMessage(ctx, a!.messageId)
    const undone = await undoAckMessage(ctx, a!.messageId)
    expect(undone.myAckTime).toBeNull()
    expect(ctx.store.outbox('ack', 10)).toEqual([])
    expect(ctx.events('pendingAcksChanged').at(-1)).toEqual({ count: 2 })

    ctx.fake.isOpen = true
    ackMessage(ctx, b!.messageId)
    ctx.fake.answer('ackMessage', ({ messageUIds }) =>
      ok({ accepted: messageUIds.map((u) => ({ messageUId: u, at: 900 })), rejected: [] }),
    )
    await outbox.flush()
    ctx.fake.answer('undoAckMessage', () => fail(Code.ACK_UNDO_WINDOW_PASSED, 'too late'))
    expect(await codeOf(() => undoAckMessage(ctx, b!.messageId))).toBe(Code.ACK_UNDO_WINDOW_PASSED)
    expect(viewOf(ctx, b!.messageUId).myAckTime).toBe(900)
    ctx.fake.answer('undoAckMessage', ({ messageUId }) => ok({ messageUId, undoneAt: 950 }))
    expect((await undoAckMessage(ctx, b!.messageId)).myAckTime).toBeNull()
    expect(getPendingAckMessages(ctx, 10).total).toBe(2)
  })

  it('sends needAck and mentions with my message; mentions are for groups only', async () => {
    ctx.store.upsertGroup(teamGroup('member'), 1)
    const m = sendMessage(ctx, TEAM, text('@bob please'), {
      isNeedGroupAck: false,
      channelId: '',
      needAck: true,
      mentionedInfo: { type: 'some', userIdList: ['bob'] },
    })
    expect(m).toMatchObject({
      needAck: true,
      ackCount: 0,
      mentionedInfo: { type: 'some', userIdList: ['bob'] },
    })
    expect(JSON.parse(ctx.store.outbox('send', 1)[0]!.payload)).toMatchObject({
      needAck: true,
      mentionedInfo: { type: 'some', userIdList: ['bob'] },
    })
    expect(
      await codeOf(() =>
        sendMessage(ctx, BOB, text('hi'), {
          isNeedGroupAck: false,
          channelId: '',
          mentionedInfo: { type: 'all', userIdList: [] },
        }),
      ),
    ).toBe(Code.INVALID_ARGUMENT)
  })

  it('"Waiting for me" is newest first across chats, served by its partial index', () => {
    receive(
      ctx,
      wire(1, { needAck: true, sentAt: 10 }),
      groupWire(1, { needAck: true, sentAt: 30 }),
      wire(2, { needAck: true, sentAt: 20 }),
      wire(3, { sentAt: 40 }),
    )
    const page = getPendingAckMessages(ctx, 2)
    expect(page.total).toBe(3)
    expect(page.messages.map((m) => m.sentTime)).toEqual([30, 20])
    const plan = ctx.store.db
      .prepare(`EXPLAIN QUERY PLAN ${PENDING_ACKS_SQL}`)
      .all(10)
      .map((r) => (r as { detail: string }).detail)
      .join('; ')
    expect(plan).toContain('messages_pending_ack')
    expect(plan).not.toContain('TEMP B-TREE')
  })

  it('a recalled message, and those of a group I left, no longer wait for me', () => {
    const [recalled] = receive(ctx, wire(1, { needAck: true }), wire(2, { needAck: true }))
    receive(ctx, groupWire(1, { needAck: true }))
    expect(getPendingAckMessages(ctx, 10).total).toBe(3)
    ctx.store.applyRecall(recalled!.messageUId, 50)
    expect(getPendingAckMessages(ctx, 10).total).toBe(2)
    ctx.store.applyConversationState(
      {
        conversation: TEAM,
        title: 'Team',
        lastSeq: 1,
        readSeq: 0,
        shareReadReceipts: null,
        readReceiptsShared: true,
        peerReadSeq: 0,
        peerDeliveredSeq: 0,
        joinedSeq: 0,
        leftSeq: 1,
        unreadCount: 1,
      },
      60,
    )
    expect(getPendingAckMessages(ctx, 10).messages.map((m) => m.seq)).toEqual([2])
    expect(ctx.store.acks.pendingCount()).toBe(1)
  })
})

describe('ack and mention pushes', () => {
  let ctx: TestContext
  let sync: Sync
  beforeEach(() => {
    ctx = testContext()
    sync = new Sync(ctx, { onRevoked: () => undefined })
  })
  afterEach(() => ctx.store.close())

  const push = (frame: { event: PushFrame['event']; data: unknown; eventSeq?: number }): void =>
    sync.onPush({ type: 'push', ...frame } as PushFrame)

  it('my ack on another device sets it here and empties "Waiting for me"; its undo clears it', () => {
    const [m] = receive(ctx, wire(1, { needAck: true }))
    const data = { conversation: BOB, messageUId: m!.messageUId, by: ME, at: 4242 }
    push({ event: 'messageAcked', data })
    expect(viewOf(ctx, m!.messageUId).myAckTime).toBe(4242)
    expect(ctx.events('messagesChanged').at(-1)).toEqual([expect.objectContaining({ myAckTime: 4242 })])
    expect(ctx.events('pendingAcksChanged')).toEqual([{ count: 0 }])
    push({ event: 'messageAcked', data: { ...data, at: 4300, undone: true } })
    expect(viewOf(ctx, m!.messageUId).myAckTime).toBeNull()
    expect(ctx.events('pendingAcksChanged').at(-1)).toEqual({ count: 1 })
  })

  it('an undo of an older ack keeps a newer one of mine still in the outbox', () => {
    const [m] = receive(ctx, wire(1, { needAck: true }))
    ackMessage(ctx, m!.messageId)
    push({
      event: 'messageAcked',
      data: { conversation: BOB, messageUId: m!.messageUId, by: ME, at: 1, undone: true },
    })
    expect(viewOf(ctx, m!.messageUId).myAckTime).not.toBeNull()
  })

  it("the sender's count follows the server's, up and down", () => {
    const mine = wire(1, { senderId: ME, to: 'bob', needAck: true, ackCount: 0 })
    receive(ctx, mine)
    const acked = { conversation: BOB, messageUId: mine.messageUId, by: 'bob', at: 5 }
    push({ event: 'messageAcked', data: { ...acked, count: 1 } })
    expect(viewOf(ctx, mine.messageUId).ackCount).toBe(1)
    push({ event: 'messageAcked', data: { ...acked, undone: true, count: 0 } })
    expect(viewOf(ctx, mine.messageUId).ackCount).toBe(0)
    expect(ctx.events('messagesChanged')).toHaveLength(2)
  })

  it('mentions: "mentions me" on received ones; a dot per member who read on mine', () => {
    const [some, all, other] = receive(
      ctx,
      groupWire(1, { mentionedInfo: { type: 'some', userIdList: [ME] } }),
      groupWire(2, { mentionedInfo: { type: 'all', userIdList: [] } }),
      groupWire(3, { mentionedInfo: { type: 'some', userIdList: ['carol'] } }),
    )
    expect([some?.mentionsMe, all?.mentionsMe, other?.mentionsMe]).toEqual([true, true, undefined])
    const mine = groupWire(4, { senderId: ME, mentionedInfo: { type: 'some', userIdList: ['bob', 'carol'] } })
    receive(ctx, mine)
    expect(viewOf(ctx, mine.messageUId).mentionReadBy).toEqual({})
    push({
      event: 'mentionRead',
      data: { conversation: TEAM, messageUId: mine.messageUId, userId: 'bob', at: 70 },
    })
    push({
      event: 'mentionRead',
      data: { conversation: TEAM, messageUId: mine.messageUId, userId: 'bob', at: 90 },
    })
    expect(viewOf(ctx, mine.messageUId).mentionReadBy).toEqual({ bob: 70 })
    expect(ctx.events('messagesChanged')).toHaveLength(1)
  })

  it('a reminder is told with the stored message, unless I acknowledged it already', () => {
    const [m] = receive(ctx, wire(1, { needAck: true }))
    const reminder = { conversation: BOB, messageUId: m!.messageUId, from: 'bob', at: 9, n: 2 }
    push({ event: 'ackReminder', data: reminder })
    expect(ctx.events('ackReminder')).toEqual([
      { message: expect.objectContaining({ messageUId: m!.messageUId }), from: 'bob', n: 2 },
    ])
    ackMessage(ctx, m!.messageId)
    push({ event: 'ackReminder', data: { ...reminder, n: 3 } })
    expect(ctx.events('ackReminder')).toHaveLength(1)
  })
})

describe('"Waiting for me" after being offline', () => {
  it('stores what the server lists and agrees with it, keeping acks still in the outbox', async () => {
    const ctx = testContext()
    const sync = new Sync(ctx, { onRevoked: () => undefined })
    // Here: three pending, one acked here whose ack was taken back elsewhere, one acked in the outbox.
    const [ackedElsewhere, stillPending, undoneElsewhere, queued] = receive(
      ctx,
      wire(1, { needAck: true, sentAt: 10 }),
      wire(2, { needAck: true, sentAt: 11 }),
      wire(3, { needAck: true, sentAt: 12, myAckAt: 20 }),
      wire(4, { needAck: true, sentAt: 13 }),
    )
    ackMessage(ctx, queued!.messageId)
    ctx.fake.isOpen = true
    const fresh = wire(5, { needAck: true, sentAt: 14 })
    const listed = [fresh, wire(2, { messageUId: stillPending!.messageUId, needAck: true, sentAt: 11 })]
    listed.push(wire(3, { messageUId: undoneElsewhere!.messageUId, needAck: true, sentAt: 12 }))
    listed.push(wire(4, { messageUId: queued!.messageUId, needAck: true, sentAt: 13 }))
    ctx.fake.answer('syncState', () =>
      ok({
        user: { userId: ME, displayName: ME },
        settings: { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: true },
        conversations: [],
        groups: [],
        lastEventSeq: 0,
        serverTime: 100,
        ackSettings: { undoWindowMs: 300_000, remindersPerMember: 5, reminderIntervalMs: 60_000 },
        pendingAcks: listed.length,
      }),
    )
    ctx.fake.answer('syncEvents', () => ok({ events: [], hasMore: false }))
    ctx.fake.answer('listGroupInvites', () => ok({ invites: [] }))
    ctx.fake.answer('getUsers', () => ok({ users: [] }))
    // Two pages, newest first.
    ctx.fake.answer('listPendingAcks', ({ cursor }) =>
      ok(
        cursor
          ? { messages: listed.slice(2), total: 4 }
          : { messages: listed.slice(0, 2), nextCursor: 'p2', total: 4 },
      ),
    )
    await sync.run()
    expect(ctx.fake.sent.filter((s) => s.op === 'listPendingAcks')).toHaveLength(2)
    expect(viewOf(ctx, fresh.messageUId)).toMatchObject({ needAck: true, myAckTime: null })
    expect(viewOf(ctx, ackedElsewhere!.messageUId).myAckTime).toBe(100)
    expect(viewOf(ctx, stillPending!.messageUId).myAckTime).toBeNull()
    expect(viewOf(ctx, undoneElsewhere!.messageUId).myAckTime).toBeNull()
    expect(viewOf(ctx, queued!.messageUId).myAckTime).not.toBeNull()
    expect(getPendingAckMessages(ctx, 10).messages.map((m) => m.seq)).toEqual([5, 3, 2])
    expect(ctx.events('pendingAcksChanged').at(-1)).toEqual({ count: 3 })
    expect(ctx.store.acks.settings()).toEqual({
      undoWindowMs: 300_000,
      remindersPerMember: 5,
      reminderIntervalMs: 60_000,
    })
    ctx.store.close()
  })
})

describe('the CSV export', () => {
  it('escapes cells for RFC 4180 and against formula injection', () => {
    expect(csvCell('plain')).toBe('plain')
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`)
    for (const lead of ['+', '-', '@', '\t', '\r'])
      expect(csvCell(`${lead}1`).includes(`'${lead}1`)).toBe(true)
    expect(csvCell('a=b')).toBe('a=b')
    expect(
      toCsv([
        ['a', 'b'],
        ['c', 'd'],
      ]),
    ).toBe('a,b\r\nc,d\r\n')
  })

  it('lists every page of every list, hidden recipients as hidden, times in ISO 8601 UTC', async () => {
    const ctx = testContext()
    const mine = wire(1, { senderId: ME, to: 'bob', needAck: true, sentAt: Date.UTC(2026, 11, 6, 9) })
    receive(ctx, mine)
    const t = Date.UTC(2026, 11, 6, 10, 0, 0)
    const counts = { acked: 2, read: 3, total: 5, hidden: 1 }
    const pages: Record<AckListState, Omit<AckListPage, 'state' | 'counts'>[]> = {
      acked: [
        {
          entries: [{ userId: 'bob', displayName: 'Bob, Jr.', ackedAt: t, readAt: t - 1000, reminded: 0 }],
          nextCursor: 'c1',
        },
        { entries: [{ userId: 'carol', displayName: '=cmd|calc', ackedAt: t + 1, reminded: 1 }] },
      ],
      readNotAcked: [{ entries: [{ userId: 'dave', displayName: 'Dave "D"', readAt: t + 2, reminded: 2 }] }],
      notRead: [{ entries: [{ userId: 'erin', displayName: 'Erin', reminded: 0 }] }],
      hidden: [{ entries: [{ userId: 'frank', displayName: '@frank', readAt: t, reminded: 0 }] }],
    }
    ctx.fake.answer('fetchMessageAcks', ({ state, cursor, messageUId }) => {
      expect(messageUId).toBe(mine.messageUId)
      const page = pages[state][cursor === 'c1' ? 1 : 0]
      return page ? ok({ ...page, state, counts }) : fail(Code.INVALID_ARGUMENT, 'no page')
    })
    const { fileName, csv } = await exportMessageAcks(ctx, viewOf(ctx, mine.messageUId).messageId)
    expect(fileName).toBe(`acknowledgements-2026-12-06-${mine.messageUId}.csv`)
    expect(csv.split('\r\n')).toEqual([
      'user_id,display_name,state,acked_at,read_at',
      'bob,"Bob, Jr.",acked,2026-12-06T10:00:00.000Z,2026-12-06T09:59:59.000Z',
      `carol,'=cmd|calc,acked,2026-12-06T10:00:00.001Z,`,
      'dave,"Dave ""D""",read_not_acked,,2026-12-06T10:00:00.002Z',
      'erin,Erin,not_read,,',
      `frank,'@frank,hidden,,`,
      '',
    ])
    ctx.store.close()
  })
})

describe('a sent message confirmed by the server', () => {
  it('keeps needAck and takes the count from the server copy', () => {
    const ctx = testContext()
    const m = sendMessage(ctx, BOB, text('ack please'), {
      isNeedGroupAck: false,
      channelId: '',
      needAck: true,
    })
    const payload = JSON.parse(ctx.store.outbox('send', 1)[0]!.payload) as { clientMsgId: string }
    const copy = wire(1, {
      senderId: ME,
      to: 'bob',
      clientMsgId: payload.clientMsgId,
      needAck: true,
      ackCount: 0,
    })
    const batch = ctx.store.storeServerMessages(ME, [copy], 2)
    expect(batch.changed).toEqual([
      expect.objectContaining({ messageId: m.messageId, needAck: true, seq: 1 }),
    ])
    const again = wire(1, { ...copy, ackCount: 1 })
    expect(ctx.store.storeServerMessages(ME, [again], 3).changed).toEqual([
      expect.objectContaining({ ackCount: 1 }),
    ])
    ctx.store.close()
  })
})
