import { defineStore } from 'pinia'
import { markRaw, shallowReactive } from 'vue'
import type { Result } from '../../../shared/codes'
import type { HistoryPage } from '../../../shared/ipc'
import { conversationKey, type Conversation, type MentionedInfo, type Message } from '../../../shared/model'
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
  /**
   * Search (H2): the list is a window around a message far back (jumpTo), not reaching the newest:
   * newer pages load as the user scrolls down, and live messages past the window wait for them.
   */
  hasNewer: boolean
  /** A message to bring into view and highlight (a search result); the list clears it once shown. */
  focusId: string | null
  /** Bumped when the newest page replaces such a window (showLatest): the list scrolls to its end. */
  latestShown: number
}

function newConversationMessages(): ConversationMessages {
  return shallowReactive({
    list: [],
    hasMore: true,
    loading: false,
    loaded: false,
    error: null,
    hasNewer: false,
    focusId: null,
    latestShown: 0,
  })
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
      // Beyond a window that does not reach the newest: its page brings it when scrolled to.
      if (entry.hasNewer && !withinWindow(entry, message)) continue
      const batch = byEntry.get(entry)
      if (batch) batch.push(message)
      else byEntry.set(entry, [message])
    }
    for (const [entry, batch] of byEntry) merge(entry, batch)
  }

  function start(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      window.im.on('messageReceived', apply),
      window.im.on('messagesChanged', apply),
      // Delete for me (H1): gone from this device's history.
      window.im.on('messagesDeleted', ({ conversation, messageIds }) => remove(conversation, messageIds)),
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

  // ---- Search (H2): a window around a result, and back down to the newest ----------------------

  function withinWindow(entry: ConversationMessages, message: Message): boolean {
    const newest = entry.list.findLast((m) => m.seq !== null)?.seq ?? null
    return message.seq !== null && newest !== null && message.seq <= newest
  }

  function entryFor(conversation: Conversation): ConversationMessages {
    const key = conversationKey(conversation)
    let entry = byKey.get(key)
    if (!entry) {
      entry = newConversationMessages()
      byKey.set(key, entry)
    }
    return entry
  }

  /** Times each entry's list was replaced: a newer page asked for before that is dropped. */
  const replaced = new WeakMap<ConversationMessages, number>()

  /** Takes a page that replaces the list (a window, or the newest page again). */
  function replaceWith(entry: ConversationMessages, page: HistoryPage): void {
    replaced.set(entry, (replaced.get(entry) ?? 0) + 1)
    entry.error = null
    entry.loaded = true
    entry.hasMore = page.hasMore
    entry.hasNewer = page.hasNewer ?? false
    entry.list = []
    merge(entry, page.list.slice().reverse())
  }

  /**
   * Shows `messageId` in its chat: from the list when it is loaded, else from the page around it
   * (however far back), which replaces the list until the user scrolls back down to the newest.
   */
  async function jumpTo(conversation: Conversation, messageId: string): Promise<Result<null>> {
    const entry = entryFor(conversation)
    if (!entry.list.some((m) => m.messageId === messageId)) {
      entry.loading = true
      const result = await callIm(() => window.im.getMessagesAround(conversation, messageId, 40))
      entry.loading = false
      if (result.code !== 0) return result
      replaceWith(entry, result.data)
    }
    entry.focusId = messageId
    return { code: 0, data: null }
  }

  /** The page after the newest loaded message, while the list is a window (hasNewer). */
  async function loadNewer(conversation: Conversation): Promise<void> {
    const entry = get(conversation)
    if (!entry || entry.loading || !entry.hasNewer) return
    const newest = entry.list.findLast((m) => m.seq !== null)?.seq
    if (newest === undefined || newest === null) return
    entry.loading = true
    const generation = replaced.get(entry)
    const result = await callIm(() => window.im.getNewerMessages(conversation, newest, HISTORY_PAGE_SIZE))
    entry.loading = false
    // The list was replaced meanwhile (back to the newest, or another result): this page is not its.
    if (replaced.get(entry) !== generation) return
    if (result.code !== 0) {
      entry.error = toUiError(result)
      return
    }
    entry.hasNewer = result.data.hasNewer ?? false
    merge(entry, result.data.list.slice().reverse())
  }

  /** Back to the newest page (after a jump far back), e.g. when I send a message. */
  async function showLatest(conversation: Conversation): Promise<void> {
    const entry = entryFor(conversation)
    entry.loading = true
    const result = await callIm(() =>
      window.im.getHistoryMessages(conversation, { count: HISTORY_PAGE_SIZE }),
    )
    entry.loading = false
    if (result.code !== 0) {
      entry.error = toUiError(result)
      return
    }
    replaceWith(entry, { ...result.data, hasNewer: false })
    entry.latestShown++
  }

  /**
   * isNeedGroupAck: ask every group member for a read ack (Easemob, E6). Issue 15: needAck asks each
   * recipient to acknowledge it; mentionedInfo names the members it mentions (groups).
   */
  async function send(
    conversation: Conversation,
    text: string,
    options: {
      isNeedGroupAck?: boolean
      replyTo?: string | undefined
      needAck?: boolean
      mentionedInfo?: MentionedInfo | undefined
    } = {},
  ): Promise<Result<Message>> {
    const result = await callIm(() =>
      window.im.sendMessage(
        conversation,
        { type: 'text', text },
        {
          isNeedGroupAck: options.isNeedGroupAck ?? false,
          ...(options.needAck ? { needAck: true } : {}),
          ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
          ...(options.mentionedInfo !== undefined ? { mentionedInfo: options.mentionedInfo } : {}),
        },
      ),
    )
    if (result.code === 0) {
      // Sent while looking at a window far back: show where it went.
      if (get(conversation)?.hasNewer) await showLatest(conversation)
      apply([result.data])
    }
    return result
  }

  /** Drops messages deleted from this device's history (H1: delete for me). */
  function remove(conversation: Conversation, messageIds: readonly string[]): void {
    const entry = get(conversation)
    if (!entry) return
    const gone = new Set(messageIds)
    if (entry.list.some((m) => gone.has(m.messageId)))
      entry.list = entry.list.filter((m) => !gone.has(m.messageId))
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

  return {
    get,
    open,
    loadOlder,
    send,
    requestReadReceipts,
    start,
    stop,
    jumpTo,
    loadNewer,
    showLatest,
    // H1: copies an action's answer carries, and deletions
    applyChanged: apply,
    remove,
  }
})
