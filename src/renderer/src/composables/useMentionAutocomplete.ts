import { computed, nextTick, ref, useId, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import type { MentionedInfo } from '../../../shared/acks'
import { conversationKey, type Conversation } from '../../../shared/model'
import { mentionQueryAt, mentionsOf, type PickedMention } from '../lib/acks'
import { useGroupsStore } from '../stores/groups'
import { useSessionStore } from '../stores/session'

/** Suggestions shown at once; typing more narrows them. */
const MAX_OPTIONS = 8

export interface MentionOption {
  /** '' for everyone ('@all'). */
  userId: string
  /** What is inserted after the "@". */
  name: string
  /** The member's id beside the name (absent for everyone). */
  detail?: string
}

/**
 * "@" in a group's composer (issue 15): the group's members whose name or id starts a word with
 * what follows the "@", and "everyone"; the listbox pattern (the box keeps the focus and points
 * at the highlighted option with aria-activedescendant). ↑/↓ move, Enter or Tab inserts
 * "@Display Name ", Escape closes the list until another "@". The mentionedInfo of the text is
 * taken from the names picked that are still in it ('@all' / '@所有人' typed or picked: everyone).
 */
export function useMentionAutocomplete(
  conversation: () => Conversation,
  text: Ref<string>,
  input: Ref<HTMLTextAreaElement | null>,
) {
  const { t } = useI18n()
  const groups = useGroupsStore()
  const session = useSessionStore()
  const listboxId = useId()
  const picked = ref<PickedMention[]>([])
  /** The "@" being completed, and what follows it up to the caret. */
  const query = ref<{ start: number; query: string } | null>(null)
  /** Escape closed the list for the "@" at this index. */
  const dismissedAt = ref<number | null>(null)
  const active = ref(0)

  const isGroup = computed(() => conversation().type === 'group')

  const options = computed<MentionOption[]>(() => {
    const q = query.value
    if (!isGroup.value || !q || dismissedAt.value === q.start) return []
    const needle = q.query.toLowerCase()
    const matches = (value: string) =>
      value
        .toLowerCase()
        .split(/\s+/)
        .some((word) => word.startsWith(needle)) || value.toLowerCase().startsWith(needle)
    const everyone = t('acks.mention.everyoneWord')
    const list: MentionOption[] = []
    if (matches(everyone) || matches('all')) list.push({ userId: '', name: everyone })
    for (const member of groups.members(conversation().targetId) ?? []) {
      if (member.userId === session.userId) continue
      const name = member.displayName || member.userId
      if (matches(name) || matches(member.userId))
        list.push({ userId: member.userId, name, detail: member.userId })
      if (list.length >= MAX_OPTIONS) break
    }
    return list
  })
  const open = computed(() => options.value.length > 0)
  const optionId = (index: number) => `${listboxId}-option-${index}`
  const activeId = computed(() => (open.value ? optionId(active.value) : undefined))

  /** Where the caret stands now decides what is being completed. */
  function follow(): void {
    const box = input.value
    const caret = box?.selectionStart ?? text.value.length
    const next = mentionQueryAt(text.value, caret)
    if (next?.start !== query.value?.start || next?.query !== query.value?.query) active.value = 0
    query.value = next
    if (dismissedAt.value !== null && next?.start !== dismissedAt.value) dismissedAt.value = null
  }

  async function pick(option: MentionOption | undefined): Promise<void> {
    const q = query.value
    if (!option || !q) return
    const caret = q.start + 1 + q.query.length
    const inserted = `@${option.name} `
    text.value = text.value.slice(0, q.start) + inserted + text.value.slice(caret)
    if (option.userId) picked.value = [...picked.value, { userId: option.userId, name: option.name }]
    query.value = null
    await nextTick()
    const at = q.start + inserted.length
    input.value?.setSelectionRange(at, at)
    input.value?.focus()
  }

  /** Keys the list answers while open; true when the key was used (the composer does nothing more). */
  function onKeydown(event: KeyboardEvent): boolean {
    if (!open.value || event.isComposing) return false
    const count = options.value.length
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      active.value = (active.value + (event.key === 'ArrowDown' ? 1 : -1) + count) % count
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      void pick(options.value[active.value])
    } else if (event.key === 'Escape') {
      dismissedAt.value = query.value?.start ?? null
    } else return false
    event.preventDefault()
    return true
  }

  /** The mentionedInfo of what is about to be sent (groups only). */
  function mentionedInfo(body: string): MentionedInfo | undefined {
    return isGroup.value ? mentionsOf(body, picked.value) : undefined
  }

  // Names picked in another chat mean nothing here.
  watch(
    () => conversationKey(conversation()),
    () => {
      picked.value = []
      query.value = null
    },
  )
  watch(text, () => void nextTick(follow))

  return { listboxId, options, open, active, activeId, optionId, follow, pick, onKeydown, mentionedInfo }
}
