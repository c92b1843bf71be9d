import { useDebounceFn, useEventListener } from '@vueuse/core'
import { onBeforeUnmount, onMounted, toValue, watch, type MaybeRefOrGetter, type Ref } from 'vue'
import type { Conversation } from '../../../shared/model'
import { callIm } from '../lib/im'

/** Quiet time after the last keystroke before the draft is saved. */
export const DRAFT_SAVE_DELAY_MS = 500

/**
 * The chat's draft, kept by the engine in SQLite (RongCloud saveTextMessageDraft /
 * getTextMessageDraft / clearTextMessageDraft): restored into the box when the chat opens, saved as
 * the person types (debounced), saved at once when the chat is left, and cleared as soon as the box
 * empties, which is what sending does. The chat list shows it as "Draft: …".
 */
export function useDraft(conversation: MaybeRefOrGetter<Conversation>, text: Ref<string>): void {
  /** What the engine holds, as far as this knows: no call for a draft that did not change. */
  let saved = ''
  let restoring = true

  function save(value: string): void {
    const draft = value.trim() === '' ? '' : value
    if (draft === saved) return
    saved = draft
    const c = toValue(conversation)
    void callIm(() => (draft ? window.im.saveTextMessageDraft(c, draft) : window.im.clearTextMessageDraft(c)))
  }

  /** Typed and not saved yet; null once saved, or once the box emptied (a late save must not revive it). */
  let pending: string | null = null
  const saveLater = useDebounceFn((value: string) => {
    if (pending !== value) return
    pending = null
    save(value)
  }, DRAFT_SAVE_DELAY_MS)

  watch(text, (value) => {
    if (restoring) return
    if (value.trim() === '') {
      // Sent (or erased): cleared now, so the list never shows a draft of what was just sent.
      pending = null
      save('')
      return
    }
    pending = value
    void saveLater(value)
  })

  onMounted(async () => {
    const result = await callIm(() => window.im.getTextMessageDraft(toValue(conversation)))
    if (result.code === 0) {
      saved = result.data
      // What was typed while the draft loaded wins.
      if (text.value === '' && result.data) text.value = result.data
    }
    restoring = false
    // Typed while the draft was loading: saved like any other typing.
    if (text.value.trim() !== '' && text.value !== saved) {
      pending = text.value
      void saveLater(text.value)
    }
  })

  // Leaving the chat, or closing the window, saves what is still waiting for its quiet time.
  function flush(): void {
    if (pending !== null) save(pending)
    pending = null
  }
  onBeforeUnmount(flush)
  useEventListener(window, 'pagehide', flush)
}
