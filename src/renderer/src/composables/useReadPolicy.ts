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

type ReadReceiptApi = Pick<
  ImApi,
  'ackConversationRead' | 'ackMessageRead' | 'ackGroupMessageRead' | 'sendReadReceiptResponseV2'
>

export interface ReadPolicyOptions {
  /** The open conversation (null: none). A different conversation counts as a new opening. */
  conversation: MaybeRefOrGetter<Conversation | null>
  /** Its summary as the engine reports it: the unread count and the highest known sequence. */
  summary: MaybeRefOrGetter<Pick<ConversationSummary, 'unreadCount' | 'lastSeq'> | null | undefined>
  /** The loaded messages of the open conversation. */
  messages: MaybeRefOrGetter<readonly Message[]>
  /** messageIds of the rows that are actually on screen. */
  visibleMessageIds: MaybeRefOrGetter<ReadonlySet<string>>
  /**
   * False while the list is still moving to where it opens (useFindMyPlace): rows drawn on the way
   * were never really on screen. Default true.
   */
  ready?: MaybeRefOrGetter<boolean>
  windowFocused?: Ref<boolean>
  documentVisible?: Ref<boolean>
  api?: ReadReceiptApi
}

interface Opening {
  key: string
  /** Set once the user has actually seen the conversation: open, window focused, document visible. */
  entered: boolean
  /**
   * Single chat: what was there on entering (up to this sequence) is left to the conversation read
   * receipt (E5); only later arrivals get message receipts. Policy, not a read flag.
   */
  coveredSeq: number
  /** Single chat: how far a conversation read receipt has been asked for in this opening. */
  readUpTo: number
}

/**
 * The recommended read-receipt policy (Easemob, SPEC E5), and its group counterpart.
 *
 * Single chat: entering a conversation that has unread messages sends a conversation read receipt
 * that covers only what was shown: up to the last message on screen (issue 13), so a long backlog
 * opened at its first unread message is not all marked read; scrolling down moves it further, one
 * receipt per step. While the conversation stays open, each received message that arrives later
 * gets one message read receipt when it is actually seen.
 *
 * Group: there is no conversation receipt (it would mark messages read without the per-message
 * group acks their senders asked for). Each unread received message gets its own receipt when seen:
 * a group read ack if it asked for one (E6), a plain read mark otherwise; the engine moves the read
 * mark once everything before it is read. A message whose sender requested read receipts
 * (RongCloud, R2) gets a response once seen (R3).
 *
 * Seen means: its row mostly on screen while the window has focus and the document is visible, so a
 * receipt never claims more than the user could have read. Only the open conversation is ever
 * acknowledged.
 *
 * What is still to do is read from the messages as the engine reports them (`isUnread`,
 * `readReceiptInfo.hasRespond`): the engine turns them off with `messagesChanged` once it has the
 * receipt, and this keeps no read flags of its own. A call that failed leaves the message unread, so
 * it is sent again the next time the message is seen.
 */
export function useReadPolicy(options: ReadPolicyOptions): void {
  const focused = options.windowFocused ?? useWindowFocus()
  const documentVisible = options.documentVisible ?? useDocumentVisibleFlag()
  const api = options.api ?? window.im
  // Request de-duplication, not receipt state: the messageUIds with a call on its way, so a message
  // seen again before the engine's messagesChanged arrives is not acknowledged twice. An entry
  // lives only until its call settles.
  const acking = new Set<string>()
  const responding = new Set<string>()
  let opening: Opening | null = null

  function highestSeq(messages: readonly Message[]): number {
    let highest = 0
    for (const message of messages) if (message.seq !== null && message.seq > highest) highest = message.seq
    return highest
  }

  function enter(conversation: Conversation, current: Opening, messages: readonly Message[]): void {
    current.entered = true
    // Groups have no conversation receipt: every unread message waits until it is seen.
    if (conversation.type === 'group') return
    const summary = toValue(options.summary)
    current.coveredSeq = Math.max(summary?.lastSeq ?? 0, highestSeq(messages))
  }

  /**
   * Single chat: a conversation read receipt up to the last message of the backlog on screen, when
   * that reaches an unread message (or the engine counts unread that no loaded row shows).
   */
  function readShownBacklog(
    conversation: Conversation,
    current: Opening,
    messages: readonly Message[],
    visible: ReadonlySet<string>,
  ): void {
    let shown = 0
    for (const m of messages)
      if (m.seq !== null && m.seq <= current.coveredSeq && m.seq > shown && visible.has(m.messageId))
        shown = m.seq
    if (shown <= current.readUpTo) return
    let unreadLoaded = false
    let unreadShown = false
    for (const m of messages) {
      if (m.messageDirection !== MessageDirection.RECEIVE || !m.isUnread || m.seq === null) continue
      unreadLoaded = true
      if (m.seq <= shown) unreadShown = true
    }
    const stale = !unreadLoaded && (toValue(options.summary)?.unreadCount ?? 0) > 0
    if (!unreadShown && !stale) return
    const before = current.readUpTo
    current.readUpTo = shown
    // A call that failed is asked again the next time the list changes what is on screen.
    void callIm(() => api.ackConversationRead(conversation, shown)).then((result) => {
      if (result.code !== 0 && current.readUpTo === shown) current.readUpTo = before
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
      !acking.has(message.messageUId) &&
      conversationKey(message.conversation) === current.key
    )
  }

  function acknowledge(conversation: Conversation, message: Message & { messageUId: string }): void {
    const { messageUId } = message
    acking.add(messageUId)
    const groupAck = conversation.type === 'group' && message.isNeedGroupAck
    void callIm(() =>
      groupAck ? api.ackGroupMessageRead(messageUId) : api.ackMessageRead(messageUId),
    ).finally(() => acking.delete(messageUId))
  }

  function respond(conversation: Conversation, channelId: string, messageList: Record<string, string[]>) {
    const uids = Object.values(messageList).flat()
    uids.forEach((uid) => responding.add(uid))
    // The main channel goes as no argument: JSON would turn an undefined one into null.
    void callIm(() =>
      channelId
        ? api.sendReadReceiptResponseV2(conversation.targetId, messageList, channelId)
        : api.sendReadReceiptResponseV2(conversation.targetId, messageList),
    ).finally(() => uids.forEach((uid) => responding.delete(uid)))
  }

  /** RongCloud read receipt requests are answered until the engine says so, read or not. */
  function isUnansweredRequest(
    message: Message,
    current: Opening,
  ): message is Message & { messageUId: string } {
    return (
      conversationKey(message.conversation) === current.key &&
      message.conversation.type === 'group' &&
      message.messageDirection === MessageDirection.RECEIVE &&
      message.messageUId !== null &&
      message.readReceiptInfo.isReceiptRequestMessage &&
      !message.readReceiptInfo.hasRespond &&
      !responding.has(message.messageUId)
    )
  }

  watchEffect(() => {
    const conversation = toValue(options.conversation)
    const key = conversation ? conversationKey(conversation) : null
    if (opening?.key !== key) opening = key ? { key, entered: false, coveredSeq: 0, readUpTo: 0 } : null
    const ready = toValue(options.ready ?? true)
    if (!conversation || !opening || !ready || !focused.value || !documentVisible.value) return

    const messages = toValue(options.messages)
    if (!opening.entered) enter(conversation, opening, messages)

    const visible = toValue(options.visibleMessageIds)
    if (conversation.type === 'private') readShownBacklog(conversation, opening, messages, visible)
    // Maps, not plain objects: a sender may be called "constructor" or "__proto__".
    const responses = new Map<string, Map<string, string[]>>()
    for (const message of messages) {
      if (!visible.has(message.messageId)) continue
      if (isUnacknowledgedArrival(message, opening)) acknowledge(conversation, message)
      if (isUnansweredRequest(message, opening)) {
        const byChannel = responses.get(message.channelId) ?? new Map<string, string[]>()
        const uids = byChannel.get(message.senderUserId)
        if (uids) uids.push(message.messageUId)
        else byChannel.set(message.senderUserId, [message.messageUId])
        responses.set(message.channelId, byChannel)
      }
    }
    // Object.fromEntries defines own keys, "__proto__" included (assignment would set the prototype).
    for (const [channelId, bySender] of responses)
      respond(conversation, channelId, Object.fromEntries(bySender))
  })
}

function useDocumentVisibleFlag(): Ref<boolean> {
  const visibility = useDocumentVisibility()
  return computed(() => visibility.value === 'visible')
}
