import { useI18n } from 'vue-i18n'
import { conversationKey, MessageDirection, type Message } from '../../../shared/model'
import { hiddenReaders, isReadByEveryone, type GroupReadCounts } from '../lib/messages'
import { useConversationsStore } from '../stores/conversations'
import { useGroupsStore } from '../stores/groups'

/**
 * "n of m read" in words, with the members who hide their read receipts counted apart: they are
 * neither read nor "not read yet".
 *
 * "Read by everyone" is said only when count === total > 0: every member who could read it is known
 * to have read it. When all the others hide their receipts (count === total − hidden), the line stays
 * "n of m read · k hide their receipts": "everyone" would claim reads that nobody can know of, and
 * leaving the k out would make them look like members who have not read it.
 */
export function useGroupReadsText() {
  const { t } = useI18n()
  const hiddenText = (hidden: number) => t('receipt.hidden', { count: hidden }, hidden)
  const text = (counts: GroupReadCounts, hidden: number): string => {
    if (isReadByEveryone(counts)) return t('receipt.allRead')
    const reads = t('receipt.groupReads', counts)
    return hidden > 0 ? `${reads} · ${hiddenText(hidden)}` : reads
  }
  return { text, hiddenText }
}

/**
 * How many members who could read a group message hide their read receipts, from what the group
 * says (GroupInfo.membersHidingReceipts: current members, absent = 0) until a server page says it
 * exactly (fetchGroupReadAcks' `hidden`). The sender never counts for their own message: on mine,
 * I am taken out when I hide my receipts in this group (my summary's readReceiptsShared is false).
 */
export function useHiddenReadersEstimate() {
  const groups = useGroupsStore()
  const conversations = useConversationsStore()
  return (message: Message, counts: GroupReadCounts): number => {
    if (message.conversation.type !== 'group') return 0
    const hiding = groups.info(message.conversation.targetId)?.membersHidingReceipts ?? 0
    const mine = message.messageDirection === MessageDirection.SEND
    const iHide =
      mine && conversations.get(conversationKey(message.conversation))?.readReceiptsShared === false
    return hiddenReaders(counts, hiding - (iHide ? 1 : 0))
  }
}
