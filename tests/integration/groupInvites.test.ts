/** Consent to join a group through real engines (server setting groupInvites: 'accept'). */
import { afterEach, describe, expect, it } from 'vitest'
import type { GroupInfo, GroupInvitation, Message } from '../../src/shared/model'
import { cleanup, data, signIn, testServer } from './harness'
import { textOf } from '../textOf'

afterEach(cleanup)

describe('group invitations', () => {
  it('reach the invitee’s engine; accepting makes the group and its new messages appear', async () => {
    const server = await testServer({ groupInvites: 'accept' })
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const invited = bob.next('groupInvitesChanged', (list) => list.length === 1)
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Launch', ['bob']]))
    expect(group.memberCount).toBe(1)
    expect(await invited).toEqual([expect.objectContaining({ groupId: group.groupId, invitedBy: 'alice' })])
    expect(data<GroupInvitation[]>(await bob.dispatch('getGroupInvites', []))).toHaveLength(1)
    expect(bob.engine.store?.group(group.groupId)).toBeUndefined()

    const joined = data<GroupInfo | null>(await bob.dispatch('respondToGroupInvite', [group.groupId, true]))
    expect(joined).toMatchObject({ groupId: group.groupId, myRole: 'member', memberCount: 2 })
    expect(bob.engine.store?.group(group.groupId)?.myRole).toBe('member')
    const arrived = bob.next('messageReceived', (ms) => ms.some((m) => textOf(m) === 'welcome'))
    data<Message>(
      await alice.dispatch('sendMessage', [
        { type: 'group', targetId: group.groupId },
        { type: 'text', text: 'welcome' },
      ]),
    )
    await arrived
    expect(data<GroupInvitation[]>(await bob.dispatch('getGroupInvites', []))).toEqual([])
  })
})
