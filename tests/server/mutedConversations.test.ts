import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { Conversation } from '../../src/shared/model'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, connectUser, startTestServer, text, type TestClient } from './helpers'

/**
 * Mute per chat on all my devices (issue 13, H8): the server keeps each user's mark per conversation,
 * tells their other devices (live and in the event log) and gives it in syncState; nobody else
 * learns it, and nobody marks a conversation they never had.
 */
describe('setConversationNotificationStatus', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  async function chat(from: TestClient, to: TestClient): Promise<Conversation> {
    await from.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: to.userId },
      content: text('hello'),
    })
    return { type: 'private', targetId: to.userId }
  }

  async function statusIn(client: TestClient, c: Conversation) {
    const { conversations } = await client.call('syncState', {})
    return conversations.find((s) => s.conversation.type === c.type && s.conversation.targetId === c.targetId)
      ?.notificationStatus
  }

  it('mutes on every device of mine: live, in the event log and in syncState; unmutes the same', async () => {
    const [ann1, ann2] = await connectUser(server, { devices: 2 })
    if (!ann1 || !ann2) throw new Error('two devices')
    const bob = await connectOne(server)
    const withBob = await chat(ann1, bob)
    expect(await statusIn(ann2, withBob)).toBe('notify')
    const { lastEventSeq: before } = await ann2.call('syncState', {})

    const reply = await ann1.call('setConversationNotificationStatus', {
      conversation: withBob,
      status: 'doNotDisturb',
    })
    expect(reply).toMatchObject({ conversation: withBob, status: 'doNotDisturb' })

    // My other device hears it live, as a logged event; the muting socket does not.
    const pushed = await ann2.nextPush('conversationNotificationStatusChanged')
    expect(pushed.data).toMatchObject({ conversation: withBob, status: 'doNotDisturb' })
    expect(pushed.eventSeq).toBe(before + 1)
    expect((await ann1.barrier()).filter((p) => p.event === 'conversationNotificationStatusChanged')).toEqual(
      [],
    )
    // A device that was offline finds it in the log; a new one in syncState.
    const { events } = await ann2.call('syncEvents', { afterEventSeq: before, limit: 10 })
    expect(events.map((e) => [e.event, e.data])).toEqual([
      ['conversationNotificationStatusChanged', expect.objectContaining({ status: 'doNotDisturb' })],
    ])
    expect(await statusIn(ann2, withBob)).toBe('doNotDisturb')

    // Bob's side is his own: still notifying, and he heard nothing.
    expect(await statusIn(bob, { type: 'private', targetId: ann1.userId })).toBe('notify')
    expect((await bob.barrier()).filter((p) => p.event === 'conversationNotificationStatusChanged')).toEqual(
      [],
    )

    // Saying it again changes nothing and logs nothing.
    const { lastEventSeq } = await ann1.call('syncState', {})
    await ann2.call('setConversationNotificationStatus', { conversation: withBob, status: 'doNotDisturb' })
    expect((await ann1.call('syncState', {})).lastEventSeq).toBe(lastEventSeq)

    // Unmuted from the other device: the first one hears it.
    await ann2.call('setConversationNotificationStatus', { conversation: withBob, status: 'notify' })
    const back = await ann1.nextPush('conversationNotificationStatusChanged')
    expect(back.data).toMatchObject({ conversation: withBob, status: 'notify' })
    expect(await statusIn(ann1, withBob)).toBe('notify')
  })

  it('keeps a group I left muted, as the rest of its history on my devices', async () => {
    const [owner, member] = await Promise.all([connectOne(server), connectOne(server)])
    const { group } = await owner.call('createGroup', { name: 'noisy', memberIds: [member.userId] })
    const g: Conversation = { type: 'group', targetId: group.groupId }
    await member.call('setConversationNotificationStatus', { conversation: g, status: 'doNotDisturb' })
    await member.call('leaveGroup', { groupId: group.groupId })
    await member.call('setConversationNotificationStatus', { conversation: g, status: 'notify' })
    expect(await statusIn(member, g)).toBe('notify')
    await member.call('setConversationNotificationStatus', { conversation: g, status: 'doNotDisturb' })
    expect(await statusIn(member, g)).toBe('doNotDisturb')
    expect(await statusIn(owner, g)).toBe('notify')
  })

  it('refuses a conversation I never had, with a typed error, and changes nothing', async () => {
    const ann = await connectOne(server)
    const bob = await connectOne(server)
    const eve = await connectOne(server)
    const annAndBob = await chat(ann, bob)
    const { group } = await ann.call('createGroup', { name: 'private', memberIds: [bob.userId] })
    const { lastEventSeq: eveBefore } = await eve.call('syncState', {})

    // A group of others, chats never begun (with Bob, with Ann), myself, a group that does not exist.
    await eve.expectError(
      'setConversationNotificationStatus',
      { conversation: { type: 'group', targetId: group.groupId }, status: 'doNotDisturb' },
      Code.NOT_A_MEMBER,
    )
    await eve.expectError(
      'setConversationNotificationStatus',
      { conversation: annAndBob, status: 'doNotDisturb' },
      Code.NOT_A_MEMBER,
    )
    await eve.expectError(
      'setConversationNotificationStatus',
      { conversation: { type: 'private', targetId: ann.userId }, status: 'doNotDisturb' },
      Code.NOT_A_MEMBER,
    )
    await eve.expectError(
      'setConversationNotificationStatus',
      { conversation: { type: 'private', targetId: eve.userId }, status: 'doNotDisturb' },
      Code.CANNOT_CHAT_WITH_SELF,
    )
    await eve.expectError(
      'setConversationNotificationStatus',
      { conversation: { type: 'group', targetId: 'g_nosuchgroup' }, status: 'doNotDisturb' },
      Code.GROUP_NOT_FOUND,
    )
    // A status that is not one is refused by the schema.
    const bad = await eve.requestRaw('setConversationNotificationStatus', {
      conversation: annAndBob,
      status: 'loud',
    })
    expect(bad.code).toBe(Code.INVALID_ARGUMENT)

    expect((await eve.call('syncState', {})).lastEventSeq).toBe(eveBefore)
    expect(await statusIn(ann, annAndBob)).toBe('notify')
    expect(await statusIn(bob, { type: 'private', targetId: ann.userId })).toBe('notify')
    expect(await statusIn(bob, { type: 'group', targetId: group.groupId })).toBe('notify')
  })
})
