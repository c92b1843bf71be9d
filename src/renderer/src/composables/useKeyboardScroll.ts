import type { Ref } from 'vue'

/** The least a page key moves: about two lines of text. */
const LINE = 40

/**
 * Keyboard scrolling for a focusable scroll container (WCAG 2.1.1): PageUp and PageDown by most of a
 * screen, Home to the top (where older pages load) and End to the newest. The arrows are the
 * message list's own: they move onto and between messages (useMessageKeyboard).
 * Only when the container itself has focus: keys in a button or field inside it keep their meaning.
 */
export function useKeyboardScroll(
  element: Ref<HTMLElement | null>,
  toEnd: () => void,
): (event: KeyboardEvent) => void {
  return (event) => {
    const el = element.value
    if (!el || event.target !== el || event.altKey || event.ctrlKey || event.metaKey) return
    const page = Math.max(LINE, el.clientHeight * 0.9)
    switch (event.key) {
      case 'PageUp':
        el.scrollTop -= page
        break
      case 'PageDown':
        el.scrollTop += page
        break
      case 'Home':
        el.scrollTop = 0
        break
      case 'End':
        toEnd()
        break
      default:
        return
    }
    event.preventDefault()
  }
}
