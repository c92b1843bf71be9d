import { useDocumentVisibility, useWindowFocus } from '@vueuse/core'
import { computed, toValue, watchEffect, type MaybeRefOrGetter, type Ref } from 'vue'
import type { ImApi } from '../../../shared/ipc'
import {
  conversationKey,
  MessageDirection,
  type Conversation,
  type ConversationSummary,
  type Message,
} from '../../../shared/model'
import { callIm } from '../lib/im'

export type ReadReceiptApi = Pick<ImApi, 'ackConversationRead' | 'ackMessageRead'>

export interface ReadPolicyOptions {
  /** The open conversation (null: none). A different conversation counts as a new opening. */
  conversation: MaybeRefOrGetter<Conversation | null>
  /** Its summary as the engine reports it: the unread count and the highest known sequence. */
  summary: MaybeRefOrGetter<Pick<ConversationSummary, 'unreadCount' | 'lastSeq'> | null | undefined>
  /** The loaded messages of the open conversation. */
  messages: MaybeRefOrGetter<readonly Message[]>
  /** messageIds of the rows that are actually on screen. */
  visibleMessageIds: MaybeRefOrGetter<ReadonlySet<string>>
  windowFocused?: Ref<boolean>
  documentVisible?: Ref<boolean>
  api?: ReadReceiptApi
  /** Told after an ack succeeded (messageIds omitted: the whole conversation), to update the local copy. */
  onRead?: (conversation: Conversation, messageIds?: ReadonlySet<string>) => void
}

interface Opening {
  key: string
  /** Set once the user has actually seen the conversation: open, window focused, document visible. */
  entered: boolean
  /** Messages up to this sequence are settled by the conversation read receipt (or were read before). */
  coveredSeq: number
}

/**
 * The recommended read-receipt policy (Easemob, SPEC E5). Entering a conversation that has unread
 * messages sends one conversation read receipt; while it stays open, each received message that
 * arrives later gets one message read receipt when it is actually seen. Seen means: its row mostly on
 * screen while the window has focus and the document is visible, so a receipt never claims more
 * than the user could have read. Only the open conversation is ever acknowledged.
 */
export function useReadPolicy(options: ReadPolicyOptions): void {
  const focused = options.windowFocused ?? useWindowFocus()
  const documentVisible = options.documentVisible ?? useDocumentVisibleFlag()
  const api = options.api ?? window.im
  const ackedUIds = new Set<string>()
  let opening: Opening | null = null

  function highestSeq(messages: readonly Message[]): number {
    let highest = 0
    for (const message of messages) if (message.seq !== null && message.seq > highest) highest = message.seq
    return highest
  }

  function enter(conversation: Conversation, current: Opening, messages: readonly Message[]): void {
    current.entered = true
    const summary = toValue(options.summary)
    current.coveredSeq = Math.max(summary?.lastSeq ?? 0, highestSeq(messages))
    const hasUnread =
      (summary?.unreadCount ?? 0) > 0 ||
      messages.some((m) => m.messageDirection === MessageDirection.RECEIVE && m.isUnread)
    if (!hasUnread) return
    void callIm(() => api.ackConversationRead(conversation)).then((result) => {
      if (result.code === 0) options.onRead?.(conversation)
    })
  }

  function isUnacknowledgedArrival(
    message: Message,
    current: Opening,
  ): message is Message & { messageUId: string } {
    return (
      message.messageDirection === MessageDirection.RECEIVE &&
      message.isUnread &&
      message.messageUId !== null &&
      message.seq !== null &&
      message.seq > current.coveredSeq &&
      !ackedUIds.has(message.messageUId) &&
      conversationKey(message.conversation) === current.key
    )
  }

  watchEffect(() => {
    const conversation = toValue(options.conversation)
    const key = conversation ? conversationKey(conversation) : null
    if (opening?.key !== key) opening = key ? { key, entered: false, coveredSeq: 0 } : null
    if (!conversation || !opening || !focused.value || !documentVisible.value) return

    const messages = toValue(options.messages)
    if (!opening.entered) enter(conversation, opening, messages)

    const visible = toValue(options.visibleMessageIds)
    for (const message of messages) {
      if (!visible.has(message.messageId) || !isUnacknowledgedArrival(message, opening)) continue
      ackedUIds.add(message.messageUId)
      const { messageId } = message
      const { messageUId } = message
      void callIm(() => api.ackMessageRead(messageUId)).then((result) => {
        if (result.code === 0) options.onRead?.(conversation, new Set([messageId]))
      })
    }
  })
}

function useDocumentVisibleFlag(): Ref<boolean> {
  const visibility = useDocumentVisibility()
  return computed(() => visibility.value === 'visible')
}
