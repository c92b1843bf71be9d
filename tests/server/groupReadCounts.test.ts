import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { PushData } from '../../src/shared/protocol'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, startTestServer, text, type TestClient } from './helpers'

/** Takes the groupReadCount pushes received so far (after a round trip): the next call sees only newer ones. */
async function pending(client: TestClient, event: 'groupReadCount') {
  await client.barrier()
  const taken = client.pushes.filter((push) => push.event === event)
  for (const push of taken) client.pushes.splice(client.pushes.indexOf(push), 1)
  return taken.map((push) => ({ data: push.data as PushData<'groupReadCount'> }))
}

/**
 * countVisibility (E8) for the members who did not send the message: under 'all' they hear the read
 * counts of others' messages that asked (groupReadCount) and their pulled copies carry them; under
 * 'sender' they get nothing of them.
 */
describe('read counts of others’ messages (countVisibility)', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  async function group(visibility: 'all' | 'sender') {
    const [owner, sender, a, b] = await Promise.all(Array.from({ length: 4 }, () => connectOne(server)))
    const { group } = await owner!.call('createGroup', {
      name: 'Counts',
      memberIds: [sender!.userId, a!.userId, b!.userId],
    })
    await owner!.call('setGroupReceiptSettings', {
      groupId: group.groupId,
      settings: { countVisibility: visibility },
    })
    return { owner: owner!, sender: sender!, a: a!, b: b!, groupId: group.groupId }
  }

  async function send(from: TestClient, groupId: string, body: string, isNeedGroupAck: boolean) {
    const reply = await from.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: groupId },
      content: text(body),
      isNeedGroupAck,
    })
    return reply.message
  }

  const pull = async (client: TestClient, groupId: string) =>
    (
      await client.call('pullMessages', {
        conversation: { type: 'group', targetId: groupId },
        afterSeq: 0,
        limit: 50,
      })
    ).messages

  it('under all: every member who could read it hears the new count, and pulls carry it', async () => {
    const { owner, sender, a, b, groupId } = await group('all')
    const asked = await send(sender, groupId, 'who read this?', true)
    const plain = await send(sender, groupId, 'plain', false)
    for (const c of [owner, a, b]) await pending(c, 'groupReadCount')

    await a.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: asked.messageUId }] })
    for (const member of [owner, a, b]) {
      const heard = await pending(member, 'groupReadCount')
      expect(heard.map((p) => p.data)).toEqual([
        { groupId, counts: [{ messageUId: asked.messageUId, count: 1 }] },
      ])
    }
    // The sender hears groupMessageRead (with who), not the members' event.
    expect(await pending(sender, 'groupReadCount')).toEqual([])

    // RongCloud: a request, answered by b; the count is the same fact, told the same way.
    await sender.call('sendReadReceiptRequest', { groupId, messageUId: plain.messageUId })
    await b.call('sendReadReceiptResponse', {
      groupId,
      channelId: '',
      messageList: { [sender.userId]: [plain.messageUId, asked.messageUId] },
    })
    const toOwner = (await pending(owner, 'groupReadCount')).map((p) => p.data.counts)
    expect(toOwner).toEqual([
      [
        { messageUId: plain.messageUId, count: 1 },
        { messageUId: asked.messageUId, count: 2 },
      ],
    ])

    const pulled = await pull(owner, groupId)
    expect(pulled.find((m) => m.messageUId === asked.messageUId)?.groupAckCount).toBe(2)
    expect(pulled.find((m) => m.messageUId === plain.messageUId)?.groupAckCount).toBe(1)
    // Logged for syncEvents: a device that was away learns it too.
    const { events } = await a.call('syncEvents', { afterEventSeq: 0, limit: 100 })
    expect(events.filter((e) => e.event === 'groupReadCount')).not.toHaveLength(0)
  })

  it('under sender: members get no counts of others’ messages, pushed or pulled', async () => {
    const { owner, sender, a, b, groupId } = await group('sender')
    const asked = await send(sender, groupId, 'who read this?', true)
    await a.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: asked.messageUId }] })
    await b.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: asked.messageUId }] })
    for (const member of [owner, a, b]) expect(await pending(member, 'groupReadCount')).toEqual([])
    for (const member of [owner, a, b]) {
      const copy = (await pull(member, groupId)).find((m) => m.messageUId === asked.messageUId)
      expect(copy).toBeDefined()
      expect(copy).not.toHaveProperty('groupAckCount')
    }
    const { events } = await owner.call('syncEvents', { afterEventSeq: 0, limit: 100 })
    expect(events.filter((e) => e.event === 'groupReadCount')).toEqual([])
    // The sender still sees its count.
    expect((await pull(sender, groupId)).find((m) => m.messageUId === asked.messageUId)?.groupAckCount).toBe(
      2,
    )
  })

  it('never tells a member who joined after the message, nor one who left', async () => {
    const { owner, sender, a, b, groupId } = await group('all')
    const asked = await send(sender, groupId, 'before the newcomer', true)
    const late = await connectOne(server)
    await owner.call('addGroupMembers', { groupId, userIds: [late.userId] })
    await b.call('leaveGroup', { groupId })
    await a.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: asked.messageUId }] })
    expect((await pending(owner, 'groupReadCount')).map((p) => p.data.counts[0]?.count)).toEqual([1])
    expect(await pending(late, 'groupReadCount')).toEqual([])
    expect(await pending(b, 'groupReadCount')).toEqual([])
  })
})
