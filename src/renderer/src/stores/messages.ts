import { defineStore } from 'pinia'
import { markRaw, reactive, shallowReactive } from 'vue'
import type { Result } from '../../../shared/codes'
import type { IpcEvents } from '../../../shared/ipc'
import { conversationKey, MessageDirection, type Conversation, type Message } from '../../../shared/model'
import { callIm, toUiError, type UiError } from '../lib/im'
import { upsertMessage } from '../lib/messages'
import { useSessionStore } from './session'

export const HISTORY_PAGE_SIZE = 30

/** The loaded part of one conversation's history, oldest first (the order it is shown in). */
export interface ConversationMessages {
  list: Message[]
  hasMore: boolean
  loading: boolean
  loaded: boolean
  error: UiError | null
}

function newConversationMessages(): ConversationMessages {
  return reactive({ list: [], hasMore: true, loading: false, loaded: false, error: null })
}

/**
 * Message history per conversation key, page by page as the user scrolls back. Pushed events update
 * the conversations that are loaded; the others get the same messages from history when opened.
 */
export const useMessagesStore = defineStore('messages', () => {
  const byKey = shallowReactive(new Map<string, ConversationMessages>())
  const session = useSessionStore()
  let unsubscribers: Array<() => void> = []

  function apply(messages: Message[]): void {
    for (const message of messages) {
      const entry = byKey.get(conversationKey(message.conversation))
      // Messages are replaced, never mutated: no need for Vue to proxy each one.
      if (entry) upsertMessage(entry.list, markRaw(message))
    }
  }

  function replaceWhere(
    entry: ConversationMessages,
    test: (m: Message) => boolean,
    change: Partial<Message>,
  ) {
    entry.list.forEach((message, index) => {
      if (test(message)) entry.list[index] = markRaw({ ...message, ...change })
    })
  }

  /**
   * A conversation read receipt from another of my devices clears my unread received messages up
   * to seq. (One from the peer needs nothing here: the engine sends `messageRead` with exactly the
   * messages of mine it turned read, those that asked for read receipts.)
   */
  function applyConversationRead({ conversation, from, seq }: IpcEvents['conversationRead']): void {
    const entry = byKey.get(conversationKey(conversation))
    if (!entry || from !== session.userId) return
    replaceWhere(
      entry,
      (m) => m.seq !== null && m.seq <= seq && m.messageDirection === MessageDirection.RECEIVE && m.isUnread,
      { isUnread: false },
    )
  }

  function start(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      window.im.on('messageReceived', apply),
      window.im.on('messageStatusChanged', apply),
      window.im.on('messageDelivered', apply),
      window.im.on('messageRead', apply),
      window.im.on('conversationRead', applyConversationRead),
    ]
  }

  function get(conversation: Conversation): ConversationMessages | undefined {
    return byKey.get(conversationKey(conversation))
  }

  async function fetchPage(conversation: Conversation, entry: ConversationMessages, beforeSeq?: number) {
    entry.loading = true
    const result = await callIm(() =>
      window.im.getHistoryMessages(
        conversation,
        beforeSeq === undefined ? { count: HISTORY_PAGE_SIZE } : { beforeSeq, count: HISTORY_PAGE_SIZE },
      ),
    )
    entry.loading = false
    if (result.code !== 0) {
      entry.error = toUiError(result)
      return
    }
    entry.error = null
    entry.loaded = true
    entry.hasMore = result.data.hasMore
    // The page comes newest first; inserting oldest first keeps each insert near the end.
    for (let i = result.data.list.length - 1; i >= 0; i -= 1)
      upsertMessage(entry.list, markRaw(result.data.list[i]))
  }

  /** Loads the newest page once; later events keep it current. */
  async function open(conversation: Conversation): Promise<void> {
    const key = conversationKey(conversation)
    let entry = byKey.get(key)
    if (entry && (entry.loaded || entry.loading)) return
    if (!entry) {
      entry = newConversationMessages()
      byKey.set(key, entry)
    }
    await fetchPage(conversation, entry)
  }

  async function loadOlder(conversation: Conversation): Promise<void> {
    const entry = get(conversation)
    if (!entry || !entry.loaded) return open(conversation)
    if (entry.loading || !entry.hasMore) return
    const oldestSeq = entry.list.find((m) => m.seq !== null)?.seq ?? undefined
    await fetchPage(conversation, entry, oldestSeq)
  }

  /** isNeedGroupAck: ask every group member for a read ack (Easemob, E6). */
  async function send(
    conversation: Conversation,
    text: string,
    options: { isNeedGroupAck?: boolean } = {},
  ): Promise<Result<Message>> {
    const result = await callIm(() =>
      window.im.sendMessage(
        conversation,
        { type: 'text', text },
        { isNeedGroupAck: options.isNeedGroupAck ?? false },
      ),
    )
    if (result.code === 0) apply([result.data])
    return result
  }

  /** RongCloud sendReadReceiptRequest (R1); the engine pushes the message with its request mark. */
  function requestReadReceipts(groupId: string, messageUId: string): Promise<Result<null>> {
    return callIm(() => window.im.sendReadReceiptRequest(groupId, messageUId))
  }

  /** What the read policy acknowledged is read here at once, so it is never acknowledged twice. */
  function markRead(conversation: Conversation, messageIds?: ReadonlySet<string>): void {
    const entry = get(conversation)
    if (!entry) return
    replaceWhere(
      entry,
      (m) =>
        m.messageDirection === MessageDirection.RECEIVE &&
        m.isUnread &&
        (!messageIds || messageIds.has(m.messageId)),
      { isUnread: false },
    )
  }

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    byKey.clear()
  }

  return { get, open, loadOlder, send, requestReadReceipts, markRead, start, stop }
})
