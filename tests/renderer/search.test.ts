// @vitest-environment happy-dom
/**
 * Search in the renderer (issue 13, H2): the message search dialog (snippets as text, keyboard,
 * paging, one chat only), jumping to a result far back (the messages store's window), people
 * found as you type in New chat, and people in the quick switcher.
 */
import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import NewChatDialog from '@renderer/components/NewChatDialog.vue'
import QuickSwitcher from '@renderer/components/QuickSwitcher.vue'
import SearchDialog from '@renderer/components/SearchDialog.vue'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useMessagesStore } from '@renderer/stores/messages'
import { Code, fail, ok } from '../../src/shared/codes'
import type { MessageSearchHit } from '../../src/shared/ipc'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeMessage, makeSummary, privateChat } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
  vi.useFakeTimers()
})
afterEach(() => vi.useRealTimers())

function hit(text: string, match: string, over: Partial<MessageSearchHit> = {}): MessageSearchHit {
  const at = text.indexOf(match)
  return {
    message: makeMessage({ content: { type: 'text', text } }),
    snippet: [
      { text: text.slice(0, at), match: false },
      { text: match, match: true },
      { text: text.slice(at + match.length), match: false },
    ],
    senderName: 'Bob',
    conversationTitle: 'Bob',
    ...over,
  }
}

async function typeInto(input: { setValue(v: string): Promise<void> }, value: string) {
  await input.setValue(value)
  await vi.advanceTimersByTimeAsync(300)
  await flushPromises()
}

describe('the message search dialog', () => {
  it('searches as I type, marks matches as text (never HTML), and opens a result with Enter', async () => {
    const evil = '<img src=x onerror="alert(1)"> budget 预算'
    im.respond('searchMessages', (keyword) =>
      ok({ hits: keyword === 'budget' ? [hit('Q3 budget is ready', 'budget'), hit(evil, 'budget')] : [] }),
    )
    im.respond('getMessagesAround', () => ok({ list: [], hasMore: false, hasNewer: false }))
    const app = createTestApp('en')
    const conversations = useConversationsStore()
    const messages = useMessagesStore()
    const dialog = app.mount(SearchDialog, { conversation: null })
    const input = dialog.get('[data-testid="search-input"]')
    expect(document.activeElement).toBe(input.element)
    expect(dialog.find('[data-testid="search-only-here"]').exists()).toBe(false)

    await typeInto(input, 'budget')
    const results = dialog.findAll('[data-testid="search-result"]')
    expect(results).toHaveLength(2)
    expect(results[0].findAll('mark').map((m) => m.text())).toEqual(['budget'])
    expect(results[1].find('img').exists()).toBe(false)
    expect(results[1].text()).toContain('<img src=x')
    expect(dialog.get('[data-testid="search-status"]').text()).toContain('2 results')
    expect(input.attributes('aria-activedescendant')).toBe(results[0].attributes('id'))

    await input.trigger('keydown', { key: 'ArrowDown' })
    expect(input.attributes('aria-activedescendant')).toBe(results[1].attributes('id'))
    await input.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    const target = im.calls.find((c) => c.name === 'getMessagesAround')
    expect(target?.args.slice(0, 2)).toEqual([privateChat, results[1].attributes('data-message-id')])
    expect(conversations.activeKey).toBe('private:bob')
    expect(messages.get(privateChat)?.focusId).toBe(results[1].attributes('data-message-id'))
    expect(dialog.emitted('close')).toHaveLength(1)
  })

  it('searches only the open chat when asked, says when nothing matched, and pages on', async () => {
    let page = 0
    im.respond('searchMessages', (_keyword, options) => {
      page++
      return ok(
        options?.cursor === undefined ? { hits: [], cursor: 500 } : { hits: [hit('晚上开会', '开会')] },
      )
    })
    const app = createTestApp('zh-CN')
    const dialog = app.mount(SearchDialog, { conversation: groupChat, onlyHere: true })
    expect(dialog.get<HTMLInputElement>('[data-testid="search-only-here"]').element.checked).toBe(true)
    await typeInto(dialog.get('[data-testid="search-input"]'), '开会')
    const first = im.calls.find((c) => c.name === 'searchMessages')
    expect(first?.args).toEqual(['开会', { count: 20, conversation: groupChat }])
    expect(dialog.get('[data-testid="search-status"]').text()).toBe('在最新的消息中暂未找到“开会”。')
    await dialog.get('[data-testid="search-more"]').trigger('click')
    await flushPromises()
    expect(im.calls.filter((c) => c.name === 'searchMessages').at(-1)?.args[1]).toMatchObject({ cursor: 500 })
    expect(dialog.findAll('[data-testid="search-result"]')).toHaveLength(1)
    expect(dialog.find('[data-testid="search-more"]').exists()).toBe(false)
    expect(page).toBe(2)
  })
})

describe('jumping to a message far back', () => {
  it('shows the window around it, holds live messages past it, and goes back to the newest on send', async () => {
    const old = Array.from({ length: 5 }, (_, i) => makeMessage({ seq: 100 + i }))
    im.respond('getMessagesAround', () => ok({ list: old.slice().reverse(), hasMore: true, hasNewer: true }))
    createTestApp('en')
    const messages = useMessagesStore()
    messages.start()
    const target = old[2]!
    expect((await messages.jumpTo(privateChat, target.messageId)).code).toBe(0)
    const entry = messages.get(privateChat)
    expect(entry?.list.map((m) => m.seq)).toEqual([100, 101, 102, 103, 104])
    expect(entry).toMatchObject({ hasNewer: true, focusId: target.messageId })

    // A new message belongs far below the window: not appended after seq 104.
    im.emit('messageReceived', [makeMessage({ seq: 900 })])
    expect(messages.get(privateChat)?.list).toHaveLength(5)

    im.respond('getNewerMessages', () =>
      ok({ list: [makeMessage({ seq: 105 })], hasMore: true, hasNewer: false }),
    )
    await messages.loadNewer(privateChat)
    expect(
      messages
        .get(privateChat)
        ?.list.map((m) => m.seq)
        .at(-1),
    ).toBe(105)
    expect(messages.get(privateChat)?.hasNewer).toBe(false)
  })

  it('says when the message is not on this device', async () => {
    im.respond('getMessagesAround', () => fail(Code.MESSAGE_NOT_FOUND))
    createTestApp('en')
    const messages = useMessagesStore()
    expect((await messages.jumpTo(privateChat, '42')).code).toBe(Code.MESSAGE_NOT_FOUND)
  })
})

describe('finding people', () => {
  it('New chat lists people as I type and starts the chat with the one I choose', async () => {
    im.respond('searchUsers', (query) =>
      ok(
        query === 'ali'
          ? [
              { userId: 'alicia', displayName: 'Alicia Keys' },
              { userId: 'ali', displayName: 'Ali Baba' },
            ]
          : [],
      ),
    )
    im.respond('startPrivateChat', (userId) =>
      ok(makeSummary({ conversation: { type: 'private', targetId: userId }, title: userId })),
    )
    const app = createTestApp('en')
    const dialog = app.mount(NewChatDialog)
    const input = dialog.get('[data-testid="new-chat-user-id"]')
    await typeInto(input, 'ali')
    const people = dialog.findAll('[data-testid="people-result"]')
    expect(people.map((p) => p.attributes('data-user-id'))).toEqual(['alicia', 'ali'])
    // The exact id is the one chosen; the arrows choose another.
    expect(people[1].attributes('aria-selected')).toBe('true')
    await input.trigger('keydown', { key: 'ArrowDown' })
    expect(dialog.findAll('[data-testid="people-result"]')[0].attributes('aria-selected')).toBe('true')
    await dialog.get('form').trigger('submit')
    await flushPromises()
    expect(im.calls.find((c) => c.name === 'startPrivateChat')?.args).toEqual(['alicia'])
    expect(dialog.emitted('close')).toHaveLength(1)
  })

  it('New chat takes the text as an exact id when nobody was found, in Chinese too', async () => {
    im.respond('startPrivateChat', () => fail(Code.USER_NOT_FOUND))
    const app = createTestApp('zh-CN')
    const dialog = app.mount(NewChatDialog)
    await typeInto(dialog.get('[data-testid="new-chat-user-id"]'), 'nobody')
    expect(dialog.get('[data-testid="people-status"]').text()).toContain('没有找到“nobody”')
    await dialog.get('form').trigger('submit')
    await flushPromises()
    expect(im.calls.find((c) => c.name === 'startPrivateChat')?.args).toEqual(['nobody'])
    expect(dialog.find('[data-testid="dialog-error"]').exists()).toBe(true)
  })

  it('the quick switcher lists people after the chats and starts a chat with one', async () => {
    im.respond('searchUsers', () =>
      ok([
        { userId: 'bob', displayName: 'Bob' },
        { userId: 'dora', displayName: 'Dora Explorer' },
      ]),
    )
    im.respond('startPrivateChat', (userId) =>
      ok(makeSummary({ conversation: { type: 'private', targetId: userId }, title: userId })),
    )
    const app = createTestApp('en')
    useConversationsStore().upsert([
      makeSummary({ conversation: { type: 'private', targetId: 'bob' }, title: 'Bob', updatedAt: 2 }),
    ])
    const switcher = app.mount(QuickSwitcher)
    const input = switcher.get('[data-testid="quick-switcher-input"]')
    await typeInto(input, 'o')
    expect(im.calls.some((c) => c.name === 'searchUsers')).toBe(false)
    await typeInto(input, 'bo')
    // Bob already has a chat: only the chat is listed for him; Dora comes under People.
    expect(switcher.findAll('[data-testid="quick-switcher-item"]')).toHaveLength(1)
    const person = switcher.get('[data-testid="quick-switcher-person"]')
    expect(person.attributes('data-user-id')).toBe('dora')
    expect(switcher.text()).toContain('People')
    await input.trigger('keydown', { key: 'ArrowDown' })
    expect(input.attributes('aria-activedescendant')).toBe(person.attributes('id'))
    await input.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(im.calls.find((c) => c.name === 'startPrivateChat')?.args).toEqual(['dora'])
    expect(switcher.emitted('close')).toHaveLength(1)
  })
})
