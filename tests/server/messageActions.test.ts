import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, connectUser, startTestServer, text, type TestClient } from './helpers'

/** Reply, edit, recall (issue 13, H1): who may, what everyone hears, and what a refusal leaves. */
describe('message actions', () => {
  let server: RunningServer
  let now = Date.UTC(2026, 0, 5, 9)
  beforeAll(async () => {
    server = await startTestServer({ now: () => now, messageActions: { recallWindowMs: 60_000 } })
  })
  afterAll(() => server.close())

  async function say(from: TestClient, to: TestClient, body: string, replyTo?: string) {
    const { message } = await from.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: to.userId },
      content: text(body),
      ...(replyTo ? { replyTo } : {}),
    })
    return message
  }

  async function pulled(client: TestClient, peer: TestClient, uid: string) {
    const { messages } = await client.call('pullMessages', {
      conversation: { type: 'private', targetId: peer.userId },
      afterSeq: 0,
      limit: 100,
    })
    return messages.find((m) => m.messageUId === uid)
  }

  it('stores a reply with its quote and refuses a quote of another conversation', async () => {
    const [ann, bob, eve] = await Promise.all([connectOne(server), connectOne(server), connectOne(server)])
    const original = await say(bob, ann, 'lunch?')
    const reply = await say(ann, bob, 'yes', original.messageUId)
    expect(reply.replyTo).toBe(original.messageUId)
    const pushed = await bob.nextPush('message', (m) => m.messageUId === reply.messageUId)
    expect(pushed.data.replyTo).toBe(original.messageUId)
    expect((await pulled(bob, ann, reply.messageUId))?.replyTo).toBe(original.messageUId)

    // Eve quotes a message of Ann and Bob's chat in her chat with Ann: unknown to her, nothing sent.
    await eve.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: ann.userId },
        content: text('look'),
        replyTo: original.messageUId,
      },
      Code.MESSAGE_NOT_FOUND,
    )
    // Ann quotes it in her chat with Eve: she sees it, but it is of another conversation.
    await ann.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: eve.userId },
        content: text('forwarded quote'),
        replyTo: original.messageUId,
      },
      Code.MESSAGE_NOT_FOUND,
    )
    const { messages } = await eve.call('pullMessages', {
      conversation: { type: 'private', targetId: ann.userId },
      afterSeq: 0,
      limit: 10,
    })
    expect(messages).toEqual([])
    // Nobody sends the placeholder of a recall.
    await ann.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: bob.userId },
        content: { type: 'recalled' },
      },
      Code.INVALID_ARGUMENT,
    )
  })

  it('edits in place: every device of both hears it, receipts stay, versions are kept', async () => {
    const [ann, annPhone] = await connectUser(server, { devices: 2 })
    const bob = await connectOne(server)
    if (!ann || !annPhone) throw new Error('no devices')
    const sent = await say(ann, bob, 'see you at 5')
    await bob.call('ackMessageRead', { messageUIds: [sent.messageUId] })
    now += 1000
    const edited = await ann.call('editMessage', { messageUId: sent.messageUId, text: 'see you at 6' })
    expect(edited).toMatchObject({ editCount: 1, editedAt: now, content: text('see you at 6') })
    for (const device of [bob, annPhone]) {
      const heard = await device.nextPush('messageEdited', (d) => d.messageUId === sent.messageUId)
      expect(heard.data.content).toEqual(text('see you at 6'))
      expect(heard.eventSeq).toBeGreaterThan(0)
    }
    now += 1000
    await ann.call('editMessage', { messageUId: sent.messageUId, text: 'see you at 7' })
    const copy = await pulled(ann, bob, sent.messageUId)
    expect(copy).toMatchObject({ content: text('see you at 7'), editCount: 2, editedAt: now })
    expect(copy?.readAt).toBeDefined()
    const { versions } = await bob.call('fetchMessageVersions', { messageUId: sent.messageUId })
    expect(versions).toEqual([
      { version: 1, content: text('see you at 5'), at: sent.sentAt },
      { version: 2, content: text('see you at 6'), at: now - 1000 },
      { version: 3, content: text('see you at 7'), at: now },
    ])
    // Catch-up: the edit is in the event log a device replays after being offline.
    const { events } = await annPhone.call('syncEvents', { afterEventSeq: 0, limit: 100 })
    expect(events.filter((e) => e.event === 'messageEdited')).toHaveLength(2)
  })

  it("refuses to edit or recall someone else's message, and hides messages of others' chats", async () => {
    const [ann, bob, eve] = await Promise.all([connectOne(server), connectOne(server), connectOne(server)])
    const sent = await say(ann, bob, 'mine')
    await bob.expectError(
      'editMessage',
      { messageUId: sent.messageUId, text: 'yours now' },
      Code.NOT_MESSAGE_SENDER,
    )
    await bob.expectError('recallMessage', { messageUId: sent.messageUId }, Code.NOT_MESSAGE_SENDER)
    await eve.expectError('editMessage', { messageUId: sent.messageUId, text: 'x' }, Code.MESSAGE_NOT_FOUND)
    await eve.expectError('recallMessage', { messageUId: sent.messageUId }, Code.MESSAGE_NOT_FOUND)
    await eve.expectError('fetchMessageVersions', { messageUId: sent.messageUId }, Code.MESSAGE_NOT_FOUND)
    const copy = await pulled(bob, ann, sent.messageUId)
    expect(copy?.content).toEqual(text('mine'))
    expect(copy?.editCount).toBeUndefined()
    expect(copy?.recalledAt).toBeUndefined()
  })

  it('recalls within the window: the text is gone from the server; later a typed error', async () => {
    const [ann, bob] = await Promise.all([connectOne(server), connectOne(server)])
    const secret = await say(ann, bob, 'the wifi password is hunter2')
    await ann.call('editMessage', { messageUId: secret.messageUId, text: 'the wifi password is hunter3' })
    await bob.call('ackMessageRead', { messageUIds: [secret.messageUId] })
    const recalled = await ann.call('recallMessage', { messageUId: secret.messageUId })
    expect(recalled).toEqual({ messageUId: secret.messageUId, recalledAt: now })
    const heard = await bob.nextPush('messageRecalled', (d) => d.messageUId === secret.messageUId)
    expect(heard.data.recalledAt).toBe(now)
    const copy = await pulled(bob, ann, secret.messageUId)
    expect(copy).toMatchObject({ content: { type: 'recalled' }, recalledAt: now })
    expect(JSON.stringify(copy)).not.toContain('hunter')
    // The sender still has its receipts.
    expect((await pulled(ann, bob, secret.messageUId))?.readAt).toBeDefined()
    await bob.expectError('fetchMessageVersions', { messageUId: secret.messageUId }, Code.MESSAGE_RECALLED)
    await ann.expectError(
      'editMessage',
      { messageUId: secret.messageUId, text: 'again' },
      Code.MESSAGE_RECALLED,
    )
    await ann.expectError('recallMessage', { messageUId: secret.messageUId }, Code.MESSAGE_RECALLED)
    await bob.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: ann.userId },
        content: text('what was it?'),
        replyTo: secret.messageUId,
      },
      Code.MESSAGE_RECALLED,
    )

    // The operator's window is told to every client with syncState.
    expect((await ann.call('syncState', {})).recallWindowMs).toBe(60_000)
    const late = await say(ann, bob, 'too late to take back')
    now += 60_001
    await ann.expectError('recallMessage', { messageUId: late.messageUId }, Code.RECALL_WINDOW_PASSED)
    expect((await pulled(bob, ann, late.messageUId))?.content).toEqual(text('too late to take back'))
  })

  it('tells every member of a group who could see the message, and not a later joiner', async () => {
    const [owner, member, later] = await Promise.all([
      connectOne(server),
      connectOne(server),
      connectOne(server),
    ])
    const { group } = await owner.call('createGroup', { name: 'Edits', memberIds: [member.userId] })
    const { message } = await owner.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: group.groupId },
      content: text('agenda: 1'),
      isNeedGroupAck: true,
    })
    await member.call('ackGroupMessageRead', {
      groupId: group.groupId,
      acks: [{ messageUId: message.messageUId }],
    })
    await owner.call('addGroupMembers', { groupId: group.groupId, userIds: [later.userId] })
    await owner.call('editMessage', { messageUId: message.messageUId, text: 'agenda: 1, 2' })
    await member.nextPush('messageEdited', (d) => d.messageUId === message.messageUId)
    const pending = await later.barrier()
    expect(pending.some((p) => p.event === 'messageEdited')).toBe(false)
    await later.expectError(
      'fetchMessageVersions',
      { messageUId: message.messageUId },
      Code.MESSAGE_NOT_FOUND,
    )
    // The edit kept the read count: the sender's pulled copy still says one reader.
    const { messages } = await owner.call('pullMessages', {
      conversation: { type: 'group', targetId: group.groupId },
      afterSeq: 0,
      limit: 10,
    })
    expect(messages.find((m) => m.messageUId === message.messageUId)).toMatchObject({
      content: text('agenda: 1, 2'),
      editCount: 1,
      groupAckCount: 1,
    })
  })
})
