/**
 * What a reader learns from acking a group message (issue #11, gap 5): under countVisibility
 * 'sender' the reply to ackGroupMessageRead carries no read count, and no ack id says how many acks
 * this server (or this message) has taken: ack ids are opaque random strings, while
 * fetchGroupReadAcks still pages by them, oldest first, from an index.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { FIND_ACK_CURSOR_SQL } from '../../src/server/storage/groupReceipts'
import { clientMsgId, connectOne, startTestServer, text, type TestClient } from '../server/helpers'

describe('group ack privacy', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  const people = (n: number): Promise<TestClient[]> =>
    Promise.all(Array.from({ length: n }, () => connectOne(server)))

  async function groupWithMessage(owner: TestClient, members: TestClient[]) {
    const { group } = await owner.call('createGroup', { name: 'g', memberIds: members.map((m) => m.userId) })
    const { message } = await owner.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: group.groupId },
      content: text('who read this?'),
      isNeedGroupAck: true,
    })
    return { groupId: group.groupId, uid: message.messageUId }
  }

  it("tells a reader no count under 'sender' visibility; the sender still gets it", async () => {
    const [sender, a, b] = await people(3)
    const { groupId, uid } = await groupWithMessage(sender!, [a!, b!])
    const first = await a!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: uid }] })
    const second = await b!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: uid }] })
    for (const reply of [first, second]) {
      expect(reply.accepted).toHaveLength(1)
      expect(reply.accepted[0]).not.toHaveProperty('count')
    }
    // A retry (an existing fact) does not tell it either.
    const again = await b!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: uid }] })
    expect(again.accepted[0]).not.toHaveProperty('count')
    // The sender hears each ack with the count after it.
    expect((await sender!.nextPush('groupMessageRead')).data.acks[0]?.count).toBe(1)
    expect((await sender!.nextPush('groupMessageRead')).data.acks[0]?.count).toBe(2)

    // Once the owner lets every member see counts, a reader's reply carries it.
    await sender!.call('setGroupReceiptSettings', { groupId, settings: { countVisibility: 'all' } })
    const [c] = await people(1)
    await sender!.call('addGroupMembers', { groupId, userIds: [c!.userId] })
    const { message } = await a!.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: groupId },
      content: text('by a'),
      isNeedGroupAck: true,
    })
    const open = await b!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: message.messageUId }] })
    expect(open.accepted[0]?.count).toBe(1)
  })

  it('gives ack ids that are neither counters nor guessable, and pages by them oldest first', async () => {
    const [sender, ...readers] = await people(6)
    const { groupId, uid } = await groupWithMessage(sender!, readers)
    const ids: string[] = []
    for (const reader of readers) {
      const reply = await reader.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: uid }] })
      ids.push(reply.accepted[0]!.ackId)
    }
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{20,}$/)
    expect(new Set(ids).size).toBe(ids.length)
    // Not a number that grows with each ack (server-wide or per message).
    expect(ids.every((id) => !/^\d+$/.test(id))).toBe(true)

    const page = (startAckId?: string) =>
      sender!.call('fetchGroupReadAcks', {
        messageUId: uid,
        pageSize: 2,
        ...(startAckId === undefined ? {} : { startAckId }),
      })
    const seen: string[] = []
    let cursor: string | undefined
    for (;;) {
      const p = await page(cursor)
      seen.push(...p.acks.map((a) => a.ackId))
      if (!p.nextAckId) break
      cursor = p.nextAckId
    }
    expect(seen).toEqual(ids)
    // The cursor of another message, an old numeric one, or garbage: INVALID_ARGUMENT.
    const other = await groupWithMessage(sender!, readers.slice(0, 1))
    const otherAck = await readers[0]!.call('ackGroupMessageRead', {
      groupId: other.groupId,
      acks: [{ messageUId: other.uid }],
    })
    for (const bad of [otherAck.accepted[0]!.ackId, '1', 'nope']) {
      await sender!.expectError(
        'fetchGroupReadAcks',
        { messageUId: uid, pageSize: 2, startAckId: bad },
        Code.INVALID_ARGUMENT,
      )
    }
  })

  it('finds a cursor by its id through an index', () => {
    const storage = new SqliteStorage(':memory:')
    try {
      const plan = storage.db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${FIND_ACK_CURSOR_SQL}`)
        .all('x', 1)
        .map((r) => r.detail)
        .join('\n')
      expect(plan).toMatch(/USING (COVERING )?INDEX group_read_acks_public_id/)
      expect(plan).not.toMatch(/SCAN/)
    } finally {
      void storage.close()
    }
  })
})
