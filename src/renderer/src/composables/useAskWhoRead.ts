import { computed, type ComputedRef } from 'vue'
import { Code } from '../../../shared/codes'
import type { Conversation } from '../../../shared/model'
import { receiptRequestRefusal, type ReceiptRefusal } from '../../../shared/receipts'
import { useGroupsStore } from '../stores/groups'
import { useErrorText } from './useErrorText'

/**
 * "Ask who read": the one wish behind both group receipt models (the composer's toggle, Easemob
 * isNeedGroupAck; a sent message's action, RongCloud sendReadReceiptRequest). Whether this group
 * lets me ask comes from the shared rule (SPEC E8) over the group's settings as the engine last
 * reported them; the server has the last word.
 */
export function useAskWhoRead(conversation: () => Conversation): {
  /** Why I may not ask in this group, or null (also while the group's settings are not known). */
  refusal: ComputedRef<ReceiptRefusal | null>
  /** The refusal in words ('' when I may ask). */
  reason: ComputedRef<string>
  /** Whether the group shows read counts to every member (countVisibility 'all'). */
  countsForAll: ComputedRef<boolean>
} {
  const groups = useGroupsStore()
  const errorText = useErrorText()
  const refusal = computed<ReceiptRefusal | null>(() => {
    const c = conversation()
    if (c.type !== 'group') return null
    const info = groups.info(c.targetId)
    if (!info) return null
    return receiptRequestRefusal(info.receiptSettings, groups.myRole(c.targetId), info.memberCount)
  })
  const reason = computed(() => (refusal.value ? errorText({ code: Code[refusal.value] }) : ''))
  const countsForAll = computed(() => {
    const c = conversation()
    return c.type === 'group' && groups.info(c.targetId)?.receiptSettings.countVisibility === 'all'
  })
  return { refusal, reason, countsForAll }
}
