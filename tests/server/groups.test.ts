import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, connectUser, startTestServer, text, type TestClient } from './helpers'

describe('groups', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  async function people(n: number): Promise<TestClient[]> {
    return Promise.all(Array.from({ length: n }, () => connectOne(server)))
  }

  function sendToGroup(from: TestClient, groupId: string, body: string, isNeedGroupAck = false) {
    return from.request('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: groupId },
      content: text(body),
      isNeedGroupAck,
    })
  }

  it('creates a group with the caller as owner and tells every member, each with their own role', async () => {
    const [owner, a, b] = await people(3)
    const { group } = await owner.call('createGroup', {
      name: 'Team',
      memberIds: [a.userId, b.userId, a.userId, owner.userId],
    })
    expect(group).toMatchObject({ name: 'Team', ownerId: owner.userId, memberCount: 3, myRole: 'owner' })
    expect(group.groupId).toMatch(/^g_[A-Za-z0-9]+$/)
    expect((await a.nextPush('groupChanged')).data).toEqual({
      groupId: group.groupId,
      group: { ...group, myRole: 'member' },
    })
    expect((await owner.nextPush('groupChanged')).data.group?.myRole).toBe('owner')
    await b.nextPush('groupChanged')

    const { members } = await b.call('getGroupMembers', { groupId: group.groupId })
    expect(members.map((m) => [m.userId, m.role])).toEqual(
      expect.arrayContaining([
        [owner.userId, 'owner'],
        [a.userId, 'member'],
        [b.userId, 'member'],
      ]),
    )
    expect(members[0]?.role).toBe('owner')
  })

  it('refuses unknown member ids', async () => {
    const [owner, a] = await people(2)
    const msg = await owner.expectError(
      'createGroup',
      { name: 'x', memberIds: [a.userId, 'ghost-1'] },
      Code.USER_NOT_FOUND,
    )
    expect(msg).toMatch(/ghost-1/)
  })

  it('fans a group message out to every current member with memberCount excluding the sender', async () => {
    const [owner, a] = await people(2)
    const [b1, b2] = await connectUser(server, { devices: 2 })
    const { group } = await owner.call('createGroup', { name: 'Fan', memberIds: [a.userId, b1.userId] })
    const reply = await sendToGroup(a, group.groupId, 'hi all', true)
    expect(reply.code).toBe(0)
    expect(reply.data.message).toMatchObject({
      convType: 'group',
      to: group.groupId,
      seq: 1,
      memberCount: 2,
      isNeedGroupAck: true,
      needDeliveryAck: false,
      needReadAck: false,
    })
    for (const device of [owner, b1, b2]) {
      expect((await device.nextPush('message')).data.messageUId).toBe(reply.data.message.messageUId)
    }
    expect((await a.barrier()).filter((p) => p.event === 'message')).toEqual([])
  })

  it('enforces roles: admins add and remove plain members, only the owner sets roles', async () => {
    const [owner, admin, m1, m2, m3, outsider] = await people(6)
    const { group } = await owner.call('createGroup', {
      name: 'Roles',
      memberIds: [admin.userId, m1.userId, m2.userId],
    })
    const groupId = group.groupId

    await m1.expectError('addGroupMembers', { groupId, userIds: [m3.userId] }, Code.PERMISSION_DENIED)
    await m1.expectError('removeGroupMembers', { groupId, userIds: [m2.userId] }, Code.PERMISSION_DENIED)
    await m1.expectError(
      'setGroupMemberRole',
      { groupId, userId: m2.userId, role: 'admin' },
      Code.PERMISSION_DENIED,
    )
    await outsider.expectError('getGroupMembers', { groupId }, Code.NOT_A_MEMBER)
    await outsider.expectError('addGroupMembers', { groupId, userIds: [outsider.userId] }, Code.NOT_A_MEMBER)

    const promoted = await owner.call('setGroupMemberRole', { groupId, userId: admin.userId, role: 'admin' })
    expect(promoted.group.memberCount).toBe(4)
    expect(
      (await admin.nextPush('groupChanged', (d) => d.group?.myRole === 'admin')).data.group?.myRole,
    ).toBe('admin')
    await admin.expectError(
      'setGroupMemberRole',
      { groupId, userId: m1.userId, role: 'admin' },
      Code.PERMISSION_DENIED,
    )
    await owner.expectError(
      'setGroupMemberRole',
      { groupId, userId: owner.userId, role: 'member' },
      Code.PERMISSION_DENIED,
    )
    await owner.expectError(
      'setGroupMemberRole',
      { groupId, userId: m3.userId, role: 'admin' },
      Code.NOT_A_MEMBER,
    )

    const added = await admin.call('addGroupMembers', { groupId, userIds: [m3.userId, m1.userId] })
    expect(added.group.memberCount).toBe(5)
    expect((await m3.nextPush('groupChanged')).data.group?.myRole).toBe('member')

    await admin.expectError(
      'removeGroupMembers',
      { groupId, userIds: [owner.userId] },
      Code.PERMISSION_DENIED,
    )
    await owner.call('setGroupMemberRole', { groupId, userId: m2.userId, role: 'admin' })
    await admin.expectError('removeGroupMembers', { groupId, userIds: [m2.userId] }, Code.PERMISSION_DENIED)
    await owner.expectError(
      'removeGroupMembers',
      { groupId, userIds: [owner.userId] },
      Code.OWNER_CANNOT_LEAVE,
    )

    const removed = await admin.call('removeGroupMembers', { groupId, userIds: [m1.userId] })
    expect(removed.group.memberCount).toBe(4)
    const gone = await m1.nextPush('groupChanged', (d) => d.group?.myRole === undefined)
    expect(gone.data.group).not.toHaveProperty('myRole')
    expect(gone.data.group?.groupId).toBe(groupId)

    await owner.call('removeGroupMembers', { groupId, userIds: [m2.userId] })
    await m1.expectError('getGroupMembers', { groupId }, Code.NOT_A_MEMBER)
    await owner.expectError('leaveGroup', { groupId }, Code.OWNER_CANNOT_LEAVE)
    await admin.call('leaveGroup', { groupId })
    const afterLeave = await owner.nextPush('groupChanged', (d) => d.group?.memberCount === 2)
    expect(afterLeave.data.group?.myRole).toBe('owner')
    await admin.expectError('leaveGroup', { groupId }, Code.NOT_A_MEMBER)
    await owner.expectError('getGroupMembers', { groupId: 'g_doesNotExist' }, Code.GROUP_NOT_FOUND)
  })

  it('shows members only what was sent while they were in the group', async () => {
    const [owner, late, leaver] = await people(3)
    const { group } = await owner.call('createGroup', { name: 'Window', memberIds: [leaver.userId] })
    const conversation = { type: 'group' as const, targetId: group.groupId }
    await sendToGroup(owner, group.groupId, 'm1 before late joins')
    await owner.call('addGroupMembers', { groupId: group.groupId, userIds: [late.userId] })
    await sendToGroup(owner, group.groupId, 'm2')
    await leaver.call('leaveGroup', { groupId: group.groupId })
    await sendToGroup(late, group.groupId, 'm3 after leaver left')

    const denied = await sendToGroup(leaver, group.groupId, 'let me back')
    expect(denied.code).toBe(Code.NOT_A_MEMBER)

    const seqs = async (client: TestClient) =>
      (await client.call('pullMessages', { conversation, afterSeq: 0, limit: 50 })).messages.map((m) => m.seq)
    expect(await seqs(owner)).toEqual([1, 2, 3])
    expect(await seqs(late)).toEqual([2, 3])
    expect(await seqs(leaver)).toEqual([1, 2])
    await (
      await people(1)
    )[0]?.expectError('pullMessages', { conversation, afterSeq: 0, limit: 5 }, Code.NOT_A_MEMBER)

    const lateState = await late.call('syncState', {})
    expect(lateState.conversations).toEqual([
      expect.objectContaining({
        conversation,
        title: 'Window',
        lastSeq: 3,
        joinedSeq: 1,
        leftSeq: null,
        unreadCount: 1,
      }),
    ])
    const leaverState = await leaver.call('syncState', {})
    expect(leaverState.conversations).toEqual([
      expect.objectContaining({ conversation, lastSeq: 3, leftSeq: 2, unreadCount: 2 }),
    ])
    expect(leaverState.groups).toEqual([expect.not.objectContaining({ myRole: expect.anything() })])
    expect(leaverState.groups[0]).toMatchObject({ groupId: group.groupId, memberCount: 2 })

    // Re-adding starts a new window at the current end.
    await owner.call('addGroupMembers', { groupId: group.groupId, userIds: [leaver.userId] })
    await sendToGroup(owner, group.groupId, 'm4 welcome back')
    expect(await seqs(leaver)).toEqual([4])
    const back = await leaver.call('syncState', {})
    expect(back.conversations[0]).toMatchObject({ joinedSeq: 3, leftSeq: null, unreadCount: 1 })
    expect(back.groups[0]?.myRole).toBe('member')
  })

  it('counts group unread without the caller’s own messages and clears it with ackConversationRead', async () => {
    const [owner, [m1, m1Other]] = await Promise.all([
      connectOne(server),
      connectUser(server, { devices: 2 }),
    ])
    const { group } = await owner.call('createGroup', { name: 'Unread', memberIds: [m1.userId] })
    const conversation = { type: 'group' as const, targetId: group.groupId }
    await sendToGroup(owner, group.groupId, '1')
    await sendToGroup(m1, group.groupId, '2')
    await sendToGroup(owner, group.groupId, '3')
    expect((await m1.call('syncState', {})).conversations[0]?.unreadCount).toBe(2)

    expect(await m1.call('ackConversationRead', { conversation, seq: 99 })).toEqual({ readSeq: 3 })
    const pushed = await m1Other.nextPush('conversationRead')
    expect(pushed.data).toMatchObject({ conversation, from: m1.userId, to: group.groupId, seq: 3 })
    expect(pushed.eventSeq).toBe(1)
    expect((await m1Other.call('syncState', {})).conversations[0]).toMatchObject({
      readSeq: 3,
      unreadCount: 0,
    })
    // Group reads are not single-chat receipts: the other members hear nothing.
    expect((await owner.barrier()).filter((p) => p.event === 'conversationRead')).toEqual([])
  })
})
