/**
 * Group read receipts, both models (SPEC E6–E8, R1–R6, R8, R9), with a real server and three or more
 * real engines, each with its own SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GroupReadAckPage, GroupUnreadPage } from '../../src/shared/ipc'
import type { GroupInfo, Message } from '../../src/shared/model'
import { login, TestClient } from '../server/helpers'
import { cleanup, data, reopen, signIn, testServer, type Device } from './harness'

afterEach(cleanup)

const text = (t: string) => ({ type: 'text', text: t }) as const

function messageOf(d: Device, uid: string): Message | undefined {
  const row = d.engine.store?.messageByUid(uid)
  return row ? d.engine.store?.view(row.localId) : undefined
}

async function team(names = ['alice', 'bob', 'carol']) {
  const server = await testServer()
  const devices = await Promise.all(names.map((n) => signIn(server, n)))
  const [owner, ...members] = devices as [Device, ...Device[]]
  const group = data<GroupInfo>(await owner.dispatch('createGroup', ['Team', members.map((m) => m.userId)]))
  await Promise.all(members.map((m) => m.until('group known', () => m.engine.store?.group(group.groupId))))
  const conv = { type: 'group', targetId: group.groupId } as const
  return { server, devices, owner, members, group, conv }
}

async function sendToGroup(
  from: Device,
  conv: object,
  body: string,
  isNeedGroupAck = false,
): Promise<Message> {
  const sent = data<Message>(await from.dispatch('sendMessage', [conv, text(body), { isNeedGroupAck }]))
  return from.until(`"${body}" sent`, () => {
    const row = from.engine.store?.messageByLocalId(Number(sent.messageId))
    return row?.messageUId ? messageOf(from, row.messageUId) : undefined
  })
}

const arrived = (d: Device, uid: string) => d.until(`${uid} at ${d.userId}`, () => messageOf(d, uid))

describe('Easemob model: per-message group acks (E6, E7)', () => {
  it('counts each member once, live, with a paged reader list and a list of who has not read', async () => {
    const { owner: alice, members, conv, group } = await team(['alice', 'bob', 'carol', 'dave'])
    const [bob, carol] = members as [Device, Device]
    const m = await sendToGroup(alice, conv, 'please ack', true)
    expect(m).toMatchObject({ isNeedGroupAck: true, groupAckCount: 0, groupMemberCount: 3 })
    expect(m.readReceiptInfo).toMatchObject({ readCount: 0, totalCount: 3 })
    const uid = m.messageUId as string
    expect(await arrived(bob, uid)).toMatchObject({ isNeedGroupAck: true, isUnread: true })

    const first = alice.next('groupMessageRead')
    expect(await bob.dispatch('ackGroupMessageRead', [uid])).toEqual({ code: 0, data: null })
    expect(await bob.dispatch('ackGroupMessageRead', [uid])).toEqual({ code: 0, data: null })
    expect(await first).toEqual([
      expect.objectContaining({ messageUId: uid, from: 'bob', groupId: group.groupId, count: 1 }),
    ])
    await arrived(carol, uid)
    const second = alice.next('groupMessageRead')
    await carol.dispatch('ackGroupMessageRead', [uid, 'thumbs-up'])
    expect(await second).toEqual([expect.objectContaining({ from: 'carol', ext: 'thumbs-up', count: 2 })])
    expect(messageOf(alice, uid)).toMatchObject({
      groupAckCount: 2,
      readReceiptInfo: {
        readCount: 2,
        totalCount: 3,
        readerList: { bob: expect.any(Number), carol: expect.any(Number) },
      },
    })
    expect(messageOf(bob, uid)?.isUnread).toBe(false)

    const page1 = data<GroupReadAckPage>(await alice.dispatch('fetchGroupReadAcks', [uid, 1]))
    expect(page1).toMatchObject({ count: 2, total: 3, acks: [{ from: 'bob' }] })
    expect(page1.nextAckId).toBeDefined()
    const page2 = data<GroupReadAckPage>(
      await alice.dispatch('fetchGroupReadAcks', [uid, 1, page1.nextAckId]),
    )
    expect(page2.acks).toEqual([expect.objectContaining({ from: 'carol', ext: 'thumbs-up' })])
    expect(page2.nextAckId).toBeUndefined()
    const unread = data<GroupUnreadPage>(await alice.dispatch('fetchGroupUnreadMembers', [uid, 10]))
    expect(unread.members.map((u) => u.userId)).toEqual(['dave'])
  })

  it('still acks a message that a read mark from another device already marked read', async () => {
    const { server, owner: alice, members, conv } = await team()
    const [bob] = members as [Device]
    const phone = await signIn(server, 'bob')
    const m = await sendToGroup(alice, conv, 'ack me anyway', true)
    await arrived(bob, m.messageUId as string)
    await arrived(phone, m.messageUId as string)
    const readElsewhere = bob.next('conversationRead')
    await phone.dispatch('ackConversationRead', [conv])
    await readElsewhere
    expect(messageOf(bob, m.messageUId as string)?.isUnread).toBe(false)
    const acked = alice.next('groupMessageRead')
    await bob.dispatch('ackGroupMessageRead', [m.messageUId])
    expect(await acked).toEqual([expect.objectContaining({ from: 'bob', count: 1 })])
    expect(messageOf(bob, m.messageUId as string)?.readReceiptInfo.hasRespond).toBe(true)
  })

  it('refuses acks for messages that did not ask, and from the sender itself', async () => {
    const { owner: alice, members, conv } = await team()
    const plain = await sendToGroup(alice, conv, 'no acks')
    await arrived(members[0] as Device, plain.messageUId as string)
    expect(await members[0]!.dispatch('ackGroupMessageRead', [plain.messageUId])).toMatchObject({
      code: 4004,
    })
    const asked = await sendToGroup(alice, conv, 'acks', true)
    expect(await alice.dispatch('ackGroupMessageRead', [asked.messageUId])).toMatchObject({ code: 4002 })
  })

  it('reaches a sender that was offline, after it reconnects', async () => {
    const { server, owner: alice, members, conv } = await team()
    const m = await sendToGroup(alice, conv, 'read while I am away', true)
    await Promise.all(members.map((d) => arrived(d, m.messageUId as string)))
    await alice.stop()
    for (const d of members) {
      await d.dispatch('ackGroupMessageRead', [m.messageUId])
      await d.engine.flushOutbox()
    }
    const back = await reopen(alice.profileDir, server)
    expect(messageOf(back, m.messageUId as string)).toMatchObject({ groupAckCount: 2 })
  })
})

describe('limits and settings (E8)', () => {
  it('refuse each case with its own typed error, and only the owner changes them', async () => {
    const { owner: alice, members, conv, group } = await team()
    const [bob] = members as [Device]
    const set = (d: Device, settings: object) =>
      d.dispatch('setGroupReceiptSettings', [group.groupId, settings])

    expect(await set(bob, { enabled: false })).toMatchObject({ code: 3003 })
    const changed = bob.next(
      'groupChanged',
      (g) => g.group?.receiptSettings.whoMayRequest === 'ownerAndAdmins',
    )
    expect(
      data<GroupInfo>(await set(alice, { whoMayRequest: 'ownerAndAdmins' })).receiptSettings,
    ).toMatchObject({
      enabled: true,
      whoMayRequest: 'ownerAndAdmins',
      maxGroupSize: 200,
      validityMs: 3 * 24 * 3600 * 1000,
      countVisibility: 'sender',
    })
    await changed
    expect(await bob.dispatch('sendMessage', [conv, text('may I?'), { isNeedGroupAck: true }])).toMatchObject(
      { code: 4102 },
    )
    await alice.dispatch('setGroupMemberRole', [group.groupId, 'bob', 'admin'])
    await bob.until('admin', () => bob.engine.store?.group(group.groupId)?.myRole === 'admin')
    expect((await bob.dispatch('sendMessage', [conv, text('as admin'), { isNeedGroupAck: true }])).code).toBe(
      0,
    )

    await set(alice, { maxGroupSize: 2 })
    expect(
      await alice.dispatch('sendMessage', [conv, text('too many'), { isNeedGroupAck: true }]),
    ).toMatchObject({ code: 4104 })
    await set(alice, { maxGroupSize: 200, enabled: false })
    expect(await alice.dispatch('sendMessage', [conv, text('off'), { isNeedGroupAck: true }])).toMatchObject({
      code: 4101,
    })

    await set(alice, { enabled: true })
    const m = await sendToGroup(alice, conv, 'counts are mine', true)
    await arrived(bob, m.messageUId as string)
    expect(await bob.dispatch('fetchGroupReadAcks', [m.messageUId, 10])).toMatchObject({ code: 4105 })
    await set(alice, { countVisibility: 'all' })
    expect((await bob.dispatch('fetchGroupReadAcks', [m.messageUId, 10])).code).toBe(0)
  })
})

describe('RongCloud model: request and response (R1–R6)', () => {
  it('asks, answers in one batched call built from SQLite, and updates the sender live', async () => {
    const { owner: alice, members, conv, group } = await team()
    const [bob, carol] = members as [Device, Device]
    const m1 = await sendToGroup(alice, conv, 'first')
    const m2 = await sendToGroup(alice, conv, 'second')
    const fromCarol = await sendToGroup(carol, conv, 'carol speaks')
    await Promise.all([m1, m2].map((m) => arrived(bob, m.messageUId as string)))
    await arrived(bob, fromCarol.messageUId as string)

    for (const m of [m1, m2]) {
      const asked = bob.next('MESSAGE_RECEIPT_REQUEST', (e) => e.messageUId === m.messageUId)
      expect(await alice.dispatch('sendReadReceiptRequest', [group.groupId, m.messageUId])).toEqual({
        code: 0,
        data: null,
      })
      expect(await asked).toEqual({
        conversation: conv,
        messageUId: m.messageUId,
        senderUserId: 'alice',
        channelId: '',
      })
    }
    const carolAsked = bob.next('MESSAGE_RECEIPT_REQUEST', (e) => e.senderUserId === 'carol')
    await carol.dispatch('sendReadReceiptRequest', [group.groupId, fromCarol.messageUId])
    await carolAsked
    expect(messageOf(bob, m1.messageUId as string)?.readReceiptInfo).toEqual({
      isReceiptRequestMessage: true,
      hasRespond: false,
    })
    expect(messageOf(alice, m1.messageUId as string)?.readReceiptInfo.isReceiptRequestMessage).toBe(true)

    const response = alice.next('MESSAGE_RECEIPT_RESPONSE')
    const sent = data<{ messageList: Record<string, string[]> }>(
      await bob.dispatch('sendReadReceiptResponseV2', [group.groupId]),
    )
    expect(Object.keys(sent.messageList).sort()).toEqual(['alice', 'carol'])
    expect(sent.messageList.alice?.sort()).toEqual([m1.messageUId, m2.messageUId].sort())
    const r = await response
    expect(r).toMatchObject({ conversation: conv, receivedUserId: 'bob', channelId: '' })
    expect(r.messageUIdList.sort()).toEqual([m1.messageUId, m2.messageUId].sort())
    await alice.until('readers', () => messageOf(alice, m2.messageUId as string)?.groupAckCount === 1)
    expect(messageOf(alice, m1.messageUId as string)?.readReceiptInfo).toMatchObject({
      readCount: 1,
      totalCount: 2,
      readerList: { bob: expect.any(Number) },
    })
    expect(messageOf(bob, m1.messageUId as string)?.readReceiptInfo.hasRespond).toBe(true)
    // A second call finds nothing left to answer and sends nothing.
    expect(data(await bob.dispatch('sendReadReceiptResponseV2', [group.groupId]))).toEqual({
      messageList: {},
    })
  })

  it('keeps requests in SQLite: a member who was offline answers after a restart', async () => {
    const { server, owner: alice, members, conv, group } = await team()
    const [, carol] = members as [Device, Device]
    const m = await sendToGroup(alice, conv, 'answer later')
    await arrived(carol, m.messageUId as string)
    await carol.stop()
    await alice.dispatch('sendReadReceiptRequest', [group.groupId, m.messageUId])

    const back = await reopen(carol.profileDir, server)
    expect(messageOf(back, m.messageUId as string)?.readReceiptInfo).toEqual({
      isReceiptRequestMessage: true,
      hasRespond: false,
    })
    await back.stop()
    const again = await reopen(carol.profileDir, server)
    const response = alice.next('MESSAGE_RECEIPT_RESPONSE')
    expect(data(await again.dispatch('sendReadReceiptResponseV2', [group.groupId]))).toEqual({
      messageList: { alice: [m.messageUId] },
    })
    expect(await response).toMatchObject({ receivedUserId: 'carol', messageUIdList: [m.messageUId] })
  })

  it('refuses a request on someone else’s message', async () => {
    const { owner: alice, members, conv, group } = await team()
    const m = await sendToGroup(alice, conv, 'mine')
    await arrived(members[0] as Device, m.messageUId as string)
    expect(await members[0]!.dispatch('sendReadReceiptRequest', [group.groupId, m.messageUId])).toMatchObject(
      { code: 4003 },
    )
  })
})

describe('honest counts', () => {
  it('keep a leaver’s receipt, never count a later joiner, and refuse strangers', async () => {
    const { server, owner: alice, members, conv, group } = await team()
    const [bob] = members as [Device]
    await signIn(server, 'erin')
    await signIn(server, 'mallory')
    const m = await sendToGroup(alice, conv, 'who reads this?', true)
    await arrived(bob, m.messageUId as string)
    const acked = alice.next('groupMessageRead')
    await bob.dispatch('ackGroupMessageRead', [m.messageUId])
    await acked
    await bob.dispatch('leaveGroup', [group.groupId])
    await alice.dispatch('addGroupMembers', [group.groupId, ['erin']])

    const page = data<GroupReadAckPage>(await alice.dispatch('fetchGroupReadAcks', [m.messageUId, 10]))
    expect(page).toMatchObject({ count: 1, total: 2, acks: [{ from: 'bob' }] })
    const unread = data<GroupUnreadPage>(await alice.dispatch('fetchGroupUnreadMembers', [m.messageUId, 10]))
    expect(unread.members.map((u) => u.userId)).toEqual(['carol'])

    for (const who of ['erin', 'mallory']) {
      const raw = await TestClient.connect(server, await login(server, who, `${who}-password`))
      const reply = await raw.request('ackGroupMessageRead', {
        groupId: group.groupId,
        acks: [{ messageUId: m.messageUId as string }],
      })
      if (who === 'erin') expect(reply.data).toMatchObject({ accepted: [], rejected: [{ code: 4002 }] })
      else expect(reply.code).toBe(3001)
      raw.ws.close()
    }
    expect(data<GroupReadAckPage>(await alice.dispatch('fetchGroupReadAcks', [m.messageUId, 10])).count).toBe(
      1,
    )
  })
})
