// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import type { GroupInfo } from '../../src/shared/model'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import MessageComposer from '@renderer/components/MessageComposer.vue'
import { groupReadCounts } from '@renderer/lib/messages'
import { useGroupsStore } from '@renderer/stores/groups'
import { useMessagesStore } from '@renderer/stores/messages'
import { installFakeIm, type FakeIm } from './fakeIm'
import {
  groupChat,
  makeGroupAckMessage,
  makeGroupInfo,
  makeSent,
  privateChat,
  withGroupReads,
} from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

type Code4100 = (typeof Code)[
  'GROUP_ACK_DISABLED' | 'GROUP_ACK_NOT_ALLOWED' | 'GROUP_ACK_EXPIRED' | 'GROUP_TOO_LARGE']

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

describe('read receipt request (RongCloud)', () => {
  it('is offered on my group message shortly after sending, and reports a refusal in words', async () => {
    im.respond('sendReadReceiptRequest', () => ({ code: Code.RECEIPT_REQUEST_EXPIRED, msg: 'expired' }))
    const message = makeSent({ conversation: groupChat, sentTime: Date.now() })
    const wrapper = createTestApp('en').mount(MessageBubble, { message, isGroup: true })
    await wrapper.get('[data-testid="request-receipts"]').trigger('click')
    await flushPromises()
    expect(im.callsOf('sendReadReceiptRequest')).toEqual([[groupChat.targetId, message.messageUId]])
    expect(wrapper.get('[data-testid="message-error"]').text()).toBe(
      'Read receipts can only be requested shortly after sending.',
    )
  })

  it('is not offered on old messages, on messages that asked for acks, or once requested', () => {
    const app = createTestApp('en')
    const old = makeSent({ conversation: groupChat, sentTime: Date.now() - 10 * 60 * 1000 })
    const acked = makeSent({ conversation: groupChat, sentTime: Date.now(), isNeedGroupAck: true })
    const requested = makeSent({
      conversation: groupChat,
      sentTime: Date.now(),
      readReceiptInfo: { isReceiptRequestMessage: true, hasRespond: false, readCount: 1, totalCount: 4 },
    })
    for (const message of [old, acked, requested]) {
      const wrapper = app.mount(MessageBubble, { message, isGroup: true })
      expect(wrapper.find('[data-testid="request-receipts"]').exists()).toBe(false)
    }
    const wrapper = app.mount(MessageBubble, { message: requested, isGroup: true })
    expect(wrapper.get('[data-testid="message-group-reads"]').text()).toBe('1 of 4 read')
  })
})

describe('composer in a group', () => {
  it('asks members for read acks when the toggle is on', async () => {
    const wrapper = createTestApp('en').mount(MessageComposer, { conversation: groupChat, disabled: false })
    await wrapper.get('[data-testid="composer-group-ack"]').trigger('click')
    await wrapper.get('[data-testid="composer-input"]').setValue('Please confirm')
    await wrapper.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(im.callsOf('sendMessage')).toEqual([
      [groupChat, { type: 'text', text: 'Please confirm' }, { isNeedGroupAck: true }],
    ])
    expect((wrapper.get('[data-testid="composer-input"]').element as HTMLTextAreaElement).value).toBe('')
  })

  it('is offered in groups only', () => {
    const wrapper = createTestApp('en').mount(MessageComposer, { conversation: privateChat, disabled: false })
    expect(wrapper.find('[data-testid="composer-group-ack"]').exists()).toBe(false)
  })

  it('is disabled, with the reason as its title, when the group’s settings do not let me ask', async () => {
    const settings = makeGroupInfo().receiptSettings
    const cases: Array<[GroupInfo, string]> = [
      [
        makeGroupInfo({ myRole: 'owner', receiptSettings: { ...settings, enabled: false } }),
        'Group read receipts are switched off.',
      ],
      [
        makeGroupInfo({
          myRole: 'member',
          receiptSettings: { ...settings, whoMayRequest: 'ownerAndAdmins' },
        }),
        'Only the group owner and admins can ask for read receipts in this group.',
      ],
      [
        makeGroupInfo({
          myRole: 'owner',
          memberCount: 201,
          receiptSettings: { ...settings, maxGroupSize: 200 },
        }),
        'This group is too large for read receipts.',
      ],
    ]
    for (const [info, reason] of cases) {
      const app = createTestApp('en')
      im.respond('getGroupInfo', () => ok(info))
      await useGroupsStore().loadInfo(groupChat.targetId)
      const wrapper = app.mount(MessageComposer, { conversation: groupChat, disabled: false })
      const toggle = wrapper.get('[data-testid="composer-group-ack"]')
      expect(toggle.attributes('disabled'), reason).toBeDefined()
      expect(toggle.attributes('title')).toBe(reason)
      // The reason is on screen too, in words, and the toggle points at it.
      const shown = wrapper.get('[data-testid="composer-ask-reason"]')
      expect(shown.text()).toBe(`You can’t ask who read in this group: ${reason}`)
      expect(toggle.attributes('aria-describedby')).toBe(shown.attributes('id'))
      wrapper.unmount()
    }

    const app = createTestApp('en')
    im.respond('getGroupInfo', () =>
      ok(
        makeGroupInfo({ myRole: 'admin', receiptSettings: { ...settings, whoMayRequest: 'ownerAndAdmins' } }),
      ),
    )
    await useGroupsStore().loadInfo(groupChat.targetId)
    const admin = app.mount(MessageComposer, { conversation: groupChat, disabled: false })
    const toggle = admin.get('[data-testid="composer-group-ack"]')
    expect(toggle.attributes('disabled')).toBeUndefined()
    expect(toggle.attributes('title')).toBe('Ask who read what you send next')
    expect(admin.find('[data-testid="composer-ask-reason"]').exists()).toBe(false)
  })

  it('turns off when the settings change under it', async () => {
    const app = createTestApp('en')
    const groups = useGroupsStore()
    groups.start()
    const info = makeGroupInfo({ myRole: 'member' })
    im.respond('getGroupInfo', () => ok(info))
    await groups.loadInfo(groupChat.targetId)
    const wrapper = app.mount(MessageComposer, { conversation: groupChat, disabled: false })
    const toggle = () => wrapper.get('[data-testid="composer-group-ack"]')
    await toggle().trigger('click')
    expect(toggle().attributes('aria-pressed')).toBe('true')

    im.emit('groupChanged', {
      groupId: groupChat.targetId,
      group: { ...info, receiptSettings: { ...info.receiptSettings, whoMayRequest: 'ownerAndAdmins' } },
    })
    await flushPromises()
    expect(toggle().attributes('aria-pressed')).toBe('false')
    expect(toggle().attributes('disabled')).toBeDefined()
    await wrapper.get('[data-testid="composer-input"]').setValue('hello')
    await wrapper.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(im.callsOf('sendMessage')[0][2]).toEqual({ isNeedGroupAck: false })
  })

  it('says in words why the engine refused a send that asked for acks', async () => {
    const reasons: Array<[Code4100, string]> = [
      [Code.GROUP_ACK_DISABLED, 'Group read receipts are switched off.'],
      [
        Code.GROUP_ACK_NOT_ALLOWED,
        'Only the group owner and admins can ask for read receipts in this group.',
      ],
      [Code.GROUP_ACK_EXPIRED, 'This message is too old for read receipts.'],
      [Code.GROUP_TOO_LARGE, 'This group is too large for read receipts.'],
    ]
    for (const [code, words] of reasons) {
      im.respond('sendMessage', () => ({ code, msg: 'refused' }))
      const wrapper = createTestApp('en').mount(MessageComposer, { conversation: groupChat, disabled: false })
      await wrapper.get('[data-testid="composer-group-ack"]').trigger('click')
      await wrapper.get('[data-testid="composer-input"]').setValue('Please confirm')
      await wrapper.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter' })
      await flushPromises()
      expect(wrapper.get('[data-testid="composer-error"]').text()).toBe(words)
      // The refused text comes back into the box.
      expect((wrapper.get('[data-testid="composer-input"]').element as HTMLTextAreaElement).value).toBe(
        'Please confirm',
      )
      wrapper.unmount()
    }
  })

  it('keeps a newline on Shift+Enter', async () => {
    const wrapper = createTestApp('en').mount(MessageComposer, { conversation: groupChat, disabled: false })
    await wrapper.get('[data-testid="composer-input"]').setValue('line')
    await wrapper.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter', shiftKey: true })
    expect(im.callsOf('sendMessage')).toEqual([])
  })
})

describe('"n of m read" on my group messages', () => {
  it('says "Read by everyone" only when every member who could read it has, live', async () => {
    const message = makeGroupAckMessage(2, 3)
    const wrapper = createTestApp('en').mount(MessageBubble, { message, isGroup: true })
    const reads = () => wrapper.get('[data-testid="message-group-reads"]')
    expect(reads().text()).toBe('2 of 3 read')
    expect(reads().attributes('data-all-read')).toBe('false')

    await wrapper.setProps({ message: withGroupReads(message, 3) })
    expect(reads().text()).toBe('Read by everyone')
    expect(reads().attributes('data-all-read')).toBe('true')

    // Nobody could read it (everyone else left before it was sent): never "everyone".
    await wrapper.setProps({ message: makeGroupAckMessage(0, 0) })
    expect(reads().text()).toBe('0 of 0 read')
    expect(reads().attributes('data-all-read')).toBe('false')
  })

  it('does the same for a RongCloud request, in both languages', () => {
    const request = (readCount: number) =>
      makeSent({
        conversation: groupChat,
        readReceiptInfo: { isReceiptRequestMessage: true, hasRespond: false, readCount, totalCount: 2 },
      })
    const en = createTestApp('en').mount(MessageBubble, { message: request(2), isGroup: true })
    expect(en.get('[data-testid="message-group-reads"]').text()).toBe('Read by everyone')
    const zh = createTestApp('zh-CN').mount(MessageBubble, { message: request(2), isGroup: true })
    expect(zh.get('[data-testid="message-group-reads"]').text()).toBe('全部已读')
    const partly = createTestApp('en').mount(MessageBubble, { message: request(1), isGroup: true })
    expect(partly.get('[data-testid="message-group-reads"]').attributes('data-all-read')).toBe('false')
  })

  it('follows messagesChanged through the messages store', async () => {
    const message = makeGroupAckMessage(0, 2)
    im.respond('getHistoryMessages', () => ok({ list: [message], hasMore: false }))
    createTestApp('en')
    const store = useMessagesStore()
    store.start()
    await store.open(groupChat)
    const one = withGroupReads(message, 1)
    const both = withGroupReads(one, 2)
    im.emit('messagesChanged', [both])
    const stored = store.get(groupChat)?.list[0]
    expect(stored && groupReadCounts(stored)).toEqual({ count: 2, total: 2 })
    // A stale copy (a lower revision, arriving late) cannot lower the count.
    im.emit('messagesChanged', [one])
    const after = store.get(groupChat)?.list[0]
    expect(after && groupReadCounts(after)).toEqual({ count: 2, total: 2 })
  })
})
