import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { connectOne, startTestServer, type TestClient } from './helpers'

/** transferGroupOwnership: who may, to whom, and that a refusal changes nothing. */
describe('transferGroupOwnership', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  async function people(n: number): Promise<TestClient[]> {
    return Promise.all(Array.from({ length: n }, () => connectOne(server)))
  }

  async function roles(client: TestClient, groupId: string): Promise<Record<string, string>> {
    const { members } = await client.call('getGroupMembers', { groupId })
    return Object.fromEntries(members.map((m) => [m.userId, m.role]))
  }

  it('makes a member the owner and the old owner an admin, tells every member, and lets the old owner leave', async () => {
    const [owner, heir, other] = await people(3)
    const { group } = await owner.call('createGroup', {
      name: 'Hand over',
      memberIds: [heir.userId, other.userId],
    })
    const groupId = group.groupId
    await owner.expectError('leaveGroup', { groupId }, Code.OWNER_CANNOT_LEAVE)

    const moved = await owner.call('transferGroupOwnership', { groupId, newOwnerId: heir.userId })
    expect(moved.group).toMatchObject({ groupId, ownerId: heir.userId, myRole: 'admin', memberCount: 3 })
    expect(await roles(other, groupId)).toEqual({
      [owner.userId]: 'admin',
      [heir.userId]: 'owner',
      [other.userId]: 'member',
    })
    const heard = await heir.nextPush('groupChanged', (d) => d.group?.ownerId === heir.userId)
    expect(heard.data.group?.myRole).toBe('owner')
    const otherHeard = await other.nextPush('groupChanged', (d) => d.group?.ownerId === heir.userId)
    expect(otherHeard.data.group?.myRole).toBe('member')

    // The new owner has the owner's powers; the old one has them no longer.
    await owner.expectError(
      'setGroupReceiptSettings',
      { groupId, settings: { countVisibility: 'all' } },
      Code.PERMISSION_DENIED,
    )
    await heir.call('setGroupReceiptSettings', { groupId, settings: { countVisibility: 'all' } })
    await heir.expectError('leaveGroup', { groupId }, Code.OWNER_CANNOT_LEAVE)
    await owner.call('leaveGroup', { groupId })
    expect(await roles(heir, groupId)).toEqual({ [heir.userId]: 'owner', [other.userId]: 'member' })
  })

  it('refuses a non-owner, a non-member, a former member and the owner themself, each with its code, changing nothing', async () => {
    const [owner, admin, member, stranger, leaver] = await people(5)
    const { group } = await owner.call('createGroup', {
      name: 'Hostile',
      memberIds: [admin.userId, member.userId, leaver.userId],
    })
    const groupId = group.groupId
    await owner.call('setGroupMemberRole', { groupId, userId: admin.userId, role: 'admin' })
    await leaver.call('leaveGroup', { groupId })
    const before = await roles(owner, groupId)

    await admin.expectError(
      'transferGroupOwnership',
      { groupId, newOwnerId: admin.userId },
      Code.PERMISSION_DENIED,
    )
    await member.expectError(
      'transferGroupOwnership',
      { groupId, newOwnerId: member.userId },
      Code.PERMISSION_DENIED,
    )
    await stranger.expectError(
      'transferGroupOwnership',
      { groupId, newOwnerId: stranger.userId },
      Code.NOT_A_MEMBER,
    )
    await owner.expectError(
      'transferGroupOwnership',
      { groupId, newOwnerId: stranger.userId },
      Code.NEW_OWNER_NOT_A_MEMBER,
    )
    await owner.expectError(
      'transferGroupOwnership',
      { groupId, newOwnerId: leaver.userId },
      Code.NEW_OWNER_NOT_A_MEMBER,
    )
    await owner.expectError(
      'transferGroupOwnership',
      { groupId, newOwnerId: 'ghost-user' },
      Code.NEW_OWNER_NOT_A_MEMBER,
    )
    await owner.expectError(
      'transferGroupOwnership',
      { groupId, newOwnerId: owner.userId },
      Code.ALREADY_OWNER,
    )
    await owner.expectError(
      'transferGroupOwnership',
      { groupId: 'g_doesNotExist', newOwnerId: admin.userId },
      Code.GROUP_NOT_FOUND,
    )
    await owner.expectError('transferGroupOwnership', { groupId, newOwnerId: '' }, Code.INVALID_ARGUMENT)

    expect(await roles(owner, groupId)).toEqual(before)
    const { group: unchanged } = await owner.call('setGroupMemberRole', {
      groupId,
      userId: member.userId,
      role: 'member',
    })
    expect(unchanged).toMatchObject({ ownerId: owner.userId, myRole: 'owner' })
  })

  it('takes the caller from the session: a forged owner id in the data is dropped', async () => {
    const [owner, mallory] = await people(2)
    const { group } = await owner.call('createGroup', { name: 'Forged', memberIds: [mallory.userId] })
    const reply = await mallory.request('transferGroupOwnership', {
      groupId: group.groupId,
      newOwnerId: mallory.userId,
      userId: owner.userId,
      ownerId: owner.userId,
    } as never)
    expect(reply.code).toBe(Code.PERMISSION_DENIED)
    expect((await roles(owner, group.groupId))[owner.userId]).toBe('owner')
  })

  it('two transfers of one group at once: one wins, the other is refused, one owner remains', async () => {
    const [owner, a, b] = await people(3)
    const { group } = await owner.call('createGroup', { name: 'Race', memberIds: [a.userId, b.userId] })
    const groupId = group.groupId
    const [first, second] = await Promise.all([
      owner.request('transferGroupOwnership', { groupId, newOwnerId: a.userId }),
      owner.request('transferGroupOwnership', { groupId, newOwnerId: b.userId }),
    ])
    expect([first.code, second.code].sort()).toEqual([0, Code.PERMISSION_DENIED].sort())
    const after = await roles(owner, groupId)
    expect(Object.values(after).filter((r) => r === 'owner')).toHaveLength(1)
    expect(after[owner.userId]).toBe('admin')
  })
})
