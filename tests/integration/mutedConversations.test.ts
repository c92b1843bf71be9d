import { afterEach, describe, expect, it } from 'vitest'
import type { ConversationSummary } from '../../src/shared/model'
import { login, TestClient } from '../server/helpers'
import { cleanup, data, reopen, signIn, tempDir, testServer, type Device } from './harness'

afterEach(cleanup)

/**
 * Mute per chat on all my devices (issue 13, H8): Alice's laptop and phone, and Bob. A chat Alice
 * mutes on one device is muted on the other, live and after it was offline (and on a device signed
 * in later); unmuting follows the same way; Bob's side of the chat is his own.
 */
const text = (t: string) => ({ type: 'text', text: t }) as const
const toBob = { type: 'private', targetId: 'bob' } as const
const toAlice = { type: 'private', targetId: 'alice' } as const

const statusOf = (d: Device, c: typeof toBob | typeof toAlice) =>
  d.engine.store?.summary(c)?.notificationStatus
/** The summary the renderer hears for the chat with Bob (the chat list and unread badge follow it). */
const heardFor = (d: Device, status: string) =>
  d.next('conversationChanged', (list: ConversationSummary[]) =>
    list.some((s) => s.conversation.targetId === 'bob' && s.notificationStatus === status),
  )

describe('mute per chat on all my devices', () => {
  it('reaches my other device live, after it was offline, and a new one; unmute the same; Bob unaffected', async () => {
    const server = await testServer()
    const laptop = await signIn(server, 'alice')
    const phoneDir = tempDir('alice-phone')
    let phone = await signIn(server, 'alice', phoneDir)
    const bob = await signIn(server, 'bob')
    // A third socket of Alice's, to know when the server has told her devices.
    const witness = await TestClient.connect(server, await login(server, 'alice', 'alice-password'))
    data(await bob.dispatch('sendMessage', [toAlice, text('a noisy chat')]))
    for (const d of [laptop, phone]) await d.until('the chat', () => statusOf(d, toBob) === 'notify')

    // Live: muted on the laptop at once, on the phone as soon as the server tells it.
    const phoneHeard = heardFor(phone, 'doNotDisturb')
    expect(
      data<ConversationSummary>(
        await laptop.dispatch('setConversationNotificationStatus', [toBob, 'doNotDisturb']),
      ),
    ).toMatchObject({ notificationStatus: 'doNotDisturb' })
    expect(statusOf(laptop, toBob)).toBe('doNotDisturb')
    await phoneHeard
    expect(statusOf(phone, toBob)).toBe('doNotDisturb')
    expect(data(await phone.dispatch('getConversationNotificationStatus', [toBob]))).toBe('doNotDisturb')
    await witness.nextPush('conversationNotificationStatusChanged', (d) => d.status === 'doNotDisturb')

    // Bob still hears of Alice's chat, and Alice's mute did not travel to him.
    expect(statusOf(bob, toAlice)).toBe('notify')

    // Offline: the phone stops; the laptop unmutes. The phone comes back unmuted (a replayed event).
    await phone.stop()
    data(await laptop.dispatch('setConversationNotificationStatus', [toBob, 'notify']))
    await witness.nextPush('conversationNotificationStatusChanged', (d) => d.status === 'notify')
    phone = await reopen(phoneDir, server)
    await phone.until('unmuted after being offline', () => statusOf(phone, toBob) === 'notify')

    // And back: muted on the phone, the laptop follows; a device signed in later starts muted.
    const laptopHeard = heardFor(laptop, 'doNotDisturb')
    data(await phone.dispatch('setConversationNotificationStatus', [toBob, 'doNotDisturb']))
    await laptopHeard
    await witness.nextPush('conversationNotificationStatusChanged', (d) => d.status === 'doNotDisturb')
    const tablet = await signIn(server, 'alice')
    expect(statusOf(tablet, toBob)).toBe('doNotDisturb')
    expect(statusOf(bob, toAlice)).toBe('notify')
    await witness.close()
  })
})
