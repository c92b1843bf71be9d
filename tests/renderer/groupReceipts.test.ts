// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import MessageComposer from '@renderer/components/MessageComposer.vue'
import ReadersDialog from '@renderer/components/ReadersDialog.vue'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeSent } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

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

  it('keeps a newline on Shift+Enter', async () => {
    const wrapper = createTestApp('en').mount(MessageComposer, { conversation: groupChat, disabled: false })
    await wrapper.get('[data-testid="composer-input"]').setValue('line')
    await wrapper.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter', shiftKey: true })
    expect(im.callsOf('sendMessage')).toEqual([])
  })
})

describe('readers panel (Easemob acks)', () => {
  it('pages through who read a message and who has not', async () => {
    const message = makeSent({
      conversation: groupChat,
      isNeedGroupAck: true,
      groupAckCount: 2,
      groupMemberCount: 3,
    })
    const ack = (from: string, ackId: string, timestamp: number) => ({
      ackId,
      messageUId: message.messageUId ?? '',
      groupId: groupChat.targetId,
      from,
      timestamp,
      count: 2,
    })
    im.respond('fetchGroupReadAcks', (_uid, _size, startAckId) =>
      ok(
        startAckId === 'a1'
          ? { acks: [ack('carol', 'a2', 2)], count: 2, total: 3 }
          : { acks: [ack('bob', 'a1', 1)], nextAckId: 'a1', count: 2, total: 3 },
      ),
    )
    im.respond('fetchGroupUnreadMembers', () => ok({ members: [{ userId: 'dave', displayName: 'Dave' }] }))
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()

    const readers = () =>
      wrapper.findAll('[data-testid="reader-item"]').map((r) => r.attributes('data-user-id'))
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('2 of 3 read')
    expect(readers()).toEqual(['bob'])
    expect(wrapper.get('[data-testid="unread-member-item"]').text()).toContain('Dave')

    await wrapper.get('button.btn--small').trigger('click')
    await flushPromises()
    expect(readers()).toEqual(['bob', 'carol'])
    expect(im.callsOf('fetchGroupReadAcks')[1]).toEqual([message.messageUId, 50, 'a1'])
  })
})
