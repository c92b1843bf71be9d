import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, connectUser, login, startTestServer, TestClient, text } from './helpers'

describe('single chat', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  function sendTo(from: TestClient, to: TestClient, body: string, id = clientMsgId()) {
    return from.call('sendMessage', {
      clientMsgId: id,
      conversation: { type: 'private', targetId: to.userId },
      content: text(body),
    })
  }

  it('stores the message with seq and messageUId, pushes it to every other device of both users', async () => {
    const [alicePhone, aliceLaptop] = await connectUser(server, { devices: 2 })
    const [bobPhone, bobLaptop] = await connectUser(server, { devices: 2 })
    const before = Date.now()
    const { message, duplicate } = await sendTo(alicePhone, bobPhone, 'hello')
    expect(duplicate).toBe(false)
    expect(message).toMatchObject({
      convType: 'private',
      senderId: alicePhone.userId,
      to: bobPhone.userId,
      seq: 1,
      channelId: '',
      content: text('hello'),
      // A new account asks for both receipts (accountDefaults.ts).
      needDeliveryAck: true,
      needReadAck: true,
      isNeedGroupAck: false,
      memberCount: 1,
    })
    expect(message.messageUId).toMatch(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/)
    expect(message.sentAt).toBeGreaterThanOrEqual(before)

    for (const device of [bobPhone, bobLaptop, aliceLaptop]) {
      expect((await device.nextPush('message')).data).toEqual(message)
    }
    expect(await alicePhone.barrier()).toEqual([])

    const reply = await sendTo(bobLaptop, alicePhone, 'hi back')
    expect(reply.message.seq).toBe(2)
    await alicePhone.nextPush('message', (m) => m.seq === 2)
  })

  it('answers a resend with the stored message whatever changed since, and creates nothing for it', async () => {
    const [alice, bob, carol] = await Promise.all([
      connectOne(server),
      connectOne(server),
      connectOne(server),
    ])
    const { group } = await alice.call('createGroup', { name: 'once', memberIds: [bob.userId] })
    const groupSend = {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group' as const, targetId: group.groupId },
      content: text('before leaving'),
    }
    const first = await bob.call('sendMessage', groupSend)
    await bob.call('leaveGroup', { groupId: group.groupId })
    // The sender is no longer a member, yet the resend of what was accepted succeeds.
    expect(await bob.call('sendMessage', groupSend)).toEqual({ message: first.message, duplicate: true })
    await bob.expectError('sendMessage', { ...groupSend, clientMsgId: clientMsgId() }, Code.NOT_A_MEMBER)

    // The same client id addressed to someone else: the first message again, and no new chat.
    const toAlice = await sendTo(bob, alice, 'hello', clientMsgId())
    const again = await sendTo(bob, carol, 'hello', toAlice.message.clientMsgId)
    expect(again).toEqual({ message: toAlice.message, duplicate: true })
    const carolState = await carol.call('syncState', {})
    expect(carolState.conversations).toEqual([])
  })

  it('answers a resend with the stored message, duplicate: true, and pushes nothing again', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const id = clientMsgId()
    const first = await sendTo(alice, bob, 'once', id)
    await bob.nextPush('message')
    const again = await sendTo(alice, bob, 'once (resent)', id)
    expect(again).toEqual({ message: first.message, duplicate: true })
    expect(await bob.barrier()).toEqual([])
    const history = await bob.call('pullMessages', {
      conversation: { type: 'private', targetId: alice.userId },
      afterSeq: 0,
      limit: 10,
    })
    expect(history.messages).toHaveLength(1)
  })

  it('refuses unknown users and oneself', async () => {
    const alice = await connectOne(server)
    await alice.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: 'nobody-here' },
        content: text('?'),
      },
      Code.USER_NOT_FOUND,
    )
    await alice.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: alice.userId },
        content: text('me'),
      },
      Code.CANNOT_CHAT_WITH_SELF,
    )
    await alice.expectError(
      'sendMessage',
      {
        clientMsgId: clientMsgId(),
        conversation: { type: 'group', targetId: 'g_missing' },
        content: text('?'),
      },
      Code.GROUP_NOT_FOUND,
    )
  })

  it('pulls history in pages by seq', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    for (let i = 1; i <= 5; i++) await sendTo(i % 2 ? alice : bob, i % 2 ? bob : alice, `m${i}`)
    const conversation = { type: 'private' as const, targetId: alice.userId }
    const page1 = await bob.call('pullMessages', { conversation, afterSeq: 0, limit: 2 })
    expect(page1.messages.map((m) => m.seq)).toEqual([1, 2])
    expect(page1.hasMore).toBe(true)
    const page3 = await bob.call('pullMessages', { conversation, afterSeq: 4, limit: 2 })
    expect(page3).toMatchObject({ hasMore: false })
    expect(page3.messages.map((m) => m.content)).toEqual([text('m5')])
    const nothingYet = await bob.call('pullMessages', {
      conversation: { type: 'private', targetId: (await connectOne(server)).userId },
      afterSeq: 0,
      limit: 10,
    })
    expect(nothingYet).toEqual({ messages: [], hasMore: false })
  })

  it('stamps delivery/read-ack needs from the sender’s settings and syncs settings across devices', async () => {
    const [alice, aliceOther] = await connectUser(server, { devices: 2 })
    const bob = await connectOne(server)
    const { settings } = await alice.call('updateSettings', { requireReadAck: false })
    expect(settings).toEqual({ requireDeliveryAck: true, requireReadAck: false, shareReadReceipts: true })
    expect((await aliceOther.nextPush('settingsChanged')).data.settings).toEqual(settings)
    expect(await alice.barrier()).toEqual([])

    const sent = await sendTo(alice, bob, 'ack me')
    expect(sent.message).toMatchObject({ needDeliveryAck: true, needReadAck: false })
    // The receiver's own settings do not matter.
    await bob.call('updateSettings', { requireReadAck: true, requireDeliveryAck: false })
    const reply = await sendTo(alice, bob, 'still')
    expect(reply.message).toMatchObject({ needDeliveryAck: true, needReadAck: false })
    expect((await bob.call('syncState', {})).settings).toEqual({
      requireDeliveryAck: false,
      requireReadAck: true,
      shareReadReceipts: true,
    })
  })

  it('reports conversations, unread counts and watermarks in syncState', async () => {
    const alice = await connectOne(server, { displayName: 'Alice A.' })
    const bob = await connectOne(server, { displayName: 'Bob B.' })
    const carol = await connectOne(server)
    for (let i = 0; i < 3; i++) await sendTo(alice, bob, `a${i}`)
    await sendTo(bob, alice, 'b0')
    await sendTo(carol, bob, 'c0')

    const state = await bob.call('syncState', {})
    expect(state.user).toEqual({ userId: bob.userId, displayName: 'Bob B.' })
    expect(state.lastEventSeq).toBe(0)
    expect(state.conversations).toHaveLength(2)
    const withAlice = state.conversations.find((c) => c.conversation.targetId === alice.userId)
    expect(withAlice).toEqual({
      conversation: { type: 'private', targetId: alice.userId },
      title: 'Alice A.',
      lastSeq: 4,
      readSeq: 0,
      shareReadReceipts: null,
      readReceiptsShared: true,
      peerReadSeq: 0,
      peerDeliveredSeq: 0,
      joinedSeq: 0,
      leftSeq: null,
      unreadCount: 3,
      notificationStatus: 'notify',
    })
    const aliceState = await alice.call('syncState', {})
    expect(aliceState.conversations.map((c) => [c.conversation.targetId, c.title, c.unreadCount])).toEqual([
      [bob.userId, 'Bob B.', 1],
    ])

    await bob.call('ackConversationRead', {
      conversation: { type: 'private', targetId: alice.userId },
      seq: 2,
    })
    const after = await bob.call('syncState', {})
    expect(after.conversations.find((c) => c.conversation.targetId === alice.userId)).toMatchObject({
      readSeq: 2,
      unreadCount: 1,
    })
    const aliceAfter = await alice.call('syncState', {})
    expect(aliceAfter.conversations[0]).toMatchObject({ peerReadSeq: 2, peerDeliveredSeq: 2 })
  })

  it('returns profiles of existing users only', async () => {
    const alice = await connectOne(server, { displayName: 'Al' })
    const bob = await connectOne(server)
    const { users } = await alice.call('getUsers', {
      userIds: [bob.userId, 'ghost', alice.userId, bob.userId],
    })
    expect(users.sort((a, b) => a.userId.localeCompare(b.userId))).toEqual(
      [
        { userId: alice.userId, displayName: 'Al' },
        { userId: bob.userId, displayName: bob.userId },
      ].sort((a, b) => a.userId.localeCompare(b.userId)),
    )
  })

  it('keeps messages across a restart of a file-backed server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-server-'))
    try {
      const first = await startTestServer({ dataDir: dir })
      const alice = await connectOne(first)
      const bob = await connectOne(first)
      await sendTo(alice, bob, 'persisted')
      await first.close()

      const second = await startTestServer({ dataDir: dir })
      const again = await TestClient.connect(second, await login(second, bob.userId, bob.session.password))
      const history = await again.call('pullMessages', {
        conversation: { type: 'private', targetId: alice.userId },
        afterSeq: 0,
        limit: 10,
      })
      expect(history.messages.map((m) => m.content)).toEqual([text('persisted')])
      await second.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
