import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { GroupReceiptSettings } from '../../src/shared/model'
import type { PushEvent } from '../../src/shared/protocol'
import { DEFAULT_GROUP_RECEIPT_SETTINGS } from '../../src/server/receiptSettings'
import type { RunningServer, ServerOptions } from '../../src/server/server'
import { clientMsgId, connectOne, connectUser, startTestServer, TestClient, text } from './helpers'

const DAY = 24 * 60 * 60 * 1000
const UNKNOWN_UID = 'ZZZZ-ZZZZ-ZZZZ-ZZZZ'

/** Pushes of `event` received and not yet taken, after a round trip (see TestClient.barrier). */
async function pending(client: TestClient, event: PushEvent) {
  return (await client.barrier()).filter((push) => push.event === event)
}

/** A reader's own ack as the sender sees it: with the read count (readers are not told it). */
function withCount<T extends object>(ack: T, count: number): T & { count: number } {
  return { ...ack, count }
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** Helpers bound to one server. */
function world(getServer: () => RunningServer) {
  const people = (n: number): Promise<TestClient[]> =>
    Promise.all(Array.from({ length: n }, () => connectOne(getServer())))

  async function makeGroup(owner: TestClient, members: TestClient[], name = 'Receipts'): Promise<string> {
    const { group } = await owner.call('createGroup', { name, memberIds: members.map((m) => m.userId) })
    return group.groupId
  }

  function sendRequest(from: TestClient, groupId: string, body: string, isNeedGroupAck: boolean) {
    return from.request('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: groupId },
      content: text(body),
      isNeedGroupAck,
    })
  }

  async function send(from: TestClient, groupId: string, body: string, isNeedGroupAck = true) {
    const reply = await sendRequest(from, groupId, body, isNeedGroupAck)
    if (reply.code !== 0) throw new Error(`send failed: ${reply.code} ${reply.msg}`)
    return reply.data.message
  }

  return { people, makeGroup, send, sendRequest }
}

describe('group read receipts', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())
  const { people, makeGroup, send, sendRequest } = world(() => server)

  describe('Easemob model: isNeedGroupAck + ackGroupMessageRead (E6, E7)', () => {
    it('acks reach every device of the sender, one groupMessageRead per frame, with rising counts', async () => {
      const [sender, senderLaptop] = await connectUser(server, { devices: 2 })
      const [a, b, c] = await people(3)
      const groupId = await makeGroup(sender!, [a!, b!, c!])
      const m1 = await send(sender!, groupId, 'one')
      const m2 = await send(sender!, groupId, 'two')
      expect(m1.memberCount).toBe(3)

      const first = await a!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: m1.messageUId, ext: 'seen on phone' }, { messageUId: m2.messageUId }],
      })
      expect(first.rejected).toEqual([])
      expect(first.accepted).toEqual([
        expect.objectContaining({
          messageUId: m1.messageUId,
          groupId,
          from: a!.userId,
          ext: 'seen on phone',
        }),
        expect.objectContaining({ messageUId: m2.messageUId, from: a!.userId }),
      ])
      expect(first.accepted[1]).not.toHaveProperty('ext')
      // Under countVisibility 'sender' a reader is not told the count; ack ids are opaque.
      for (const ack of first.accepted) expect(ack).not.toHaveProperty('count')
      expect(first.accepted[1]!.ackId).not.toBe(first.accepted[0]!.ackId)
      for (const device of [sender!, senderLaptop!]) {
        const push = await device.nextPush('groupMessageRead')
        expect(push.data.acks).toEqual(first.accepted.map((ack) => withCount(ack, 1)))
        expect(push.eventSeq).toBe(1)
        expect(await pending(device, 'groupMessageRead')).toEqual([])
      }

      const second = await b!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: m1.messageUId }] })
      expect(second.accepted[0]).toMatchObject({ from: b!.userId })
      expect((await sender!.nextPush('groupMessageRead')).data.acks).toEqual([
        withCount(second.accepted[0]!, 2),
      ])

      // A duplicate is accepted and returns the existing ack; nobody hears about it again.
      const again = await a!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: m1.messageUId, ext: 'different ext' }, { messageUId: m1.messageUId }],
      })
      expect(again).toEqual({ accepted: [first.accepted[0]], rejected: [] })

      // Out of order: c acks the later message first; each ack carries the count after it.
      const outOfOrder = await c!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: m2.messageUId }, { messageUId: m1.messageUId }],
      })
      const outOfOrderPush = await sender!.nextPush('groupMessageRead')
      expect(outOfOrderPush.data.acks.map((ack) => [ack.messageUId, ack.count])).toEqual([
        [m2.messageUId, 2],
        [m1.messageUId, 3],
      ])
      expect(outOfOrderPush.eventSeq).toBe(3)
      expect(await pending(sender!, 'groupMessageRead')).toEqual([])
      // Readers hear nothing about their own acks.
      for (const reader of [a!, b!, c!]) expect(await pending(reader, 'groupMessageRead')).toEqual([])

      const page = await sender!.call('fetchGroupReadAcks', { messageUId: m1.messageUId, pageSize: 10 })
      expect(page).toEqual({
        acks: [
          withCount(first.accepted[0]!, 1),
          withCount(second.accepted[0]!, 2),
          withCount(outOfOrder.accepted[1]!, 3),
        ],
        count: 3,
        total: 3,
        hidden: 0,
      })
      const unread = await sender!.call('fetchGroupUnreadMembers', {
        messageUId: m2.messageUId,
        pageSize: 10,
      })
      expect(unread).toEqual({ members: [{ userId: b!.userId, displayName: b!.userId }], hidden: 0 })
    })

    it('judges each ack on its own and names the reason for every refusal', async () => {
      const [owner, a, b, later, stranger] = await people(5)
      const groupId = await makeGroup(owner!, [a!, b!])
      const otherGroupId = await makeGroup(owner!, [a!], 'Other')
      const asked = await send(owner!, groupId, 'asked')
      const notAsked = await send(owner!, groupId, 'not asked', false)
      const byA = await send(a!, groupId, 'by a')
      const elsewhere = await send(owner!, otherGroupId, 'elsewhere')
      const { message: direct } = await owner!.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: a!.userId },
        content: text('direct'),
      })
      await owner!.call('addGroupMembers', { groupId, userIds: [later!.userId] })

      const reply = await a!.call('ackGroupMessageRead', {
        groupId,
        acks: [
          { messageUId: UNKNOWN_UID },
          { messageUId: elsewhere.messageUId },
          { messageUId: direct.messageUId },
          { messageUId: byA.messageUId },
          { messageUId: notAsked.messageUId },
          { messageUId: asked.messageUId },
        ],
      })
      expect(reply.accepted.map((ack) => ack.messageUId)).toEqual([asked.messageUId])
      expect(reply.rejected.map((r) => [r.messageUId, r.code])).toEqual([
        [UNKNOWN_UID, Code.MESSAGE_NOT_FOUND],
        [elsewhere.messageUId, Code.MESSAGE_NOT_FOUND],
        [direct.messageUId, Code.MESSAGE_NOT_FOUND],
        [byA.messageUId, Code.NOT_MESSAGE_RECEIVER],
        [notAsked.messageUId, Code.RECEIPT_NOT_APPLICABLE],
      ])
      for (const rejection of reply.rejected) expect(rejection.msg).not.toBe('')

      // A member who joined after the message could never read it.
      const late = await later!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: asked.messageUId }],
      })
      expect(late.rejected).toEqual([expect.objectContaining({ code: Code.NOT_MESSAGE_RECEIVER })])
      // The whole frame must come from a current member of that group.
      await stranger!.expectError(
        'ackGroupMessageRead',
        { groupId, acks: [{ messageUId: asked.messageUId }] },
        Code.NOT_A_MEMBER,
      )
      await b!.expectError(
        'ackGroupMessageRead',
        { groupId: otherGroupId, acks: [{ messageUId: elsewhere.messageUId }] },
        Code.NOT_A_MEMBER,
      )
      await a!.expectError(
        'ackGroupMessageRead',
        { groupId: 'g_missing', acks: [{ messageUId: asked.messageUId }] },
        Code.GROUP_NOT_FOUND,
      )
      const check = await owner!.call('fetchGroupReadAcks', { messageUId: asked.messageUId, pageSize: 5 })
      expect([check.count, check.total]).toEqual([1, 2])
    })

    it('keeps the ack of a member who leaves; a member who joins later is never eligible', async () => {
      const [owner, a, b, c, d] = await people(5)
      const groupId = await makeGroup(owner!, [a!, b!, c!])
      const message = await send(owner!, groupId, 'before the changes')
      await a!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: message.messageUId }] })
      await a!.call('leaveGroup', { groupId })
      await owner!.call('removeGroupMembers', { groupId, userIds: [b!.userId] })
      await owner!.call('addGroupMembers', { groupId, userIds: [d!.userId] })

      const acks = await owner!.call('fetchGroupReadAcks', { messageUId: message.messageUId, pageSize: 10 })
      expect(acks.acks.map((ack) => ack.from)).toEqual([a!.userId])
      expect([acks.count, acks.total]).toEqual([1, 3])
      // b left without reading: still one of the three who could, so still unread. d never could.
      const unread = await owner!.call('fetchGroupUnreadMembers', {
        messageUId: message.messageUId,
        pageSize: 10,
      })
      expect(unread.members.map((m) => m.userId)).toEqual([b!.userId, c!.userId].sort(byId))

      const late = await d!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: message.messageUId }],
      })
      expect(late.rejected[0]?.code).toBe(Code.NOT_MESSAGE_RECEIVER)
      await a!.expectError(
        'ackGroupMessageRead',
        { groupId, acks: [{ messageUId: message.messageUId }] },
        Code.NOT_A_MEMBER,
      )
      const counted = await c!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: message.messageUId }],
      })
      expect(counted.accepted).toHaveLength(1)
      const after = await owner!.call('fetchGroupReadAcks', { messageUId: message.messageUId, pageSize: 10 })
      expect(after.acks.map((ack) => [ack.from, ack.count])).toEqual([
        [a!.userId, 1],
        [c!.userId, 2],
      ])
    })

    it('pages acks by a cursor that stays right while new acks arrive, and unread members by user id', async () => {
      const [owner] = await people(1)
      const readers = await people(6)
      const groupId = await makeGroup(owner!, readers)
      const message = await send(owner!, groupId, 'page me')
      const ack = (reader: TestClient) =>
        reader.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: message.messageUId }] })
      const fetch = (startAckId?: string) =>
        owner!.call('fetchGroupReadAcks', {
          messageUId: message.messageUId,
          pageSize: 2,
          ...(startAckId === undefined ? {} : { startAckId }),
        })

      for (const reader of readers.slice(0, 3)) await ack(reader)
      const page1 = await fetch()
      expect(page1.acks.map((a) => a.from)).toEqual(readers.slice(0, 2).map((r) => r.userId))
      expect(page1.nextAckId).toBe(page1.acks[1]!.ackId)
      expect([page1.count, page1.total]).toEqual([3, 6])

      for (const reader of readers.slice(3, 5)) await ack(reader)
      const page2 = await fetch(page1.nextAckId)
      expect(page2.acks.map((a) => a.from)).toEqual(readers.slice(2, 4).map((r) => r.userId))
      expect(page2.count).toBe(5)
      const page3 = await fetch(page2.nextAckId)
      expect(page3.acks.map((a) => a.from)).toEqual([readers[4]!.userId])
      expect(page3).not.toHaveProperty('nextAckId')
      expect([...page1.acks, ...page2.acks, ...page3.acks].map((a) => a.count)).toEqual([1, 2, 3, 4, 5])
      // Past the end: an empty last page.
      expect(await fetch(page3.acks[0]!.ackId)).toEqual({ acks: [], count: 5, total: 6, hidden: 0 })

      // Unread members: the eligible readers without an ack, by user id, startUserId exclusive.
      const fresh = await send(owner!, groupId, 'nobody read this yet')
      const unreadPage = (startUserId?: string) =>
        owner!.call('fetchGroupUnreadMembers', {
          messageUId: fresh.messageUId,
          pageSize: 4,
          ...(startUserId === undefined ? {} : { startUserId }),
        })
      const sorted = readers.map((r) => r.userId).sort(byId)
      const u1 = await unreadPage()
      expect(u1.members.map((m) => m.userId)).toEqual(sorted.slice(0, 4))
      expect(u1.nextUserId).toBe(sorted[3])
      await readers
        .find((r) => r.userId === sorted[4])!
        .call('ackGroupMessageRead', { groupId, acks: [{ messageUId: fresh.messageUId }] })
      const u2 = await unreadPage(u1.nextUserId)
      expect(u2).toEqual({ members: [{ userId: sorted[5], displayName: sorted[5] }], hidden: 0 })
    })

    it('lets the offline sender catch up on groupMessageRead with syncEvents', async () => {
      const [sender, a, b] = await people(3)
      const groupId = await makeGroup(sender!, [a!, b!])
      const message = await send(sender!, groupId, 'read while I am away')
      await sender!.close()

      const ackA = await a!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: message.messageUId, ext: 'e' }],
      })
      const ackB = await b!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: message.messageUId }],
      })

      const back = await TestClient.connect(server, sender!.session)
      const state = await back.call('syncState', {})
      expect(state.lastEventSeq).toBe(2)
      const { events, hasMore } = await back.call('syncEvents', { afterEventSeq: 0, limit: 10 })
      expect(hasMore).toBe(false)
      expect(events).toEqual([
        {
          type: 'push',
          event: 'groupMessageRead',
          data: { acks: [withCount(ackA.accepted[0]!, 1)] },
          eventSeq: 1,
        },
        {
          type: 'push',
          event: 'groupMessageRead',
          data: { acks: [withCount(ackB.accepted[0]!, 2)] },
          eventSeq: 2,
        },
      ])
      await back.close()
    })

    it('shows counts and readers to the sender only, unless the owner lets every member see them', async () => {
      const [owner, sender, member, stranger] = await people(4)
      const groupId = await makeGroup(owner!, [sender!, member!])
      const message = await send(sender!, groupId, 'who read this?')
      const plain = await send(sender!, groupId, 'no receipts', false)
      const query = { messageUId: message.messageUId, pageSize: 5 }

      expect((await sender!.call('fetchGroupReadAcks', query)).total).toBe(2)
      for (const viewer of [member!, owner!]) {
        await viewer.expectError('fetchGroupReadAcks', query, Code.GROUP_ACK_COUNT_HIDDEN)
        await viewer.expectError('fetchGroupUnreadMembers', query, Code.GROUP_ACK_COUNT_HIDDEN)
      }
      await stranger!.expectError('fetchGroupReadAcks', query, Code.NOT_A_MEMBER)
      await stranger!.expectError('fetchGroupUnreadMembers', query, Code.NOT_A_MEMBER)

      await owner!.call('setGroupReceiptSettings', { groupId, settings: { countVisibility: 'all' } })
      expect((await member!.call('fetchGroupReadAcks', query)).count).toBe(0)
      expect((await member!.call('fetchGroupUnreadMembers', query)).members.map((m) => m.userId)).toEqual(
        [owner!.userId, member!.userId].sort(byId),
      )
      await stranger!.expectError('fetchGroupReadAcks', query, Code.NOT_A_MEMBER)

      await sender!.expectError(
        'fetchGroupReadAcks',
        { messageUId: plain.messageUId, pageSize: 5 },
        Code.RECEIPT_NOT_APPLICABLE,
      )
      await sender!.expectError(
        'fetchGroupUnreadMembers',
        { messageUId: UNKNOWN_UID, pageSize: 5 },
        Code.MESSAGE_NOT_FOUND,
      )
      const { message: direct } = await sender!.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: member!.userId },
        content: text('direct'),
      })
      await sender!.expectError(
        'fetchGroupReadAcks',
        { messageUId: direct.messageUId, pageSize: 5 },
        Code.RECEIPT_NOT_APPLICABLE,
      )

      // The sender keeps access to the readers of its own message after leaving.
      await sender!.call('leaveGroup', { groupId })
      expect((await sender!.call('fetchGroupReadAcks', query)).total).toBe(2)
    })
  })

  describe('RongCloud model: sendReadReceiptRequest + sendReadReceiptResponse (R1–R4, R8)', () => {
    it('asks members, collects responses into the same count and reader list', async () => {
      const [sender, senderLaptop] = await connectUser(server, { devices: 2 })
      const [a, b, c] = await people(3)
      const groupId = await makeGroup(sender!, [a!, b!, c!])
      const m1 = await send(sender!, groupId, 'one', false)
      const m2 = await send(sender!, groupId, 'two', false)
      const respond = (from: TestClient, uids: string[], channelId?: string) =>
        from.call('sendReadReceiptResponse', {
          groupId,
          messageList: { [sender!.userId]: uids },
          ...(channelId === undefined ? {} : { channelId }),
        })

      // No request yet: nothing to answer.
      const early = await respond(a!, [m1.messageUId])
      expect(early.rejected).toEqual([expect.objectContaining({ code: Code.RECEIPT_NOT_APPLICABLE })])

      expect(await sender!.call('sendReadReceiptRequest', { groupId, messageUId: m1.messageUId })).toEqual({})
      for (const member of [a!, b!, c!]) {
        const push = await member.nextPush('receiptRequest')
        expect(push.data).toEqual({
          groupId,
          channelId: '',
          messageUId: m1.messageUId,
          senderUserId: sender!.userId,
          at: expect.any(Number),
        })
        expect(push.eventSeq).toEqual(expect.any(Number))
      }
      // Idempotent: a second request pushes nothing.
      expect(await sender!.call('sendReadReceiptRequest', { groupId, messageUId: m1.messageUId })).toEqual({})
      await a!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: m1.messageUId },
        Code.NOT_MESSAGE_SENDER,
      )
      await sender!.call('sendReadReceiptRequest', { groupId, messageUId: m2.messageUId })
      for (const member of [a!, b!, c!]) {
        expect((await member.nextPush('receiptRequest')).data.messageUId).toBe(m2.messageUId)
        expect(await pending(member, 'receiptRequest')).toEqual([])
      }
      expect(await pending(sender!, 'receiptRequest')).toEqual([])

      expect(await respond(a!, [m1.messageUId, m2.messageUId])).toEqual({
        accepted: [m1.messageUId, m2.messageUId],
        rejected: [],
      })
      for (const device of [sender!, senderLaptop!]) {
        const push = await device.nextPush('receiptResponse')
        expect(push.data).toEqual({
          groupId,
          channelId: '',
          receivedUserId: a!.userId,
          messageUIdList: [m1.messageUId, m2.messageUId],
          at: expect.any(Number),
        })
        expect(push.eventSeq).toBe(1)
      }
      // A duplicate is accepted without a second push; out of order is fine; channelId is echoed.
      expect((await respond(a!, [m1.messageUId])).accepted).toEqual([m1.messageUId])
      expect(await respond(b!, [m2.messageUId, m1.messageUId], 'sub-1')).toEqual({
        accepted: [m2.messageUId, m1.messageUId],
        rejected: [],
      })
      const fromB = await sender!.nextPush('receiptResponse')
      expect(fromB.data).toMatchObject({
        channelId: 'sub-1',
        receivedUserId: b!.userId,
        messageUIdList: [m2.messageUId, m1.messageUId],
      })
      expect(fromB.eventSeq).toBe(2)
      expect(await pending(sender!, 'receiptResponse')).toEqual([])

      const acks = await sender!.call('fetchGroupReadAcks', { messageUId: m1.messageUId, pageSize: 10 })
      expect(acks.acks.map((ack) => [ack.from, ack.count, 'ext' in ack])).toEqual([
        [a!.userId, 1, false],
        [b!.userId, 2, false],
      ])
      expect([acks.count, acks.total]).toEqual([2, 3])
      const unread = await sender!.call('fetchGroupUnreadMembers', {
        messageUId: m1.messageUId,
        pageSize: 10,
      })
      expect(unread.members.map((m) => m.userId)).toEqual([c!.userId])
    })

    it('judges each response on its own and refuses strangers, later joiners and wrong senders', async () => {
      const [sender, a, b, later, stranger] = await people(5)
      const groupId = await makeGroup(sender!, [a!, b!])
      const otherGroupId = await makeGroup(sender!, [a!], 'Other')
      const requested = await send(sender!, groupId, 'requested', false)
      const byB = await send(b!, groupId, 'from b', false)
      const elsewhere = await send(sender!, otherGroupId, 'elsewhere', false)
      for (const [who, groupOf, message] of [
        [sender!, groupId, requested],
        [b!, groupId, byB],
        [sender!, otherGroupId, elsewhere],
      ] as const) {
        await who.call('sendReadReceiptRequest', { groupId: groupOf, messageUId: message.messageUId })
      }
      await sender!.call('addGroupMembers', { groupId, userIds: [later!.userId] })

      const reply = await a!.call('sendReadReceiptResponse', {
        groupId,
        messageList: {
          [sender!.userId]: [requested.messageUId, byB.messageUId, elsewhere.messageUId, UNKNOWN_UID],
          [b!.userId]: [byB.messageUId],
        },
      })
      expect(reply.accepted).toEqual([requested.messageUId, byB.messageUId])
      expect(reply.rejected.map((r) => [r.messageUId, r.code])).toEqual([
        [byB.messageUId, Code.MESSAGE_NOT_FOUND],
        [elsewhere.messageUId, Code.MESSAGE_NOT_FOUND],
        [UNKNOWN_UID, Code.MESSAGE_NOT_FOUND],
      ])
      // One push per sender, each listing only that sender's messages.
      expect((await sender!.nextPush('receiptResponse')).data.messageUIdList).toEqual([requested.messageUId])
      expect((await b!.nextPush('receiptResponse')).data.messageUIdList).toEqual([byB.messageUId])

      const own = await sender!.call('sendReadReceiptResponse', {
        groupId,
        messageList: { [sender!.userId]: [requested.messageUId] },
      })
      expect(own.rejected[0]?.code).toBe(Code.NOT_MESSAGE_RECEIVER)
      expect(await pending(later!, 'receiptRequest')).toEqual([])
      const late = await later!.call('sendReadReceiptResponse', {
        groupId,
        messageList: { [sender!.userId]: [requested.messageUId] },
      })
      expect(late.rejected[0]?.code).toBe(Code.NOT_MESSAGE_RECEIVER)

      const asStranger = { groupId, messageList: { [sender!.userId]: [requested.messageUId] } }
      await stranger!.expectError('sendReadReceiptResponse', asStranger, Code.NOT_A_MEMBER)
      await stranger!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: requested.messageUId },
        Code.NOT_A_MEMBER,
      )
      await sender!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: elsewhere.messageUId },
        Code.MESSAGE_NOT_FOUND,
      )
      await sender!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: UNKNOWN_UID },
        Code.MESSAGE_NOT_FOUND,
      )
      // A sender who left may no longer ask.
      const leaverMessage = await send(a!, groupId, 'then I leave', false)
      await a!.call('leaveGroup', { groupId })
      await a!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: leaverMessage.messageUId },
        Code.NOT_A_MEMBER,
      )
    })

    it('writes one reader fact whichever model the reader answers with', async () => {
      const [sender, a, b] = await people(3)
      const groupId = await makeGroup(sender!, [a!, b!])
      const message = await send(sender!, groupId, 'both models', true)
      await sender!.call('sendReadReceiptRequest', { groupId, messageUId: message.messageUId })

      const acked = await a!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: message.messageUId }],
      })
      await sender!.nextPush('groupMessageRead')
      // The same reader answering the request too: accepted, but it is the same fact.
      const responded = await a!.call('sendReadReceiptResponse', {
        groupId,
        messageList: { [sender!.userId]: [message.messageUId] },
      })
      expect(responded.accepted).toEqual([message.messageUId])
      expect(await pending(sender!, 'receiptResponse')).toEqual([])
      // b answers the RongCloud way; the Easemob ack of b is then a duplicate with b's fact.
      await b!.call('sendReadReceiptResponse', {
        groupId,
        messageList: { [sender!.userId]: [message.messageUId] },
      })
      await sender!.nextPush('receiptResponse')
      const bAck = await b!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: message.messageUId }],
      })
      expect(bAck.accepted[0]).toMatchObject({ from: b!.userId })
      expect(bAck.accepted[0]).not.toHaveProperty('ext')
      expect(await pending(sender!, 'groupMessageRead')).toEqual([])

      const page = await sender!.call('fetchGroupReadAcks', { messageUId: message.messageUId, pageSize: 10 })
      expect(page.acks).toEqual([withCount(acked.accepted[0]!, 1), withCount(bAck.accepted[0]!, 2)])
      expect([page.count, page.total]).toEqual([2, 2])
    })

    it('lets offline members catch up on receiptRequest and the offline sender on receiptResponse', async () => {
      const [sender, online, offline, leaver] = await people(4)
      const groupId = await makeGroup(sender!, [online!, offline!, leaver!])
      const message = await send(sender!, groupId, 'ask later', false)
      await leaver!.call('leaveGroup', { groupId })
      await offline!.close()

      await sender!.call('sendReadReceiptRequest', { groupId, messageUId: message.messageUId })
      await online!.nextPush('receiptRequest')
      // Only current members are asked.
      expect(await pending(leaver!, 'receiptRequest')).toEqual([])

      const back = await TestClient.connect(server, offline!.session)
      const { events } = await back.call('syncEvents', { afterEventSeq: 0, limit: 10 })
      expect(events).toEqual([
        {
          type: 'push',
          event: 'receiptRequest',
          data: {
            groupId,
            channelId: '',
            messageUId: message.messageUId,
            senderUserId: sender!.userId,
            at: expect.any(Number),
          },
          eventSeq: 1,
        },
      ])

      await sender!.close()
      await back.call('sendReadReceiptResponse', {
        groupId,
        messageList: { [sender!.userId]: [message.messageUId] },
      })
      const senderBack = await TestClient.connect(server, sender!.session)
      const senderEvents = await senderBack.call('syncEvents', { afterEventSeq: 0, limit: 10 })
      expect(senderEvents.events).toEqual([
        {
          type: 'push',
          event: 'receiptResponse',
          data: {
            groupId,
            channelId: '',
            receivedUserId: offline!.userId,
            messageUIdList: [message.messageUId],
            at: expect.any(Number),
          },
          eventSeq: 1,
        },
      ])
      await Promise.all([back.close(), senderBack.close()])
    })
  })

  describe('settings (E8)', () => {
    it('are changed by the owner only and reach every member with groupChanged', async () => {
      const [owner, admin, member, stranger] = await people(4)
      const { group } = await owner!.call('createGroup', {
        name: 'S',
        memberIds: [admin!.userId, member!.userId],
      })
      expect(group.receiptSettings).toEqual(DEFAULT_GROUP_RECEIPT_SETTINGS)
      expect(group.receiptSettings).toEqual({
        enabled: true,
        whoMayRequest: 'all',
        validityMs: 3 * DAY,
        maxGroupSize: 200,
        countVisibility: 'sender',
      })
      const groupId = group.groupId
      await owner!.call('setGroupMemberRole', { groupId, userId: admin!.userId, role: 'admin' })

      const change = { groupId, settings: { maxGroupSize: 50, countVisibility: 'all' as const } }
      await admin!.expectError('setGroupReceiptSettings', change, Code.PERMISSION_DENIED)
      await member!.expectError('setGroupReceiptSettings', change, Code.PERMISSION_DENIED)
      await stranger!.expectError('setGroupReceiptSettings', change, Code.NOT_A_MEMBER)
      await owner!.expectError(
        'setGroupReceiptSettings',
        { groupId, settings: { maxGroupSize: 0 } },
        Code.INVALID_ARGUMENT,
      )

      const expected: GroupReceiptSettings = {
        ...DEFAULT_GROUP_RECEIPT_SETTINGS,
        maxGroupSize: 50,
        countVisibility: 'all',
      }
      const reply = await owner!.call('setGroupReceiptSettings', change)
      expect(reply.group).toMatchObject({ groupId, myRole: 'owner', receiptSettings: expected })
      for (const [client, role] of [
        [owner!, 'owner'],
        [admin!, 'admin'],
        [member!, 'member'],
      ] as const) {
        const push = await client.nextPush(
          'groupChanged',
          (d) => d.group?.receiptSettings.maxGroupSize === 50,
        )
        expect(push.data.group).toMatchObject({ myRole: role, receiptSettings: expected })
      }
      expect(await pending(stranger!, 'groupChanged')).toEqual([])

      // Fields merge: a later change keeps the earlier overrides.
      await owner!.call('setGroupReceiptSettings', { groupId, settings: { whoMayRequest: 'ownerAndAdmins' } })
      const merged = { ...expected, whoMayRequest: 'ownerAndAdmins' }
      for (const client of [owner!, admin!, member!]) {
        const push = await client.nextPush(
          'groupChanged',
          (d) => d.group?.receiptSettings.whoMayRequest === 'ownerAndAdmins',
        )
        expect(push.data.group?.receiptSettings).toEqual(merged)
      }
      const state = await member!.call('syncState', {})
      expect(state.groups.find((g) => g.groupId === groupId)?.receiptSettings).toEqual(merged)

      // Setting what is already in effect changes nothing and pushes nothing.
      const clients = [owner!, admin!, member!]
      const earlier = await Promise.all(clients.map(async (c) => (await pending(c, 'groupChanged')).length))
      const same = await owner!.call('setGroupReceiptSettings', { groupId, settings: { maxGroupSize: 50 } })
      expect(same.group.receiptSettings).toEqual(merged)
      const later = await Promise.all(clients.map(async (c) => (await pending(c, 'groupChanged')).length))
      expect(later).toEqual(earlier)
    })

    it('refuse a message that asks for acks when disabled, not allowed or too large, and keep the rest', async () => {
      const [owner, admin, member, extra] = await people(4)
      const groupId = await makeGroup(owner!, [admin!, member!])
      await owner!.call('setGroupMemberRole', { groupId, userId: admin!.userId, role: 'admin' })
      const set = (settings: Partial<GroupReceiptSettings>) =>
        owner!.call('setGroupReceiptSettings', { groupId, settings })
      const before = await send(owner!, groupId, 'asked while enabled')
      const acked = await member!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: before.messageUId }],
      })

      await set({ enabled: false })
      expect((await sendRequest(member!, groupId, 'asks', true)).code).toBe(Code.GROUP_ACK_DISABLED)
      // Not stored: the next message takes the next seq.
      const plain = await send(member!, groupId, 'does not ask', false)
      expect(plain.seq).toBe(before.seq + 1)
      await owner!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: before.messageUId },
        Code.GROUP_ACK_DISABLED,
      )
      // Acks: a new one is refused, a retry of an existing one still succeeds.
      const disabled = await admin!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: before.messageUId }],
      })
      expect(disabled.rejected[0]?.code).toBe(Code.GROUP_ACK_DISABLED)
      const retry = await member!.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: before.messageUId }],
      })
      expect(retry.accepted).toEqual(acked.accepted)

      await set({ enabled: true, whoMayRequest: 'ownerAndAdmins' })
      expect((await sendRequest(member!, groupId, 'asks', true)).code).toBe(Code.GROUP_ACK_NOT_ALLOWED)
      await send(admin!, groupId, 'admins may')
      await send(owner!, groupId, 'the owner may')
      const memberPlain = await send(member!, groupId, 'members may ask the RongCloud way? no', false)
      await member!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: memberPlain.messageUId },
        Code.GROUP_ACK_NOT_ALLOWED,
      )

      await set({ whoMayRequest: 'all', maxGroupSize: 3 })
      await send(member!, groupId, 'three members: fine')
      const ownerPlain = await send(owner!, groupId, 'before the group grows', false)
      await owner!.call('addGroupMembers', { groupId, userIds: [extra!.userId] })
      const tooLarge = await sendRequest(owner!, groupId, 'four members', true)
      expect(tooLarge.code).toBe(Code.GROUP_TOO_LARGE)
      expect(tooLarge.msg).toMatch(/4 members.*3/)
      await owner!.expectError(
        'sendReadReceiptRequest',
        { groupId, messageUId: ownerPlain.messageUId },
        Code.GROUP_TOO_LARGE,
      )
    })

    it('take their server defaults from startServer({ groupReceipts })', async () => {
      const strict = await startTestServer({ groupReceipts: { enabled: false, maxGroupSize: 10 } })
      try {
        const [owner, member] = await Promise.all([connectOne(strict), connectOne(strict)])
        const { group } = await owner.call('createGroup', { name: 'Off', memberIds: [member.userId] })
        expect(group.receiptSettings).toEqual({
          ...DEFAULT_GROUP_RECEIPT_SETTINGS,
          enabled: false,
          maxGroupSize: 10,
        })
        const refused = await world(() => strict).sendRequest(owner, group.groupId, 'asks', true)
        expect(refused.code).toBe(Code.GROUP_ACK_DISABLED)
        // The owner may switch it on for this group.
        await owner.call('setGroupReceiptSettings', { groupId: group.groupId, settings: { enabled: true } })
        expect((await world(() => strict).sendRequest(owner, group.groupId, 'asks', true)).code).toBe(0)
      } finally {
        await strict.close()
      }
      await expect(startTestServer({ groupReceipts: { maxGroupSize: -1 } })).rejects.toThrow(
        /invalid groupReceipts settings: maxGroupSize/,
      )
      const bad = { groupReceipts: { colour: 'blue' } } as unknown as ServerOptions
      await expect(startTestServer(bad)).rejects.toThrow(/invalid groupReceipts settings/)
    })
  })
})

describe('group receipt validity (injected clock)', () => {
  let clock = Date.UTC(2030, 0, 1)
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer({ now: () => clock })
  })
  afterAll(() => server.close())
  const { people, makeGroup, send } = world(() => server)

  it('refuses acks, responses and requests once a message is older than validityMs', async () => {
    const [sender, a, b] = await people(3)
    const groupId = await makeGroup(sender!, [a!, b!])
    const easemob = await send(sender!, groupId, 'acks wanted')
    const rong = await send(sender!, groupId, 'requested right away', false)
    await sender!.call('sendReadReceiptRequest', { groupId, messageUId: rong.messageUId })
    const late = await send(sender!, groupId, 'requested too late', false)
    const early = await a!.call('ackGroupMessageRead', {
      groupId,
      acks: [{ messageUId: easemob.messageUId }],
    })

    clock += 3 * DAY // exactly at the limit: still valid
    await sender!.call('sendReadReceiptRequest', { groupId, messageUId: late.messageUId })
    await b!.call('sendReadReceiptResponse', {
      groupId,
      messageList: { [sender!.userId]: [late.messageUId] },
    })

    clock += 1
    const ack = await b!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: easemob.messageUId }] })
    expect(ack.rejected).toEqual([expect.objectContaining({ code: Code.GROUP_ACK_EXPIRED })])
    const response = await a!.call('sendReadReceiptResponse', {
      groupId,
      messageList: { [sender!.userId]: [rong.messageUId] },
    })
    expect(response.rejected).toEqual([expect.objectContaining({ code: Code.GROUP_ACK_EXPIRED })])
    const request = await send(sender!, groupId, 'fresh', false)
    clock += 3 * DAY + 1
    await sender!.expectError(
      'sendReadReceiptRequest',
      { groupId, messageUId: request.messageUId },
      Code.RECEIPT_REQUEST_EXPIRED,
    )
    // An ack that was already made is still accepted (a retry), with its original time.
    const retry = await a!.call('ackGroupMessageRead', {
      groupId,
      acks: [{ messageUId: easemob.messageUId }],
    })
    expect(retry.accepted).toEqual(early.accepted)

    // The owner may lengthen the validity for the group.
    await sender!.call('setGroupReceiptSettings', { groupId, settings: { validityMs: 30 * DAY } })
    const now = await b!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: easemob.messageUId }] })
    expect(now.accepted[0]).toMatchObject({ from: b!.userId, timestamp: clock })
    expect(
      (await sender!.nextPush('groupMessageRead', (d) => d.acks[0]?.from === b!.userId)).data.acks[0],
    ).toEqual(withCount(now.accepted[0]!, 2))
  })
})

describe('server --config', () => {
  const cli = join(import.meta.dirname, '../../src/server/cli.ts')
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'im-config-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  function run(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--log', 'warn', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    return { child, exited, output: () => ({ stdout, stderr }) }
  }

  function configFile(name: string, content: string): string {
    const file = join(dir, name)
    writeFileSync(file, content)
    return file
  }

  it('sets the server defaults from a valid file', { timeout: 30_000 }, async () => {
    const file = configFile(
      'valid.json',
      JSON.stringify({ groupReceipts: { enabled: false, maxGroupSize: 500, countVisibility: 'all' } }),
    )
    const proc = run(['--port', '0', '--data', join(dir, 'data'), '--config', file])
    try {
      const url = await new Promise<string>((resolve, reject) => {
        proc.child.stdout.on('data', () => {
          const match = /ws:\/\/\S+/.exec(proc.output().stdout)
          if (match) resolve(match[0])
        })
        void proc.exited.then((code) => reject(new Error(`exited with ${code}: ${proc.output().stderr}`)))
      })
      const httpUrl = url.replace(/^ws/, 'http').replace(/\/ws$/, '')
      const remote: RunningServer = {
        url,
        httpUrl,
        host: '127.0.0.1',
        port: Number(new URL(httpUrl).port),
        close: () => Promise.resolve(),
        sweep: () => Promise.reject(new Error('not in this process')),
        stats: () => {
          throw new Error('not in this process')
        },
      }
      const owner = await connectOne(remote)
      const { group } = await owner.call('createGroup', { name: 'Configured', memberIds: [] })
      expect(group.receiptSettings).toEqual({
        ...DEFAULT_GROUP_RECEIPT_SETTINGS,
        enabled: false,
        maxGroupSize: 500,
        countVisibility: 'all',
      })
      await owner.close()
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
    }
  })

  it('exits with 2 and one clear line on stderr for a bad file', { timeout: 30_000 }, async () => {
    const cases: [string, RegExp][] = [
      [
        configFile('syntax.json', '{ "groupReceipts": { "enabled": tru } }'),
        /syntax\.json is not valid JSON/,
      ],
      [
        configFile(
          'range.json',
          JSON.stringify({ groupReceipts: { maxGroupSize: 0, whoMayRequest: 'anyone' } }),
        ),
        /invalid config file \S*range\.json: groupReceipts\.whoMayRequest: .*groupReceipts\.maxGroupSize/,
      ],
      [
        configFile('unknown.json', JSON.stringify({ groupReceipt: { enabled: true } })),
        /invalid config file \S*unknown\.json: .*groupReceipt/,
      ],
      [join(dir, 'missing.json'), /cannot read config file \S*missing\.json: ENOENT/],
    ]
    await Promise.all(
      cases.map(async ([file, pattern]) => {
        const proc = run(['--port', '0', '--data', join(dir, 'never'), '--config', file])
        expect(await proc.exited).toBe(2)
        const { stdout, stderr } = proc.output()
        expect(stdout).toBe('')
        expect(stderr.trim().split('\n')).toHaveLength(1)
        expect(stderr).toMatch(pattern)
      }),
    )
  })
})
