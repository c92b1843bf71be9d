/**
 * Real engines against a real server whose retention deleted what they missed (issue #11, gap 7):
 * receipt events past their window (the engine resyncs in full and still shows every receipt of
 * its messages), and messages past their retention (the engine skips the gap once, instead of
 * asking for it on every sync). The server runs on a fake clock; nothing waits on time.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GroupInfo, Message } from '../../src/shared/model'
import { cleanup, data, reopen, signIn, testServer, type Device } from './harness'

afterEach(cleanup)

const DAY = 24 * 60 * 60 * 1000
const text = (t: string) => ({ type: 'text', text: t }) as const

function messageOf(d: Device, uid: string): Message | undefined {
  const row = d.engine.store?.messageByUid(uid)
  return row ? d.engine.store?.view(row.localId) : undefined
}

async function sendAndWait(
  from: Device,
  conv: object,
  body: string,
  isNeedGroupAck = false,
): Promise<string> {
  const sent = data<Message>(await from.dispatch('sendMessage', [conv, text(body), { isNeedGroupAck }]))
  return from.until(
    `"${body}" sent`,
    () => from.engine.store?.messageByLocalId(Number(sent.messageId))?.messageUId,
  )
}

describe('full resync after the server pruned receipt events', () => {
  it('shows every receipt of my messages that happened while I was away', async () => {
    const clock = { now: Date.UTC(2030, 5, 1) }
    const server = await testServer({ now: () => clock.now, retention: { eventsDays: 1 } })
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await signIn(server, 'carol')
    data(await alice.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
    const toBob = { type: 'private', targetId: 'bob' } as const
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', ['bob', 'carol']]))
    const team = { type: 'group', targetId: group.groupId } as const
    await bob.until('group known', () => bob.engine.store?.group(group.groupId))

    const readOne = await sendAndWait(alice, toBob, 'read one by one')
    const readMark = await sendAndWait(alice, toBob, 'read by the conversation mark')
    const acked = await sendAndWait(alice, team, 'ack me', true)
    const requested = await sendAndWait(alice, team, 'answer me')
    data(await alice.dispatch('sendReadReceiptRequest', [group.groupId, requested]))
    await bob.until('everything arrived', () =>
      [readOne, readMark, acked, requested].every((uid) => messageOf(bob, uid)),
    )
    await bob.until(
      'receipt request known',
      () => messageOf(bob, requested)?.readReceiptInfo.isReceiptRequestMessage,
    )
    // bob's delivery receipts reach alice while she is online.
    await alice.until('delivered', () => messageOf(alice, readMark)?.isDelivered)
    const profile = alice.profileDir
    await alice.stop()

    // While alice is away, bob reads everything, one way or another.
    data(await bob.dispatch('ackMessageRead', [readOne]))
    data(await bob.dispatch('ackConversationRead', [{ type: 'private', targetId: 'alice' }]))
    data(await bob.dispatch('ackGroupMessageRead', [acked]))
    data(await bob.dispatch('sendReadReceiptResponseV2', [group.groupId]))
    await bob.engine.flushOutbox()
    expect(bob.engine.store?.outboxSize()).toBe(0)

    // Long after: the server's sweep deletes those receipt events.
    clock.now += 2 * DAY
    expect((await server.sweep()).events).toBeGreaterThanOrEqual(4)

    const back = await reopen(profile, server)
    expect(messageOf(back, readOne)).toMatchObject({ isDelivered: true, isReceiverRead: true })
    expect(messageOf(back, readMark)).toMatchObject({ isDelivered: true, isReceiverRead: true })
    expect(messageOf(back, acked)).toMatchObject({ groupAckCount: 1 })
    expect(messageOf(back, requested)?.readReceiptInfo.readCount).toBe(1)
    // And it goes on from the server's event log: a new receipt arrives live as before.
    const more = await sendAndWait(back, toBob, 'after the resync')
    await bob.until('arrived', () => messageOf(bob, more))
    data(await bob.dispatch('ackMessageRead', [more]))
    await back.until('read live', () => messageOf(back, more)?.isReceiverRead)
  })

  it('learns a receipt request it missed when its events were pruned', async () => {
    const clock = { now: Date.UTC(2030, 5, 1) }
    const server = await testServer({ now: () => clock.now, retention: { eventsDays: 1 } })
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', ['bob']]))
    await bob.until('group known', () => bob.engine.store?.group(group.groupId))
    const uid = await sendAndWait(alice, { type: 'group', targetId: group.groupId }, 'asked later')
    await bob.until('arrived', () => messageOf(bob, uid))
    const profile = bob.profileDir
    await bob.stop()
    data(await alice.dispatch('sendReadReceiptRequest', [group.groupId, uid]))
    clock.now += 2 * DAY
    await server.sweep()
    const back = await reopen(profile, server)
    expect(messageOf(back, uid)?.readReceiptInfo).toMatchObject({
      isReceiptRequestMessage: true,
      hasRespond: false,
    })
    // R6: it is answered from SQLite like any other.
    const answered = data<{ messageList: Record<string, string[]> }>(
      await back.dispatch('sendReadReceiptResponseV2', [group.groupId]),
    )
    expect(answered.messageList).toEqual({ alice: [uid] })
  })
})

describe('messages the server no longer keeps', () => {
  it('are skipped once: the engine syncs what is kept and is not behind afterwards', async () => {
    const clock = { now: Date.UTC(2030, 5, 1) }
    const server = await testServer({ now: () => clock.now, retention: { messagesDays: 1 } })
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const toBob = { type: 'private', targetId: 'bob' } as const
    await sendAndWait(alice, toBob, 'hello')
    await bob.until('first message', () =>
      bob.engine.store?.conversation({ type: 'private', targetId: 'alice' }),
    )
    const profile = bob.profileDir
    await bob.stop()
    for (const body of ['old 1', 'old 2', 'old 3']) await sendAndWait(alice, toBob, body)
    clock.now += 2 * DAY
    const kept = [await sendAndWait(alice, toBob, 'kept 1'), await sendAndWait(alice, toBob, 'kept 2')]
    expect((await server.sweep()).messages).toBe(4)

    const back = await reopen(profile, server)
    const conv = { type: 'private', targetId: 'alice' } as const
    await back.until('kept messages', () => kept.every((uid) => messageOf(back, uid)))
    expect(back.engine.store?.conversation(conv)).toMatchObject({ lastSeq: 6, syncedSeq: 6 })
    expect(back.engine.store?.conversationsBehind()).toEqual([])
    // The first message it had stays in its own history; the deleted ones never arrived.
    const history = back.engine.store?.history(conv, undefined, 10)
    expect(history?.list.map((m) => m.content)).toEqual([text('kept 2'), text('kept 1'), text('hello')])
  })
})
