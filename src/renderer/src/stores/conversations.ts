import { defineStore } from 'pinia'
import { computed, ref, shallowReactive } from 'vue'
import type { Result } from '../../../shared/codes'
import { conversationKey, type Conversation, type ConversationSummary } from '../../../shared/model'
import { callIm, toUiError, type UiError } from '../lib/im'
import { notifiedUnreadTotal } from '../lib/notify'

/** The conversation list (a copy of the engine's), the total unread count and which chat is open. */
export const useConversationsStore = defineStore('conversations', () => {
  const byKey = shallowReactive(new Map<string, ConversationSummary>())
  const loaded = ref(false)
  const loadError = ref<UiError | null>(null)
  /** Kept apart from the summaries: a chat can be open before its summary arrives (a group just created). */
  const activeConversation = ref<Conversation | null>(null)
  let unsubscribers: Array<() => void> = []
  /** Keys pushed while the initial list was loading: their pushed summary is newer than the loaded one. */
  let pushedDuringLoad: Set<string> | null = null

  const list = computed(() => [...byKey.values()].sort((a, b) => b.updatedAt - a.updatedAt))
  /** The window title's count ("(3) Messenger"): chats on do-not-disturb are left out, as from the dock badge. */
  const unreadTotal = computed(() => notifiedUnreadTotal(byKey.values()))
  const activeKey = computed(() =>
    activeConversation.value ? conversationKey(activeConversation.value) : null,
  )
  const active = computed(() => (activeKey.value ? (byKey.get(activeKey.value) ?? null) : null))

  function upsert(summaries: ConversationSummary[]): void {
    for (const summary of summaries) {
      const key = conversationKey(summary.conversation)
      byKey.set(key, summary)
      pushedDuringLoad?.add(key)
    }
  }

  async function start(): Promise<void> {
    if (unsubscribers.length > 0) return
    unsubscribers = [window.im.on('conversationChanged', upsert)]
    await load()
  }

  async function load(): Promise<void> {
    const pushed = new Set<string>()
    pushedDuringLoad = pushed
    const result = await callIm(() => window.im.getConversationList())
    pushedDuringLoad = null
    if (result.code !== 0) {
      loadError.value = toUiError(result)
      return
    }
    loadError.value = null
    for (const summary of result.data) {
      const key = conversationKey(summary.conversation)
      if (!pushed.has(key)) byKey.set(key, summary)
    }
    loaded.value = true
  }

  function open(conversation: Conversation | null): void {
    activeConversation.value = conversation
  }

  async function startPrivateChat(userId: string): Promise<Result<ConversationSummary>> {
    const result = await callIm(() => window.im.startPrivateChat(userId))
    if (result.code === 0) {
      upsert([result.data])
      open(result.data.conversation)
    }
    return result
  }

  /**
   * Send read receipts in this conversation (true / false), or follow the account setting (null).
   * The answer is the conversation's summary, with whether receipts now flow here; only those two
   * fields are taken from it when a summary is held (a pushed one may be newer in the rest).
   */
  async function setReceiptSharing(
    conversation: Conversation,
    share: boolean | null,
  ): Promise<Result<ConversationSummary>> {
    const result = await callIm(() => window.im.setConversationReceiptSharing(conversation, share))
    if (result.code === 0) {
      const { shareReadReceipts, readReceiptsShared } = result.data
      const held = byKey.get(conversationKey(conversation))
      upsert([held ? { ...held, shareReadReceipts, readReceiptsShared } : result.data])
    }
    return result
  }

  function get(key: string): ConversationSummary | undefined {
    return byKey.get(key)
  }

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    byKey.clear()
    loaded.value = false
    loadError.value = null
    activeConversation.value = null
  }

  return {
    list,
    loaded,
    loadError,
    unreadTotal,
    activeConversation,
    activeKey,
    active,
    get,
    upsert,
    start,
    open,
    startPrivateChat,
    setReceiptSharing,
    stop,
  }
})
