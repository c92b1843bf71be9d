// @vitest-environment happy-dom
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import type { GroupReadAck, Message } from '../../src/shared/model'
import ReadersDialog from '@renderer/components/ReadersDialog.vue'
import { installFakeIm, type FakeIm } from './fakeIm'
import { FakeIntersectionObserver as Observer } from './fakeIntersectionObserver'
import { groupChat, makeGroupAckMessage, makeSent, withGroupReads } from './fixtures'
import { createTestApp } from './mountHelpers'

const BASE_TIME = 1_700_000_000_000
const PAGE = 50

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  Observer.install()
  document.body.innerHTML = ''
})

afterEach(() => {
  vi.unstubAllGlobals()
})

function ids(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(3, '0')}`)
}

/**
 * A server holding the reader facts of one message: `readers` in ack order (ackId = position + 1),
 * the other eligible members by user id; both paged with exclusive cursors, like the real one.
 */
function serve(message: Message, readers: string[], notRead: string[], total: number) {
  const ackOf = (i: number): GroupReadAck => ({
    ackId: String(i + 1),
    messageUId: message.messageUId ?? '',
    groupId: groupChat.targetId,
    from: readers[i],
    timestamp: BASE_TIME + i * 1000,
    count: i + 1,
  })
  im.respond('fetchGroupReadAcks', (_uid, size, startAckId) => {
    const from = startAckId === undefined ? 0 : Number(startAckId)
    const end = Math.min(readers.length, from + size)
    const acks = Array.from({ length: end - from }, (_, k) => ackOf(from + k))
    return ok({
      acks,
      ...(end < readers.length ? { nextAckId: String(end) } : {}),
      count: readers.length,
      total,
      hidden: 0,
    })
  })
  im.respond('fetchGroupUnreadMembers', (_uid, size, startUserId) => {
    const rest = notRead
      .filter((id) => !readers.includes(id))
      .sort()
      .filter((id) => startUserId === undefined || id > startUserId)
    const members = rest.slice(0, size).map((userId) => ({ userId, displayName: userId.toUpperCase() }))
    return ok({
      members,
      ...(rest.length > size ? { nextUserId: members[members.length - 1].userId } : {}),
      hidden: 0,
    })
  })
}

const ackMessage = (count: number, total: number) => makeGroupAckMessage(count, total)

const readerIds = (w: VueWrapper) =>
  w.findAll('[data-testid="reader-item"]').map((r) => r.attributes('data-user-id'))
const unreadIds = (w: VueWrapper) =>
  w.findAll('[data-testid="unread-member-item"]').map((r) => r.attributes('data-user-id'))
const isShown = (w: VueWrapper, testId: string) =>
  (w.get(`[data-testid="${testId}"]`).element as HTMLElement).style.display !== 'none'

describe('reader panel tabs', () => {
  it('shows who read (with the time) on one tab and who has not on the other', async () => {
    const message = ackMessage(2, 3)
    serve(message, ['bob', 'carol'], ['dave'], 3)
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()

    const readTab = wrapper.get('[data-testid="readers-tab-read"]')
    const unreadTab = wrapper.get('[data-testid="readers-tab-unread"]')
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('2 of 3 read')
    expect(readTab.text()).toBe('Read (2)')
    expect(unreadTab.text()).toBe('Not read yet (1)')
    expect(readTab.attributes('aria-selected')).toBe('true')
    expect(unreadTab.attributes('aria-selected')).toBe('false')
    expect(isShown(wrapper, 'readers-panel-read')).toBe(true)
    expect(isShown(wrapper, 'readers-panel-unread')).toBe(false)

    expect(readerIds(wrapper)).toEqual(['bob', 'carol'])
    const time = wrapper.get('[data-testid="reader-item"][data-user-id="carol"] time')
    expect(time.attributes('datetime')).toBe(new Date(BASE_TIME + 1000).toISOString())
    expect(time.text()).not.toBe('')

    await unreadTab.trigger('click')
    expect(unreadTab.attributes('aria-selected')).toBe('true')
    expect(readTab.attributes('aria-selected')).toBe('false')
    expect(isShown(wrapper, 'readers-panel-unread')).toBe(true)
    expect(isShown(wrapper, 'readers-panel-read')).toBe(false)
    expect(wrapper.get('[data-testid="unread-member-item"]').text()).toContain('DAVE')

    await unreadTab.trigger('keydown', { key: 'ArrowLeft' })
    expect(readTab.attributes('aria-selected')).toBe('true')
  })

  it('pages each list as the user scrolls to its end, from the previous page’s cursor', async () => {
    const message = ackMessage(120, 190)
    serve(message, ids('r', 120), ids('u', 70), 190)
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()
    expect(im.callsOf('fetchGroupReadAcks')).toEqual([[message.messageUId, PAGE]])
    expect(im.callsOf('fetchGroupUnreadMembers')).toEqual([[message.messageUId, PAGE]])
    expect(readerIds(wrapper)).toHaveLength(50)
    expect(wrapper.find('[data-testid="readers-more-read"]').exists()).toBe(false)

    // One scroll to the end of the read list: one more page, then the sentinel is out of view again.
    Observer.scrollTo('readers-sentinel-read')
    Observer.scrollAway('readers-sentinel-read')
    await flushPromises()
    expect(im.callsOf('fetchGroupReadAcks')[1]).toEqual([message.messageUId, PAGE, '50'])
    expect(readerIds(wrapper)).toHaveLength(100)

    Observer.scrollTo('readers-sentinel-read')
    Observer.scrollAway('readers-sentinel-read')
    await flushPromises()
    expect(im.callsOf('fetchGroupReadAcks')[2]).toEqual([message.messageUId, PAGE, '100'])
    expect(readerIds(wrapper)).toEqual(ids('r', 120))
    // Complete: the sentinel is gone and nothing watches it any more.
    expect(wrapper.find('[data-testid="readers-sentinel-read"]').exists()).toBe(false)
    expect(Observer.watching('readers-sentinel-read')).toBe(0)

    await wrapper.get('[data-testid="readers-tab-unread"]').trigger('click')
    expect(unreadIds(wrapper)).toHaveLength(50)
    Observer.scrollTo('readers-sentinel-unread')
    Observer.scrollAway('readers-sentinel-unread')
    await flushPromises()
    expect(im.callsOf('fetchGroupUnreadMembers')[1]).toEqual([message.messageUId, PAGE, 'u049'])
    expect(unreadIds(wrapper)).toEqual(ids('u', 70))
    expect(wrapper.find('[data-testid="readers-sentinel-unread"]').exists()).toBe(false)
    expect(im.callsOf('fetchGroupReadAcks')).toHaveLength(3)
  })

  it('keeps loading while a page leaves the end of the list in view', async () => {
    const message = ackMessage(160, 160)
    serve(message, ids('r', 160), [], 160)
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()
    Observer.scrollTo('readers-sentinel-read')
    await flushPromises()
    expect(im.callsOf('fetchGroupReadAcks').map((args) => args[2])).toEqual([undefined, '50', '100', '150'])
    expect(readerIds(wrapper)).toHaveLength(160)
    expect(wrapper.find('[data-testid="readers-sentinel-read"]').exists()).toBe(false)
  })

  it('offers a "show more" button where no IntersectionObserver exists', async () => {
    vi.stubGlobal('IntersectionObserver', undefined)
    const message = ackMessage(70, 80)
    serve(message, ids('r', 70), ids('u', 10), 80)
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()
    expect(readerIds(wrapper)).toHaveLength(50)
    await wrapper.get('[data-testid="readers-more-read"]').trigger('click')
    await flushPromises()
    expect(readerIds(wrapper)).toHaveLength(70)
    expect(wrapper.find('[data-testid="readers-more-read"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="readers-more-unread"]').exists()).toBe(false)
  })
})

describe('reader panel summary', () => {
  it('says "Read by everyone" only when every member who could read it has', async () => {
    const everyone = ackMessage(3, 3)
    serve(everyone, ['bob', 'carol', 'dave'], [], 3)
    const app = createTestApp('en')
    const wrapper = app.mount(ReadersDialog, { message: everyone })
    await flushPromises()
    const summary = wrapper.get('[data-testid="readers-summary"]')
    expect(summary.text()).toBe('Read by everyone')
    expect(summary.attributes('data-all-read')).toBe('true')
    await wrapper.get('[data-testid="readers-tab-unread"]').trigger('click')
    expect(wrapper.get('[data-testid="readers-panel-unread"]').text()).toContain('Everyone has read it.')
    wrapper.unmount()

    const nobodyToRead = ackMessage(0, 0)
    serve(nobodyToRead, [], [], 0)
    const empty = app.mount(ReadersDialog, { message: nobodyToRead })
    await flushPromises()
    expect(empty.get('[data-testid="readers-summary"]').text()).toBe('0 of 0 read')
    expect(empty.get('[data-testid="readers-summary"]').attributes('data-all-read')).toBe('false')
  })

  it('says it in Chinese too', async () => {
    const message = ackMessage(2, 2)
    serve(message, ['bob', 'carol'], [], 2)
    const wrapper = createTestApp('zh-CN').mount(ReadersDialog, { message })
    await flushPromises()
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('全部已读')
    expect(wrapper.get('[data-testid="readers-tab-unread"]').text()).toBe('未读（0）')
  })

  it('follows reads that arrive while it is open', async () => {
    const message = ackMessage(2, 3)
    const readers = ['bob', 'carol']
    serve(message, readers, ['dave'], 3)
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()
    expect(unreadIds(wrapper)).toEqual(['dave'])

    readers.push('dave')
    // The notification alone changes nothing: the engine's new copy of the message does.
    im.emit('groupMessageRead', [
      {
        ackId: '3',
        messageUId: message.messageUId ?? '',
        groupId: groupChat.targetId,
        from: 'dave',
        timestamp: BASE_TIME + 2000,
        count: 3,
      },
    ])
    await flushPromises()
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('2 of 3 read')
    expect(im.callsOf('fetchGroupReadAcks')).toHaveLength(1)

    await wrapper.setProps({ message: withGroupReads(message, 3) })
    await flushPromises()
    // The complete list grows from its last cursor.
    expect(im.callsOf('fetchGroupReadAcks').at(-1)).toEqual([message.messageUId, PAGE, '2'])
    expect(readerIds(wrapper)).toEqual(['bob', 'carol', 'dave'])
    expect(unreadIds(wrapper)).toEqual([])
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('Read by everyone')
  })

  it('follows RongCloud responses that arrive while it is open', async () => {
    const info = { isReceiptRequestMessage: true, hasRespond: false, readCount: 1, totalCount: 2 }
    const request = makeSent({
      conversation: groupChat,
      readReceiptInfo: { ...info, readerList: { bob: 1 } },
    })
    const readers = ['bob']
    serve(request, readers, ['carol'], 2)
    const wrapper = createTestApp('en').mount(ReadersDialog, { message: request })
    await flushPromises()
    expect(unreadIds(wrapper)).toEqual(['carol'])

    readers.push('carol')
    await wrapper.setProps({
      message: {
        ...request,
        revision: request.revision + 1,
        readReceiptInfo: { ...info, readCount: 2, readerList: { bob: 1, carol: 2 } },
      },
    })
    // Out of the "not read" list at once, into the read list once the server has it.
    expect(unreadIds(wrapper)).toEqual([])
    await flushPromises()
    expect(im.callsOf('fetchGroupReadAcks').at(-1)).toEqual([request.messageUId, PAGE, '1'])
    expect(readerIds(wrapper)).toEqual(['bob', 'carol'])
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('Read by everyone')
  })

  it('counts as the message says (the engine), whatever a page says', async () => {
    // The server's page already knows a third reader; the engine has not reported it yet.
    const message = ackMessage(2, 4)
    serve(message, ['bob', 'carol', 'dave'], ['erin'], 4)
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('2 of 4 read')
    expect(wrapper.get('[data-testid="readers-tab-read"]').text()).toBe('Read (2)')
    expect(wrapper.get('[data-testid="readers-tab-unread"]').text()).toBe('Not read yet (2)')
    // The lists are the pages'.
    expect(readerIds(wrapper)).toEqual(['bob', 'carol', 'dave'])
    expect(unreadIds(wrapper)).toEqual(['erin'])

    await wrapper.setProps({ message: withGroupReads(message, 3) })
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('3 of 4 read')
  })

  it('says in words why the lists cannot be shown', async () => {
    const message = ackMessage(1, 3)
    im.respond('fetchGroupReadAcks', () => ({ code: Code.GROUP_ACK_COUNT_HIDDEN, msg: 'hidden' }))
    im.respond('fetchGroupUnreadMembers', () => ({ code: Code.GROUP_ACK_COUNT_HIDDEN, msg: 'hidden' }))
    const wrapper = createTestApp('en').mount(ReadersDialog, { message })
    await flushPromises()
    expect(wrapper.get('[data-testid="dialog-error"]').text()).toBe(
      'Only the sender can see who read this message.',
    )
    expect(wrapper.text()).not.toContain('Nobody yet.')
    expect(wrapper.find('[data-testid="readers-sentinel-read"]').exists()).toBe(false)
  })

  it('pages a RongCloud request from the server too, and shows its own readers when offline', async () => {
    const request = makeSent({
      conversation: groupChat,
      readReceiptInfo: {
        isReceiptRequestMessage: true,
        hasRespond: false,
        readerList: { carol: BASE_TIME + 5, bob: BASE_TIME + 1 },
        readCount: 2,
        totalCount: 4,
      },
    })
    serve(request, ['bob', 'carol'], ['dave', 'erin'], 4)
    const app = createTestApp('en')
    const wrapper = app.mount(ReadersDialog, { message: request })
    await flushPromises()
    expect(im.callsOf('fetchGroupReadAcks')).toEqual([[request.messageUId, PAGE]])
    expect(wrapper.get('[data-testid="readers-summary"]').text()).toBe('2 of 4 read')
    expect(unreadIds(wrapper)).toEqual(['dave', 'erin'])
    wrapper.unmount()

    im.respond('fetchGroupReadAcks', () => ({ code: Code.SERVER_UNREACHABLE, msg: 'offline' }))
    const offline = app.mount(ReadersDialog, { message: request })
    await flushPromises()
    expect(offline.find('[data-testid="dialog-error"]').exists()).toBe(true)
    expect(readerIds(offline)).toEqual(['bob', 'carol'])
  })
})
