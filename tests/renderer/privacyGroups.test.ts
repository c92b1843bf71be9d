// @vitest-environment happy-dom
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { ok } from '../../src/shared/codes'
import type { GroupInfo, GroupReadAck, Message } from '../../src/shared/model'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import ReadersDialog from '@renderer/components/ReadersDialog.vue'
import type { AppLocale } from '@renderer/i18n'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useGroupsStore } from '@renderer/stores/groups'
import { installFakeIm, type FakeIm } from './fakeIm'
import { FakeIntersectionObserver as Observer } from './fakeIntersectionObserver'
import { groupChat, makeGroupAckMessage, makeGroupInfo, makeSummary, withGroupReads } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  Observer.install()
  document.body.innerHTML = ''
})

/** The app with the group as the engine reports it (how many members hide their read receipts). */
async function inGroup(membersHidingReceipts: number | undefined, locale: AppLocale = 'en') {
  const info: GroupInfo = makeGroupInfo({ myRole: 'owner', memberCount: 4 })
  if (membersHidingReceipts !== undefined) info.membersHidingReceipts = membersHidingReceipts
  im.respond('getGroupInfo', () => ok(info))
  const app = createTestApp(locale)
  const groups = useGroupsStore()
  groups.start()
  await groups.loadInfo(groupChat.targetId)
  return { app, info }
}

/** What a user reads: the element's text with its whitespace as the browser lays it out. */
const said = (w: VueWrapper, testId: string) =>
  w.get(`[data-testid="${testId}"]`).text().replace(/\s+/g, ' ').trim()

describe('"n of m read" on my group message when members hide their receipts', () => {
  const reads = (w: VueWrapper) => w.get('[data-testid="message-group-reads"]')

  it('counts them apart, in the singular and the plural', async () => {
    const { app } = await inGroup(1)
    const one = app.mount(MessageBubble, { message: makeGroupAckMessage(1, 3), isGroup: true })
    expect(reads(one).text()).toBe('1 of 3 read · 1 hides their receipts')
    expect(reads(one).attributes('data-hidden')).toBe('1')

    const { app: app2 } = await inGroup(2)
    const two = app2.mount(MessageBubble, { message: makeGroupAckMessage(0, 3), isGroup: true })
    expect(reads(two).text()).toBe('0 of 3 read · 2 hide their receipts')
  })

  it('never says "Read by everyone" of members whose reads nobody can see', async () => {
    // Carol read it; Bob hides his receipts: every member who shares has read it, not everyone.
    const { app } = await inGroup(1)
    const wrapper = app.mount(MessageBubble, { message: makeGroupAckMessage(1, 2), isGroup: true })
    expect(reads(wrapper).text()).toBe('1 of 2 read · 1 hides their receipts')
    expect(reads(wrapper).attributes('data-all-read')).toBe('false')

    // Everyone who could read it did (a reader who hid their receipts later stays a reader).
    await wrapper.setProps({ message: makeGroupAckMessage(2, 2) })
    expect(reads(wrapper).text()).toBe('Read by everyone')
    expect(reads(wrapper).attributes('data-all-read')).toBe('true')
  })

  it('says nothing of hidden receipts where nobody hides them, and follows the group live', async () => {
    const { app, info } = await inGroup(undefined)
    const message = makeGroupAckMessage(1, 3)
    const wrapper = app.mount(MessageBubble, { message, isGroup: true })
    expect(reads(wrapper).text()).toBe('1 of 3 read')

    im.emit('groupChanged', { groupId: info.groupId, group: { ...info, membersHidingReceipts: 1 } })
    await flushPromises()
    expect(reads(wrapper).text()).toBe('1 of 3 read · 1 hides their receipts')
    await wrapper.setProps({ message: withGroupReads(message, 2) })
    expect(reads(wrapper).text()).toBe('2 of 3 read · 1 hides their receipts')
  })

  it('does not count me, the sender, when I am the one who hides receipts in the group', async () => {
    const { app } = await inGroup(1)
    useConversationsStore().upsert([makeSummary({ conversation: groupChat, readReceiptsShared: false })])
    const wrapper = app.mount(MessageBubble, { message: makeGroupAckMessage(1, 3), isGroup: true })
    expect(reads(wrapper).text()).toBe('1 of 3 read')
  })

  it('says it in Chinese', async () => {
    const { app } = await inGroup(1, 'zh-CN')
    const wrapper = app.mount(MessageBubble, { message: makeGroupAckMessage(1, 2), isGroup: true })
    expect(reads(wrapper).text()).toBe('1/2 人已读 · 1 人隐藏了已读回执')
  })
})

describe('the readers dialog with members who hide their receipts', () => {
  /** The server's pages for one message: readers, members who have not read it, and how many hide. */
  function serve(message: Message, readers: string[], notRead: string[], hidden: number) {
    const acks = readers.map((from, i): GroupReadAck => ({
      ackId: String(i + 1),
      messageUId: message.messageUId ?? '',
      groupId: groupChat.targetId,
      from,
      timestamp: 1_700_000_000_000 + i,
      count: i + 1,
    }))
    const total = message.readReceiptInfo.totalCount ?? 0
    im.respond('fetchGroupReadAcks', () => ok({ acks, count: readers.length, total, hidden }))
    im.respond('fetchGroupUnreadMembers', () =>
      ok({ members: notRead.map((userId) => ({ userId, displayName: userId })), hidden }),
    )
  }
  const unreadIds = (w: VueWrapper) =>
    w.findAll('[data-testid="unread-member-item"]').map((r) => r.attributes('data-user-id'))

  it('shows them apart: not among readers, not among "not read yet", not in its count', async () => {
    const { app } = await inGroup(1)
    const message = makeGroupAckMessage(1, 3)
    serve(message, ['carol'], ['dave'], 1)
    const wrapper = app.mount(ReadersDialog, { message })
    await flushPromises()
    expect(said(wrapper, 'readers-hidden')).toBe('1 hides their receipts')
    expect(said(wrapper, 'readers-summary')).toBe('1 of 3 read · 1 hides their receipts')
    expect(said(wrapper, 'readers-tab-read')).toBe('Read (1)')
    expect(said(wrapper, 'readers-tab-unread')).toBe('Not read yet (1)')
    expect(unreadIds(wrapper)).toEqual(['dave'])
  })

  it('does not say "everyone has read it" when only those who share have', async () => {
    const { app } = await inGroup(1)
    const message = makeGroupAckMessage(1, 2)
    serve(message, ['carol'], [], 1)
    const wrapper = app.mount(ReadersDialog, { message })
    await flushPromises()
    expect(said(wrapper, 'readers-summary')).toBe('1 of 2 read · 1 hides their receipts')
    expect(wrapper.get('[data-testid="readers-summary"]').attributes('data-all-read')).toBe('false')
    expect(said(wrapper, 'readers-tab-unread')).toBe('Not read yet (0)')
    await wrapper.get('[data-testid="readers-tab-unread"]').trigger('click')
    expect(said(wrapper, 'readers-panel-unread')).toBe('Everyone who shares read receipts has read it.')
  })

  it('takes the number from the server’s page, and the group’s until the page comes', async () => {
    const { app } = await inGroup(1)
    const message = makeGroupAckMessage(0, 4)
    serve(message, [], ['dave'], 3)
    const releaseReads = im.hold('fetchGroupReadAcks')
    const releaseUnread = im.hold('fetchGroupUnreadMembers')
    const wrapper = app.mount(ReadersDialog, { message })
    await flushPromises()
    expect(said(wrapper, 'readers-hidden')).toBe('1 hides their receipts')
    expect(said(wrapper, 'readers-tab-unread')).toBe('Not read yet (3)')

    releaseReads()
    releaseUnread()
    await flushPromises()
    expect(said(wrapper, 'readers-hidden')).toBe('3 hide their receipts')
    expect(said(wrapper, 'readers-tab-unread')).toBe('Not read yet (1)')
  })

  it('shows no hidden line where nobody hides receipts, and says it in Chinese', async () => {
    const { app } = await inGroup(undefined)
    const message = makeGroupAckMessage(1, 2)
    serve(message, ['carol'], ['dave'], 0)
    const wrapper = app.mount(ReadersDialog, { message })
    await flushPromises()
    expect(wrapper.find('[data-testid="readers-hidden"]').exists()).toBe(false)
    expect(said(wrapper, 'readers-summary')).toBe('1 of 2 read')
    wrapper.unmount()

    const { app: zh } = await inGroup(0, 'zh-CN')
    serve(message, ['carol'], [], 1)
    const chinese = zh.mount(ReadersDialog, { message })
    await flushPromises()
    expect(said(chinese, 'readers-hidden')).toBe('1 人隐藏了已读回执')
    expect(said(chinese, 'readers-tab-unread')).toBe('未读（0）')
  })
})
