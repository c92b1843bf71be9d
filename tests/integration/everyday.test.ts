/**
 * Issue 13 with a real server and real engines: a conversation read receipt that covers only what
 * was shown (the sender sees read up to there, the reader's other device and unread count agree),
 * and drafts and muted chats kept across an app restart.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ConversationSummary, Message } from '../../src/shared/model'
import { cleanup, data, reopen, signIn, tempDir, testServer, type Device } from './harness'

afterEach(cleanup)

const text = (t: string) => ({ type: 'text', text: t }) as const
const toBob = { type: 'private', targetId: 'bob' } as const
const toAlice = { type: 'private', targetId: 'alice' } as const

function sentBy(d: Device, count: number): Message[] {
  return d.engine
    .history(toBob, undefined, 200)
    .list.filter((m) => m.messageUId !== null)
    .slice(0, count)
}

async function summaryOf(d: Device, targetId: string): Promise<ConversationSummary | undefined> {
  const list = data<ConversationSummary[]>(await d.dispatch('getConversationList', []))
  return list.find((c) => c.conversation.targetId === targetId)
}

describe('a conversation read receipt up to what was shown', () => {
  it('of 50 unread, reads 12: the sender sees 12 read, the reader and their other device 38 unread', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bobDir = tempDir('bob')
    const bob = await signIn(server, 'bob', bobDir)
    const bobLaptop = await signIn(server, 'bob')
    for (let i = 1; i <= 50; i++) data(await alice.dispatch('sendMessage', [toBob, text(`backlog ${i}`)]))
    await alice.until('all 50 sent', () => sentBy(alice, 50).length === 50)
    await bob.until('all 50 arrived', async () => (await summaryOf(bob, 'alice'))?.unreadCount === 50)
    const seqs = sentBy(alice, 50)
      .map((m) => m.seq ?? 0)
      .sort((a, b) => a - b)
    const shownUpTo = seqs[11] ?? 0

    data(await bob.dispatch('ackConversationRead', [toAlice, shownUpTo]))
    expect((await summaryOf(bob, 'alice'))?.unreadCount).toBe(38)
    await bobLaptop.until(
      'the other device follows',
      async () => (await summaryOf(bobLaptop, 'alice'))?.unreadCount === 38,
    )
    await alice.until('read up to the 12th', () => {
      const mine = sentBy(alice, 50)
      return mine.filter((m) => m.isReceiverRead).length === 12 ? mine : undefined
    })
    for (const m of sentBy(alice, 50))
      expect(m.isReceiverRead, `seq ${m.seq}`).toBe((m.seq ?? 0) <= shownUpTo)

    // Scrolling to the end reads the rest.
    data(await bob.dispatch('ackConversationRead', [toAlice, seqs[49] ?? 0]))
    await alice.until('all read', () => sentBy(alice, 50).every((m) => m.isReceiverRead))
    expect((await summaryOf(bob, 'alice'))?.unreadCount).toBe(0)
  })
})

describe('drafts and muted chats across a restart', () => {
  it('keeps both in the profile database', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bobDir = tempDir('bob')
    const bob = await signIn(server, 'bob', bobDir)
    data(await alice.dispatch('sendMessage', [toBob, text('hello')]))
    await bob.until('arrived', async () => (await summaryOf(bob, 'alice'))?.unreadCount === 1)

    data(await bob.dispatch('saveTextMessageDraft', [toAlice, 'let me think']))
    data(await bob.dispatch('setConversationNotificationStatus', [toAlice, 'doNotDisturb']))
    await bob.stop()

    const again = await reopen(bobDir, server)
    expect(await summaryOf(again, 'alice')).toMatchObject({
      draft: 'let me think',
      notificationStatus: 'doNotDisturb',
    })
    expect(data(await again.dispatch('getTextMessageDraft', [toAlice]))).toBe('let me think')
    expect(data(await again.dispatch('clearTextMessageDraft', [toAlice]))).toBeNull()
    expect(data(await again.dispatch('getTextMessageDraft', [toAlice]))).toBe('')
  })
})
