import { defineStore } from 'pinia'
import { markRaw, shallowReactive } from 'vue'
import type { Result } from '../../../shared/codes'
import { conversationKey, type Conversation, type Message } from '../../../shared/model'
import { callIm, toUiError, type UiError } from '../lib/im'
import { upsertMessage } from '../lib/messages'

const HISTORY_PAGE_SIZE = 30

/**
 * The loaded part of one conversation's history, oldest first (the order it is shown in). `list` is
 * a plain array, replaced (never changed in place) on every change: rows read it without going
 * through a reactive proxy, and a page of 30 costs one update however long the history already is.
 */
export interface ConversationMessages {
  list: readonly Message[]
  hasMore: boolean
  loading: boolean
  loaded: boolean
  error: UiError | null
}

function newConversationMessages(): ConversationMessages {
  return shallowReactive({ list: [], hasMore: true, loading: false, loaded: false, error: null })
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

  /** Merges copies into an entry's list: one new array, so one update for the whole batch. */
  function merge(entry: ConversationMessages, messages: readonly Message[]): void {
    const list = entry.list.slice()
    // Messages are replaced, never mutated: no need for Vue to proxy each one.
    for (const message of messages) upsertMessage(list, markRaw(message))
    entry.list = list
  }

  function apply(messages: Message[]): void {
    const byEntry = new Map<ConversationMessages, Message[]>()
    for (const message of messages) {
      const entry = byKey.get(conversationKey(message.conversation))
      if (!entry) continue
      const batch = byEntry.get(entry)
      if (batch) batch.push(message)
      else byEntry.set(entry, [message])
    }
    for (const [entry, batch] of byEntry) merge(entry, batch)
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
    merge(entry, result.data.list.slice().reverse())
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
