// @vitest-environment happy-dom
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import type { Message } from '../../src/shared/model'
import ChatPane from '@renderer/components/ChatPane.vue'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import MessageTicks from '@renderer/components/MessageTicks.vue'
import SettingsDialog from '@renderer/components/SettingsDialog.vue'
import type { AppLocale } from '@renderer/i18n'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeSent, makeSummary, ME, privateChat } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

const SENT = 1_700_000_000_000
const DELIVERED = SENT + 60_000
const NOT_SHARED = 'Read receipts are not shared in this chat'
/** Words that say or imply "not read", in either language. */
const NOT_READ = /not read|unread|hasn.t read|未读/i

/** Signed in (the settings loaded), with the conversation list started on `summaries`. */
async function signedIn(locale: AppLocale = 'en', summaries = [makeSummary()]) {
  im.respond('getCurrentUser', () =>
    ok({ user: { userId: ME, displayName: 'Alice' }, serverUrl: 'ws://127.0.0.1:7700/ws', deviceId: 'd1' }),
  )
  im.respond('getConversationList', () => ok(summaries))
  const app = createTestApp(locale)
  await useSessionStore().init()
  await useConversationsStore().start()
  return app
}

/** The text of the elements an ARIA attribute points at (aria-labelledby: the accessible name). */
function ariaText(element: { attributes: (name: string) => string | undefined }, attribute: string): string {
  const ids = element.attributes(attribute)?.split(' ') ?? []
  return ids.map((id) => document.getElementById(id)?.textContent?.trim()).join(' ')
}
const labelOf = (element: Parameters<typeof ariaText>[0]) => ariaText(element, 'aria-labelledby')
const descriptionOf = (element: Parameters<typeof ariaText>[0]) => ariaText(element, 'aria-describedby')

describe('"Send read receipts" in the settings', () => {
  const shareSwitch = (w: VueWrapper) => w.get('[data-testid="setting-share-read-receipts"]')
  const checked = (w: VueWrapper) => (shareSwitch(w).element as HTMLInputElement).checked

  it('is a named switch that explains the reciprocity, and turns the account setting off and on', async () => {
    const app = await signedIn()
    const wrapper = app.mount(SettingsDialog)
    expect(shareSwitch(wrapper).attributes('role')).toBe('switch')
    expect(labelOf(shareSwitch(wrapper))).toBe('Send read receipts')
    expect(descriptionOf(shareSwitch(wrapper))).toBe(
      'If you turn this off, people won’t see when you’ve read their messages, and in single chats ' +
        'you won’t see theirs. Your other devices still stay in sync.',
    )
    expect(checked(wrapper)).toBe(true)

    await shareSwitch(wrapper).setValue(false)
    await flushPromises()
    expect(im.callsOf('updateSettings')).toEqual([[{ shareReadReceipts: false }]])
    expect(checked(wrapper)).toBe(false)
    expect(useSessionStore().settings?.shareReadReceipts).toBe(false)

    await shareSwitch(wrapper).setValue(true)
    await flushPromises()
    expect(im.callsOf('updateSettings').at(-1)).toEqual([{ shareReadReceipts: true }])
    expect(checked(wrapper)).toBe(true)
  })

  it('follows a change made on another device (settingsChanged)', async () => {
    const app = await signedIn()
    const wrapper = app.mount(SettingsDialog)
    im.emit('settingsChanged', { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: false })
    await flushPromises()
    expect(checked(wrapper)).toBe(false)
    im.emit('settingsChanged', { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: true })
    await flushPromises()
    expect(checked(wrapper)).toBe(true)
  })

  it('shows what the engine holds when the change is refused, and says why', async () => {
    const app = await signedIn()
    im.respond('updateSettings', () => ({ code: Code.SERVER_UNREACHABLE, msg: 'offline' }))
    const wrapper = app.mount(SettingsDialog)
    await shareSwitch(wrapper).setValue(false)
    await flushPromises()
    expect(checked(wrapper)).toBe(true)
    expect(wrapper.get('[data-testid="dialog-error"]').text()).toBe(
      'The server did not answer. Check the server URL and your network.',
    )
  })

  it('is in Chinese too', async () => {
    const app = await signedIn('zh-CN')
    const wrapper = app.mount(SettingsDialog)
    expect(labelOf(shareSwitch(wrapper))).toBe('发送已读回执')
    expect(descriptionOf(shareSwitch(wrapper))).toContain('你的其他设备仍会保持同步')
  })
})

describe('read receipts of one conversation (chat header)', () => {
  const select = (w: VueWrapper) => w.get('[data-testid="receipt-sharing-select"]')
  const value = (w: VueWrapper) => (select(w).element as HTMLSelectElement).value
  const optionTexts = (w: VueWrapper) =>
    select(w)
      .findAll('option')
      .map((o) => o.text())

  it('is a labelled select: follow my setting (named on or off), send, don’t send', async () => {
    const app = await signedIn()
    const wrapper = app.mount(ChatPane, { conversation: privateChat })
    await flushPromises()
    const id = select(wrapper).attributes('id')
    expect(wrapper.get(`label[for="${id}"]`).text()).toBe('Read receipts')
    expect(value(wrapper)).toBe('account')
    expect(optionTexts(wrapper)).toEqual(['Follow my setting (on)', 'Send', 'Don’t send'])

    im.emit('settingsChanged', { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: false })
    await flushPromises()
    expect(optionTexts(wrapper)[0]).toBe('Follow my setting (off)')
  })

  it('calls setConversationReceiptSharing and shows what the engine answers', async () => {
    const app = await signedIn()
    const wrapper = app.mount(ChatPane, { conversation: privateChat })
    await flushPromises()
    expect(wrapper.find('[data-testid="receipts-not-shared"]').exists()).toBe(false)

    await select(wrapper).setValue('off')
    await flushPromises()
    expect(im.callsOf('setConversationReceiptSharing')).toEqual([[privateChat, false]])
    expect(value(wrapper)).toBe('off')
    expect(wrapper.get('[data-testid="receipts-not-shared"]').text()).toBe(NOT_SHARED)

    await select(wrapper).setValue('on')
    await flushPromises()
    expect(im.callsOf('setConversationReceiptSharing').at(-1)).toEqual([privateChat, true])
    expect(wrapper.find('[data-testid="receipts-not-shared"]').exists()).toBe(false)

    await select(wrapper).setValue('account')
    await flushPromises()
    expect(im.callsOf('setConversationReceiptSharing').at(-1)).toEqual([privateChat, null])
    expect(value(wrapper)).toBe('account')
  })

  it('says receipts are not shared when the peer does not share them, whatever I choose', async () => {
    im.peersHidingReceipts.add(privateChat.targetId)
    const app = await signedIn()
    const wrapper = app.mount(ChatPane, { conversation: privateChat })
    await flushPromises()
    await select(wrapper).setValue('on')
    await flushPromises()
    expect(value(wrapper)).toBe('on')
    expect(wrapper.get('[data-testid="receipts-not-shared"]').text()).toBe(NOT_SHARED)
  })

  it('springs back and says why when the change is refused', async () => {
    const app = await signedIn()
    im.respond('setConversationReceiptSharing', () => ({ code: Code.TIMEOUT, msg: 'slow' }))
    const wrapper = app.mount(ChatPane, { conversation: privateChat })
    await flushPromises()
    await select(wrapper).setValue('off')
    await flushPromises()
    expect(value(wrapper)).toBe('account')
    expect(wrapper.get('[data-testid="chat-error"]').text()).toBe(
      'The server did not answer in time. Try again.',
    )
  })

  it('in a group, says that my own reads are private there', async () => {
    const app = await signedIn('en', [makeSummary({ conversation: groupChat, title: 'Team' })])
    const wrapper = app.mount(ChatPane, { conversation: groupChat })
    await flushPromises()
    await select(wrapper).setValue('off')
    await flushPromises()
    expect(im.callsOf('setConversationReceiptSharing')).toEqual([[groupChat, false]])
    expect(wrapper.get('[data-testid="receipts-not-shared"]').text()).toBe(
      'You don’t send read receipts in this group',
    )
  })
})

describe('ticks in a chat where read receipts are not shared', () => {
  const delivered = (overrides: Partial<Message> = {}) =>
    makeSent({ sentTime: SENT, isDelivered: true, deliveredTime: DELIVERED, ...overrides })
  const ticks = (w: VueWrapper) => w.get('[data-testid="message-ticks"]')

  it('stay at delivered and say why after the delivered line, never "not read"', async () => {
    const app = await signedIn('en', [makeSummary({ readReceiptsShared: false })])
    const wrapper = app.mount(MessageTicks, { message: delivered() })
    expect(ticks(wrapper).attributes('data-receipt')).toBe('delivered')
    expect(ticks(wrapper).attributes('data-receipts-shared')).toBe('false')
    const lines = ticks(wrapper).attributes('title')?.split('\n') ?? []
    expect(lines[0]).toBe('Delivered')
    expect(lines[2]).toMatch(/^Delivered: /)
    expect(lines.at(-1)).toBe(NOT_SHARED)
    expect(ticks(wrapper).attributes('aria-label')).toBe(ticks(wrapper).attributes('title'))
    expect(ticks(wrapper).attributes('title')).not.toMatch(NOT_READ)
  })

  it('say nothing of it where receipts flow, and follow the conversation as it changes', async () => {
    const app = await signedIn()
    const wrapper = app.mount(MessageTicks, { message: delivered() })
    expect(ticks(wrapper).attributes('title')).not.toContain(NOT_SHARED)
    expect(ticks(wrapper).attributes('data-receipts-shared')).toBeUndefined()

    im.emit('conversationChanged', [makeSummary({ shareReadReceipts: false, readReceiptsShared: false })])
    await flushPromises()
    expect(ticks(wrapper).attributes('title')?.split('\n').at(-1)).toBe(NOT_SHARED)
  })

  it('keep a read the engine reports (from before) as read, without the "not shared" line', async () => {
    const app = await signedIn('en', [makeSummary({ readReceiptsShared: false })])
    const wrapper = app.mount(MessageTicks, {
      message: delivered({ isReceiverRead: true, readTime: DELIVERED + 1 }),
    })
    expect(ticks(wrapper).attributes('data-receipt')).toBe('read')
    expect(ticks(wrapper).attributes('title')).not.toContain(NOT_SHARED)
  })

  it('say it in Chinese, and nothing in a whole bubble implies "not read"', async () => {
    for (const locale of ['en', 'zh-CN'] as const) {
      const app = await signedIn(locale, [makeSummary({ readReceiptsShared: false })])
      for (const message of [delivered(), makeSent({ sentTime: SENT })]) {
        const bubble = app.mount(MessageBubble, { message, isGroup: false })
        expect(bubble.html(), locale).not.toMatch(NOT_READ)
        if (locale === 'zh-CN') expect(ticks(bubble).attributes('title')).toContain('此聊天不共享已读回执')
        bubble.unmount()
      }
    }
  })
})
