/**
 * "Send read receipts" through real engines and a real server: the reader's devices stay in sync,
 * the sender sees "delivered" and is told the receipts are not shared, never a false "unread".
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ConversationSummary, Message } from '../../src/shared/model'
import { cleanup, data, signIn, testServer, type Device } from './harness'

afterEach(cleanup)

const toBob = { type: 'private', targetId: 'bob' } as const
const toAlice = { type: 'private', targetId: 'alice' } as const

async function summaryOf(d: Device, targetId: string): Promise<ConversationSummary | undefined> {
  return data<ConversationSummary[]>(await d.dispatch('getConversationList', [])).find(
    (c) => c.conversation.targetId === targetId,
  )
}

describe('read receipts the reader does not share', () => {
  it('sync to the reader’s other device; the sender sees "delivered" and learns they are hidden', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const laptop = await signIn(server, 'bob')
    const phone = await signIn(server, 'bob')
    data(await alice.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
    const settingsOnPhone = phone.next('settingsChanged')
    expect(data(await laptop.dispatch('updateSettings', [{ shareReadReceipts: false }]))).toMatchObject({
      shareReadReceipts: false,
    })
    expect(await settingsOnPhone).toMatchObject({ shareReadReceipts: false })
    const sent = data<Message>(
      await alice.dispatch('sendMessage', [toBob, { type: 'text', text: 'private?' }]),
    )
    // The chat is new: alice hears that read receipts do not flow in it before bob reads anything.
    await alice.until(
      'alice knows bob hides',
      async () => (await summaryOf(alice, 'bob'))?.readReceiptsShared === false || undefined,
    )
    await phone.until('unread on the phone', async () => (await summaryOf(phone, 'alice'))?.unreadCount === 1)
    await alice.until('delivered', () => {
      const m = alice.engine.store
        ?.history(toBob, undefined, 5)
        .list.find((x) => x.messageId === sent.messageId)
      return m?.isDelivered ? m : undefined
    })

    data(await laptop.dispatch('ackConversationRead', [toAlice]))
    await phone.until(
      'the phone’s badge clears',
      async () => (await summaryOf(phone, 'alice'))?.unreadCount === 0,
    )
    await alice.engine.flushOutbox()
    const mine = alice.engine.store
      ?.history(toBob, undefined, 5)
      .list.find((x) => x.messageId === sent.messageId)
    expect(mine).toMatchObject({ isDelivered: true, isReceiverRead: false, readTime: null })
    expect(await summaryOf(alice, 'bob')).toMatchObject({ readReceiptsShared: false })
    expect(await summaryOf(laptop, 'alice')).toMatchObject({
      readReceiptsShared: false,
      shareReadReceipts: null,
    })
  })

  it('a per-conversation override shares them again with one person', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    data(await alice.dispatch('updateSettings', [{ requireReadAck: true }]))
    data(await bob.dispatch('updateSettings', [{ shareReadReceipts: false }]))
    const first = data<Message>(await alice.dispatch('sendMessage', [toBob, { type: 'text', text: 'hi' }]))
    await bob.until('arrived', async () => (await summaryOf(bob, 'alice'))?.unreadCount === 1)
    const summary = data<ConversationSummary>(
      await bob.dispatch('setConversationReceiptSharing', [toAlice, true]),
    )
    expect(summary).toMatchObject({ shareReadReceipts: true, readReceiptsShared: true })
    data(await bob.dispatch('ackConversationRead', [toAlice]))
    await alice.until(
      'read',
      () =>
        alice.engine.store?.history(toBob, undefined, 5).list.find((x) => x.messageId === first.messageId)
          ?.isReceiverRead,
    )
  })
})
