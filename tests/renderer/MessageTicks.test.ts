// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest'
import type { Message } from '../../src/shared/model'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import MessageTicks from '@renderer/components/MessageTicks.vue'
import { formatDateTime } from '@renderer/lib/format'
import { installFakeIm } from './fakeIm'
import { groupChat, makeMessage, makeSent } from './fixtures'
import { createTestApp } from './mountHelpers'

beforeEach(() => {
  installFakeIm()
  document.body.innerHTML = ''
})

const SENT = 1_700_000_000_000
const DELIVERED = SENT + 60_000
const READ = SENT + 120_000

const states: Array<[string, Partial<Message>, string]> = [
  ['sending', { status: 'sending', seq: null, messageUId: null }, 'Sending'],
  ['failed', { status: 'failed', seq: null, messageUId: null }, 'Not sent'],
  ['sent', {}, 'Sent'],
  ['delivered', { isDelivered: true, deliveredTime: DELIVERED }, 'Delivered'],
  ['read', { isDelivered: true, deliveredTime: DELIVERED, isReceiverRead: true, readTime: READ }, 'Read'],
]

describe('message ticks', () => {
  it.each(states)('shows %s', (receipt, overrides, label) => {
    const wrapper = createTestApp('en').mount(MessageTicks, {
      message: makeSent({ sentTime: SENT, ...overrides }),
    })
    const ticks = wrapper.get('[data-testid="message-ticks"]')
    expect(ticks.attributes('data-receipt')).toBe(receipt)
    expect(ticks.attributes('title')?.split('\n')[0]).toBe(label)
  })

  it('gives the time of each step in the tooltip, in the current locale', () => {
    const message = makeSent({
      sentTime: SENT,
      isDelivered: true,
      deliveredTime: DELIVERED,
      isReceiverRead: true,
      readTime: READ,
    })
    const en = createTestApp('en').mount(MessageTicks, { message })
    expect(en.get('[data-testid="message-ticks"]').attributes('title')).toBe(
      [
        'Read',
        `Sent: ${formatDateTime(SENT, 'en')}`,
        `Delivered: ${formatDateTime(DELIVERED, 'en')}`,
        `Read: ${formatDateTime(READ, 'en')}`,
      ].join('\n'),
    )
    const zh = createTestApp('zh-CN').mount(MessageTicks, { message })
    expect(zh.get('[data-testid="message-ticks"]').attributes('title')).toContain(
      `已读：${formatDateTime(READ, 'zh-CN')}`,
    )
  })
})

describe('message bubble', () => {
  it('shows ticks on my single-chat messages only', () => {
    const app = createTestApp('en')
    const mine = app.mount(MessageBubble, { message: makeSent(), isGroup: false })
    expect(mine.get('[data-testid="message-item"]').attributes('data-direction')).toBe('send')
    expect(mine.find('[data-testid="message-ticks"]').exists()).toBe(true)

    const theirs = app.mount(MessageBubble, { message: makeMessage(), isGroup: false })
    expect(theirs.get('[data-testid="message-item"]').attributes('data-direction')).toBe('receive')
    expect(theirs.find('[data-testid="message-ticks"]').exists()).toBe(false)
    expect(theirs.find('[data-testid="message-sender"]').exists()).toBe(false)
  })

  it('names the sender of a group message and counts group reads on mine', () => {
    const app = createTestApp('en')
    const received = app.mount(MessageBubble, {
      message: makeMessage({ conversation: groupChat, senderUserId: 'carol' }),
      isGroup: true,
      senderName: 'Carol',
    })
    // The avatar's initials, then the name and the id.
    expect(received.get('[data-testid="message-sender"]').text()).toMatch(/^C\s+Carol\s+carol$/)

    const mine = app.mount(MessageBubble, {
      message: makeSent({
        conversation: groupChat,
        isNeedGroupAck: true,
        groupAckCount: 2,
        groupMemberCount: 5,
      }),
      isGroup: true,
    })
    expect(mine.find('[data-testid="message-ticks"]').exists()).toBe(false)
    expect(mine.get('[data-testid="message-group-reads"]').text()).toBe('2 of 5 read')
  })
})
