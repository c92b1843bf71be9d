/**
 * Single-chat receipts and multi-device read sync (SPEC E1–E5, E9) with a real server and real
 * engines, each with its own SQLite file.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { HistoryPage } from '../../src/shared/ipc'
import type { ConversationSummary, Message } from '../../src/shared/model'
import { login, TestClient } from '../server/helpers'
import { cleanup, data, reopen, signIn, tempDir, testServer, type Device } from './harness'

afterEach(cleanup)

const text = (t: string) => ({ type: 'text', text: t }) as const
const toBob = { type: 'private', targetId: 'bob' } as const
const toAlice = { type: 'private', targetId: 'alice' } as const

async function sendAndConfirm(from: Device, to: object, body: string): Promise<Message> {
  const sent = data<Message>(await from.dispatch('sendMessage', [to, text(body)]))
  return from.until(`"${body}" confirmed`, () => {
    const row = from.engine.store?.messageByLocalId(Number(sent.messageId))
    return row?.messageUId ? (messageOf(from, row.messageUId) as Message) : undefined
  })
}

function messageOf(d: Device, uid: string): Message | undefined {
  const row = d.engine.store?.messageByUid(uid)
  if (!row) return undefined
  return d.engine.history(row.conversation, undefined, 200).list.find((m) => m.messageUId === uid)
}

async function unread(d: Device, targetId: string): Promise<number | undefined> {
  const list = data<ConversationSummary[]>(await d.dispatch('getConversationList', []))
  return list.find((c) => c.conversation.targetId === targetId)?.unreadCount
}

describe('delivery receipts (E1)', () => {
  it('are sent by the receiving engine by itself when the sender asked, and only then', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    // A new account asks for delivery receipts (accountDefaults.ts); turned off, a message asks for none.
    expect(data(await alice.dispatch('updateSettings', [{ requireDeliveryAck: false }]))).toMatchObject({
      requireDeliveryAck: false,
    })

    const quiet = await sendAndConfirm(alice, toBob, 'no receipt asked')
    await bob.until('arrived', () => messageOf(bob, quiet.messageUId as string))
    expect(bob.engine.store?.outbox('ackDelivered', 10)).toHaveLength(0)

    expect(data(await alice.dispatch('updateSettings', [{ requireDeliveryAck: true }]))).toMatchObject({
      requireDeliveryAck: true,
    })
    const delivered = alice.next('messageDelivered')
    const asked = await sendAndConfirm(alice, toBob, 'receipt asked')
    const [m] = await delivered
    expect(m).toMatchObject({ messageUId: asked.messageUId, isDelivered: true, isReceiverRead: false })
    expect(m?.deliveredTime).toBeGreaterThanOrEqual(asked.sentTime)
    expect(messageOf(alice, quiet.messageUId as string)?.isDelivered).toBe(false)
  })

  it('reach a sender whose receiver was offline, when the receiver syncs', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await alice.dispatch('updateSettings', [{ requireDeliveryAck: true }])
    await bob.stop()
    const m = await sendAndConfirm(alice, toBob, 'while you were away')
    expect(m.isDelivered).toBe(false)

    const delivered = alice.next('messageDelivered', (ms) => ms.some((x) => x.messageUId === m.messageUId))
    await reopen(bob.profileDir, server)
    await delivered
    expect(messageOf(alice, m.messageUId as string)?.isDelivered).toBe(true)
  })

  it('are never produced in groups (E9)', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await alice.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }])
    const group = data<{ groupId: string }>(await alice.dispatch('createGroup', ['G', ['bob']]))
    await bob.until('group known', () => bob.engine.store?.group(group.groupId))
    const m = await sendAndConfirm(alice, { type: 'group', targetId: group.groupId }, 'group hello')
    await bob.until('arrived', () => messageOf(bob, m.messageUId as string))
    expect(bob.engine.store?.outbox('ackDelivered', 10)).toHaveLength(0)

    // A hand-made delivery ack for a group message is refused with a typed error.
    const raw = await TestClient.connect(server, await login(server, 'bob', 'bob-password'))
    const reply = await raw.request('ackDelivered', { messageUIds: [m.messageUId as string] })
    expect(reply.data).toMatchObject({ accepted: [], rejected: [{ code: 4004 }] })
    raw.ws.close()
  })
})

describe('message read receipts (E4)', () => {
  it('turn isReceiverRead true at the sender; a duplicate changes nothing', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await alice.dispatch('updateSettings', [{ requireReadAck: true }])
    const m = await sendAndConfirm(alice, toBob, 'read me')
    await bob.until('arrived', () => messageOf(bob, m.messageUId as string))

    const read = alice.next('messageRead')
    expect(await bob.dispatch('ackMessageRead', [m.messageUId])).toEqual({ code: 0, data: null })
    expect(await bob.dispatch('ackMessageRead', [m.messageUId])).toEqual({ code: 0, data: null })
    const [r] = await read
    expect(r).toMatchObject({ messageUId: m.messageUId, isReceiverRead: true, isDelivered: true })
    expect(messageOf(bob, m.messageUId as string)?.isUnread).toBe(false)
    expect(await unread(bob, 'alice')).toBe(0)
  })

  it('refuse acks for unknown messages and for messages one sent oneself, in words', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    await signIn(server, 'bob')
    const m = await sendAndConfirm(alice, toBob, 'mine')
    expect(await alice.dispatch('ackMessageRead', [m.messageUId])).toMatchObject({ code: 4002 })
    expect(await alice.dispatch('ackMessageRead', ['AAAA-BBBB-CCCC-DDDD'])).toMatchObject({ code: 4001 })
  })

  it('cannot be forged by a stranger', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    await (await signIn(server, 'bob')).stop()
    await signIn(server, 'mallory')
    await alice.dispatch('updateSettings', [{ requireReadAck: true, requireDeliveryAck: true }])
    const m = await sendAndConfirm(alice, toBob, 'private words')
    const mallory = await TestClient.connect(server, await login(server, 'mallory', 'mallory-password'))
    for (const op of ['ackMessageRead', 'ackDelivered'] as const) {
      const reply = await mallory.request(op, { messageUIds: [m.messageUId as string] })
      expect(reply.data).toMatchObject({ accepted: [], rejected: [{ code: 4002 }] })
    }
    const conv = await mallory.request('ackConversationRead', {
      conversation: { type: 'private', targetId: 'alice' },
      seq: 1,
    })
    expect(conv.code).toBe(3001)
    mallory.ws.close()
    expect(messageOf(alice, m.messageUId as string)).toMatchObject({
      isDelivered: false,
      isReceiverRead: false,
    })
  })
})

describe('conversation read receipts and multi-device sync (E3)', () => {
  it('tell the peer, and clear the unread count on the reader’s other devices', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const laptop = await signIn(server, 'bob')
    const phone = await signIn(server, 'bob')
    await alice.dispatch('updateSettings', [{ requireReadAck: true }])
    const sent: Message[] = []
    for (const t of ['one', 'two', 'three']) sent.push(await sendAndConfirm(alice, toBob, t))
    await phone.until('three unread on the phone', async () => (await unread(phone, 'alice')) === 3)
    await laptop.until('three unread on the laptop', async () => (await unread(laptop, 'alice')) === 3)

    const peerSaw = alice.next('conversationRead')
    const phoneSaw = phone.next('conversationRead')
    expect(await laptop.dispatch('ackConversationRead', [toAlice])).toEqual({ code: 0, data: null })
    expect(await unread(laptop, 'alice')).toBe(0)

    expect(await peerSaw).toMatchObject({ from: 'bob', to: 'alice', seq: 3 })
    expect(await phoneSaw).toMatchObject({ from: 'bob', seq: 3 })
    expect(await unread(phone, 'alice')).toBe(0)
    await alice.until('all read', () =>
      sent.every((m) => messageOf(alice, m.messageUId as string)?.isReceiverRead),
    )
  })

  it('survive a restart: an ack made offline goes out once after the app restarts', async () => {
    const dataDir = tempDir('server-data')
    let server = await testServer({ dataDir })
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await alice.dispatch('updateSettings', [{ requireReadAck: true }])
    const m = await sendAndConfirm(alice, toBob, 'read me later')
    await bob.until('arrived', () => messageOf(bob, m.messageUId as string))

    await server.close()
    await bob.until('offline', () => bob.engine.connectionState.state !== 'connected')
    await bob.dispatch('ackMessageRead', [m.messageUId])
    expect(bob.engine.store?.outboxSize()).toBeGreaterThan(0)
    await bob.stop()

    server = await testServer({ dataDir, port: server.port })
    const reads: Message[][] = []
    alice.engine.on('messageRead', (ms) => reads.push(ms))
    await alice.until('alice back', () => alice.engine.connectionState.state === 'connected')
    const restarted = await reopen(bob.profileDir, server)
    await restarted.engine.flushOutbox()
    expect(restarted.engine.store?.outboxSize()).toBe(0)
    await alice.until('read arrived', () => messageOf(alice, m.messageUId as string)?.isReceiverRead)
    expect(reads.flat().filter((x) => x.messageUId === m.messageUId)).toHaveLength(1)
    expect(await unread(restarted, 'alice')).toBe(0)
  })

  it('reach a sender that was offline, from the event log, after it reconnects', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await alice.dispatch('updateSettings', [{ requireReadAck: true, requireDeliveryAck: true }])
    const m = await sendAndConfirm(alice, toBob, 'catch up')
    await bob.until('arrived', () => messageOf(bob, m.messageUId as string))
    await alice.stop()
    await bob.dispatch('ackMessageRead', [m.messageUId])
    await bob.engine.flushOutbox()
    expect(bob.engine.store?.outboxSize()).toBe(0)

    const back = await reopen(alice.profileDir, server)
    expect(messageOf(back, m.messageUId as string)).toMatchObject({ isDelivered: true, isReceiverRead: true })
  })
})

describe('history carries receipt fields', () => {
  it('after a restart, from SQLite', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await alice.dispatch('updateSettings', [{ requireReadAck: true }])
    const m = await sendAndConfirm(alice, toBob, 'persisted')
    await bob.until('arrived', () => messageOf(bob, m.messageUId as string))
    await bob.dispatch('ackMessageRead', [m.messageUId])
    await alice.until('read', () => messageOf(alice, m.messageUId as string)?.isReceiverRead)
    await alice.stop()
    const again = await reopen(alice.profileDir, server)
    const page = data<HistoryPage>(await again.dispatch('getHistoryMessages', [toBob, {}]))
    expect(page.list[0]).toMatchObject({ messageUId: m.messageUId, isReceiverRead: true, isDelivered: true })
  })
})
