/**
 * Issue 15 through a real server and sockets: must-acknowledge messages, the sender's panel,
 * "Waiting for me", reminders and their limits, mentions that show who saw them, and the hostile
 * cases (each a typed error with nothing changed). Runs on SQLite (default project) and on
 * PostgreSQL (`--project postgres`, tests/testStore.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import type { AckListState } from '../../src/shared/acks'
import { clientMsgId, connectOne, connectUser, startTestServer, text, type TestClient } from './helpers'

describe('acknowledgements (issue 15)', () => {
  let server: RunningServer
  let now = Date.UTC(2026, 11, 6, 9)
  beforeAll(async () => {
    server = await startTestServer({
      now: () => now,
      ackUndoWindowMs: 60_000,
      ackReminders: { remindersPerMember: 2, intervalMs: 1_000, minuteMs: 60_000 },
    })
  })
  afterAll(() => server.close())

  async function group(owner: TestClient, members: TestClient[]): Promise<string> {
    const { group } = await owner.call('createGroup', {
      name: 'team',
      memberIds: members.map((m) => m.userId),
    })
    return group.groupId
  }

  async function sendTo(
    from: TestClient,
    conversation: { type: 'group' | 'private'; targetId: string },
    body: string,
    extra: { needAck?: boolean; mentionedInfo?: { type: 'all' | 'some'; userIdList?: string[] } } = {},
  ) {
    const { message } = await from.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: conversation as { type: 'group'; targetId: string },
      content: text(body),
      needAck: extra.needAck ?? true,
      ...(extra.mentionedInfo
        ? {
            mentionedInfo: {
              type: extra.mentionedInfo.type,
              userIdList: extra.mentionedInfo.userIdList ?? [],
            },
          }
        : {}),
    })
    return message
  }

  async function panel(sender: TestClient, messageUId: string, state: AckListState) {
    const userIds: string[] = []
    let cursor: string | undefined
    let counts
    for (;;) {
      const page = await sender.call('fetchMessageAcks', {
        messageUId,
        state,
        pageSize: 2,
        ...(cursor ? { cursor } : {}),
      })
      userIds.push(...page.entries.map((e) => e.userId))
      counts = page.counts
      if (!page.nextCursor) break
      cursor = page.nextCursor
    }
    return { userIds, counts }
  }

  it('acks in a group: counts, tabs, pushes to the sender and to the acker’s other devices', async () => {
    const alice = await connectOne(server)
    const [bob1, bob2] = await connectUser(server, { devices: 2 })
    const carol = await connectOne(server)
    const dave = await connectOne(server)
    const groupId = await group(alice, [bob1!, carol, dave])
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, 'please confirm')
    expect(message.needAck).toBe(true)
    const pushed = await bob1!.nextPush('message', (m) => m.messageUId === message.messageUId)
    expect(pushed.data.needAck).toBe(true)
    expect(pushed.data.ackCount).toBeUndefined()

    // Carol reads (her read position passes it) without acking; Bob acks on one device.
    await carol.call('ackConversationRead', {
      conversation: { type: 'group', targetId: groupId },
      seq: message.seq,
    })
    const acked = await bob1!.call('ackMessage', { messageUIds: [message.messageUId] })
    expect(acked).toEqual({ accepted: [{ messageUId: message.messageUId, at: now }], rejected: [] })
    const toSender = await alice.nextPush('messageAcked', (d) => d.messageUId === message.messageUId)
    expect(toSender.data).toMatchObject({
      by: bob1!.userId,
      count: 1,
      conversation: { type: 'group', targetId: groupId },
    })
    expect(toSender.eventSeq).toBeGreaterThan(0)
    const toOther = await bob2!.nextPush('messageAcked', (d) => d.messageUId === message.messageUId)
    expect(toOther.data.count).toBeUndefined()
    expect(toOther.data.by).toBe(bob1!.userId)

    // A second ack (the other device, later) keeps the first time.
    now += 5_000
    const again = await bob2!.call('ackMessage', { messageUIds: [message.messageUId] })
    expect(again.accepted).toEqual([{ messageUId: message.messageUId, at: now - 5_000 }])

    const acks = await panel(alice, message.messageUId, 'acked')
    expect(acks.userIds).toEqual([bob1!.userId])
    expect(acks.counts).toEqual({ acked: 1, read: 2, total: 3, hidden: 0 })
    expect((await panel(alice, message.messageUId, 'readNotAcked')).userIds).toEqual([carol.userId])
    expect((await panel(alice, message.messageUId, 'notRead')).userIds).toEqual([dave.userId])

    // Pulled: the sender sees the count, Bob his own ack time, Carol nothing of others.
    const pull = async (c: TestClient) =>
      (
        await c.call('pullMessages', {
          conversation: { type: 'group', targetId: groupId },
          afterSeq: 0,
          limit: 50,
        })
      ).messages.find((m) => m.messageUId === message.messageUId)
    expect((await pull(alice))?.ackCount).toBe(1)
    expect((await pull(bob2!))?.myAckAt).toBe(now - 5_000)
    const carolsCopy = await pull(carol)
    expect(carolsCopy?.myAckAt).toBeUndefined()
    expect(carolsCopy?.ackCount).toBeUndefined()
  })

  it('pages a tab on a stable cursor, and counts total = acked + readNotAcked + notRead + hidden', async () => {
    const alice = await connectOne(server)
    const members = await Promise.all(Array.from({ length: 7 }, () => connectOne(server)))
    const hider = members[6]!
    await hider.call('updateSettings', { shareReadReceipts: false })
    const groupId = await group(alice, members)
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, 'roll call')
    for (const m of members.slice(0, 3)) await m.call('ackMessage', { messageUIds: [message.messageUId] })
    await members[3]!.call('ackConversationRead', {
      conversation: { type: 'group', targetId: groupId },
      seq: message.seq,
    })
    await hider.call('ackConversationRead', {
      conversation: { type: 'group', targetId: groupId },
      seq: message.seq,
    })
    const acked = await panel(alice, message.messageUId, 'acked')
    expect(acked.userIds).toEqual(members.slice(0, 3).map((m) => m.userId))
    const readNotAcked = await panel(alice, message.messageUId, 'readNotAcked')
    const notRead = await panel(alice, message.messageUId, 'notRead')
    const hidden = await panel(alice, message.messageUId, 'hidden')
    expect(readNotAcked.userIds).toEqual([members[3]!.userId])
    expect(notRead.userIds.sort()).toEqual([members[4]!.userId, members[5]!.userId].sort())
    expect(hidden.userIds).toEqual([hider.userId])
    const c = acked.counts
    expect(c).toEqual({ acked: 3, read: 4, total: 7, hidden: 1 })
    expect(c.total).toBe(
      c.acked + readNotAcked.userIds.length + notRead.userIds.length + hidden.userIds.length,
    )
    // A cursor of another tab, or garbage, is refused.
    const first = await alice.call('fetchMessageAcks', {
      messageUId: message.messageUId,
      state: 'acked',
      pageSize: 1,
    })
    expect(first.nextCursor).toBeDefined()
    await alice.expectError(
      'fetchMessageAcks',
      { messageUId: message.messageUId, state: 'notRead', pageSize: 1, cursor: first.nextCursor },
      Code.INVALID_ARGUMENT,
    )
    // The hider acks: an ack is visible, so they count as acked and read; undone, hidden again.
    await hider.call('ackMessage', { messageUIds: [message.messageUId] })
    expect((await panel(alice, message.messageUId, 'acked')).counts).toEqual({
      acked: 4,
      read: 5,
      total: 7,
      hidden: 0,
    })
    await hider.call('undoAckMessage', { messageUId: message.messageUId })
    expect((await panel(alice, message.messageUId, 'hidden')).userIds).toEqual([hider.userId])
    expect((await panel(alice, message.messageUId, 'acked')).counts).toEqual({
      acked: 3,
      read: 4,
      total: 7,
      hidden: 1,
    })
  })

  it('undo: only the caller’s own ack, only within the window, and everyone hears it', async () => {
    const alice = await connectOne(server)
    const [bob1, bob2] = await connectUser(server, { devices: 2 })
    const carol = await connectOne(server)
    const groupId = await group(alice, [bob1!, carol])
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, 'sign here')
    await bob1!.call('ackMessage', { messageUIds: [message.messageUId] })
    // Carol has no ack to undo; the request names no user, so she cannot touch Bob's.
    await carol.expectError('undoAckMessage', { messageUId: message.messageUId }, Code.ACK_NOT_FOUND)
    expect((await panel(alice, message.messageUId, 'acked')).userIds).toEqual([bob1!.userId])
    now += 30_000
    const undone = await bob2!.call('undoAckMessage', { messageUId: message.messageUId })
    expect(undone).toEqual({ messageUId: message.messageUId, undoneAt: now })
    const toSender = await alice.nextPush('messageAcked', (d) => d.undone === true)
    expect(toSender.data.count).toBe(0)
    await bob1!.nextPush('messageAcked', (d) => d.undone === true)
    expect((await panel(alice, message.messageUId, 'acked')).userIds).toEqual([])
    // Acked again, and past the window: it stays.
    await bob1!.call('ackMessage', { messageUIds: [message.messageUId] })
    now += 60_001
    await bob1!.expectError('undoAckMessage', { messageUId: message.messageUId }, Code.ACK_UNDO_WINDOW_PASSED)
    expect((await panel(alice, message.messageUId, 'acked')).counts.acked).toBe(1)
  })

  it('hostile: non-members, later joiners, the sender, non-senders: typed errors, nothing changed', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const eve = await connectOne(server)
    const late = await connectOne(server)
    const groupId = await group(alice, [bob])
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, 'members only')
    await alice.call('addGroupMembers', { groupId, userIds: [late.userId] })

    const refused = async (client: TestClient, code: number) => {
      const reply = await client.call('ackMessage', { messageUIds: [message.messageUId] })
      expect(reply.accepted).toEqual([])
      expect(reply.rejected.map((r) => r.code)).toEqual([code])
    }
    await refused(eve, Code.MESSAGE_NOT_FOUND) // not a member: cannot even learn it exists
    await refused(late, Code.NOT_AN_ACK_RECIPIENT) // joined after it was sent
    await refused(alice, Code.NOT_AN_ACK_RECIPIENT) // its sender
    // The panel, reminders, schedules and mention reads are the sender's alone.
    await bob.expectError(
      'fetchMessageAcks',
      { messageUId: message.messageUId, state: 'acked', pageSize: 10 },
      Code.NOT_MESSAGE_SENDER,
    )
    await eve.expectError(
      'fetchMessageAcks',
      { messageUId: message.messageUId, state: 'acked', pageSize: 10 },
      Code.MESSAGE_NOT_FOUND,
    )
    await bob.expectError('remindUnacknowledged', { messageUId: message.messageUId }, Code.NOT_MESSAGE_SENDER)
    await bob.expectError(
      'setAckReminderSchedule',
      { messageUId: message.messageUId, schedule: { everyMinutes: 1, times: 2 } },
      Code.NOT_MESSAGE_SENDER,
    )
    // "Acking for someone else": the data has no user field; an injected one is dropped by the schema.
    const forged = await eve.requestRaw('ackMessage', {
      messageUIds: [message.messageUId],
      userId: bob.userId,
      by: bob.userId,
    })
    expect(forged.code).toBe(0)
    const page = await alice.call('fetchMessageAcks', {
      messageUId: message.messageUId,
      state: 'acked',
      pageSize: 10,
    })
    expect(page.entries).toEqual([])
    expect(page.counts).toEqual({ acked: 0, read: 0, total: 1, hidden: 0 })
    // The later joiner is never listed or counted, and is not waiting for it.
    expect((await panel(alice, message.messageUId, 'notRead')).userIds).toEqual([bob.userId])
    expect((await late.call('listPendingAcks', { pageSize: 10 })).total).toBe(0)
    // A message that does not ask.
    const plain = await sendTo(alice, { type: 'group', targetId: groupId }, 'fyi', { needAck: false })
    const notAsked = await bob.call('ackMessage', { messageUIds: [plain.messageUId] })
    expect(notAsked.rejected.map((r) => r.code)).toEqual([Code.ACK_NOT_REQUESTED])
    await alice.expectError(
      'fetchMessageAcks',
      { messageUId: plain.messageUId, state: 'acked', pageSize: 10 },
      Code.ACK_NOT_REQUESTED,
    )
  })

  it('a member who leaves keeps their ack and stays counted', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const carol = await connectOne(server)
    const groupId = await group(alice, [bob, carol])
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, 'before you go')
    await bob.call('ackMessage', { messageUIds: [message.messageUId] })
    await bob.call('leaveGroup', { groupId })
    const acked = await panel(alice, message.messageUId, 'acked')
    expect(acked.userIds).toEqual([bob.userId])
    expect(acked.counts).toMatchObject({ acked: 1, total: 2 })
  })

  it('single chats: the peer acks; "Waiting for me" lists what I have not acked, newest first', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const carol = await connectOne(server)
    const first = await sendTo(alice, { type: 'private', targetId: bob.userId }, 'one')
    const second = await sendTo(alice, { type: 'private', targetId: bob.userId }, 'two')
    const groupId = await group(carol, [bob])
    const third = await sendTo(carol, { type: 'group', targetId: groupId }, 'three')
    await sendTo(carol, { type: 'group', targetId: groupId }, 'no ack', { needAck: false })
    const pending = await bob.call('listPendingAcks', { pageSize: 2 })
    expect(pending.total).toBe(3)
    expect(pending.messages.map((m) => m.messageUId)).toEqual([third.messageUId, second.messageUId])
    const rest = await bob.call('listPendingAcks', { pageSize: 2, cursor: pending.nextCursor })
    expect(rest.messages.map((m) => m.messageUId)).toEqual([first.messageUId])
    expect(rest.nextCursor).toBeUndefined()
    expect((await bob.call('syncState', {})).pendingAcks).toBe(3)
    await bob.call('ackMessage', { messageUIds: [second.messageUId] })
    expect((await bob.call('listPendingAcks', { pageSize: 10 })).total).toBe(2)
    expect(
      (await alice.call('fetchMessageAcks', { messageUId: second.messageUId, state: 'acked', pageSize: 5 }))
        .counts,
    ).toMatchObject({
      acked: 1,
      total: 1,
    })
    // Bob reads the first one (his read position passes it) without acking: read, not acknowledged.
    await alice.call('updateSettings', { shareReadReceipts: true })
    await bob.call('ackConversationRead', {
      conversation: { type: 'private', targetId: alice.userId },
      seq: first.seq,
    })
    const firstPanel = await alice.call('fetchMessageAcks', {
      messageUId: first.messageUId,
      state: 'readNotAcked',
      pageSize: 5,
    })
    expect(firstPanel.entries.map((e) => e.userId)).toEqual([bob.userId])
    expect(firstPanel.counts).toEqual({ acked: 0, read: 1, total: 1, hidden: 0 })
    const sync = await bob.call('syncState', {})
    expect(sync.ackSettings).toEqual({
      undoWindowMs: 60_000,
      remindersPerMember: 2,
      reminderIntervalMs: 1_000,
    })
  })

  it('ackValidityMs of a group refuses acks of older messages (ACK_EXPIRED)', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const groupId = await group(alice, [bob])
    await alice.call('setGroupReceiptSettings', { groupId, settings: { ackValidityMs: 10_000 } })
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, 'quick')
    now += 10_001
    const reply = await bob.call('ackMessage', { messageUIds: [message.messageUId] })
    expect(reply.rejected.map((r) => r.code)).toEqual([Code.ACK_EXPIRED])
    expect(
      (await alice.call('fetchMessageAcks', { messageUId: message.messageUId, state: 'acked', pageSize: 5 }))
        .counts.acked,
    ).toBe(0)
  })

  it('reminders: only the pending, on every device, limited per member, not too soon', async () => {
    const alice = await connectOne(server)
    const [bob1, bob2] = await connectUser(server, { devices: 2 })
    const carol = await connectOne(server)
    const groupId = await group(alice, [bob1!, carol])
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, 'deadline today')
    await carol.call('ackMessage', { messageUIds: [message.messageUId] })
    expect(await alice.call('remindUnacknowledged', { messageUId: message.messageUId })).toEqual({
      reminded: 1,
      limited: 0,
    })
    for (const device of [bob1!, bob2!]) {
      const push = await device.nextPush('ackReminder', (d) => d.messageUId === message.messageUId)
      expect(push.data).toMatchObject({
        from: alice.userId,
        n: 1,
        conversation: { type: 'group', targetId: groupId },
      })
      expect(push.eventSeq).toBeUndefined()
    }
    await alice.expectError(
      'remindUnacknowledged',
      { messageUId: message.messageUId },
      Code.REMINDER_TOO_SOON,
    )
    now += 1_000
    expect(await alice.call('remindUnacknowledged', { messageUId: message.messageUId })).toEqual({
      reminded: 1,
      limited: 0,
    })
    await bob1!.nextPush('ackReminder', (d) => d.n === 2)
    now += 1_000
    await alice.expectError(
      'remindUnacknowledged',
      { messageUId: message.messageUId },
      Code.REMINDER_LIMIT_REACHED,
    )
    // Carol acked: never reminded.
    expect((await carol.barrier()).filter((p) => p.event === 'ackReminder')).toEqual([])
    const acked = await alice.call('fetchMessageAcks', {
      messageUId: message.messageUId,
      state: 'notRead',
      pageSize: 5,
    })
    expect(acked.entries).toEqual([expect.objectContaining({ userId: bob1!.userId, reminded: 2 })])
  })

  it('mentions: members only, groups only; the sender’s dot fills when the member reads', async () => {
    const alice = await connectOne(server)
    const [bob, carol, hider, outsider] = await Promise.all(
      Array.from({ length: 4 }, () => connectOne(server)),
    )
    await hider!.call('updateSettings', { shareReadReceipts: false })
    const groupId = await group(alice, [bob!, carol!, hider!])
    await alice.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'group', targetId: groupId },
        content: text('hi @outsider'),
        mentionedInfo: { type: 'some', userIdList: [outsider!.userId] },
      },
      Code.MENTION_NOT_A_MEMBER,
    )
    await alice.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: bob!.userId },
        content: text('hi @bob'),
        mentionedInfo: { type: 'some', userIdList: [bob!.userId] },
      },
      Code.INVALID_ARGUMENT,
    )
    const message = await sendTo(alice, { type: 'group', targetId: groupId }, '@bob @carol @hider look', {
      needAck: false,
      mentionedInfo: { type: 'some', userIdList: [bob!.userId, carol!.userId, hider!.userId] },
    })
    expect(message.mentionedInfo).toEqual({
      type: 'some',
      userIdList: [bob!.userId, carol!.userId, hider!.userId],
    })
    const received = await bob!.nextPush('message', (m) => m.messageUId === message.messageUId)
    expect(received.data.mentionedInfo?.userIdList).toContain(bob!.userId)
    await bob!.call('ackConversationRead', {
      conversation: { type: 'group', targetId: groupId },
      seq: message.seq,
    })
    await hider!.call('ackConversationRead', {
      conversation: { type: 'group', targetId: groupId },
      seq: message.seq,
    })
    const read = await alice.nextPush('mentionRead', (d) => d.messageUId === message.messageUId)
    expect(read.data).toMatchObject({
      userId: bob!.userId,
      conversation: { type: 'group', targetId: groupId },
    })
    expect(read.eventSeq).toBeGreaterThan(0)
    const reads = await alice.call('fetchMentionReads', { messageUId: message.messageUId })
    expect(reads.members).toEqual(
      [
        { userId: bob!.userId, state: 'read', readAt: now },
        { userId: carol!.userId, state: 'unread' },
        { userId: hider!.userId, state: 'hidden' },
      ].sort((a, b) => (a.userId < b.userId ? -1 : 1)),
    )
    // Nobody else hears of the hider's read, and only the sender may ask.
    expect((await alice.barrier()).filter((p) => p.event === 'mentionRead')).toEqual([])
    await bob!.expectError('fetchMentionReads', { messageUId: message.messageUId }, Code.NOT_MESSAGE_SENDER)

    // A read receipt for the message (it asked for them) fills the dot too.
    const asked = await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: groupId },
      content: text('@carol receipts please'),
      isNeedGroupAck: true,
      mentionedInfo: { type: 'some', userIdList: [carol!.userId] },
    })
    await carol!.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: asked.message.messageUId }] })
    const carolRead = await alice.nextPush('mentionRead', (d) => d.messageUId === asked.message.messageUId)
    expect(carolRead.data.userId).toBe(carol!.userId)

    // '@all': counts like the reader panel.
    const all = await sendTo(alice, { type: 'group', targetId: groupId }, '@all meeting', {
      needAck: false,
      mentionedInfo: { type: 'all' },
    })
    await carol!.call('ackConversationRead', {
      conversation: { type: 'group', targetId: groupId },
      seq: all.seq,
    })
    expect((await alice.call('fetchMentionReads', { messageUId: all.messageUId })).all).toEqual({
      read: 1,
      total: 3,
      hidden: 1,
    })
  })
})
