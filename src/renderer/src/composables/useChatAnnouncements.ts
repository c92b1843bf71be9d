import { contentText } from '../lib/contentText'
import { computed, watch } from 'vue'
import { useI18n } from 'vue-i18n'
import { conversationKey, MessageDirection, type Conversation, type Message } from '../../../shared/model'
import { tickLevel } from '../../../shared/receipts'
import { groupReadCounts } from '../lib/messages'
import { ackTotal } from '../lib/acks'
import { useConversationsStore } from '../stores/conversations'
import { useGroupsStore } from '../stores/groups'
import { useMessagesStore } from '../stores/messages'
import { announce } from './useAnnouncer'
import { useGroupReadsText, useHiddenReadersEstimate } from './useGroupReads'

/** Receipts are followed on the newest messages only: enough for what just happened, cheap on long histories. */
const TAIL = 30

/**
 * Says, through the app's live region, what changes in the open chat while it is open:
 * "New message from bob: hi" for a message that arrives, and "Read by bob" / "2 of 3 read" when a
 * receipt on one of my messages moves on. What was there when the chat opened, and older pages
 * loaded by scrolling up, are not news and are never said.
 */
export function useChatAnnouncements(conversation: () => Conversation): void {
  const { t } = useI18n()
  const messagesStore = useMessagesStore()
  const conversations = useConversationsStore()
  const groups = useGroupsStore()
  const { text: readsText } = useGroupReadsText()
  const hiddenEstimate = useHiddenReadersEstimate()

  function senderName(message: Message): string {
    const chat = conversation()
    if (chat.type === 'group')
      return groups.displayName(chat.targetId, message.senderUserId) ?? message.senderUserId
    return conversations.get(conversationKey(chat))?.title || message.senderUserId
  }

  /**
   * The receipt of one of my messages in words ('' while there is nothing worth saying), and for one
   * that asked for acknowledgements, how many gave it (issue 15).
   */
  function receiptWords(message: Message): string {
    const reads = readWords(message)
    if (message.messageDirection !== MessageDirection.SEND || !message.needAck || message.ackCount === 0)
      return reads
    const acks = t('acks.count', { count: message.ackCount, total: ackTotal(message) })
    return reads ? `${reads}. ${acks}` : acks
  }

  function readWords(message: Message): string {
    if (message.messageDirection !== MessageDirection.SEND || message.status !== 'sent') return ''
    const chat = conversation()
    if (chat.type === 'group') {
      const counts = groupReadCounts(message)
      if (!counts || counts.count === 0) return ''
      return readsText(counts, hiddenEstimate(message, counts))
    }
    const name = conversations.get(conversationKey(chat))?.title || chat.targetId
    const level = tickLevel(message)
    if (level === 'read') return t('a11y.readBy', { name })
    if (level === 'delivered') return t('a11y.deliveredTo', { name })
    return ''
  }

  /**
   * The newest messages, kept as the same array while they are the same messages: a page of history
   * prepended above them (every few frames while scrolling back) then words nothing again.
   */
  const newest = computed<readonly Message[] | null>((previous) => {
    const entry = messagesStore.get(conversation())
    if (!entry?.loaded) return null
    const next = entry.list.slice(-TAIL)
    const same = previous?.length === next.length && next.every((message, i) => message === previous[i])
    return same ? previous : next
  })
  const tail = computed(
    () => newest.value?.map((message) => ({ message, words: receiptWords(message) })) ?? null,
  )

  /** Receipt words last seen per message id; a message not in here has not been seen yet. */
  const seen = new Map<string, string>()
  /** The newest message time seen: an unseen message older than it came with an older page. */
  let newestSeen = Number.NEGATIVE_INFINITY
  let started = false

  watch(
    tail,
    (rows) => {
      if (!rows) return
      for (const { message, words } of rows) {
        const before = seen.get(message.messageId)
        seen.set(message.messageId, words)
        if (!started) continue
        if (before === undefined) {
          const isNew = message.sentTime >= newestSeen
          if (isNew && message.messageDirection === MessageDirection.RECEIVE) {
            announce(
              t('a11y.newMessage', { name: senderName(message), text: contentText(message, t) }),
              `message:${message.messageId}`,
            )
          }
        } else if (words && words !== before) {
          announce(words, `receipt:${message.messageId}`)
        }
      }
      for (const { message } of rows) newestSeen = Math.max(newestSeen, message.sentTime)
      started = true
    },
    { immediate: true },
  )
}
