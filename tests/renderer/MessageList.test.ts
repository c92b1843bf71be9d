// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { ok } from '../../src/shared/codes'
import MessageList from '@renderer/components/MessageList.vue'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useMessagesStore } from '@renderer/stores/messages'
import { installFakeIm, type FakeIm } from './fakeIm'
import { makeMessage, makeSent, makeSummary, privateChat } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

// happy-dom does no layout: give the scroll container a height so the virtualizer renders rows.
beforeAll(() => {
  Object.defineProperty(HTMLElement.prototype, 'clientHeight', {
    configurable: true,
    get(this: HTMLElement) {
      return this.classList.contains('message-list') ? 600 : 0
    },
  })
})

afterAll(() => {
  Reflect.deleteProperty(HTMLElement.prototype, 'clientHeight')
})

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

describe('message list', () => {
  it('renders the newest history page oldest first, then a pushed message', async () => {
    const history = [makeSent({ seq: 3 }), makeMessage({ seq: 2 }), makeMessage({ seq: 1 })]
    im.respond('getHistoryMessages', () => ok({ list: history, hasMore: false }))
    const app = createTestApp('en')
    useMessagesStore().start()
    const wrapper = app.mount(MessageList, { conversation: privateChat })
    await flushPromises()

    const ids = () =>
      wrapper.findAll('[data-testid="message-item"]').map((item) => item.attributes('data-message-id'))
    expect(im.callsOf('getHistoryMessages')).toEqual([[privateChat, { count: 30 }]])
    expect(ids()).toEqual([history[2].messageId, history[1].messageId, history[0].messageId])
    expect(wrapper.text()).toContain('This is the beginning of the conversation.')

    const pushed = makeMessage({ seq: 4, content: { type: 'text', text: 'just arrived' } })
    im.emit('messageReceived', [pushed])
    await flushPromises()
    expect(ids().at(-1)).toBe(pushed.messageId)
    expect(wrapper.findAll('[data-testid="message-text"]').at(-1)?.text()).toBe('just arrived')
  })

  it('updates ticks in place when a receipt arrives', async () => {
    const mine = makeSent({ seq: 1 })
    im.respond('getHistoryMessages', () => ok({ list: [mine], hasMore: false }))
    const app = createTestApp('en')
    useMessagesStore().start()
    const wrapper = app.mount(MessageList, { conversation: privateChat })
    await flushPromises()
    expect(wrapper.get('[data-testid="message-ticks"]').attributes('data-receipt')).toBe('sent')

    // The receipt notification alone changes nothing; the engine's messagesChanged does.
    im.emit('messageRead', [{ ...mine, revision: 5, isReceiverRead: true, readTime: mine.sentTime + 5 }])
    await flushPromises()
    expect(wrapper.get('[data-testid="message-ticks"]').attributes('data-receipt')).toBe('sent')
    im.change(mine, { isDelivered: true, isReceiverRead: true, readTime: mine.sentTime + 5 })
    await flushPromises()
    expect(wrapper.get('[data-testid="message-ticks"]').attributes('data-receipt')).toBe('read')
    expect(wrapper.findAll('[data-testid="message-item"]')).toHaveLength(1)
  })

  it('acknowledges the opened conversation, up to what is on screen, when it has unread messages', async () => {
    // Every row drawn counts as on screen (happy-dom has no layout and no IntersectionObserver).
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        constructor(private readonly callback: IntersectionObserverCallback) {}
        observe(target: Element): void {
          const entry = { target, isIntersecting: true, intersectionRatio: 1, rootBounds: null }
          queueMicrotask(() => this.callback([entry as unknown as IntersectionObserverEntry], this as never))
        }
        unobserve(): void {}
        disconnect(): void {}
      },
    )
    im.respond('getHistoryMessages', () =>
      ok({ list: [makeMessage({ seq: 1, isUnread: true })], hasMore: false }),
    )
    const app = createTestApp('en')
    useConversationsStore().upsert([makeSummary({ unreadCount: 1, lastSeq: 1 })])
    useMessagesStore().start()
    app.mount(MessageList, { conversation: privateChat })
    await vi.waitFor(() => expect(im.callsOf('ackConversationRead')).toEqual([[privateChat, 1]]))
    vi.unstubAllGlobals()
  })
})
