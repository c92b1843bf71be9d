import { afterEach, describe, expect, it } from 'vitest'
import type { HistoryPage } from '../../src/shared/ipc'
import type { Message } from '../../src/shared/model'
import { login, TestClient } from '../server/helpers'
import { cleanup, data, reopen, signIn, tempDir, testServer, type Device } from './harness'

afterEach(cleanup)

/**
 * Delete for me on all my devices (issue 13, H6): Alice's laptop and phone, and Bob. What Alice
 * deletes on one device leaves the other, live and after it was offline; Bob keeps it, unread by
 * her; Alice's unread count is right on both devices.
 */
const text = (t: string) => ({ type: 'text', text: t }) as const
const toBob = { type: 'private', targetId: 'bob' } as const
const toAlice = { type: 'private', targetId: 'alice' } as const

const history = async (d: Device, conversation: object): Promise<Message[]> =>
  data<HistoryPage>(await d.dispatch('getHistoryMessages', [conversation, { count: 50 }])).list
/** Oldest first (a history page is newest first). */
const uids = async (d: Device, conversation: object) =>
  (await history(d, conversation)).map((m) => m.messageUId).reverse()
const unread = (d: Device) => d.engine.store?.conversation(toBob)?.unreadCount
const localId = (d: Device, uid: string) => d.engine.store?.messageByUid(uid)?.localId

async function sent(d: Device, body: string): Promise<Message> {
  const message = data<Message>(await d.dispatch('sendMessage', [toAlice, text(body)]))
  return d.until('sent', () => {
    const m = d.engine.store?.view(Number(message.messageId))
    return m?.status === 'sent' ? m : undefined
  })
}

describe('delete for me on all my devices', () => {
  it('reaches my other device live and after it was offline; the peer keeps it, unread', async () => {
    const server = await testServer()
    const laptop = await signIn(server, 'alice')
    const phoneDir = tempDir('alice-phone')
    let phone = await signIn(server, 'alice', phoneDir)
    const bob = await signIn(server, 'bob')
    // A third socket of Alice's, to know when the server has told her devices.
    const witness = await TestClient.connect(server, await login(server, 'alice', 'alice-password'))

    const [m1, m2, m3] = [await sent(bob, 'one'), await sent(bob, 'two'), await sent(bob, 'three')]
    for (const d of [laptop, phone]) await d.until('all three', () => unread(d) === 3)

    // Live: deleted on the laptop at once, on the phone as soon as the server tells it.
    const phoneHeard = phone.next('messagesDeleted')
    expect(
      await laptop.dispatch('deleteMessageForMe', [String(localId(laptop, m2.messageUId ?? ''))]),
    ).toMatchObject({
      code: 0,
    })
    expect(await uids(laptop, toBob)).toEqual([m1.messageUId, m3.messageUId])
    expect(unread(laptop)).toBe(2)
    const heard = await phoneHeard
    expect(heard.conversation).toEqual(toBob)
    expect(await uids(phone, toBob)).toEqual([m1.messageUId, m3.messageUId])
    expect(unread(phone)).toBe(2)
    expect(phone.engine.store?.messageByUid(m2.messageUId ?? '')).toBeUndefined()
    await witness.nextPush('messagesDeletedForMe', (d) => d.messageUIds.includes(m2.messageUId ?? ''))

    // Bob still has it, and it was not read by being deleted.
    expect(await uids(bob, toAlice)).toEqual([m1.messageUId, m2.messageUId, m3.messageUId])
    expect((await history(bob, toAlice)).find((m) => m.messageUId === m2.messageUId)?.isReceiverRead).toBe(
      false,
    )

    // Offline: the phone stops; a new message arrives and the laptop deletes it (unread) and "three".
    await phone.stop()
    const m4 = await sent(bob, 'four')
    await laptop.until('four here', () => localId(laptop, m4.messageUId ?? ''))
    for (const m of [m3, m4])
      expect(
        await laptop.dispatch('deleteMessageForMe', [String(localId(laptop, m.messageUId ?? ''))]),
      ).toMatchObject({ code: 0 })
    // Jobs go out in order (in one frame or two): once "four" is told, so is "three".
    await witness.nextPush('messagesDeletedForMe', (d) => d.messageUIds.includes(m4.messageUId ?? ''))
    expect(unread(laptop)).toBe(1)

    // The phone comes back: "three" leaves with the replayed event, "four" never arrives, no gap is
    // left to pull again, and one unread message is left.
    phone = await reopen(phoneDir, server)
    await phone.until(
      'caught up',
      async () => (await uids(phone, toBob)).join() === m1.messageUId && unread(phone) === 1,
    )
    const row = phone.engine.store?.conversation(toBob)
    expect(row?.syncedSeq).toBe(m4.seq)
    expect(row?.lastSeq).toBe(m4.seq)
    expect(phone.engine.store?.messageByUid(m4.messageUId ?? '')).toBeUndefined()
    // Bob keeps all four.
    expect(await uids(bob, toAlice)).toEqual([m1.messageUId, m2.messageUId, m3.messageUId, m4.messageUId])
    await witness.close()
  })
})
