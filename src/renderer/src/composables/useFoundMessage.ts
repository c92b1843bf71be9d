import { nextTick, onBeforeUnmount, ref, watch } from 'vue'
import type { ConversationMessages } from '../stores/messages'

/** How long a found message stays highlighted. */
const HIGHLIGHT_MS = 4000
/** Frames settleAtEnd tries at most (about 130 ms at 60 Hz). */
const SETTLE_FRAMES = 8

/**
 * Search (H2): brings the message a search result points at (the entry's `focusId`, set by the
 * messages store's jumpTo) into view in the message list, moves the focus to it so a keyboard or
 * screen reader user lands on it, and highlights it for a few seconds. Rows are virtual: the row
 * exists only once the list has scrolled to it, hence the frame between scrolling and focusing.
 * And back: when the newest page replaces such a window, the list goes to its end.
 */
export function useFoundMessage(options: {
  entry: () => ConversationMessages | undefined
  ids: () => readonly string[]
  scrollToIndex: (index: number) => void
  focusRow: (id: string) => void
  scrollToEnd: () => void
  /** Pixels between the bottom of the view and the end of the list. */
  distanceToEnd: () => number
}) {
  const highlighted = ref<string | null>(null)
  let timer: ReturnType<typeof setTimeout> | undefined

  /** True when there was a message to show (then the list must not scroll to its end). */
  async function showFound(): Promise<boolean> {
    const entry = options.entry()
    const id = entry?.focusId
    if (!entry || !id) return false
    const index = options.ids().indexOf(id)
    if (index < 0) return false
    entry.focusId = null
    options.scrollToIndex(index)
    await nextTick()
    await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()))
    // Measured rows may have moved it: once more, now that its neighbours have their heights.
    options.scrollToIndex(index)
    await nextTick()
    options.focusRow(id)
    highlighted.value = id
    clearTimeout(timer)
    timer = setTimeout(() => (highlighted.value = null), HIGHLIGHT_MS)
    return true
  }

  watch(
    () => options.entry()?.focusId,
    (id) => {
      if (id) void showFound()
    },
  )
  /**
   * To the end of the list, again on the next frames while rows measured since (shorter or taller
   * than estimated) moved the end: a page of new rows replaced at once is measured over a few frames.
   */
  async function settleAtEnd(): Promise<void> {
    for (let frame = 0; frame < SETTLE_FRAMES; frame++) {
      options.scrollToEnd()
      await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()))
      if (options.distanceToEnd() < 2) return
    }
  }

  // Back to the newest page after a window far back: to its end, once the new rows are measured.
  watch(
    () => options.entry()?.latestShown,
    async () => {
      await nextTick()
      await settleAtEnd()
    },
  )
  onBeforeUnmount(() => clearTimeout(timer))

  return { highlighted, showFound, settleAtEnd }
}
