// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { effectScope, nextTick, ref, shallowReactive, type Ref } from 'vue'
import { Code } from '../../src/shared/codes'
import type { Conversation, Message } from '../../src/shared/model'
import { useReadPolicy } from '@renderer/composables/useReadPolicy'
import { upsertMessage } from '@renderer/lib/messages'
import { FakeIm } from './fakeIm'
import { groupChat, makeMessage, makeSent, privateChat } from './fixtures'

interface Harness {
  im: FakeIm
  conversation: Ref<Conversation | null>
  summary: Ref<{ unreadCount: number; lastSeq: number } | null>
  messages: Ref<Message[]>
  visible: Set<string>
  focused: Ref<boolean>
  documentVisible: Ref<boolean>
  /** The loaded copy of a message, as the engine last reported it. */
  current: (message: Message) => Message | undefined
}

interface Initial {
  conversation?: Conversation | null
  unreadCount?: number
  lastSeq?: number
  focused?: boolean
  documentVisible?: boolean
  /** Loaded (and on screen) before the conversation is shown. */
  messages?: Message[]
}

function setUp(initial: Initial = {}): Harness {
  const harness: Harness = {
    im: new FakeIm(),
    conversation: ref(initial.conversation === undefined ? privateChat : initial.conversation),
    summary: ref({ unreadCount: initial.unreadCount ?? 0, lastSeq: initial.lastSeq ?? 0 }),
    messages: ref([]),
    visible: shallowReactive(new Set<string>()),
    focused: ref(initial.focused ?? true),
    documentVisible: ref(initial.documentVisible ?? true),
    current: (message) => harness.messages.value.find((m) => m.messageId === message.messageId),
  }
  // The messages follow the engine as the messages store does: the copy with the higher revision.
  const follow = (messages: Message[]) => {
    const list = [...harness.messages.value]
    messages.forEach((message) => upsertMessage(list, message))
    harness.messages.value = list
  }
  harness.im.api.on('messageReceived', follow)
  harness.im.api.on('messagesChanged', follow)
  for (const message of initial.messages ?? []) arrive(harness, message, { visible: true })
  effectScope().run(() =>
    useReadPolicy({
      conversation: harness.conversation,
      summary: harness.summary,
      messages: harness.messages,
      visibleMessageIds: harness.visible,
      windowFocused: harness.focused,
      documentVisible: harness.documentVisible,
      api: harness.im.api,
    }),
  )
  return harness
}

async function settle() {
  await nextTick()
  await flushPromises()
}

/** The engine reports a new message (messageReceived); it is on screen or not. */
function arrive(h: Harness, message: Message, { visible }: { visible: boolean }) {
  h.im.emit('messageReceived', [message])
  if (visible) h.visible.add(message.messageId)
}

/** Scrolled out of view and back. */
async function seeAgain(h: Harness, message: Message) {
  h.visible.delete(message.messageId)
  await settle()
  h.visible.add(message.messageId)
  await settle()
}

describe('read policy: entering a conversation', () => {
  let h: Harness

  it('sends one conversation read receipt, up to the last message on screen, when it has unread messages', async () => {
    const unread = makeMessage({ seq: 10, isUnread: true })
    h = setUp({ unreadCount: 3, lastSeq: 10, messages: [unread] })
    await settle()
    expect(h.im.callsOf('ackConversationRead')).toEqual([[privateChat, 10]])
    // The engine turned it read (messagesChanged); no message receipt on top.
    expect(h.current(unread)?.isUnread).toBe(false)
    expect(h.im.callsOf('ackMessageRead')).toEqual([])

    h.summary.value = { unreadCount: 0, lastSeq: 10 }
    h.focused.value = false
    await settle()
    h.focused.value = true
    await settle()
    expect(h.im.callsOf('ackConversationRead')).toHaveLength(1)
  })

  it('sends nothing when there is nothing unread', async () => {
    h = setUp({ unreadCount: 0 })
    await settle()
    expect(h.im.calls).toEqual([])
  })

  it('waits for the window to be focused and the document visible', async () => {
    const unread = makeMessage({ seq: 2, isUnread: true })
    h = setUp({ unreadCount: 2, lastSeq: 2, focused: false, documentVisible: false, messages: [unread] })
    await settle()
    expect(h.im.calls).toEqual([])
    h.focused.value = true
    await settle()
    expect(h.im.calls).toEqual([])
    h.documentVisible.value = true
    await settle()
    expect(h.im.callsOf('ackConversationRead')).toEqual([[privateChat, 2]])
  })

  it('acknowledges nothing while no conversation is open', async () => {
    h = setUp({ conversation: null, unreadCount: 5 })
    arrive(h, makeMessage({ isUnread: true }), { visible: true })
    await settle()
    expect(h.im.calls).toEqual([])
  })

  it('treats opening another conversation as a new entry', async () => {
    h = setUp({ unreadCount: 1, lastSeq: 1, messages: [makeMessage({ seq: 1, isUnread: true })] })
    await settle()
    const carol: Conversation = { type: 'private', targetId: 'carol' }
    h.conversation.value = carol
    h.summary.value = { unreadCount: 4, lastSeq: 8 }
    arrive(h, makeMessage({ conversation: carol, senderUserId: 'carol', seq: 8, isUnread: true }), {
      visible: true,
    })
    await settle()
    expect(h.im.callsOf('ackConversationRead')).toEqual([
      [privateChat, 1],
      [carol, 8],
    ])
  })
})

describe('read policy: messages that arrive while the conversation is open', () => {
  let h: Harness

  beforeEach(async () => {
    h = setUp({ unreadCount: 0, lastSeq: 5 })
    await settle()
  })

  it('acknowledges a received message once it is visible, and once', async () => {
    const message = makeMessage({ seq: 6, isUnread: true })
    arrive(h, message, { visible: false })
    await settle()
    expect(h.im.callsOf('ackMessageRead')).toEqual([])

    const answer = h.im.hold('ackMessageRead')
    h.visible.add(message.messageId)
    await settle()
    expect(h.im.callsOf('ackMessageRead')).toEqual([[message.messageUId]])

    // Still unread (the call is on its way, no messagesChanged yet), scrolled away and back: no
    // second receipt.
    await seeAgain(h, message)
    expect(h.im.callsOf('ackMessageRead')).toHaveLength(1)

    // The engine has it now, and says it is read.
    answer()
    await settle()
    expect(h.current(message)?.isUnread).toBe(false)
    await seeAgain(h, message)
    expect(h.im.callsOf('ackMessageRead')).toHaveLength(1)
  })

  it('sends it again when seen again after a call that failed: the engine still says unread', async () => {
    h.im.respond('ackMessageRead', () => ({ code: Code.SERVER_UNREACHABLE, msg: 'offline' }))
    const message = makeMessage({ seq: 6, isUnread: true })
    arrive(h, message, { visible: true })
    await settle()
    expect(h.im.callsOf('ackMessageRead')).toHaveLength(1)
    expect(h.current(message)?.isUnread).toBe(true)

    await seeAgain(h, message)
    expect(h.im.callsOf('ackMessageRead')).toHaveLength(2)
  })

  it('waits for focus before acknowledging a visible message', async () => {
    h.focused.value = false
    await settle()
    const message = makeMessage({ seq: 6, isUnread: true })
    arrive(h, message, { visible: true })
    await settle()
    expect(h.im.callsOf('ackMessageRead')).toEqual([])
    h.focused.value = true
    await settle()
    expect(h.im.callsOf('ackMessageRead')).toEqual([[message.messageUId]])
  })

  it('skips my own messages, read ones, unconfirmed ones and other conversations', async () => {
    arrive(h, makeSent({ seq: 6 }), { visible: true })
    arrive(h, makeMessage({ seq: 7, isUnread: false }), { visible: true })
    arrive(h, makeMessage({ seq: null, messageUId: null, isUnread: true }), { visible: true })
    arrive(h, makeMessage({ seq: 9, isUnread: true, conversation: groupChat }), { visible: true })
    await settle()
    expect(h.im.calls).toEqual([])
  })

  it('leaves messages settled by the conversation read receipt alone', async () => {
    h = setUp({ unreadCount: 2, lastSeq: 12 })
    arrive(h, makeMessage({ seq: 11, isUnread: true }), { visible: true })
    arrive(h, makeMessage({ seq: 12, isUnread: true }), { visible: true })
    await settle()
    expect(h.im.callsOf('ackConversationRead')).toHaveLength(1)
    expect(h.im.callsOf('ackMessageRead')).toEqual([])

    const later = makeMessage({ seq: 13, isUnread: true })
    arrive(h, later, { visible: true })
    await settle()
    expect(h.im.callsOf('ackMessageRead')).toEqual([[later.messageUId]])
  })
})

describe('read policy: groups', () => {
  const inGroup = (overrides: Partial<Message>) =>
    makeMessage({ conversation: groupChat, senderUserId: 'carol', ...overrides })

  it('sends no conversation receipt, and acknowledges each unread message once seen', async () => {
    const h = setUp({ conversation: groupChat, unreadCount: 2, lastSeq: 2 })
    const plain = inGroup({ seq: 1, isUnread: true })
    const asking = inGroup({ seq: 2, isUnread: true, isNeedGroupAck: true })
    arrive(h, plain, { visible: true })
    arrive(h, asking, { visible: false })
    await settle()
    expect(h.im.callsOf('ackConversationRead')).toEqual([])
    expect(h.im.callsOf('ackMessageRead')).toEqual([[plain.messageUId]])
    expect(h.im.callsOf('ackGroupMessageRead')).toEqual([])

    h.visible.add(asking.messageId)
    await settle()
    expect(h.im.callsOf('ackGroupMessageRead')).toEqual([[asking.messageUId]])
    expect(h.im.callsOf('ackMessageRead')).toHaveLength(1)
  })

  it('answers read receipt requests once seen, once, grouped by sender', async () => {
    const h = setUp({ conversation: groupChat })
    const answer = h.im.hold('sendReadReceiptResponseV2')
    const request = { isReceiptRequestMessage: true, hasRespond: false }
    const first = inGroup({ readReceiptInfo: request })
    const second = inGroup({ readReceiptInfo: request })
    const answered = inGroup({ readReceiptInfo: { isReceiptRequestMessage: true, hasRespond: true } })
    const fromDave = inGroup({ senderUserId: 'dave', readReceiptInfo: request })
    for (const message of [first, second, answered, fromDave]) arrive(h, message, { visible: true })
    await settle()
    expect(h.im.callsOf('sendReadReceiptResponseV2')).toEqual([
      [groupChat.targetId, { carol: [first.messageUId, second.messageUId], dave: [fromDave.messageUId] }],
    ])

    // While the answer is on its way, and after the engine says it is sent: no second one.
    h.messages.value = [...h.messages.value]
    await settle()
    expect(h.im.callsOf('sendReadReceiptResponseV2')).toHaveLength(1)
    answer()
    await settle()
    expect(h.current(first)?.readReceiptInfo.hasRespond).toBe(true)
    h.messages.value = [...h.messages.value]
    await settle()
    expect(h.im.callsOf('sendReadReceiptResponseV2')).toHaveLength(1)
  })
})
