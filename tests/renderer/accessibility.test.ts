// @vitest-environment happy-dom
import { flushPromises, mount } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import AppSidebar from '@renderer/components/AppSidebar.vue'
import BaseDialog from '@renderer/components/BaseDialog.vue'
import ChatPane from '@renderer/components/ChatPane.vue'
import LiveAnnouncer from '@renderer/components/LiveAnnouncer.vue'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import QuickSwitcher from '@renderer/components/QuickSwitcher.vue'
import {
  ANNOUNCE_INTERVAL_MS,
  announce,
  resetAnnouncer,
  useAnnouncement,
} from '@renderer/composables/useAnnouncer'
import { useChatAnnouncements } from '@renderer/composables/useChatAnnouncements'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useMessagesStore } from '@renderer/stores/messages'
import { ok } from '../../src/shared/codes'
import type { Conversation } from '../../src/shared/model'
import { installFakeIm, type FakeIm } from './fakeIm'
import {
  groupChat,
  makeGroupAckMessage,
  makeGroupInfo,
  makeMessage,
  makeSent,
  makeSummary,
  privateChat,
  withGroupReads,
} from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
  resetAnnouncer()
})

afterEach(() => {
  vi.useRealTimers()
})

const key = (type: 'Tab' | 'Escape' | 'ArrowDown' | 'ArrowUp' | 'Home' | 'End' | 'Enter', shiftKey = false) =>
  new KeyboardEvent('keydown', { key: type, shiftKey, bubbles: true, cancelable: true })

function pressOn(target: EventTarget, type: Parameters<typeof key>[0], shiftKey = false): KeyboardEvent {
  const event = key(type, shiftKey)
  target.dispatchEvent(event)
  return event
}

const parts = () => useAnnouncement().value?.parts ?? []

describe('the live announcer', () => {
  it('says the first thing at once, then at most once per interval, newest three in full', async () => {
    vi.useFakeTimers()
    announce('one')
    await vi.advanceTimersByTimeAsync(0)
    expect(parts()).toEqual(['one'])

    for (const word of ['two', 'three', 'four', 'five']) announce(word)
    await vi.advanceTimersByTimeAsync(ANNOUNCE_INTERVAL_MS - 10)
    expect(parts()).toEqual(['one'])
    await vi.advanceTimersByTimeAsync(10)
    expect(parts()).toEqual(['three', 'four', 'five'])
    expect(useAnnouncement().value?.more).toBe(1)
  })

  it('keeps only the newest words for one key (a receipt that moved on)', async () => {
    vi.useFakeTimers()
    announce('Delivered to Bob', 'receipt:m1')
    announce('Read by Bob', 'receipt:m1')
    await vi.advanceTimersByTimeAsync(0)
    expect(parts()).toEqual(['Read by Bob'])
  })

  it('is one polite, atomic status region, and says the same words again as new', async () => {
    vi.useFakeTimers()
    const app = createTestApp('zh-CN')
    const region = app.mount(LiveAnnouncer)
    const root = region.get('[data-testid="live-announcer"]')
    expect(root.attributes()).toMatchObject({ role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' })
    for (const word of ['a', 'b', 'c', 'd', 'e']) announce(word)
    await vi.advanceTimersByTimeAsync(0)
    expect(root.text()).toContain('还有 2 条更新。')
    const first = root.element.querySelector('p')
    announce('e')
    await vi.advanceTimersByTimeAsync(ANNOUNCE_INTERVAL_MS)
    expect(root.text()).toBe('e')
    expect(root.element.querySelector('p')).not.toBe(first)
  })
})

describe('dialogs', () => {
  function openDialog(app: ReturnType<typeof createTestApp>, title: string) {
    return mount(BaseDialog, {
      props: { title, closeTestId: `${title}-close` },
      slots: { default: `<input data-testid="${title}-field" />` },
      global: { plugins: [app.pinia, app.i18n] },
      attachTo: document.body,
    })
  }

  it('keep Tab inside, close on Escape and give focus back to the opener', async () => {
    const app = createTestApp('en')
    const opener = document.createElement('button')
    document.body.append(opener)
    opener.focus()

    const dialog = openDialog(app, 'first')
    const field = dialog.get<HTMLInputElement>('[data-testid="first-field"]').element
    expect(document.activeElement).toBe(field)
    const buttons = dialog.findAll<HTMLButtonElement>('button').map((b) => b.element)
    const [first, last] = [buttons[0], buttons.at(-1)!]

    last.focus()
    expect(pressOn(last, 'Tab').defaultPrevented).toBe(true)
    expect(document.activeElement).toBe(first)
    pressOn(first, 'Tab', true)
    expect(document.activeElement).toBe(last)
    // In the middle, Tab is left to the browser.
    field.focus()
    expect(pressOn(field, 'Tab').defaultPrevented).toBe(false)
    pressOn(field, 'Escape')
    expect(dialog.emitted('close')).toHaveLength(1)
    dialog.unmount()
    expect(document.activeElement).toBe(opener)
  })

  it('leave the focus where it went when what they did moved it out (a new chat focuses its composer)', () => {
    const app = createTestApp('en')
    const opener = document.createElement('button')
    const composer = document.createElement('textarea')
    document.body.append(opener, composer)
    opener.focus()
    const dialog = openDialog(app, 'moved')
    composer.focus()
    dialog.unmount()
    expect(document.activeElement).toBe(composer)
  })

  it('answer Escape one at a time, the top one first', async () => {
    const app = createTestApp('en')
    const lower = openDialog(app, 'lower')
    const upper = openDialog(app, 'upper')
    pressOn(document.body, 'Escape')
    expect(upper.emitted('close')).toHaveLength(1)
    expect(lower.emitted('close')).toBeUndefined()
    upper.unmount()
    expect(document.activeElement).toBe(lower.get('[data-testid="lower-field"]').element)
    pressOn(document.body, 'Escape')
    expect(lower.emitted('close')).toHaveLength(1)
    lower.unmount()
  })
})

describe('the member panel', () => {
  it('takes focus when it opens, closes on Escape and gives focus back to the Members button', async () => {
    im.respond('getGroupInfo', () => ok(makeGroupInfo({ myRole: 'owner' })))
    const app = createTestApp('en')
    const chat = app.mount(ChatPane, { conversation: groupChat })
    await flushPromises()
    const button = chat.get<HTMLButtonElement>('[data-testid="members-button"]')
    button.element.focus()
    await button.trigger('click')
    const panel = chat.get('[data-testid="member-panel"]')
    expect(document.activeElement).toBe(panel.element)
    expect(panel.element.tagName).toBe('ASIDE')
    // The panel is beside the chat's main landmark, not inside it.
    expect(chat.get('main').element.contains(panel.element)).toBe(false)

    pressOn(panel.element, 'Escape')
    await flushPromises()
    expect(chat.find('[data-testid="member-panel"]').exists()).toBe(false)
    expect(document.activeElement).toBe(button.element)
  })
})

describe('the chat list', () => {
  const summaries = [
    makeSummary({
      conversation: { type: 'private', targetId: 'bob' },
      title: 'Bob',
      unreadCount: 2,
      lastMessage: makeMessage({ content: { type: 'text', text: 'hi' } }),
      updatedAt: 3,
    }),
    makeSummary({ conversation: { type: 'private', targetId: 'carol' }, title: 'Carol', updatedAt: 2 }),
    makeSummary({ conversation: { type: 'group', targetId: 'g_team' }, title: 'Team', updatedAt: 1 }),
  ]

  it('is one Tab stop that Up, Down, Home and End move through', async () => {
    const app = createTestApp('en')
    useConversationsStore().upsert(summaries)
    const sidebar = app.mount(AppSidebar)
    await flushPromises()
    const items = () => sidebar.findAll<HTMLButtonElement>('[data-testid="conversation-item"]')
    const stops = () => items().map((item) => item.attributes('tabindex'))
    expect(stops()).toEqual(['0', '-1', '-1'])
    const nav = sidebar.get('nav').element

    items()[0].element.focus()
    pressOn(items()[0].element, 'ArrowDown')
    expect(document.activeElement).toBe(items()[1].element)
    await flushPromises()
    expect(stops()).toEqual(['-1', '0', '-1'])
    pressOn(nav, 'End')
    expect(document.activeElement).toBe(items()[2].element)
    pressOn(items()[2].element, 'ArrowDown')
    expect(document.activeElement).toBe(items()[2].element)
    pressOn(items()[2].element, 'Home')
    expect(document.activeElement).toBe(items()[0].element)
    pressOn(items()[0].element, 'ArrowUp')
    expect(document.activeElement).toBe(items()[0].element)
  })

  it('names each chat in one sentence, and has a heading and a navigation landmark', async () => {
    const app = createTestApp('en')
    useConversationsStore().upsert(summaries)
    const sidebar = app.mount(AppSidebar)
    await flushPromises()
    const first = sidebar.get('[data-testid="conversation-item"]')
    expect(first.get('.visually-hidden').text()).toMatch(/^Bob, 2 unread, last message: hi, \S/)
    for (const part of first.findAll('.user-avatar, .conversation__body'))
      expect(part.attributes('aria-hidden')).toBe('true')
    expect(sidebar.findAll('[data-testid="conversation-item"]')[1].get('.visually-hidden').text()).toBe(
      'Carol, No messages yet, ' + sidebar.findAll('.conversation__time')[1].text(),
    )
    expect(sidebar.get('nav').attributes('aria-label')).toBe('Chats')
    expect(sidebar.get('h2').text()).toBe('Chats')
  })

  it('has a button for the quick switcher that names its shortcut', async () => {
    const app = createTestApp('en')
    const sidebar = app.mount(AppSidebar)
    const button = sidebar.get('[data-testid="quick-switcher-button"]')
    expect(button.attributes()).toMatchObject({
      'aria-label': 'Go to a chat (Ctrl+K)',
      'aria-keyshortcuts': 'Control+K',
    })
    await button.trigger('click')
    expect(sidebar.emitted('quickSwitch')).toHaveLength(1)
  })

  it('says it in Chinese too', async () => {
    const app = createTestApp('zh-CN')
    useConversationsStore().upsert(summaries.slice(0, 1))
    const sidebar = app.mount(AppSidebar)
    await flushPromises()
    expect(sidebar.get('[data-testid="conversation-item"] .visually-hidden').text()).toMatch(
      /^Bob，2 条未读，最后一条消息：hi，/,
    )
  })
})

describe('the quick switcher', () => {
  const summaries = [
    makeSummary({ conversation: { type: 'private', targetId: 'bob' }, title: 'Bob', updatedAt: 3 }),
    makeSummary({ conversation: { type: 'private', targetId: 'carol' }, title: 'Carol Chen', updatedAt: 2 }),
    makeSummary({ conversation: { type: 'group', targetId: 'g_launch' }, title: 'Launch', updatedAt: 1 }),
  ]

  it('filters the chats by title and id, chooses with the arrows and opens with Enter', async () => {
    const app = createTestApp('en')
    const conversations = useConversationsStore()
    conversations.upsert(summaries)
    const switcher = app.mount(QuickSwitcher)
    const input = switcher.get<HTMLInputElement>('[data-testid="quick-switcher-input"]')
    expect(document.activeElement).toBe(input.element)
    const shown = () =>
      switcher
        .findAll('[data-testid="quick-switcher-item"]')
        .map((item) => item.attributes('data-conversation'))
    expect(shown()).toEqual(['private:bob', 'private:carol', 'group:g_launch'])

    await input.setValue('CHEN')
    expect(shown()).toEqual(['private:carol'])
    await input.setValue('g_lau')
    expect(shown()).toEqual(['group:g_launch'])
    await input.setValue('nobody')
    expect(shown()).toEqual([])
    expect(switcher.text()).toContain('No chat matches “nobody”.')
    expect(input.attributes('aria-expanded')).toBe('false')

    await input.setValue('')
    await input.trigger('keydown', { key: 'ArrowDown' })
    await input.trigger('keydown', { key: 'ArrowDown' })
    const options = switcher.findAll('[role="option"]')
    expect(options.map((o) => o.attributes('aria-selected'))).toEqual(['false', 'false', 'true'])
    expect(input.attributes('aria-activedescendant')).toBe(options[2].attributes('id'))
    await input.trigger('keydown', { key: 'ArrowDown' })
    expect(switcher.findAll('[role="option"]')[0].attributes('aria-selected')).toBe('true')
    await input.trigger('keydown', { key: 'ArrowUp' })
    await input.trigger('keydown', { key: 'Enter' })
    expect(conversations.activeKey).toBe('group:g_launch')
    expect(switcher.emitted('close')).toHaveLength(1)
  })
})

describe('messages for screen readers', () => {
  it('say whose each message is', () => {
    const app = createTestApp('en')
    const theirs = app.mount(MessageBubble, { message: makeMessage(), isGroup: true, senderName: 'Bob' })
    expect(theirs.get('.visually-hidden').text()).toBe('Bob:')
    expect(theirs.get('[data-testid="message-sender"]').attributes('aria-hidden')).toBe('true')
    const mine = app.mount(MessageBubble, { message: makeSent(), isGroup: false })
    expect(mine.get('.visually-hidden').text()).toBe('You:')
    const zh = createTestApp('zh-CN').mount(MessageBubble, { message: makeMessage(), isGroup: false })
    expect(zh.get('.visually-hidden').text()).toBe('bob：')
  })
})

describe('chat announcements', () => {
  function watchChat(conversation: Conversation) {
    const app = createTestApp('en')
    const Harness = defineComponent({
      setup() {
        useChatAnnouncements(() => conversation)
        return () => h('div')
      },
    })
    useMessagesStore().start()
    app.mount(Harness)
    return useMessagesStore()
  }
  const settle = async () => {
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
  }

  it('says a message that arrives and a receipt that moves on, never what was already there', async () => {
    const old = makeMessage({ seq: 2, content: { type: 'text', text: 'already here' } })
    const mine = makeSent({ seq: 3 })
    im.respond('getHistoryMessages', () => ok({ list: [mine, old], hasMore: true }))
    const store = watchChat(privateChat)
    useConversationsStore().upsert([makeSummary({ title: 'Bob' })])
    await store.open(privateChat)
    await settle()
    expect(parts()).toEqual([])

    // An older page is not news.
    im.respond('getHistoryMessages', () =>
      ok({
        list: [makeMessage({ seq: 1, sentTime: 1, content: { type: 'text', text: 'older' } })],
        hasMore: false,
      }),
    )
    await store.loadOlder(privateChat)
    await settle()
    expect(parts()).toEqual([])

    im.emit('messageReceived', [makeMessage({ seq: 4, content: { type: 'text', text: 'hi there' } })])
    im.change(mine, {
      isDelivered: true,
      deliveredTime: mine.sentTime + 1,
      isReceiverRead: true,
      readTime: mine.sentTime + 2,
    })
    await settle()
    expect([...parts()].sort()).toEqual(['New message from Bob: hi there', 'Read by Bob'])
  })

  it('says a group read count when it grows', async () => {
    const sent = makeGroupAckMessage(0, 3, { seq: 1 })
    im.respond('getHistoryMessages', () => ok({ list: [sent], hasMore: false }))
    const store = watchChat(groupChat)
    await store.open(groupChat)
    await settle()
    im.emit('messagesChanged', [withGroupReads(sent, 1)])
    await settle()
    expect(parts()).toEqual(['1 of 3 read'])
  })
})
