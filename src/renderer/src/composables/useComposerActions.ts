import { computed, watch, type Ref } from 'vue'
import type { Result } from '../../../shared/codes'
import { MessageDirection, type Conversation, type Message } from '../../../shared/model'
import { useMessageActionsStore } from '../stores/messageActions'
import { useMessagesStore } from '../stores/messages'

/**
 * What reply and edit (issue 13, H1) change in the composer: editing puts my message's text into
 * the box (what was typed before comes back when the edit ends), a reply sends its quote with the
 * next message, Escape ends either.
 */
export function useComposerActions(
  conversation: () => Conversation,
  text: Ref<string>,
  input: Ref<HTMLTextAreaElement | null>,
) {
  const actions = useMessageActionsStore()
  const messages = useMessagesStore()
  const intent = computed(() => actions.intent(conversation()))
  /** The box before an edit took it over. */
  let before: string | null = null

  watch(
    () => (intent.value?.kind === 'edit' ? intent.value.message.messageId : null),
    (editing, previous) => {
      const current = intent.value
      if (editing && current?.message.content.type === 'text') {
        if (before === null) before = text.value
        text.value = current.message.content.text
        input.value?.focus()
      } else if (previous && before !== null) {
        text.value = before
        before = null
      }
    },
  )

  // The message replied to or edited was recalled (by its sender, maybe elsewhere) or deleted here:
  // nothing left to quote or edit.
  watch(
    () => {
      const current = intent.value
      if (!current) return false
      const live = messages.get(conversation())?.list.find((m) => m.messageId === current.message.messageId)
      return !live || live.recalledTime !== undefined
    },
    (gone) => {
      if (gone) actions.cancel(conversation())
    },
  )

  /**
   * The message sends as an edit; null when not editing (send it as a new message). Saved or
   * cancelled, the edit gives the box back what was typed before it.
   */
  function submitEdit(body: string): Promise<Result<Message> | null> {
    return actions.submitEdit(conversation(), body)
  }

  /** ↑ in the empty box: edit my last text message here (as in most desktop messengers). */
  function editLast(): boolean {
    if (text.value !== '' || intent.value) return false
    const last = messages
      .get(conversation())
      ?.list.findLast(
        (m) =>
          m.messageDirection === MessageDirection.SEND &&
          m.status === 'sent' &&
          m.content.type === 'text' &&
          m.recalledTime === undefined,
      )
    if (!last) return false
    actions.startEdit(last)
    return true
  }

  /** Escape in the box: ends a reply or an edit. True when there was one. */
  function cancel(): boolean {
    return actions.cancel(conversation())
  }

  return {
    submitEdit,
    takeReplyTo: () => actions.takeReplyTo(conversation()),
    cancel,
    editLast,
  }
}
