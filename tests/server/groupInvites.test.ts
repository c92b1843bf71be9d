/**
 * Consent to join a group (groupInvites: 'accept'): an addition is an invitation; until accepted the
 * invitee is no member and sees nothing; accepting makes a member from that moment, declining leaves
 * no trace. The default ('direct') keeps additions immediate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, startTestServer, text, type TestClient } from './helpers'

async function say(from: TestClient, groupId: string, body: string) {
  return from.call('sendMessage', {
    clientMsgId: clientMsgId(),
    conversation: { type: 'group', targetId: groupId },
    content: text(body),
  })
}

describe('group invitations that the invitee accepts', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer({ groupInvites: 'accept' })
  })
  afterAll(() => server.close())

  it('invites instead of adding; the invitee sees nothing until they accept', async () => {
    const owner = await connectOne(server)
    const bob = await connectOne(server)
    const { group } = await owner.call('createGroup', { name: 'Launch', memberIds: [bob.userId] })
    expect(group.memberCount).toBe(1)
    const invitation = await bob.nextPush('groupInvitation')
    expect(invitation.data).toMatchObject({ groupId: group.groupId, name: 'Launch', invitedBy: owner.userId })
    expect((await bob.call('listGroupInvites', {})).invites).toEqual([invitation.data])

    await say(owner, group.groupId, 'before bob')
    const pull = await bob.request('pullMessages', {
      conversation: { type: 'group', targetId: group.groupId },
      afterSeq: 0,
      limit: 10,
    })
    expect(pull.code).toBe(Code.NOT_A_MEMBER)
    const send = await bob.request('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: group.groupId },
      content: text('let me in'),
    })
    expect(send.code).toBe(Code.NOT_A_MEMBER)
  })

  it('accepting makes a member from that moment on; the members hear it', async () => {
    const owner = await connectOne(server)
    const bob = await connectOne(server)
    const { group } = await owner.call('createGroup', { name: 'Ops', memberIds: [] })
    await owner.call('addGroupMembers', { groupId: group.groupId, userIds: [bob.userId] })
    await say(owner, group.groupId, 'before bob')
    expect(await bob.call('respondToGroupInvite', { groupId: group.groupId, accept: true })).toMatchObject({
      group: { groupId: group.groupId, memberCount: 2, myRole: 'member' },
    })
    expect((await owner.nextPush('groupChanged', (d) => d.group?.memberCount === 2)).data.groupId).toBe(
      group.groupId,
    )
    await say(owner, group.groupId, 'welcome')
    const { messages } = await bob.call('pullMessages', {
      conversation: { type: 'group', targetId: group.groupId },
      afterSeq: 0,
      limit: 10,
    })
    expect(messages.map((m) => m.content)).toEqual([text('welcome')])
    expect((await bob.call('listGroupInvites', {})).invites).toEqual([])
    // An invitation answers once.
    expect((await bob.request('respondToGroupInvite', { groupId: group.groupId, accept: true })).code).toBe(
      Code.GROUP_NOT_FOUND,
    )
  })

  it('declining leaves no membership and no invitation', async () => {
    const owner = await connectOne(server)
    const bob = await connectOne(server)
    const { group } = await owner.call('createGroup', { name: 'Spam', memberIds: [bob.userId] })
    expect(await bob.call('respondToGroupInvite', { groupId: group.groupId, accept: false })).toEqual({
      group: null,
    })
    expect((await bob.call('listGroupInvites', {})).invites).toEqual([])
    expect((await bob.call('syncState', {})).groups).toEqual([])
  })
})

describe('without the setting', () => {
  it('adds members at once, as before', async () => {
    const server = await startTestServer()
    try {
      const owner = await connectOne(server)
      const bob = await connectOne(server)
      const { group } = await owner.call('createGroup', { name: 'Direct', memberIds: [bob.userId] })
      expect(group.memberCount).toBe(2)
      expect((await bob.call('listGroupInvites', {})).invites).toEqual([])
    } finally {
      await server.close()
    }
  })
})
