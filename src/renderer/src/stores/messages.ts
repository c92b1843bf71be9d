import { defineStore } from 'pinia'
import { markRaw, reactive, shallowReactive } from 'vue'
import type { Result } from '../../../shared/codes'
import { conversationKey, type Conversation, type Message } from '../../../shared/model'
import { callIm, toUiError, type UiError } from '../lib/im'
import { upsertMessage } from '../lib/messages'

const HISTORY_PAGE_SIZE = 30

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
 *
 * The engine owns message state (send status, receipts, my read flag, readers): this store only
 * keeps, of the copies it is given (history pages, call answers, `messageReceived`,
 * `messagesChanged`), the one with the highest revision. It changes no message itself, and the
 * SDK-named receipt events (messageRead, conversationRead, …) are not state: it does not listen.
 */
export const useMessagesStore = defineStore('messages', () => {
  const byKey = shallowReactive(new Map<string, ConversationMessages>())
  let unsubscribers: Array<() => void> = []

  function apply(messages: Message[]): void {
    for (const message of messages) {
      const entry = byKey.get(conversationKey(message.conversation))
      // Messages are replaced, never mutated: no need for Vue to proxy each one.
      if (entry) upsertMessage(entry.list, markRaw(message))
    }
  }

  function start(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [window.im.on('messageReceived', apply), window.im.on('messagesChanged', apply)]
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

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    byKey.clear()
  }

  return { get, open, loadOlder, send, requestReadReceipts, start, stop }
})
