/**
 * The reader decides what their receipts reveal (src/server/ops/receiptPrivacy.ts): a read that is
 * not shared reaches the reader's own devices and nobody else, single chats are reciprocal, and in
 * groups a member who hides is counted apart, never as "not read yet".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/server/server'
import type { WireMessage } from '../../src/shared/protocol'
import { clientMsgId, connectOne, connectUser, startTestServer, TestClient, text } from './helpers'

const receiptEvents = (pushes: { event: string }[]) =>
  pushes.filter((p) =>
    ['messageRead', 'conversationRead', 'groupMessageRead', 'receiptResponse'].includes(p.event),
  )

describe('who learns that a message was read', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  async function send(from: TestClient, to: TestClient, body = 'hello'): Promise<WireMessage> {
    const { message } = await from.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: to.userId },
      content: text(body),
    })
    return message
  }

  it('a reader who does not share: the sender learns "delivered", the reader’s devices still sync the read', async () => {
    const alice = await connectOne(server)
    const [bob, bobLaptop] = await connectUser(server, { devices: 2 })
    await alice.call('updateSettings', { requireDeliveryAck: true, requireReadAck: true })
    await bob.call('updateSettings', { shareReadReceipts: false })
    const m = await send(alice, bob)
    const toAlice = { type: 'private' as const, targetId: alice.userId }

    expect(await bob.call('ackMessageRead', { messageUIds: [m.messageUId] })).toEqual({
      accepted: [m.messageUId],
      rejected: [],
    })
    // A private read reads as a delivery to the sender, never as "read".
    expect((await alice.nextPush('messageDelivered')).data.messageUIds).toEqual([m.messageUId])
    expect(await bob.call('ackConversationRead', { conversation: toAlice, seq: m.seq })).toEqual({
      readSeq: m.seq,
    })
    expect((await bobLaptop.nextPush('conversationRead')).data).toMatchObject({
      from: bob.userId,
      seq: m.seq,
    })
    expect(receiptEvents(await alice.barrier())).toEqual([])
    const seen = await alice.call('syncState', {})
    expect(seen.conversations[0]).toMatchObject({
      peerReadSeq: 0,
      peerDeliveredSeq: m.seq,
      readReceiptsShared: false,
    })
    const own = await bobLaptop.call('syncState', {})
    expect(own.conversations[0]).toMatchObject({ readSeq: m.seq, unreadCount: 0, readReceiptsShared: false })
  })

  it('is reciprocal in single chats: who hides their receipts sees none of the peer’s', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    await alice.call('updateSettings', { requireReadAck: true, shareReadReceipts: false })
    const m = await send(alice, bob)
    await bob.call('ackMessageRead', { messageUIds: [m.messageUId] })
    await bob.call('ackConversationRead', {
      conversation: { type: 'private', targetId: alice.userId },
      seq: m.seq,
    })
    expect(receiptEvents(await alice.barrier())).toEqual([])
    expect((await alice.call('syncState', {})).conversations[0]).toMatchObject({ peerReadSeq: 0 })
  })

  it('a conversation may override the account, either way, and both sides hear of it', async () => {
    const alice = await connectOne(server)
    const [bob, bobLaptop] = await connectUser(server, { devices: 2 })
    await alice.call('updateSettings', { requireReadAck: true })
    const first = await send(alice, bob, 'one')
    const withAlice = { type: 'private' as const, targetId: alice.userId }

    expect(
      await bob.call('setConversationReceiptSharing', { conversation: withAlice, shareReadReceipts: false }),
    ).toEqual({
      shareReadReceipts: false,
      readReceiptsShared: false,
    })
    expect((await alice.nextPush('receiptSharingChanged')).data).toEqual({
      conversation: { type: 'private', targetId: bob.userId },
      shareReadReceipts: null,
      readReceiptsShared: false,
    })
    expect((await bobLaptop.nextPush('receiptSharingChanged')).data).toMatchObject({
      shareReadReceipts: false,
    })
    await bob.call('ackMessageRead', { messageUIds: [first.messageUId] })
    expect(receiptEvents(await alice.barrier())).toEqual([])

    // Account off, this conversation on: shared here.
    await bob.call('updateSettings', { shareReadReceipts: false })
    await bob.call('setConversationReceiptSharing', { conversation: withAlice, shareReadReceipts: true })
    const second = await send(alice, bob, 'two')
    await bob.call('ackMessageRead', { messageUIds: [second.messageUId] })
    expect((await alice.nextPush('messageRead')).data.messageUIds).toEqual([second.messageUId])
  })

  it('in groups, a member who hides is counted apart: neither read nor "not read yet"', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const carol = await connectOne(server)
    const { group } = await alice.call('createGroup', { name: 'g', memberIds: [bob.userId, carol.userId] })
    await bob.call('updateSettings', { shareReadReceipts: false })
    // Every member hears the group again, with one member hiding their receipts.
    const changed = await alice.nextPush('groupChanged', (d) => d.group?.membersHidingReceipts !== undefined)
    expect(changed.data.group?.membersHidingReceipts).toBe(1)
    const { message } = await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: group.groupId },
      content: text('who reads this?'),
      isNeedGroupAck: true,
    })
    const ack = { groupId: group.groupId, acks: [{ messageUId: message.messageUId }] }
    expect(await bob.call('ackGroupMessageRead', ack)).toEqual({
      accepted: [],
      rejected: [],
      private: [message.messageUId],
    })
    expect(receiptEvents(await alice.barrier())).toEqual([])
    const readers = await alice.call('fetchGroupReadAcks', { messageUId: message.messageUId, pageSize: 10 })
    expect(readers).toMatchObject({ acks: [], count: 0, total: 2, hidden: 1 })
    const unread = await alice.call('fetchGroupUnreadMembers', {
      messageUId: message.messageUId,
      pageSize: 10,
    })
    expect(unread).toEqual({ members: [{ userId: carol.userId, displayName: carol.userId }], hidden: 1 })

    await carol.call('ackGroupMessageRead', ack)
    expect((await alice.nextPush('groupMessageRead')).data.acks[0]).toMatchObject({ from: carol.userId })
    expect(
      await alice.call('fetchGroupReadAcks', { messageUId: message.messageUId, pageSize: 10 }),
    ).toMatchObject({
      count: 1,
      total: 2,
      hidden: 1,
    })
    expect(
      (await alice.call('fetchGroupUnreadMembers', { messageUId: message.messageUId, pageSize: 10 })).members,
    ).toEqual([])
  })
})
