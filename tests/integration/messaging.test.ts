import { afterEach, describe, expect, it } from 'vitest'
import type { ConversationSummary, GroupInfo, GroupMember, Message } from '../../src/shared/model'
import type { HistoryPage, SyncProgress } from '../../src/shared/ipc'
import { cleanup, data, openDevice, reopen, signIn, tempDir, testServer, type Device } from './harness'
import { textOf } from '../textOf'

afterEach(cleanup)

const text = (t: string) => ({ type: 'text', text: t }) as const
const history = async (d: Device, conversation: object, count = 50): Promise<Message[]> =>
  data<HistoryPage>(await d.dispatch('getHistoryMessages', [conversation, { count }])).list
const received = (d: Device, body: string) =>
  d.next('messageReceived', (ms) => ms.some((m) => textOf(m) === body))

describe('single chat', () => {
  it('delivers a message to the peer, with sequence numbers and server ids on both sides', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const toBob = { type: 'private', targetId: 'bob' }

    const arrived = received(bob, 'hello bob')
    const sent = data<Message>(await alice.dispatch('sendMessage', [toBob, text('hello bob')]))
    expect(sent.status).toBe('sending')
    const [m] = (await arrived).filter((x) => textOf(x) === 'hello bob')
    expect(m).toMatchObject({ senderUserId: 'alice', messageDirection: 2, seq: 1, isUnread: true })
    expect(m?.conversation).toEqual({ type: 'private', targetId: 'alice' })

    const mine = await alice.until('sent', () =>
      alice.engine.store?.messageByLocalId(Number(sent.messageId))?.status === 'sent'
        ? alice.engine.store.messageByLocalId(Number(sent.messageId))
        : undefined,
    )
    expect(mine.messageUId).toBe(m?.messageUId)
    expect(mine.seq).toBe(1)

    const bobList = data<ConversationSummary[]>(await bob.dispatch('getConversationList', []))
    expect(bobList).toEqual([
      expect.objectContaining({ conversation: { type: 'private', targetId: 'alice' }, unreadCount: 1 }),
    ])
    const reply = received(alice, 'hi alice')
    await bob.dispatch('sendMessage', [{ type: 'private', targetId: 'alice' }, text('hi alice')])
    await reply
    expect((await history(alice, toBob)).map((x) => [x.seq, textOf(x), x.messageDirection])).toEqual([
      [2, 'hi alice', 2],
      [1, 'hello bob', 1],
    ])
  })

  it('refuses a chat with an unknown user and with oneself, in words', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    expect(await alice.dispatch('startPrivateChat', ['nobody'])).toMatchObject({ code: 2004 })
    expect(await alice.dispatch('startPrivateChat', ['alice'])).toMatchObject({ code: 3004 })
    await signIn(server, 'bob')
    const started = data<ConversationSummary>(await alice.dispatch('startPrivateChat', ['bob']))
    expect(started).toMatchObject({
      conversation: { type: 'private', targetId: 'bob' },
      title: 'bob',
      unreadCount: 0,
    })
  })
})

describe('refusals', () => {
  it('marks a message the server refuses as failed, with the reason, and sends it no more', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const sent = data<Message>(
      await alice.dispatch('sendMessage', [{ type: 'private', targetId: 'ghost' }, text('boo')]),
    )
    const [failed] = await alice.next('messagesChanged', (ms) =>
      ms.some((m) => m.messageId === sent.messageId),
    )
    expect(failed).toMatchObject({ status: 'failed', failure: { code: 2004 } })
    expect(alice.engine.store?.outboxSize()).toBe(0)
    const [again] = await history(alice, { type: 'private', targetId: 'ghost' })
    expect(again).toMatchObject({ status: 'failed', failure: { code: 2004 } })
  })
})

describe('group chat', () => {
  it('fans a message out to every member, with roles and permissions enforced', async () => {
    const server = await testServer()
    const [alice, bob, carol] = await Promise.all(['alice', 'bob', 'carol'].map((u) => signIn(server, u)))
    const group = data<GroupInfo>(await alice!.dispatch('createGroup', ['Team', ['bob', 'carol']]))
    expect(group).toMatchObject({ name: 'Team', ownerId: 'alice', memberCount: 3, myRole: 'owner' })
    const conv = { type: 'group', targetId: group.groupId }

    await Promise.all(
      [bob, carol].map((d) => d!.until('group known', () => d!.engine.store?.group(group.groupId))),
    )
    const atBob = received(bob!, 'hello team')
    const atCarol = received(carol!, 'hello team')
    await alice!.dispatch('sendMessage', [conv, text('hello team')])
    await Promise.all([atBob, atCarol])

    const atAlice = received(alice!, 'from carol')
    const atBob2 = received(bob!, 'from carol')
    await carol!.dispatch('sendMessage', [conv, text('from carol')])
    await Promise.all([atAlice, atBob2])
    expect((await history(bob!, conv)).map((m) => [m.senderUserId, textOf(m)])).toEqual([
      ['carol', 'from carol'],
      ['alice', 'hello team'],
    ])

    const members = data<GroupMember[]>(await bob!.dispatch('getGroupMembers', [group.groupId]))
    expect(members.map((m) => [m.userId, m.role]).sort()).toEqual([
      ['alice', 'owner'],
      ['bob', 'member'],
      ['carol', 'member'],
    ])
    expect(await bob!.dispatch('removeGroupMembers', [group.groupId, ['carol']])).toMatchObject({
      code: 3003,
    })
    expect(await alice!.dispatch('leaveGroup', [group.groupId])).toMatchObject({ code: 3005 })

    const removed = carol!.next('groupChanged', (g) => g.groupId === group.groupId && !g.group?.myRole)
    await alice!.dispatch('removeGroupMembers', [group.groupId, ['carol']])
    await removed
    expect(await carol!.dispatch('sendMessage', [conv, text('still here?')])).toMatchObject({ code: 3001 })
  })
})

describe('offline and restarts', () => {
  it('syncs messages sent while the receiver was offline, with unread counts and progress', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await bob.stop()
    const toBob = { type: 'private', targetId: 'bob' }
    for (let i = 1; i <= 30; i++) await alice.dispatch('sendMessage', [toBob, text(`offline ${i}`)])
    await alice.until('all sent', () => alice.engine.store?.outboxSize() === 0)

    // Small pull pages so that the backlog takes several steps, each reported to the UI.
    const again = openDevice(bob.profileDir, server.url, { pullPageSize: 10 })
    const progress: SyncProgress[] = []
    again.engine.on('syncProgress', (p) => progress.push(p))
    const connected = again.until('connected', () => again.engine.connectionState.state === 'connected')
    again.engine.start()
    await connected
    expect(progress.at(0)).toEqual({ done: 0, total: 30 })
    expect(progress.at(-1)).toEqual({ done: 30, total: 30 })
    expect(progress.map((p) => p.done)).toEqual([...progress.map((p) => p.done)].sort((a, b) => a - b))
    expect(progress.length).toBeGreaterThanOrEqual(4)
    const list = data<ConversationSummary[]>(await again.dispatch('getConversationList', []))
    expect(list[0]).toMatchObject({ unreadCount: 30, lastMessage: { content: { text: 'offline 30' } } })
    expect((await history(again, { type: 'private', targetId: 'alice' }, 100)).map((m) => m.seq)).toEqual(
      Array.from({ length: 30 }, (_, i) => 30 - i),
    )
  })

  it('sends what was written offline after the app restarts, exactly once', async () => {
    const dataDir = tempDir('server-data')
    let server = await testServer({ dataDir })
    const port = server.port
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await server.close()
    await alice.until('disconnected', () => alice.engine.connectionState.state !== 'connected')

    const toBob = { type: 'private', targetId: 'bob' }
    for (const t of ['one', 'two', 'three']) await alice.dispatch('sendMessage', [toBob, text(t)])
    expect((await history(alice, toBob)).map((m) => m.status)).toEqual(['sending', 'sending', 'sending'])
    await alice.stop()

    server = await testServer({ dataDir, port })
    await bob.until('bob reconnected', () => bob.engine.connectionState.state === 'connected')
    const restarted = await reopen(alice.profileDir, server)
    await restarted.until('outbox drained', () => restarted.engine.store?.outboxSize() === 0)
    await bob.until('three arrived', () =>
      bob.engine.store?.history({ type: 'private', targetId: 'alice' }, undefined, 10).list.length === 3
        ? true
        : undefined,
    )
    expect(
      (await history(bob, { type: 'private', targetId: 'alice' })).map((m) => [m.seq, textOf(m)]),
    ).toEqual([
      [3, 'three'],
      [2, 'two'],
      [1, 'one'],
    ])
    expect((await history(restarted, toBob)).map((m) => m.status)).toEqual(['sent', 'sent', 'sent'])
  })
})

describe('one user on two devices', () => {
  it('gives every device everything: incoming messages and my own from the other device', async () => {
    const server = await testServer()
    const laptop = await signIn(server, 'alice')
    const phone = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')

    const onLaptop = received(laptop, 'to both')
    const onPhone = received(phone, 'to both')
    await bob.dispatch('sendMessage', [{ type: 'private', targetId: 'alice' }, text('to both')])
    await Promise.all([onLaptop, onPhone])

    const echoed = phone.next('messageReceived', (ms) => ms.some((m) => textOf(m) === 'from laptop'))
    await laptop.dispatch('sendMessage', [{ type: 'private', targetId: 'bob' }, text('from laptop')])
    const [mine] = (await echoed).filter((m) => textOf(m) === 'from laptop')
    expect(mine).toMatchObject({
      messageDirection: 1,
      senderUserId: 'alice',
      status: 'sent',
      isUnread: false,
    })
  })
})
