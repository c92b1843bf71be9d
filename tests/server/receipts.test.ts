import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { WireMessage } from '../../src/shared/protocol'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, connectUser, login, startTestServer, TestClient, text } from './helpers'

/** The pushes other than messages themselves. */
function receiptPushes(pushes: { event: string }[]) {
  return pushes.filter((push) => push.event !== 'message')
}

describe('single-chat receipts', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  async function send(from: TestClient, to: TestClient, n: number): Promise<WireMessage[]> {
    const sent: WireMessage[] = []
    for (let i = 0; i < n; i++) {
      const { message } = await from.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: to.userId },
        content: text(`message ${i}`),
      })
      sent.push(message)
    }
    return sent
  }

  it('delivers messageDelivered and messageRead to every device of the sender, once', async () => {
    const [alice, aliceLaptop] = await connectUser(server, { devices: 2 })
    const bob = await connectOne(server)
    const [m1, m2] = await send(alice, bob, 2)
    const uids = [m1!.messageUId, m2!.messageUId]

    const delivered = await bob.call('ackDelivered', { messageUIds: uids })
    expect(delivered).toEqual({ accepted: uids, rejected: [] })
    for (const device of [alice, aliceLaptop]) {
      const push = await device.nextPush('messageDelivered')
      expect(push.data).toMatchObject({
        conversation: { type: 'private', targetId: bob.userId },
        messageUIds: uids,
        by: bob.userId,
      })
      expect(push.eventSeq).toBe(1)
    }

    // Again: accepted (idempotent), but no second event.
    expect(await bob.call('ackDelivered', { messageUIds: uids })).toEqual({ accepted: uids, rejected: [] })
    const read = await bob.call('ackMessageRead', { messageUIds: [m1!.messageUId, m1!.messageUId] })
    expect(read).toEqual({ accepted: [m1!.messageUId], rejected: [] })
    const readPush = await alice.nextPush('messageRead')
    expect(readPush.data.messageUIds).toEqual([m1!.messageUId])
    expect(readPush.eventSeq).toBe(2)
    await bob.call('ackMessageRead', { messageUIds: [m1!.messageUId] })
    expect(receiptPushes(await alice.barrier())).toEqual([])
    expect((await aliceLaptop.nextPush('messageRead')).eventSeq).toBe(2)
    expect(receiptPushes(await aliceLaptop.barrier())).toEqual([])
    // The reader's side gets nothing for message receipts.
    expect(receiptPushes(await bob.barrier())).toEqual([])
  })

  it('rejects acks per message: unknown, not the receiver, group messages', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const stranger = await connectOne(server)
    const [m] = await send(alice, bob, 1)
    const { group } = await alice.call('createGroup', { name: 'g', memberIds: [bob.userId] })
    const groupMessage = await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: group.groupId },
      content: text('group'),
    })
    const unknown = 'AAAA-BBBB-CCCC-DDDD'

    const byStranger = await stranger.call('ackMessageRead', { messageUIds: [m!.messageUId] })
    expect(byStranger.accepted).toEqual([])
    expect(byStranger.rejected).toEqual([
      expect.objectContaining({ messageUId: m!.messageUId, code: Code.NOT_MESSAGE_RECEIVER }),
    ])
    const bySender = await alice.call('ackDelivered', { messageUIds: [m!.messageUId] })
    expect(bySender.rejected[0]?.code).toBe(Code.NOT_MESSAGE_RECEIVER)

    const mixed = await bob.call('ackDelivered', {
      messageUIds: [unknown, groupMessage.message.messageUId, m!.messageUId],
    })
    expect(mixed.accepted).toEqual([m!.messageUId])
    expect(mixed.rejected.map((r) => [r.messageUId, r.code])).toEqual([
      [unknown, Code.MESSAGE_NOT_FOUND],
      [groupMessage.message.messageUId, Code.RECEIPT_NOT_APPLICABLE],
    ])
    expect((await alice.nextPush('messageDelivered')).data.messageUIds).toEqual([m!.messageUId])
  })

  it('ackConversationRead moves the watermark forward only and tells the peer and the reader’s other devices', async () => {
    const alice = await connectOne(server)
    const [bob, bobLaptop] = await connectUser(server, { devices: 2 })
    await send(alice, bob, 4)
    const conversation = { type: 'private' as const, targetId: alice.userId }

    expect(await bob.call('ackConversationRead', { conversation, seq: 3 })).toEqual({ readSeq: 3 })
    const toPeer = await alice.nextPush('conversationRead')
    expect(toPeer.data).toMatchObject({
      conversation: { type: 'private', targetId: bob.userId },
      from: bob.userId,
      to: alice.userId,
      seq: 3,
    })
    expect(toPeer.eventSeq).toBe(1)
    const toOtherDevice = await bobLaptop.nextPush('conversationRead')
    expect(toOtherDevice.data).toMatchObject({ conversation, from: bob.userId, to: alice.userId, seq: 3 })
    expect(toOtherDevice.eventSeq).toBe(1)

    // Backwards and repeated reads change nothing and say nothing.
    expect(await bob.call('ackConversationRead', { conversation, seq: 1 })).toEqual({ readSeq: 3 })
    expect(await bob.call('ackConversationRead', { conversation, seq: 3 })).toEqual({ readSeq: 3 })
    // Past the end: clamped to the last seq.
    expect(await bob.call('ackConversationRead', { conversation, seq: 1000 })).toEqual({ readSeq: 4 })
    expect((await alice.nextPush('conversationRead')).data.seq).toBe(4)
    expect(receiptPushes(await alice.barrier())).toEqual([])
    expect(receiptPushes(await bob.barrier())).toEqual([])

    const aliceState = await alice.call('syncState', {})
    expect(aliceState.conversations[0]).toMatchObject({ peerReadSeq: 4, peerDeliveredSeq: 4, readSeq: 0 })
    expect(aliceState.lastEventSeq).toBe(2)
    const bobState = await bobLaptop.call('syncState', {})
    expect(bobState.conversations[0]).toMatchObject({ readSeq: 4, unreadCount: 0 })
  })

  it('refuses ackConversationRead outside one’s conversations', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    await alice.expectError(
      'ackConversationRead',
      { conversation: { type: 'private', targetId: bob.userId }, seq: 1 },
      Code.NOT_A_MEMBER,
    )
    const { group } = await bob.call('createGroup', { name: 'closed', memberIds: [] })
    await alice.expectError(
      'ackConversationRead',
      { conversation: { type: 'group', targetId: group.groupId }, seq: 1 },
      Code.NOT_A_MEMBER,
    )
  })

  it('lets an offline device catch up on receipt events with syncEvents', async () => {
    const [alice] = await connectUser(server)
    const bob = await connectOne(server)
    const messages = await send(alice!, bob, 3)
    await alice!.close()

    await bob.call('ackDelivered', { messageUIds: messages.map((m) => m.messageUId) })
    await bob.call('ackMessageRead', { messageUIds: [messages[0]!.messageUId] })
    await bob.call('ackConversationRead', {
      conversation: { type: 'private', targetId: alice!.userId },
      seq: 2,
    })

    const back = await TestClient.connect(server, await login(server, alice!.userId, alice!.session.password))
    const state = await back.call('syncState', {})
    expect(state.lastEventSeq).toBe(3)
    const page1 = await back.call('syncEvents', { afterEventSeq: 0, limit: 2 })
    expect(page1.hasMore).toBe(true)
    expect(page1.events.map((e) => [e.eventSeq, e.event])).toEqual([
      [1, 'messageDelivered'],
      [2, 'messageRead'],
    ])
    expect(page1.events[0]).toMatchObject({
      type: 'push',
      data: { messageUIds: messages.map((m) => m.messageUId), by: bob.userId },
    })
    const page2 = await back.call('syncEvents', { afterEventSeq: 2, limit: 2 })
    expect(page2).toMatchObject({ hasMore: false })
    expect(page2.events).toEqual([
      expect.objectContaining({
        eventSeq: 3,
        event: 'conversationRead',
        data: expect.objectContaining({ seq: 2 }),
      }),
    ])
    expect(state.conversations[0]).toMatchObject({ peerReadSeq: 2 })
  })
})
