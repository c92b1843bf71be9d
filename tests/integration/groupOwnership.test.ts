/** transferGroupOwnership across the programs: IPC call → engine → server → every member's engine. */
import { afterEach, describe, expect, it } from 'vitest'
import type { GroupInfo, GroupMember } from '../../src/shared/model'
import { cleanup, data, signIn, testServer } from './harness'

afterEach(cleanup)

describe('group ownership', () => {
  it('the owner hands the group to a member, every engine learns it, and the old owner may leave', async () => {
    const server = await testServer()
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => signIn(server, u)))
    const group = data<GroupInfo>(await alice!.dispatch('createGroup', ['Team', ['bob', 'carol']]))
    const groupId = group.groupId
    await Promise.all([bob, carol].map((d) => d!.until('group known', () => d!.engine.store?.group(groupId))))

    // Checked at the boundary before the engine runs.
    expect(await alice!.dispatch('transferGroupOwnership', [groupId])).toMatchObject({ code: 1001 })
    expect(await alice!.dispatch('transferGroupOwnership', [groupId, 'no such id!'])).toMatchObject({
      code: 1001,
    })
    // Refused by the server, each with its own code, nothing changed.
    expect(await bob!.dispatch('transferGroupOwnership', [groupId, 'bob'])).toMatchObject({ code: 3003 })
    expect(await alice!.dispatch('transferGroupOwnership', [groupId, 'mallory'])).toMatchObject({
      code: 3006,
    })
    expect(await alice!.dispatch('transferGroupOwnership', [groupId, 'alice'])).toMatchObject({ code: 3007 })
    expect(alice!.engine.store?.group(groupId)).toMatchObject({ ownerId: 'alice', myRole: 'owner' })

    const bobHears = bob!.next('groupChanged', (g) => g.groupId === groupId && g.group?.ownerId === 'bob')
    const carolHears = carol!.next('groupChanged', (g) => g.groupId === groupId && g.group?.ownerId === 'bob')
    const moved = data<GroupInfo>(await alice!.dispatch('transferGroupOwnership', [groupId, 'bob']))
    expect(moved).toMatchObject({ ownerId: 'bob', myRole: 'admin' })
    expect((await bobHears).group?.myRole).toBe('owner')
    expect((await carolHears).group?.myRole).toBe('member')
    expect(alice!.engine.store?.group(groupId)).toMatchObject({ ownerId: 'bob', myRole: 'admin' })
    await bob!.until('bob owns it', () => bob!.engine.store?.group(groupId)?.myRole === 'owner' || undefined)

    const members = data<GroupMember[]>(await carol!.dispatch('getGroupMembers', [groupId]))
    expect(members.map((m) => [m.userId, m.role]).sort()).toEqual([
      ['alice', 'admin'],
      ['bob', 'owner'],
      ['carol', 'member'],
    ])
    expect(await bob!.dispatch('leaveGroup', [groupId])).toMatchObject({ code: 3005 })
    expect(await alice!.dispatch('leaveGroup', [groupId])).toMatchObject({ code: 0 })
    expect(alice!.engine.store?.group(groupId)?.myRole).toBeUndefined()
  })
})
