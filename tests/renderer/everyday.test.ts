// @vitest-environment happy-dom
/**
 * Issue 13 in the renderer: notifications (never a read), day separators and runs of one sender,
 * the "New messages" divider, drafts restored and saved as typed, muted chats in the list.
 */
import { flushPromises } from '@vue/test-utils'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, effectScope, h, nextTick, ref, shallowReactive } from 'vue'
import { Code, fail as failed, ok } from '../../src/shared/codes'
import { conversationKey, type Message } from '../../src/shared/model'
import ConversationItem from '@renderer/components/ConversationItem.vue'
import JumpToLatest from '@renderer/components/JumpToLatest.vue'
import MuteToggle from '@renderer/components/MuteToggle.vue'
import NotificationSettings from '@renderer/components/NotificationSettings.vue'
import MessageComposer from '@renderer/components/MessageComposer.vue'
import MessageList from '@renderer/components/MessageList.vue'
import { DRAFT_SAVE_DELAY_MS } from '@renderer/composables/useDraft'
import { useNotifications } from '@renderer/composables/useNotifications'
import { useReadPolicy } from '@renderer/composables/useReadPolicy'
import { continuesRun, dayLabel, startsDay } from '@renderer/lib/days'
import {
  notificationPrefs,
  notifiedUnreadTotal,
  setNotificationPref,
  shouldNotify,
} from '@renderer/lib/notify'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useMessagesStore } from '@renderer/stores/messages'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeMessage, makeSent, makeSummary, privateChat } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
  localStorage.clear()
  setNotificationPref('enabled', true)
  setNotificationPref('showText', true)
  setNotificationPref('sound', false)
})

describe('time: days and runs (lib/days)', () => {
  const now = new Date(2026, 2, 4, 15, 0).getTime()

  it('says Today and Yesterday, then the date in the locale, with the year only when not this year', () => {
    expect(dayLabel(new Date(2026, 2, 4, 0, 1).getTime(), now, 'en')).toBe('today')
    expect(dayLabel(new Date(2026, 2, 3, 23, 59).getTime(), now, 'en')).toBe('yesterday')
    expect(dayLabel(new Date(2026, 2, 2, 12).getTime(), now, 'en')).toBe('Monday, March 2')
    expect(dayLabel(new Date(2026, 2, 2, 12).getTime(), now, 'zh-CN')).toBe('3月2日星期一')
    expect(dayLabel(new Date(2025, 11, 31, 12).getTime(), now, 'en')).toBe('Wednesday, December 31, 2025')
  })

  it('starts a day at midnight and groups one sender within five minutes', () => {
    const at = (h: number, m: number) => new Date(2026, 2, 3, h, m).getTime()
    const list: Message[] = [
      makeMessage({ sentTime: at(23, 58) }),
      makeMessage({ sentTime: at(23, 59) }),
      makeMessage({ sentTime: at(24, 1) }),
      makeMessage({ sentTime: at(24, 3) }),
      makeSent({ sentTime: at(24, 4) }),
      makeSent({ sentTime: at(24, 20) }),
    ]
    expect(list.map((_, i) => startsDay(list, i))).toEqual([true, false, true, false, false, false])
    // Across midnight is a new run; my message after theirs is a new run; 16 minutes later is too.
    expect(list.map((_, i) => continuesRun(list, i))).toEqual([false, true, false, true, false, false])
  })
})

describe('finding my place: the read receipt covers only what was shown (useReadPolicy)', () => {
  function setUpPolicy(messages: Message[], unreadCount: number) {
    const visible = shallowReactive(new Set<string>())
    const ready = ref(false)
    effectScope().run(() =>
      useReadPolicy({
        conversation: ref(privateChat),
        summary: ref({ unreadCount, lastSeq: messages.at(-1)?.seq ?? 0 }),
        messages: ref(messages),
        visibleMessageIds: visible,
        ready,
        windowFocused: ref(true),
        documentVisible: ref(true),
        api: im.api,
      }),
    )
    return { visible, ready }
  }

  it('reads up to the last message on screen, step by step, and nothing before the list stands still', async () => {
    const backlog = Array.from({ length: 10 }, (_, i) => makeMessage({ seq: i + 1, isUnread: true }))
    const { visible, ready } = setUpPolicy(backlog, 10)
    // Drawn on the way to the first unread message: not seen.
    backlog.slice(6).forEach((m) => visible.add(m.messageId))
    await flushPromises()
    expect(im.callsOf('ackConversationRead')).toEqual([])

    visible.clear()
    backlog.slice(0, 4).forEach((m) => visible.add(m.messageId))
    ready.value = true
    await flushPromises()
    expect(im.callsOf('ackConversationRead')).toEqual([[privateChat, 4]])

    // Scrolling down: the next screen moves it on; back up again changes nothing.
    backlog.slice(0, 4).forEach((m) => visible.delete(m.messageId))
    backlog.slice(4, 7).forEach((m) => visible.add(m.messageId))
    await flushPromises()
    backlog.slice(0, 2).forEach((m) => visible.add(m.messageId))
    await flushPromises()
    expect(im.callsOf('ackConversationRead')).toEqual([
      [privateChat, 4],
      [privateChat, 7],
    ])
  })

  it('asks again after a call that failed, once the screen changes', async () => {
    const backlog = Array.from({ length: 3 }, (_, i) => makeMessage({ seq: i + 1, isUnread: true }))
    let offline = true
    im.respond('ackConversationRead', () => (offline ? failed(Code.SERVER_UNREACHABLE, 'offline') : ok(null)))
    const { visible, ready } = setUpPolicy(backlog, 3)
    ready.value = true
    visible.add(backlog[0]?.messageId ?? '')
    await flushPromises()
    offline = false
    visible.add(backlog[1]?.messageId ?? '')
    visible.delete(backlog[1]?.messageId ?? '')
    await flushPromises()
    expect(im.callsOf('ackConversationRead')).toEqual([
      [privateChat, 1],
      [privateChat, 1],
    ])
  })
})

describe('notifications: when (lib/notify)', () => {
  const received = makeMessage({ isUnread: true })
  const away = { activeKey: null, attending: false }

  it('notifies of an unread message from someone else, unless muted or being looked at', () => {
    expect(shouldNotify(received, makeSummary(), away)).toBe(true)
    expect(shouldNotify(received, undefined, away)).toBe(true)
    expect(shouldNotify(received, makeSummary({ notificationStatus: 'doNotDisturb' }), away)).toBe(false)
    expect(shouldNotify(makeSent({}), makeSummary(), away)).toBe(false)
    expect(shouldNotify(makeMessage({ isUnread: false }), makeSummary(), away)).toBe(false)
    const key = conversationKey(privateChat)
    expect(shouldNotify(received, makeSummary(), { activeKey: key, attending: true })).toBe(false)
    // The chat is open but the window is not focused: the person is not looking.
    expect(shouldNotify(received, makeSummary(), { activeKey: key, attending: false })).toBe(true)
    expect(shouldNotify(received, makeSummary(), { activeKey: 'group:g_team', attending: true })).toBe(true)
  })

  it('leaves muted chats out of the unread total (title and dock badge)', () => {
    expect(
      notifiedUnreadTotal([
        makeSummary({ unreadCount: 3 }),
        makeSummary({ conversation: groupChat, unreadCount: 5, notificationStatus: 'doNotDisturb' }),
      ]),
    ).toBe(3)
  })
})

/** A stand-in for the browser's Notification: records what the page shows. */
class RecordedNotification {
  static permission: NotificationPermission = 'granted'
  static shown: RecordedNotification[] = []
  static requestPermission = vi.fn(() => Promise.resolve('granted' as NotificationPermission))
  onclick: (() => void) | null = null
  onclose: (() => void) | null = null
  closed = false
  constructor(
    readonly title: string,
    readonly options: NotificationOptions,
  ) {
    RecordedNotification.shown.push(this)
  }
  close(): void {
    this.closed = true
  }
}

describe('notifications: what they show and what a click does (useNotifications)', () => {
  beforeEach(() => {
    RecordedNotification.shown = []
    vi.stubGlobal('Notification', RecordedNotification)
  })
  afterEach(() => vi.unstubAllGlobals())

  function mountNotifier(locale: 'en' | 'zh-CN' = 'en') {
    const app = createTestApp(locale)
    const wrapper = app.mount(defineComponent({ setup: () => (useNotifications(), () => h('div')) }))
    return { app, wrapper }
  }

  it('shows sender and text in the page (headless), opens the chat on click, and reads nothing', async () => {
    mountNotifier()
    const conversations = useConversationsStore()
    conversations.upsert([makeSummary({ title: 'Bob', unreadCount: 1 })])
    im.emit('messageReceived', [makeMessage({ isUnread: true, content: { type: 'text', text: 'lunch?' } })])
    await flushPromises()

    expect(im.callsOf('showNotification')).toEqual([
      [{ conversation: privateChat, title: 'Bob', body: 'lunch?' }],
    ])
    expect(RecordedNotification.shown.map((n) => [n.title, n.options.body])).toEqual([['Bob', 'lunch?']])
    // A notification is not a read: no receipt of any kind went out.
    expect(im.calls.filter((c) => /^ack|ReadReceipt/.test(c.name))).toEqual([])

    RecordedNotification.shown[0]?.onclick?.()
    expect(conversations.activeKey).toBe(conversationKey(privateChat))
    expect(RecordedNotification.shown[0]?.closed).toBe(true)
  })

  it('is shown by the host when it can (Electron), and its click comes back as notificationClicked', async () => {
    im.respond('showNotification', () => ok({ shown: true }))
    mountNotifier()
    im.emit('messageReceived', [makeMessage({ isUnread: true })])
    await flushPromises()
    expect(im.callsOf('showNotification')).toHaveLength(1)
    expect(RecordedNotification.shown).toEqual([])

    im.emit('notificationClicked', privateChat)
    expect(useConversationsStore().activeKey).toBe(conversationKey(privateChat))
  })

  it('hides the text when asked (privacy), says "in" for groups, and is in Chinese too', async () => {
    setNotificationPref('showText', false)
    mountNotifier('zh-CN')
    useConversationsStore().upsert([makeSummary({ conversation: groupChat, title: 'Team' })])
    im.emit('messageReceived', [
      makeMessage({ conversation: groupChat, senderUserId: 'carol', isUnread: true }),
      makeMessage({ conversation: groupChat, senderUserId: 'carol', isUnread: true }),
    ])
    await flushPromises()
    expect(im.callsOf('showNotification')).toEqual([
      [{ conversation: groupChat, title: 'carol（Team）', body: '2 条新消息' }],
    ])
  })

  it('stays quiet for muted chats and my own messages (the chat being looked at: lib/notify above)', async () => {
    mountNotifier()
    const conversations = useConversationsStore()
    conversations.upsert([makeSummary({ notificationStatus: 'doNotDisturb' })])
    im.emit('messageReceived', [makeMessage({ isUnread: true }), makeSent({})])
    await flushPromises()
    expect(im.callsOf('showNotification')).toEqual([])
  })

  it('says a burst in one chat once per pause, with the count, and not at all once it was read', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
    mountNotifier()
    const conversations = useConversationsStore()
    conversations.upsert([makeSummary({ title: 'Bob', unreadCount: 1 })])
    const said = (n: number) => makeMessage({ isUnread: true, content: { type: 'text', text: `line ${n}` } })
    im.emit('messageReceived', [said(1)])
    im.emit('messageReceived', [said(2)])
    im.emit('messageReceived', [said(3)])
    await flushPromises()
    expect(im.callsOf('showNotification').map(([r]) => r.body)).toEqual(['line 1'])
    await vi.advanceTimersByTimeAsync(3000)
    expect(im.callsOf('showNotification').map(([r]) => r.body)).toEqual(['line 1', '2 new messages: line 3'])

    // Held, then read on another device before the pause ends: nothing more is said.
    im.emit('messageReceived', [said(4)])
    conversations.upsert([makeSummary({ title: 'Bob', unreadCount: 0 })])
    await vi.advanceTimersByTimeAsync(3000)
    expect(im.callsOf('showNotification')).toHaveLength(2)
    vi.useRealTimers()
  })

  it('plays a short sound when that setting is on', async () => {
    const oscillators: number[] = []
    const node = () => ({
      connect: (next: unknown) => next ?? node(),
      start: () => undefined,
      stop: () => undefined,
    })
    vi.stubGlobal(
      'AudioContext',
      class {
        state = 'running'
        currentTime = 0
        destination = {}
        createOscillator() {
          oscillators.push(1)
          return { ...node(), type: 'sine', frequency: { value: 0 } }
        }
        createGain() {
          const param = {
            setValueAtTime: () => undefined,
            linearRampToValueAtTime: () => undefined,
            exponentialRampToValueAtTime: () => undefined,
          }
          return { ...node(), gain: param }
        }
      },
    )
    setNotificationPref('sound', true)
    mountNotifier()
    im.emit('messageReceived', [makeMessage({ isUnread: true })])
    await flushPromises()
    expect(oscillators.length).toBeGreaterThan(0)
  })
})

describe('drafts (useDraft in the composer)', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }))
  afterEach(() => vi.useRealTimers())

  it('restores the draft, saves as the person types (debounced), clears at once on send', async () => {
    im.respond('getTextMessageDraft', () => ok('where were we'))
    const app = createTestApp('en')
    const wrapper = app.mount(MessageComposer, { conversation: privateChat, disabled: false })
    await flushPromises()
    const box = wrapper.get('[data-testid="composer-input"]')
    expect((box.element as HTMLTextAreaElement).value).toBe('where were we')
    expect(im.callsOf('saveTextMessageDraft')).toEqual([])

    await box.setValue('where were we going')
    await box.setValue('where were we going?')
    expect(im.callsOf('saveTextMessageDraft')).toEqual([])
    vi.advanceTimersByTime(DRAFT_SAVE_DELAY_MS)
    await flushPromises()
    expect(im.callsOf('saveTextMessageDraft')).toEqual([[privateChat, 'where were we going?']])

    // Typing, then sending before the quiet time: cleared now, and the late save does not revive it.
    await box.setValue('ok, see you')
    await box.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(im.callsOf('sendMessage')).toHaveLength(1)
    expect(im.callsOf('clearTextMessageDraft')).toEqual([[privateChat]])
    vi.advanceTimersByTime(DRAFT_SAVE_DELAY_MS * 2)
    await flushPromises()
    expect(im.callsOf('saveTextMessageDraft')).toHaveLength(1)
  })

  it('saves what is still waiting when the chat is left', async () => {
    const app = createTestApp('en')
    const wrapper = app.mount(MessageComposer, { conversation: privateChat, disabled: false })
    await flushPromises()
    await wrapper.get('[data-testid="composer-input"]').setValue('unfinished')
    wrapper.unmount()
    await flushPromises()
    expect(im.callsOf('saveTextMessageDraft')).toEqual([[privateChat, 'unfinished']])
  })
})

describe('chat list: drafts and muted chats (ConversationItem)', () => {
  it('shows "Draft:" instead of the last message, a muted mark, and says both to screen readers', () => {
    for (const [locale, draftWord, mutedWord] of [
      ['en', 'Draft:', 'muted'],
      ['zh-CN', '[草稿]', '免打扰'],
    ] as const) {
      const app = createTestApp(locale)
      const summary = makeSummary({
        draft: 'half a thought',
        notificationStatus: 'doNotDisturb',
        unreadCount: 2,
        lastMessage: makeMessage({}),
      })
      const wrapper = app.mount(ConversationItem, { summary, active: false })
      expect(wrapper.get('[data-testid="conversation-draft"]').text()).toBe(`${draftWord} half a thought`)
      expect(wrapper.find('[data-testid="conversation-muted"]').exists()).toBe(true)
      expect(wrapper.get('.visually-hidden').text()).toContain(mutedWord)
      expect(wrapper.get('[data-testid="unread-badge"]').classes()).toContain('conversation__badge--muted')
      // The open chat shows its draft in the box, not in the list.
      const open = app.mount(ConversationItem, { summary, active: true })
      expect(open.find('[data-testid="conversation-draft"]').exists()).toBe(false)
      wrapper.unmount()
      open.unmount()
    }
  })
})

describe('message list: day separators, runs and the "New messages" divider', () => {
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
      configurable: true,
      get(this: HTMLElement) {
        return this.classList.contains('message-list') ? 2000 : 0
      },
    })
  })
  afterAll(() => Reflect.deleteProperty(HTMLElement.prototype, 'clientHeight'))

  it('separates days, shows a run of one sender once, and puts the divider above the first unread', async () => {
    const today = new Date()
    const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1, 12).getTime()
    const morning = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 0, 30).getTime()
    const history = [
      makeMessage({ conversation: groupChat, senderUserId: 'carol', seq: 1, sentTime: yesterday }),
      makeMessage({ conversation: groupChat, senderUserId: 'carol', seq: 2, sentTime: yesterday + 60_000 }),
      makeMessage({
        conversation: groupChat,
        senderUserId: 'carol',
        seq: 3,
        sentTime: morning,
        isUnread: true,
      }),
      makeMessage({
        conversation: groupChat,
        senderUserId: 'carol',
        seq: 4,
        sentTime: morning + 1000,
        isUnread: true,
      }),
    ]
    im.respond('getHistoryMessages', () => ok({ list: history.slice().reverse(), hasMore: false }))
    const app = createTestApp('en')
    useConversationsStore().upsert([makeSummary({ conversation: groupChat, unreadCount: 2, lastSeq: 4 })])
    useMessagesStore().start()
    const wrapper = app.mount(MessageList, { conversation: groupChat })
    await vi.waitFor(() => expect(wrapper.find('[data-testid="unread-divider"]').exists()).toBe(true))
    await nextTick()

    expect(wrapper.findAll('[data-testid="day-separator"]').map((s) => s.text())).toEqual([
      'Yesterday',
      'Today',
    ])
    const rows = wrapper.findAll('.message-list__row')
    const divided = rows.find((r) => r.find('[data-testid="unread-divider"]').exists())
    expect(divided?.attributes('data-message-id')).toBe(history[2]?.messageId)
    expect(divided?.text()).toContain('New messages')
    // Sender names: once per run (rows 1 and 3 start a run; 2 and 4 continue it).
    expect(rows.map((r) => r.find('[data-testid="message-sender"]').exists())).toEqual([
      true,
      false,
      true,
      false,
    ])
    // Every message time carries its full date and time, for hover and keyboard focus.
    const time = wrapper.get('[data-testid="message-time"]')
    expect(time.attributes('datetime')).toBe(new Date(yesterday).toISOString())
    expect(time.get('[data-testid="message-time-full"]').text()).toBe(time.attributes('title'))
  })
})

describe('controls: mute, jump to latest, notification settings', () => {
  it('mutes and unmutes a chat with one toggle that says its state (RongCloud setConversationNotificationStatus)', async () => {
    im.respond('setConversationNotificationStatus', (conversation, notificationStatus) =>
      ok(makeSummary({ conversation, notificationStatus })),
    )
    const app = createTestApp('zh-CN')
    const conversations = useConversationsStore()
    conversations.upsert([makeSummary()])
    const wrapper = app.mount(MuteToggle, { conversation: privateChat })
    const toggle = wrapper.get('[data-testid="mute-toggle"]')
    expect(toggle.attributes('aria-pressed')).toBe('false')
    expect(toggle.attributes('aria-label')).toBe('消息免打扰')
    await toggle.trigger('click')
    await flushPromises()
    expect(im.callsOf('setConversationNotificationStatus')).toEqual([[privateChat, 'doNotDisturb']])
    expect(conversations.get(conversationKey(privateChat))?.notificationStatus).toBe('doNotDisturb')
    expect(toggle.attributes('aria-pressed')).toBe('true')
    await toggle.trigger('click')
    await flushPromises()
    expect(im.callsOf('setConversationNotificationStatus').at(-1)).toEqual([privateChat, 'notify'])
  })

  it('names the jump button with the count below, in both languages', () => {
    const en = createTestApp('en').mount(JumpToLatest, { count: 3 })
    expect(en.get('button').attributes('aria-label')).toBe('Jump to the latest message: 3 new messages below')
    expect(en.get('[data-testid="jump-to-latest-count"]').text()).toBe('3')
    const zh = createTestApp('zh-CN').mount(JumpToLatest, { count: 0 })
    expect(zh.get('button').attributes('aria-label')).toBe('跳到最新消息')
    expect(zh.find('[data-testid="jump-to-latest-count"]').exists()).toBe(false)
  })

  it('keeps the notification settings in this profile, and asks the browser when not yet allowed', async () => {
    vi.stubGlobal('Notification', {
      permission: 'default',
      requestPermission: () => Promise.resolve('granted'),
    })
    const wrapper = createTestApp('en').mount(NotificationSettings)
    await wrapper.get('[data-testid="setting-notification-text"]').setValue(false)
    expect(notificationPrefs.value.showText).toBe(false)
    expect(JSON.parse(localStorage.getItem('messenger.notifications') ?? '{}')).toMatchObject({
      showText: false,
    })
    await wrapper.get('[data-testid="setting-notifications"]').setValue(false)
    expect(wrapper.get('[data-testid="setting-notification-sound"]').attributes('disabled')).toBeDefined()

    const permission = wrapper.get('[data-testid="notification-permission"]')
    expect(permission.text()).toContain('not been allowed')
    await permission.get('button').trigger('click')
    await flushPromises()
    expect(wrapper.find('[data-testid="notification-permission"]').exists()).toBe(false)
    vi.unstubAllGlobals()
  })
})
