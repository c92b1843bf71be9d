// @vitest-environment happy-dom
/**
 * Issue 15 in the renderer: the Acknowledge button and its undo, the sender's "n of m acknowledged"
 * and panel (tabs, paging, hidden members, reminders, schedule, CSV), "Waiting for me" with its
 * badge, reminder notifications that close when acknowledged elsewhere, quiet hours, mentions
 * (autocomplete, mentionedInfo, dots) and the mention that passes a muted chat.
 */
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { Code, fail as failed, ok } from '../../src/shared/codes'
import type { AckEntry, AckPage, AckState } from '../../src/shared/acks'
import type { GroupMember, Message } from '../../src/shared/model'
import AckControls from '@renderer/components/AckControls.vue'
import AcksDialog from '@renderer/components/AcksDialog.vue'
import AppSidebar from '@renderer/components/AppSidebar.vue'
import MentionDots from '@renderer/components/MentionDots.vue'
import MessageComposer from '@renderer/components/MessageComposer.vue'
import PendingAcksDialog from '@renderer/components/PendingAcksDialog.vue'
import QuietHoursSettings from '@renderer/components/QuietHoursSettings.vue'
import { useAckNotifications } from '@renderer/composables/useAckNotifications'
import { resetAnnouncer, useAnnouncement } from '@renderer/composables/useAnnouncer'
import { useChatAnnouncements } from '@renderer/composables/useChatAnnouncements'
import MessageInfoDialog from '@renderer/components/MessageInfoDialog.vue'
import { useNotifications } from '@renderer/composables/useNotifications'
import { mentionQueryAt, mentionsOf } from '@renderer/lib/acks'
import { setNotificationPref, shouldNotify } from '@renderer/lib/notify'
import { isQuietTime, quietHours, setQuietHours } from '@renderer/lib/quietHours'
import { useAcksStore } from '@renderer/stores/acks'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useGroupsStore } from '@renderer/stores/groups'
import { useMessagesStore } from '@renderer/stores/messages'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeMessage, makeSent, makeSummary, ME, privateChat } from './fixtures'
import { createTestApp } from './mountHelpers'

const NOW = Date.now()
let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
  localStorage.clear()
  setNotificationPref('enabled', true)
  setNotificationPref('showText', true)
  setNotificationPref('sound', false)
  setQuietHours({ enabled: false, from: '22:00', to: '07:00' })
})

afterEach(() => vi.unstubAllGlobals())

const member = (userId: string, displayName: string): GroupMember => ({
  userId,
  displayName,
  role: 'member',
  joinedAt: 1,
})
const MEMBERS = [member(ME, 'Alice'), member('bob', 'Bob'), member('carol', 'Carol'), member('dave', 'Dave')]

function signedIn(): void {
  useSessionStore().session = {
    user: { userId: ME, displayName: 'Alice' },
    serverUrl: 'ws://x/ws',
    deviceId: 'd',
  }
}

async function withMembers(): Promise<void> {
  im.respond('getGroupMembers', () => ok(MEMBERS))
  await useGroupsStore().loadMembers(groupChat.targetId)
}

/** A received group message that asks me to acknowledge it. */
const asked = (overrides: Partial<Message> = {}) =>
  makeMessage({ conversation: groupChat, needAck: true, senderUserId: 'bob', ...overrides })

/** A component that only runs composables (announcements, notifications). */
const harness = (run: () => void) => defineComponent({ setup: () => (run(), () => h('div')) })

const testId = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)
/** Text as read: template line breaks are one space. */
const words = (w: VueWrapper, id: string) => testId(w, id).text().replace(/\s+/g, ' ')

describe('a received message that asks for an acknowledgement', () => {
  it('acknowledges, then offers Undo within the window, and says a refusal in words', async () => {
    const app = createTestApp('en')
    const message = asked()
    const acks = useAcksStore()
    acks.settings = { undoWindowMs: 5 * 60_000, remindersPerMember: 5, reminderIntervalMs: 60_000 }
    im.respond('ackMessage', (id) => {
      expect(id).toBe(message.messageId)
      return ok({ ...message, myAckTime: Date.now(), revision: 2 })
    })
    const wrapper = app.mount(AckControls, { message })
    expect(testId(wrapper, 'ack-button').text()).toBe('Acknowledge')
    await testId(wrapper, 'ack-button').trigger('click')
    await flushPromises()
    // The store took the engine's copy; the row shows what the engine holds.
    await wrapper.setProps({ message: { ...message, myAckTime: Date.now(), revision: 2 } })
    expect(testId(wrapper, 'ack-done').text()).toBe('Acknowledged')
    expect(testId(wrapper, 'ack-button').exists()).toBe(false)

    im.respond('undoAckMessage', () => failed(Code.ACK_UNDO_WINDOW_PASSED, 'too late'))
    await testId(wrapper, 'ack-undo').trigger('click')
    await flushPromises()
    expect(testId(wrapper, 'ack-error').text()).toBe('It is too late to take that acknowledgement back.')
    expect(testId(wrapper, 'ack-error').attributes('role')).toBe('alert')
  })

  it('offers no Undo once the server window has passed', () => {
    const app = createTestApp('en')
    useAcksStore().settings = { undoWindowMs: 60_000, remindersPerMember: 5, reminderIntervalMs: 0 }
    const wrapper = app.mount(AckControls, { message: asked({ myAckTime: NOW - 10 * 60_000 }) })
    expect(testId(wrapper, 'ack-done').exists()).toBe(true)
    expect(testId(wrapper, 'ack-undo').exists()).toBe(false)
  })

  it('says "n of m acknowledged" on my own message and opens the panel', async () => {
    const app = createTestApp('zh-CN')
    const mine = makeSent({ conversation: groupChat, needAck: true, ackCount: 1, groupMemberCount: 2 })
    const wrapper = app.mount(AckControls, { message: mine })
    expect(testId(wrapper, 'message-acks').text()).toBe('1/2 人已确认')
    await testId(wrapper, 'message-acks').trigger('click')
    expect(wrapper.emitted('showAcks')).toEqual([[mine]])
    const single = createTestApp('en').mount(AckControls, {
      message: makeSent({ needAck: true, ackCount: 0 }),
    })
    expect(testId(single, 'message-acks').text()).toBe('0 of 1 acknowledged')
  })
})

describe('the sender is told, in words and from Message info', () => {
  it('says a new acknowledgement through the live region', async () => {
    resetAnnouncer()
    const sent = makeSent({
      conversation: groupChat,
      seq: 1,
      needAck: true,
      ackCount: 0,
      groupMemberCount: 2,
    })
    im.respond('getHistoryMessages', () => ok({ list: [sent], hasMore: false }))
    const app = createTestApp('en')
    useMessagesStore().start()
    app.mount(harness(() => useChatAnnouncements(() => groupChat)))
    await useMessagesStore().open(groupChat)
    await flushPromises()
    im.change(sent, { ackCount: 1 })
    await flushPromises()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(useAnnouncement().value?.parts).toEqual(['1 of 2 acknowledged'])
  })

  it('opens the acknowledgement panel from Message info', async () => {
    const sent = makeSent({ conversation: groupChat, needAck: true, ackCount: 1, groupMemberCount: 3 })
    const wrapper = createTestApp('en').mount(MessageInfoDialog, { message: sent })
    await testId(wrapper, 'message-info-acks').trigger('click')
    expect(testId(wrapper, 'message-info-acks').text()).toBe('1 of 3 acknowledged')
    expect(wrapper.emitted('showAcks')).toEqual([[sent]])
  })
})

describe('the acknowledgement panel (sender)', () => {
  const entry = (userId: string, extra: Partial<AckEntry> = {}): AckEntry => ({
    userId,
    displayName: userId.toUpperCase(),
    reminded: 0,
    ...extra,
  })
  /** A server with 3 acked (2 per page), 1 read-not-acked, 1 not read, 1 hiding (of 6). */
  function serve(): void {
    const lists: Record<AckState, AckEntry[]> = {
      acked: [entry('b1', { ackedAt: NOW }), entry('b2', { ackedAt: NOW }), entry('b3', { ackedAt: NOW })],
      readNotAcked: [entry('r1', { readAt: NOW, reminded: 2 })],
      notRead: [entry('n1')],
    }
    im.respond('getMessageAcks', (_id, state, size, cursor) => {
      const from = cursor === undefined ? 0 : Number(cursor)
      const page = lists[state].slice(from, from + Math.min(size ?? 50, 2))
      const next = from + 2 < lists[state].length ? { nextCursor: String(from + 2) } : {}
      const answer: AckPage = {
        state,
        entries: page,
        counts: { acked: 3, read: 4, total: 6, hidden: 1 },
        ...next,
      }
      return ok(answer)
    })
  }
  const mine = () => makeSent({ conversation: groupChat, needAck: true, ackCount: 3, groupMemberCount: 6 })
  const userIds = (w: VueWrapper, state: AckState) =>
    w
      .findAll(`[data-testid="acks-panel-${state}"] [data-testid="ack-entry"]`)
      .map((e) => e.attributes('data-user-id'))

  it('shows three tabs with counts, hidden members apart, and loads more on the cursor', async () => {
    serve()
    const wrapper = createTestApp('en').mount(AcksDialog, { message: mine() })
    await flushPromises()
    expect(words(wrapper, 'acks-summary')).toBe(
      '3 of 6 acknowledged · 4 of 6 read · 1 hides their read receipts',
    )
    expect(testId(wrapper, 'acks-tab-acked').text()).toBe('Acknowledged (3)')
    expect(testId(wrapper, 'acks-tab-readNotAcked').text()).toBe('Read, not acknowledged (1)')
    expect(testId(wrapper, 'acks-tab-notRead').text()).toBe('Not read (1)')
    expect(userIds(wrapper, 'acked')).toEqual(['b1', 'b2'])
    await testId(wrapper, 'acks-more-acked').trigger('click')
    await flushPromises()
    expect(userIds(wrapper, 'acked')).toEqual(['b1', 'b2', 'b3'])
    expect(testId(wrapper, 'acks-more-acked').exists()).toBe(false)
    expect(
      im
        .callsOf('getMessageAcks')
        .filter((c) => c[1] === 'acked')
        .map((c) => c[3]),
    ).toEqual([undefined, '2'])
    // The hiding member is in no list: never "not read".
    expect(userIds(wrapper, 'notRead')).toEqual(['n1'])
    expect(wrapper.find('[data-testid="acks-panel-readNotAcked"]').text()).toContain('reminded 2 times')
    // Arrow keys move between the tabs (the tablist pattern).
    await testId(wrapper, 'acks-tab-acked').trigger('keydown', { key: 'ArrowRight' })
    expect(testId(wrapper, 'acks-tab-readNotAcked').attributes('aria-selected')).toBe('true')
  })

  it('reminds now (reminded and limited in words, a refusal in words) and sets a schedule', async () => {
    serve()
    const message = mine()
    const wrapper = createTestApp('en').mount(AcksDialog, { message })
    await flushPromises()
    im.respond('remindUnacknowledged', () => ok({ reminded: 2, limited: 1 }))
    await testId(wrapper, 'acks-remind').trigger('click')
    await flushPromises()
    expect(testId(wrapper, 'acks-remind-result').text()).toBe(
      'Reminded 2 people. 1 was not: they were reminded as often as allowed.',
    )
    im.respond('remindUnacknowledged', () => failed(Code.REMINDER_TOO_SOON))
    await testId(wrapper, 'acks-remind').trigger('click')
    await flushPromises()
    expect(testId(wrapper, 'acks-error').text()).toBe(
      'A reminder for this message was sent a moment ago. Wait a little before sending another.',
    )

    im.respond('setAckReminderSchedule', (_id, schedule) =>
      ok(schedule ? { ...schedule, remaining: schedule.times, nextAt: NOW + 60_000 } : null),
    )
    await testId(wrapper, 'acks-schedule-every').setValue('10')
    await testId(wrapper, 'acks-schedule-times').setValue('4')
    await testId(wrapper, 'acks-schedule').trigger('submit')
    await flushPromises()
    expect(im.callsOf('setAckReminderSchedule')).toEqual([
      [message.messageId, { everyMinutes: 10, times: 4 }],
    ])
    expect(testId(wrapper, 'acks-schedule-state').text()).toMatch(
      /^Reminding every 10 minutes, 4 more times at most/,
    )
    await testId(wrapper, 'acks-schedule-clear').trigger('click')
    await flushPromises()
    expect(im.callsOf('setAckReminderSchedule')[1]).toEqual([message.messageId, undefined])
    expect(testId(wrapper, 'acks-schedule-state').text()).toBe('No reminders are scheduled.')
  })

  it('exports the engine CSV as a download', async () => {
    serve()
    const csv = 'user_id,display_name,state,acked_at,read_at\r\nbob,Bob,acked,2026-01-01T00:00:00.000Z,\r\n'
    im.respond('exportMessageAcks', () => ok({ fileName: 'acks.csv', csv }))
    const blobs: Blob[] = []
    vi.stubGlobal(
      'URL',
      Object.assign(URL, {
        createObjectURL: (blob: Blob) => (blobs.push(blob), 'blob:acks'),
        revokeObjectURL: () => undefined,
      }),
    )
    const clicked: Array<{ href: string; download: string }> = []
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (
      this: HTMLAnchorElement,
    ) {
      clicked.push({ href: this.getAttribute('href') ?? '', download: this.download })
    })
    const wrapper = createTestApp('en').mount(AcksDialog, { message: mine() })
    await flushPromises()
    await testId(wrapper, 'acks-export').trigger('click')
    await flushPromises()
    expect(clicked).toEqual([{ href: 'blob:acks', download: 'acks.csv' }])
    expect(await blobs[0].text()).toBe(csv)
    click.mockRestore()
  })
})

describe('"Waiting for me"', () => {
  it('counts in the sidebar badge, lists the messages, acknowledges one, and says when none wait', async () => {
    const waiting = [
      asked({ content: { type: 'text', text: 'Sign the form' } }),
      asked({ conversation: privateChat }),
    ]
    let pending = [...waiting]
    im.respond('getPendingAckMessages', () => ok({ messages: pending, total: pending.length }))
    im.respond('getGroupMembers', () => ok(MEMBERS))
    im.respond('ackMessage', (id) => {
      pending = pending.filter((m) => m.messageId !== id)
      const acked = waiting.find((m) => m.messageId === id)
      return ok({ ...(acked as Message), myAckTime: NOW, revision: 2 })
    })
    const app = createTestApp('en')
    const acks = useAcksStore()
    acks.start()
    const sidebar = app.mount(AppSidebar)
    await flushPromises()
    expect(testId(sidebar, 'waiting-for-me-badge').text()).toBe('2')
    expect(testId(sidebar, 'waiting-for-me').attributes('aria-label')).toBe(
      'Waiting for me: 2 messages to acknowledge',
    )
    await testId(sidebar, 'waiting-for-me').trigger('click')
    expect(sidebar.emitted('waitingForMe')).toHaveLength(1)

    const dialog = app.mount(PendingAcksDialog)
    await flushPromises()
    expect(dialog.findAll('[data-testid="pending-ack-item"]')).toHaveLength(2)
    // The sender by name: the group's member list is loaded for it.
    expect(dialog.get('[data-testid="pending-ack-item"]').text()).toContain('Bob: Sign the form')
    await dialog.findAll('[data-testid="pending-ack-button"]')[0].trigger('click')
    await flushPromises()
    expect(dialog.findAll('[data-testid="pending-ack-item"]')).toHaveLength(1)
    // The engine says the count changed: badge and list follow.
    pending = []
    im.emit('pendingAcksChanged', { count: 0 })
    await flushPromises()
    expect(testId(dialog, 'pending-acks-empty').text()).toBe(
      'You have acknowledged everything you were asked to. New requests will appear here.',
    )
    expect(testId(sidebar, 'waiting-for-me-badge').exists()).toBe(false)
  })

  it('opens the message in its chat', async () => {
    const message = asked()
    im.respond('getPendingAckMessages', () => ok({ messages: [message], total: 1 }))
    im.respond('getMessagesAround', () => ok({ list: [message], hasMore: false, hasNewer: false }))
    const wrapper = createTestApp('en').mount(PendingAcksDialog)
    await flushPromises()
    await testId(wrapper, 'pending-ack-show').trigger('click')
    await flushPromises()
    expect(useConversationsStore().activeKey).toBe('group:g_team')
    expect(useMessagesStore().get(groupChat)?.focusId).toBe(message.messageId)
    expect(wrapper.emitted('close')).toHaveLength(1)
  })
})

/** A stand-in for the browser's Notification (headless host): records and closes. */
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
    this.onclose?.()
  }
}

describe('reminders and mentions as notifications', () => {
  beforeEach(() => {
    RecordedNotification.shown = []
    vi.stubGlobal('Notification', RecordedNotification)
  })

  function mountNotifiers() {
    const app = createTestApp('en')
    app.mount(harness(() => (useNotifications(), useAckNotifications())))
    return app
  }

  it('says who reminds of what, and closes once acknowledged on another device', async () => {
    mountNotifiers()
    await withMembers()
    const message = asked({ content: { type: 'text', text: 'Read the policy' } })
    im.emit('ackReminder', { message, from: 'bob', n: 1 })
    await flushPromises()
    expect(RecordedNotification.shown.map((n) => [n.title, n.options.body])).toEqual([
      ['Bob reminds you to acknowledge', 'Read the policy'],
    ])
    // A click opens the message in its chat.
    im.respond('getMessagesAround', () => ok({ list: [message], hasMore: false, hasNewer: false }))
    RecordedNotification.shown[0].onclick?.()
    await flushPromises()
    expect(useConversationsStore().activeKey).toBe('group:g_team')
    expect(useMessagesStore().get(groupChat)?.focusId).toBe(message.messageId)
    // Shown again, then acked elsewhere: the engine pushes the message with myAckTime set.
    im.emit('ackReminder', { message, from: 'bob', n: 2 })
    await flushPromises()
    im.emit('messagesChanged', [{ ...message, myAckTime: NOW, revision: 2 }])
    expect(RecordedNotification.shown.map((n) => n.closed)).toEqual([true, true])
  })

  it('asks the host (Electron) to close the reminder it showed once acknowledged', async () => {
    im.respond('showNotification', () => ok({ shown: true }))
    mountNotifiers()
    const message = asked()
    im.emit('ackReminder', { message, from: 'bob', n: 2 })
    await flushPromises()
    expect(im.callsOf('showNotification')[0][0].tag).toBe(`ack:${message.messageId}`)
    expect(RecordedNotification.shown).toEqual([])
    im.emit('messagesChanged', [{ ...message, myAckTime: NOW, revision: 2 }])
    await flushPromises()
    expect(im.callsOf('closeNotification')).toEqual([[`ack:${message.messageId}`]])
  })

  it('stays silent during quiet hours, reminders and mentions included', async () => {
    mountNotifiers()
    const now = new Date()
    const hhmm = (d: Date) =>
      `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`
    setQuietHours({
      enabled: true,
      from: hhmm(new Date(now.getTime() - 60 * 60_000)),
      to: hhmm(new Date(now.getTime() + 60 * 60_000)),
    })
    useConversationsStore().upsert([makeSummary({ conversation: groupChat, title: 'Team', unreadCount: 1 })])
    im.emit('ackReminder', { message: asked(), from: 'bob', n: 1 })
    im.emit('messageReceived', [asked({ isUnread: true, mentionsMe: true })])
    await flushPromises()
    expect(RecordedNotification.shown).toEqual([])
    expect(im.callsOf('showNotification')).toEqual([])
  })

  it('lets a mention of me through a muted chat, and nothing else', () => {
    const muted = { notificationStatus: 'doNotDisturb' as const }
    const away = { activeKey: null, attending: false }
    expect(shouldNotify(makeMessage({ isUnread: true }), muted, away)).toBe(false)
    expect(shouldNotify(makeMessage({ isUnread: true, mentionsMe: true }), muted, away)).toBe(true)
  })

  it('quiet hours run over midnight and are edited in Settings', async () => {
    const at = (h: number, m = 0) => new Date(2026, 0, 1, h, m)
    const span = { enabled: true, from: '22:00', to: '07:00' }
    expect(isQuietTime(span, at(23))).toBe(true)
    expect(isQuietTime(span, at(6, 59))).toBe(true)
    expect(isQuietTime(span, at(7))).toBe(false)
    expect(isQuietTime({ ...span, from: '09:00', to: '17:00' }, at(12))).toBe(true)
    expect(isQuietTime({ ...span, enabled: false }, at(23))).toBe(false)

    const wrapper = createTestApp('zh-CN').mount(QuietHoursSettings)
    await testId(wrapper, 'setting-quiet-hours').setValue(true)
    await testId(wrapper, 'quiet-hours-from').setValue('21:30')
    expect(quietHours.value).toEqual({ enabled: true, from: '21:30', to: '07:00' })
    expect(JSON.parse(localStorage.getItem('messenger.quietHours') ?? '{}')).toEqual(quietHours.value)
    expect(wrapper.text()).toContain('免打扰时段')
  })
})

describe('mentions', () => {
  it('finds the "@" being typed and builds mentionedInfo from the names still in the text', () => {
    expect(mentionQueryAt('hi @ca', 6)).toEqual({ start: 3, query: 'ca' })
    expect(mentionQueryAt('mail a@b', 8)).toBeNull()
    expect(mentionQueryAt('@carol smith', 12)).toBeNull()
    const picked = [
      { userId: 'carol', name: 'Carol' },
      { userId: 'bob', name: 'Bob' },
    ]
    expect(mentionsOf('@Carol please', picked)).toEqual({ type: 'some', userIdList: ['carol'] })
    expect(mentionsOf('@Carolyn please', picked)).toBeUndefined()
    expect(mentionsOf('@all meeting', picked)).toEqual({ type: 'all', userIdList: [] })
    expect(mentionsOf('@所有人 开会', [])).toEqual({ type: 'all', userIdList: [] })
  })

  it('completes a member with the keyboard (listbox, aria-activedescendant) and sends mentionedInfo', async () => {
    const app = createTestApp('en')
    signedIn()
    await withMembers()
    const wrapper = app.mount(MessageComposer, { conversation: groupChat, disabled: false })
    const box = testId(wrapper, 'composer-input')
    await box.setValue('Hi @')
    await flushPromises()
    const names = () =>
      wrapper.findAll('[data-testid="mention-option"]').map((o) => o.attributes('data-user-id'))
    // Everyone first, then the members, never me.
    expect(names()).toEqual(['all', 'bob', 'carol', 'dave'])
    await box.setValue('Hi @c')
    await flushPromises()
    expect(names()).toEqual(['carol'])
    const listbox = testId(wrapper, 'mention-suggestions')
    expect(listbox.attributes('role')).toBe('listbox')
    expect(box.attributes('aria-controls')).toBe(listbox.attributes('id'))
    expect(box.attributes('aria-activedescendant')).toBe(wrapper.get('[role="option"]').attributes('id'))
    await box.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect((box.element as HTMLTextAreaElement).value).toBe('Hi @Carol ')
    expect(testId(wrapper, 'mention-suggestions').exists()).toBe(false)
    // Enter now sends: with the mention and the acknowledgement asked.
    await testId(wrapper, 'composer-need-ack').trigger('click')
    expect(testId(wrapper, 'composer-need-ack').attributes('aria-pressed')).toBe('true')
    await box.setValue('Hi @Carol read this')
    await box.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(im.callsOf('sendMessage')).toEqual([
      [
        groupChat,
        { type: 'text', text: 'Hi @Carol read this' },
        { isNeedGroupAck: false, needAck: true, mentionedInfo: { type: 'some', userIdList: ['carol'] } },
      ],
    ])
    // One message asked; the next does not unless asked again.
    expect(testId(wrapper, 'composer-need-ack').attributes('aria-pressed')).toBe('false')
  })

  it('moves with the arrows, picks with Tab, and Escape closes the list without clearing the box', async () => {
    const app = createTestApp('en')
    signedIn()
    await withMembers()
    const wrapper = app.mount(MessageComposer, { conversation: groupChat, disabled: false })
    const box = testId(wrapper, 'composer-input')
    await box.setValue('@')
    await flushPromises()
    await box.trigger('keydown', { key: 'ArrowDown' })
    await box.trigger('keydown', { key: 'ArrowDown' })
    expect(wrapper.findAll('[role="option"]')[2].attributes('aria-selected')).toBe('true')
    await box.trigger('keydown', { key: 'ArrowUp' })
    await box.trigger('keydown', { key: 'Tab' })
    await flushPromises()
    expect((box.element as HTMLTextAreaElement).value).toBe('@Bob ')
    await box.setValue('@Bob and @d')
    await flushPromises()
    await box.trigger('keydown', { key: 'Escape' })
    await flushPromises()
    expect(testId(wrapper, 'mention-suggestions').exists()).toBe(false)
    expect((box.element as HTMLTextAreaElement).value).toBe('@Bob and @d')
  })

  it('shows a dot per mentioned member with its state in words, hidden never as unread', async () => {
    const app = createTestApp('en')
    await withMembers()
    const message = makeSent({
      conversation: groupChat,
      mentionedInfo: { type: 'some', userIdList: ['bob', 'carol', 'dave'] },
      mentionReadBy: {},
    })
    im.respond('getMentionReads', () =>
      ok({
        members: [
          { userId: 'bob', state: 'read', readAt: NOW },
          { userId: 'carol', state: 'unread' },
          { userId: 'dave', state: 'hidden' },
        ],
      }),
    )
    const wrapper = app.mount(MentionDots, { message })
    await flushPromises()
    const dots = () =>
      wrapper
        .findAll('[data-testid="mention-dot"]')
        .map((d) => [d.attributes('data-state'), d.attributes('aria-label')])
    expect(dots()).toEqual([
      ['read', 'Bob read it'],
      ['unread', 'Carol has not read it yet'],
      ['hidden', 'Dave hides read receipts'],
    ])
    // Carol reads: the engine's copy carries her in mentionReadBy.
    await wrapper.setProps({ message: { ...message, mentionReadBy: { carol: NOW }, revision: 2 } })
    expect(dots()[1]).toEqual(['read', 'Carol read it'])

    im.respond('getMentionReads', () => ok({ members: [], all: { read: 2, total: 3, hidden: 1 } }))
    const all = app.mount(MentionDots, {
      message: makeSent({
        conversation: groupChat,
        mentionedInfo: { type: 'all', userIdList: [] },
        groupMemberCount: 3,
      }),
    })
    await flushPromises()
    expect(words(all, 'mention-all')).toBe('@all: 2 of 3 read · 1 hides their read receipts')
  })
})
