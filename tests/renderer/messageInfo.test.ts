// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { ok } from '../../src/shared/codes'
import type { Message } from '../../src/shared/model'
import MessageInfoDialog from '@renderer/components/MessageInfoDialog.vue'
import MessageTicks from '@renderer/components/MessageTicks.vue'
import { formatDateTime } from '@renderer/lib/format'
import { messageTimeline, receiptsOff, type TimelineStep } from '@renderer/lib/messageInfo'
import { useConversationsStore } from '@renderer/stores/conversations'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeGroupAckMessage, makeMessage, makeSent, makeSummary } from './fixtures'
import { createTestApp } from './mountHelpers'

const WRITTEN = 1_700_000_000_000
const SENT = WRITTEN + 800
const DELIVERED = SENT + 60_000
const READ = SENT + 120_000

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

const shared = { readReceiptsShared: true }
const brief = (steps: TimelineStep[]) => steps.map((s) => `${s.step}:${s.state}:${s.time ?? '-'}`)

describe('receiptsOff', () => {
  it('names the receipts a sent single-chat message of mine did not ask for', () => {
    expect(receiptsOff(makeSent())).toBeNull()
    expect(receiptsOff(makeSent({ needReadAck: false, needDeliveryAck: false }))).toBe('all')
    expect(receiptsOff(makeSent({ needReadAck: false }))).toBe('read')
    expect(receiptsOff(makeSent({ needDeliveryAck: false }))).toBe('delivery')
  })

  it('says nothing of messages still sending, received ones, or group ones', () => {
    const off = { needReadAck: false, needDeliveryAck: false }
    expect(receiptsOff(makeSent({ ...off, status: 'sending', seq: null, messageUId: null }))).toBeNull()
    expect(receiptsOff(makeMessage(off))).toBeNull()
    expect(receiptsOff(makeSent({ ...off, conversation: groupChat }))).toBeNull()
  })
})

describe('messageTimeline', () => {
  it('follows a single-chat message of mine from written to read, with each time', () => {
    const m = makeSent({
      storedTime: WRITTEN,
      sentTime: SENT,
      isDelivered: true,
      deliveredTime: DELIVERED,
      isReceiverRead: true,
      readTime: READ,
    })
    expect(brief(messageTimeline(m, shared))).toEqual([
      `written:done:${WRITTEN}`,
      `sent:done:${SENT}`,
      `delivered:done:${DELIVERED}`,
      `read:done:${READ}`,
    ])
  })

  it('says what is still to come, and what never comes because it was not asked for', () => {
    expect(brief(messageTimeline(makeSent({ storedTime: WRITTEN, sentTime: SENT }), shared))).toEqual([
      `written:done:${WRITTEN}`,
      `sent:done:${SENT}`,
      'delivered:pending:-',
      'read:pending:-',
    ])
    const off = makeSent({ storedTime: WRITTEN, sentTime: SENT, needReadAck: false, needDeliveryAck: false })
    expect(brief(messageTimeline(off, shared)).slice(2)).toEqual(['delivered:off:-', 'read:off:-'])
    const readOnly = makeSent({ needDeliveryAck: false })
    expect(brief(messageTimeline(readOnly, shared)).slice(2)).toEqual(['delivered:off:-', 'read:pending:-'])
  })

  it('counts a read as a delivery (read implies delivered), at the read time when no delivery came', () => {
    const m = makeSent({ needDeliveryAck: false, isReceiverRead: true, readTime: READ })
    expect(brief(messageTimeline(m, shared)).slice(2)).toEqual([
      `delivered:done:${READ}`,
      `read:done:${READ}`,
    ])
  })

  it('never calls a message "not read" where read receipts are not shared', () => {
    const m = makeSent({ isDelivered: true, deliveredTime: DELIVERED })
    expect(brief(messageTimeline(m, { readReceiptsShared: false })).at(-1)).toBe('read:hidden:-')
    // Not asked for comes first: the sender's own choice explains it.
    const off = makeSent({ needReadAck: false })
    expect(brief(messageTimeline(off, { readReceiptsShared: false })).at(-1)).toBe('read:off:-')
  })

  it('shows a failed or sending message as such, and mine from another device without a write time', () => {
    const failed = makeSent({ status: 'failed', seq: null, messageUId: null, storedTime: WRITTEN })
    expect(brief(messageTimeline(failed, shared)).slice(0, 2)).toEqual([
      `written:done:${WRITTEN}`,
      'sent:failed:-',
    ])
    const sending = makeSent({ status: 'sending', seq: null, messageUId: null, storedTime: WRITTEN })
    expect(brief(messageTimeline(sending, shared))).toEqual([
      `written:done:${WRITTEN}`,
      'sent:pending:-',
      'delivered:pending:-',
      'read:pending:-',
    ])
    expect(brief(messageTimeline(makeSent({ storedTime: null }), shared))[0]).toBe('written:elsewhere:-')
  })

  it('follows a received message: sent, received here, read by me', () => {
    const unread = makeMessage({ sentTime: SENT, storedTime: DELIVERED, isUnread: true })
    expect(brief(messageTimeline(unread, shared))).toEqual([
      `sent:done:${SENT}`,
      `received:done:${DELIVERED}`,
      'readByMe:pending:-',
    ])
    const read = makeMessage({ sentTime: SENT, storedTime: DELIVERED, readByMeTime: READ })
    expect(brief(messageTimeline(read, shared)).at(-1)).toBe(`readByMe:done:${READ}`)
  })

  it('gives a group message of mine one reading step, done only when everyone who could has read it', () => {
    const m = makeGroupAckMessage(1, 2, { storedTime: WRITTEN, sentTime: SENT })
    const steps = (context: Parameters<typeof messageTimeline>[1]) => brief(messageTimeline(m, context))
    expect(steps({ ...shared, groupAsked: true, readByEveryone: false }).at(-1)).toBe('groupRead:pending:-')
    expect(steps({ ...shared, groupAsked: true, readByEveryone: true }).at(-1)).toBe('groupRead:done:-')
    expect(steps({ ...shared, groupAsked: false }).at(-1)).toBe('groupRead:off:-')
    expect(steps(shared).map((s) => s.split(':')[0])).not.toContain('delivered')
  })
})

describe('ticks that say more than a colour', () => {
  const level = (overrides: Partial<Message>) => {
    const ticks = createTestApp('en')
      .mount(MessageTicks, { message: makeSent({ sentTime: SENT, ...overrides }) })
      .get('[data-testid="message-ticks"]')
    return {
      ticks,
      paths: ticks.findAll('path').map((p) => p.attributes('d')),
      disc: ticks.find('circle').exists(),
    }
  }

  it('draws sent, delivered and read as three different shapes', () => {
    const sent = level({})
    const delivered = level({ isDelivered: true, deliveredTime: DELIVERED })
    const read = level({ isDelivered: true, deliveredTime: DELIVERED, isReceiverRead: true, readTime: READ })
    expect(new Set([sent.paths.join(), delivered.paths.join(), read.paths.join()]).size).toBe(3)
    expect([sent.disc, delivered.disc, read.disc]).toEqual([false, false, true])
    expect(read.ticks.attributes('aria-label')?.split('\n')[0]).toBe('Read')
  })

  it('says "receipts off" on a message that asked for no read receipt, with why', () => {
    const { ticks } = level({ needReadAck: false, needDeliveryAck: false })
    expect(ticks.get('[data-testid="receipts-off"]').text()).toBe('receipts off')
    expect(ticks.attributes('data-receipts-off')).toBe('all')
    expect(ticks.attributes('title')).toContain('you had read receipts turned off in Settings')
  })

  it('stops at delivered with "read receipts off" when only delivery was asked for', () => {
    const { ticks } = level({ needReadAck: false, isDelivered: true, deliveredTime: DELIVERED })
    expect(ticks.attributes('data-receipt')).toBe('delivered')
    expect(ticks.get('[data-testid="receipts-off"]').text()).toBe('read receipts off')
  })

  it('says it in Chinese too', () => {
    const ticks = createTestApp('zh-CN')
      .mount(MessageTicks, { message: makeSent({ needReadAck: false, needDeliveryAck: false }) })
      .get('[data-testid="message-ticks"]')
    expect(ticks.get('[data-testid="receipts-off"]').text()).toBe('回执已关闭')
  })

  it('keeps "not shared" (privacy) apart from "receipts off"', async () => {
    im.respond('getConversationList', () => ok([makeSummary({ readReceiptsShared: false })]))
    const app = createTestApp('en')
    await useConversationsStore().start()
    const hidden = app
      .mount(MessageTicks, { message: makeSent({ isDelivered: true, deliveredTime: DELIVERED }) })
      .get('[data-testid="message-ticks"]')
    expect(hidden.find('[data-testid="receipts-off"]').exists()).toBe(false)
    expect(hidden.attributes('title')).toContain('Read receipts are not shared in this chat')
    // A message that asked for no read receipt says so, and is not said to be hidden by privacy.
    const off = app
      .mount(MessageTicks, {
        message: makeSent({ needReadAck: false, isDelivered: true, deliveredTime: DELIVERED }),
      })
      .get('[data-testid="message-ticks"]')
    expect(off.get('[data-testid="receipts-off"]').text()).toBe('read receipts off')
    expect(off.attributes('data-receipts-shared')).toBeUndefined()
  })
})

describe('message info dialog', () => {
  it('quotes the message and shows each step of its timeline with its time in the UI locale', () => {
    const message = makeSent({
      content: { type: 'text', text: 'See you at 10' },
      storedTime: WRITTEN,
      sentTime: SENT,
      seq: 7,
      isDelivered: true,
      deliveredTime: DELIVERED,
      isReceiverRead: true,
      readTime: READ,
    })
    for (const locale of ['en', 'zh-CN'] as const) {
      document.body.innerHTML = ''
      createTestApp(locale).mount(MessageInfoDialog, { message })
      const dialog = document.querySelector('[data-testid="message-info-dialog"]')
      expect(dialog?.querySelector('[data-testid="message-info-quote"]')?.textContent).toBe('See you at 10')
      const steps = [...document.querySelectorAll('[data-testid="message-info-timeline"] [data-step]')]
      expect(steps.map((s) => s.getAttribute('data-step'))).toEqual(['written', 'sent', 'delivered', 'read'])
      const times = steps.map((s) => s.querySelector('time')?.textContent?.trim())
      expect(times).toEqual([WRITTEN, SENT, DELIVERED, READ].map((t) => formatDateTime(t, locale)))
      expect(steps[1].textContent).toContain(message.messageUId ?? 'no uid')
    }
  })

  it('explains a step that never comes instead of leaving it at "not yet"', () => {
    createTestApp('en').mount(MessageInfoDialog, { message: makeSent({ needReadAck: false }) })
    const read = document.querySelector('[data-step="read"]')
    expect(read?.getAttribute('data-state')).toBe('off')
    expect(read?.textContent).toContain('This message asked for no read receipt')
  })

  it('lists who read a group message of mine and when, who has not yet, and who hides', async () => {
    im.respond('fetchGroupReadAcks', (uid) =>
      ok({
        acks: [
          {
            ackId: 'a1',
            messageUId: uid,
            groupId: groupChat.targetId,
            from: 'bob',
            timestamp: READ,
            count: 1,
          },
        ],
        count: 1,
        total: 3,
        hidden: 1,
      }),
    )
    im.respond('fetchGroupUnreadMembers', () =>
      ok({ members: [{ userId: 'carol', displayName: 'Carol' }], hidden: 1 }),
    )
    createTestApp('en').mount(MessageInfoDialog, {
      message: makeGroupAckMessage(1, 3, { storedTime: WRITTEN }),
    })
    await flushPromises()
    const readers = [...document.querySelectorAll('[data-testid="message-info-reader"]')]
    expect(readers.map((r) => r.getAttribute('data-user-id'))).toEqual(['bob'])
    expect(readers[0].querySelector('time')?.textContent?.trim()).toBe(formatDateTime(READ, 'en'))
    const notReaders = [...document.querySelectorAll('[data-testid="message-info-not-reader"]')]
    expect(notReaders.map((r) => r.textContent?.trim())).toEqual(['Carol'])
    expect(document.querySelector('[data-testid="message-info-reads"]')?.textContent).toMatch(
      /1 of 3 read\s*·\s*1 hides their receipts/,
    )
    expect(document.querySelector('[data-step="groupRead"]')?.getAttribute('data-state')).toBe('pending')
  })

  it('follows a received message: received here and read by me', () => {
    createTestApp('en').mount(MessageInfoDialog, {
      message: makeMessage({ sentTime: SENT, storedTime: DELIVERED, readByMeTime: READ }),
      senderName: 'Bob',
    })
    const steps = [...document.querySelectorAll('[data-step]')].map((s) => s.getAttribute('data-step'))
    expect(steps).toEqual(['sent', 'received', 'readByMe'])
    expect(document.querySelector('[data-step="readByMe"] time')?.textContent?.trim()).toBe(
      formatDateTime(READ, 'en'),
    )
    expect(document.querySelector('.info__author')?.textContent).toBe('Bob')
  })
})
