import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { COUNT_DELETED_FOR_ME_SQL, LIST_MESSAGES_FOR_SQL } from '../../src/server/storage/messages'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { clientMsgId, connectOne, connectUser, startTestServer, text, type TestClient } from './helpers'

/**
 * Delete for me on all my devices (issue 13, H6): my pulls, unread counts and other devices follow;
 * the others and every receipt stay as they were; nobody deletes what they cannot see.
 */
describe('deleteMessagesForMe', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  async function say(from: TestClient, to: TestClient, body: string) {
    const { message } = await from.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: to.userId },
      content: text(body),
    })
    return message
  }

  async function pull(client: TestClient, peer: TestClient, afterSeq = 0) {
    return client.call('pullMessages', {
      conversation: { type: 'private', targetId: peer.userId },
      afterSeq,
      limit: 100,
    })
  }

  async function unread(client: TestClient, peer: TestClient) {
    const { conversations } = await client.call('syncState', {})
    return conversations.find((c) => c.conversation.targetId === peer.userId)?.unreadCount
  }

  it('leaves my pulls and unread count on every device, and tells my other devices', async () => {
    const [ann1, ann2] = await connectUser(server, { devices: 2 })
    if (!ann1 || !ann2) throw new Error('two devices')
    const bob = await connectOne(server)
    const [m1, m2, m3] = [
      await say(bob, ann1, 'one'),
      await say(bob, ann1, 'two'),
      await say(bob, ann1, 'three'),
    ]
    expect(await unread(ann1, bob)).toBe(3)
    const { lastEventSeq: before } = await ann2.call('syncState', {})

    const reply = await ann1.call('deleteMessagesForMe', { messageUIds: [m2.messageUId] })
    expect(reply).toEqual({ deleted: [m2.messageUId], rejected: [] })

    // My other device hears it live, as a logged event; the deleting socket does not.
    const pushed = await ann2.nextPush('messagesDeletedForMe')
    expect(pushed.data.messageUIds).toEqual([m2.messageUId])
    expect(pushed.eventSeq).toBe(before + 1)
    expect((await ann1.barrier()).filter((p) => p.event === 'messagesDeletedForMe')).toEqual([])
    // A device that was offline finds it in the log.
    const { events } = await ann2.call('syncEvents', { afterEventSeq: before, limit: 10 })
    expect(events.map((e) => e.event)).toEqual(['messagesDeletedForMe'])

    // My pulls leave it out, and say the page covers its seq.
    const mine = await pull(ann2, bob)
    expect(mine.messages.map((m) => m.messageUId)).toEqual([m1.messageUId, m3.messageUId])
    expect(mine.throughSeq).toBe(m3.seq)
    expect(await unread(ann1, bob)).toBe(2)
    expect(await unread(ann2, bob)).toBe(2)

    // Bob keeps it, unread by me: no receipt moved, no read was sent to him.
    const his = await pull(bob, ann1)
    const kept = his.messages.find((m) => m.messageUId === m2.messageUId)
    expect(kept?.content).toEqual(text('two'))
    expect(kept?.readAt).toBeUndefined()
    expect(
      (await bob.barrier()).filter((p) => p.event === 'messageRead' || p.event === 'conversationRead'),
    ).toEqual([])

    // Deleting it again changes nothing and tells nobody.
    const { lastEventSeq } = await ann1.call('syncState', {})
    expect(await ann1.call('deleteMessagesForMe', { messageUIds: [m2.messageUId] })).toEqual({
      deleted: [m2.messageUId],
      rejected: [],
    })
    expect((await ann1.call('syncState', {})).lastEventSeq).toBe(lastEventSeq)
  })

  it('leaves no gap when the newest messages were deleted, and my own do not touch unread', async () => {
    const ann = await connectOne(server)
    const bob = await connectOne(server)
    const first = await say(bob, ann, 'keep')
    const mineSent = await say(ann, bob, 'mine')
    const last = await say(bob, ann, 'last')
    await ann.call('deleteMessagesForMe', { messageUIds: [mineSent.messageUId, last.messageUId] })
    const page = await pull(ann, bob, first.seq)
    expect(page.messages).toEqual([])
    expect(page.throughSeq).toBe(last.seq)
    // Bob's "last" was unread and is gone; my own message never counted.
    expect(await unread(ann, bob)).toBe(1)
    expect((await pull(bob, ann)).messages).toHaveLength(3)
  })

  it('refuses messages I cannot see, with a typed error, and changes nothing', async () => {
    const ann = await connectOne(server)
    const bob = await connectOne(server)
    const eve = await connectOne(server)
    const secret = await say(bob, ann, 'between us')
    const { lastEventSeq: eveBefore } = await eve.call('syncState', {})

    await eve.expectError('deleteMessagesForMe', { messageUIds: [secret.messageUId] }, Code.MESSAGE_NOT_FOUND)
    // An unknown uid is refused the same way (nothing can be probed).
    await eve.expectError(
      'deleteMessagesForMe',
      { messageUIds: ['AAAA-AAAA-AAAA-AAAA'] },
      Code.MESSAGE_NOT_FOUND,
    )
    expect((await eve.call('syncState', {})).lastEventSeq).toBe(eveBefore)
    expect((await pull(ann, bob)).messages.map((m) => m.messageUId)).toEqual([secret.messageUId])
    expect((await pull(bob, ann)).messages.map((m) => m.messageUId)).toEqual([secret.messageUId])
    expect(await unread(ann, bob)).toBe(1)

    // In a batch, what I may see is deleted and the rest is rejected by uid.
    const mine = await say(eve, ann, 'hello ann')
    const mixed = await ann.call('deleteMessagesForMe', {
      messageUIds: [mine.messageUId, 'AAAA-AAAA-AAAA-AAAA'],
    })
    expect(mixed.deleted).toEqual([mine.messageUId])
    expect(mixed.rejected).toEqual([
      expect.objectContaining({ messageUId: 'AAAA-AAAA-AAAA-AAAA', code: Code.MESSAGE_NOT_FOUND }),
    ])
    // Eve, whose message it is, still has it.
    expect((await pull(eve, ann)).messages.map((m) => m.messageUId)).toEqual([mine.messageUId])
  })

  it('lets a former group member delete what they saw, not what came after they left', async () => {
    const [owner, member] = await Promise.all([connectOne(server), connectOne(server)])
    const { group } = await owner.call('createGroup', { name: 'g', memberIds: [member.userId] })
    const send = async (body: string) =>
      (
        await owner.call('sendMessage', {
          clientMsgId: clientMsgId(),
          conversation: { type: 'group', targetId: group.groupId },
          content: text(body),
        })
      ).message
    const seen = await send('before')
    await member.call('leaveGroup', { groupId: group.groupId })
    const after = await send('after')
    await member.expectError(
      'deleteMessagesForMe',
      { messageUIds: [after.messageUId] },
      Code.MESSAGE_NOT_FOUND,
    )
    expect(await member.call('deleteMessagesForMe', { messageUIds: [seen.messageUId] })).toEqual({
      deleted: [seen.messageUId],
      rejected: [],
    })
    const { messages } = await member.call('pullMessages', {
      conversation: { type: 'group', targetId: group.groupId },
      afterSeq: 0,
      limit: 10,
    })
    expect(messages).toEqual([])
  })
})

describe('deleted_for_me on SQLite', () => {
  it('keeps a pull and an unread count index lookups (EXPLAIN QUERY PLAN)', async () => {
    const storage = new SqliteStorage(':memory:')
    const plan = (sql: string, ...params: unknown[]) =>
      storage.db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((row) => row.detail)
        .join('\n')
    const pull = plan(LIST_MESSAGES_FOR_SQL, 1, 0, 100, 'ann', 10)
    expect(pull).toMatch(
      /SEARCH m USING INDEX sqlite_autoindex_messages_\d+ \(conv_id=\? AND seq>\? AND seq<\?\)/,
    )
    expect(pull).toMatch(/SEARCH d USING PRIMARY KEY \(user_id=\? AND conv_id=\? AND seq=\?\)/)
    expect(pull).not.toMatch(/SCAN|TEMP B-TREE/)
    const deleted = plan(COUNT_DELETED_FOR_ME_SQL, 'ann', 1, 0, 100)
    expect(deleted).toMatch(
      /SEARCH deleted_for_me USING PRIMARY KEY \(user_id=\? AND conv_id=\? AND seq>\? AND seq<\?\)/,
    )
    await storage.close()
  })

  it('goes with its messages when retention prunes them', async () => {
    const storage = new SqliteStorage(':memory:')
    let now = Date.UTC(2026, 0, 5, 9)
    const server = await startTestServer({ storage, now: () => now, retention: { messagesDays: 1 } })
    try {
      const [ann, bob] = [await connectOne(server), await connectOne(server)]
      const { message } = await bob.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: ann.userId },
        content: text('soon gone'),
      })
      await ann.call('deleteMessagesForMe', { messageUIds: [message.messageUId] })
      const rows = () => storage.db.prepare('SELECT count(*) FROM deleted_for_me').pluck().get()
      expect(rows()).toBe(1)
      now += 2 * 24 * 3600_000
      await server.sweep()
      expect(rows()).toBe(0)
    } finally {
      await server.close()
      await storage.close()
    }
  })
})
