// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, fail, ok } from '../../src/shared/codes'
import MessageActionMenu from '@renderer/components/MessageActionMenu.vue'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import MessageComposer from '@renderer/components/MessageComposer.vue'
import { useMessageActionsStore } from '@renderer/stores/messageActions'
import { useMessagesStore } from '@renderer/stores/messages'
import { versionSeenAt } from '@renderer/lib/versions'
import { installFakeIm, type FakeIm } from './fakeIm'
import { makeGroupAckMessage, makeMessage, makeSent, privateChat } from './fixtures'
import { createTestApp } from './mountHelpers'

let fake: FakeIm
beforeEach(() => {
  fake = installFakeIm()
  fake.respond('getMessageActionSettings', () => ok({ recallWindowMs: 60_000 }))
  document.body.innerHTML = ''
})

const itemsOf = (wrapper: { findAll: (s: string) => { attributes: (n: string) => string | undefined }[] }) =>
  wrapper
    .findAll('[role="menuitem"]')
    .map((item) => item.attributes('data-testid')?.replace('message-action-', ''))

describe('message text (H1)', () => {
  it('shows links as links to open elsewhere, and HTML as text', () => {
    const message = makeMessage({
      content: { type: 'text', text: '<b>bold</b> see https://example.org/x and javascript:alert(1)' },
    })
    const wrapper = createTestApp('en').mount(MessageBubble, { message, isGroup: false })
    const links = wrapper.findAll('[data-testid="message-link"]')
    expect(links.map((a) => [a.attributes('href'), a.attributes('target'), a.attributes('rel')])).toEqual([
      ['https://example.org/x', '_blank', 'noopener noreferrer'],
    ])
    expect(wrapper.find('b').exists()).toBe(false)
    expect(wrapper.get('[data-testid="message-text"]').text()).toContain('<b>bold</b>')
  })

  it('says "edited", and a recall in place of the text, with its read count to the sender only', () => {
    const app = createTestApp('en')
    const edited = app.mount(MessageBubble, {
      message: makeMessage({ editCount: 1, editedTime: 5 }),
      isGroup: false,
    })
    expect(edited.get('[data-testid="message-edited"]').text()).toBe('edited')
    const theirs = app.mount(MessageBubble, {
      message: makeMessage({ content: { type: 'recalled' }, recalledTime: 9 }),
      isGroup: false,
    })
    expect(theirs.get('[data-testid="message-recalled"]').text()).toBe('Message recalled')
    const mine = app.mount(MessageBubble, {
      message: makeGroupAckMessage(3, 5, { content: { type: 'recalled' }, recalledTime: 9 }),
      isGroup: true,
    })
    expect(mine.get('[data-testid="message-recalled"]').text()).toBe(
      'You recalled this message after 3 read it',
    )
    const zh = createTestApp('zh-CN').mount(MessageBubble, {
      message: makeSent({
        content: { type: 'recalled' },
        recalledTime: 9,
        isReceiverRead: true,
        readTime: 8,
      }),
      isGroup: false,
    })
    expect(zh.get('[data-testid="message-recalled"]').text()).toBe('你在对方已读后撤回了这条消息')
  })

  it('shows a quote of a message that is not here as "not available"', () => {
    const message = makeMessage({ replyTo: { messageUId: 'AAAA-BBBB-CCCC-DDDD', state: 'missing' } })
    const quote = createTestApp('en')
      .mount(MessageBubble, { message, isGroup: false })
      .get('[data-testid="reply-quote"]')
    expect(quote.text()).toBe('Original message not available')
    expect(quote.attributes('disabled')).toBeDefined()
  })
})

describe('the message menu (H1)', () => {
  it("offers Edit and Recall on my sent text only, never on others' or unsent messages", () => {
    const app = createTestApp('en')
    expect(
      itemsOf(app.mount(MessageActionMenu, { message: makeSent({ sentTime: Date.now() }), x: 10, y: 10 })),
    ).toEqual(['copy', 'reply', 'edit', 'recall', 'deleteForMe', 'info'])
    expect(itemsOf(app.mount(MessageActionMenu, { message: makeMessage(), x: 10, y: 10 }))).toEqual([
      'copy',
      'reply',
      'deleteForMe',
      'info',
    ])
    const sending = makeSent({ status: 'sending', seq: null, messageUId: null })
    expect(itemsOf(app.mount(MessageActionMenu, { message: sending, x: 10, y: 10 }))).toEqual([
      'copy',
      'info',
    ])
  })

  it("offers Recall only within the server's recall window", async () => {
    const old = makeSent({ sentTime: Date.now() - 120_000 })
    const wrapper = createTestApp('en').mount(MessageActionMenu, { message: old, x: 10, y: 10 })
    await flushPromises()
    expect(itemsOf(wrapper)).not.toContain('recall')
    expect(itemsOf(wrapper)).toContain('edit')
  })

  it('moves with the arrow keys, closes on Escape, and asks before a recall, showing a refusal in words', async () => {
    const message = makeSent({ sentTime: Date.now() })
    const wrapper = createTestApp('en').mount(MessageActionMenu, { message, x: 10, y: 10 })
    await flushPromises()
    expect(document.activeElement?.getAttribute('data-testid')).toBe('message-action-copy')
    await wrapper.get('[role="menu"]').trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement?.getAttribute('data-testid')).toBe('message-action-reply')
    await wrapper.get('[role="menu"]').trigger('keydown', { key: 'End' })
    expect(document.activeElement?.getAttribute('data-testid')).toBe('message-action-info')
    await wrapper.get('[role="menu"]').trigger('keydown', { key: 'Escape' })
    expect(wrapper.emitted('close')).toHaveLength(1)

    fake.respond('recallMessage', () => fail(Code.RECALL_WINDOW_PASSED, 'raw'))
    await wrapper.get('[data-testid="message-action-recall"]').trigger('click')
    expect(wrapper.get('[data-testid="confirm-message"]').text()).toContain('deleted for everyone')
    await wrapper.get('[data-testid="confirm-accept"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.name === 'recallMessage').map((c) => c.args)).toEqual([
      [message.messageId],
    ])
    expect(wrapper.get('[data-testid="confirm-error"]').text()).toContain('Too late to recall')
    expect(wrapper.emitted('close')).toHaveLength(1)
  })
})

describe('the composer while replying or editing (H1)', () => {
  it('sends a reply with its quote, edits in place, and gives the draft back on Escape', async () => {
    const theirs = makeMessage({ content: { type: 'text', text: 'lunch?' } })
    const mine = makeSent({ content: { type: 'text', text: 'at noon' } })
    fake.respond('getHistoryMessages', () => ok({ list: [mine, theirs], hasMore: false }))
    fake.respond('editMessage', (_id, text) =>
      ok({ ...mine, revision: 2, content: { type: 'text', text }, editCount: 1, editedTime: 5 }),
    )
    const app = createTestApp('en')
    const wrapper = app.mount(MessageComposer, { conversation: privateChat, disabled: false })
    await useMessagesStore().open(privateChat)
    const actions = useMessageActionsStore()
    const input = wrapper.get('[data-testid="composer-input"]')

    actions.startReply(theirs)
    await flushPromises()
    expect(wrapper.get('[data-testid="composer-intent"]').text()).toContain('Replying to bob')
    await input.setValue('yes')
    await input.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    const sent = fake.calls.filter((c) => c.name === 'sendMessage').at(-1)
    expect(sent?.args[2]).toMatchObject({ replyTo: theirs.messageUId })
    expect(wrapper.find('[data-testid="composer-intent"]').exists()).toBe(false)

    await input.setValue('a draft')
    actions.startEdit(mine)
    await flushPromises()
    expect((input.element as HTMLTextAreaElement).value).toBe('at noon')
    await input.trigger('keydown', { key: 'Escape' })
    await flushPromises()
    expect((input.element as HTMLTextAreaElement).value).toBe('a draft')

    actions.startEdit(mine)
    await flushPromises()
    await input.setValue('at one')
    await input.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(fake.calls.filter((c) => c.name === 'editMessage').map((c) => c.args)).toEqual([
      [mine.messageId, 'at one'],
    ])
    expect(fake.calls.filter((c) => c.name === 'sendMessage')).toHaveLength(1)
    // Saved: what was typed before the edit is back in the box.
    expect((input.element as HTMLTextAreaElement).value).toBe('a draft')

    // ↑ in the empty box edits my last message.
    await input.setValue('')
    await input.trigger('keydown', { key: 'ArrowUp' })
    await flushPromises()
    expect(wrapper.get('[data-testid="composer-intent"]').attributes('data-kind')).toBe('edit')
    expect((input.element as HTMLTextAreaElement).value).toBe('at one')
  })
})

describe('which version a reader saw (H1)', () => {
  const versions = [
    { version: 1, content: { type: 'text' as const, text: 'a' }, at: 100 },
    { version: 2, content: { type: 'text' as const, text: 'b' }, at: 200 },
  ]
  it('is the newest version written at or before the read', () => {
    expect(versionSeenAt(versions, 150)?.version).toBe(1)
    expect(versionSeenAt(versions, 200)?.version).toBe(2)
    expect(versionSeenAt(versions, null)).toBeUndefined()
  })
})
