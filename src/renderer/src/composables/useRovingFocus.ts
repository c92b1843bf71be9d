import { computed, ref } from 'vue'

const MOVES = new Set(['ArrowDown', 'ArrowUp', 'Home', 'End'])

/**
 * A roving tabindex over a list of items (the chat list): one item is in the Tab order (the one
 * last focused, else the current one, else the first) and Up/Down/Home/End move the focus between
 * them; Enter and Space keep their meaning on the focused button (open the chat).
 *
 * Items are found in the container by `[data-roving-key]`-style attribute: `attribute` names it.
 */
export function useRovingFocus(keys: () => string[], current: () => string | null, attribute: string) {
  const focused = ref<string | null>(null)

  /** The key of the item that Tab reaches. */
  const tabStop = computed(() => {
    const list = keys()
    if (focused.value !== null && list.includes(focused.value)) return focused.value
    const now = current()
    if (now !== null && list.includes(now)) return now
    return list[0] ?? null
  })

  function onKeydown(event: KeyboardEvent): void {
    if (!MOVES.has(event.key) || event.altKey || event.ctrlKey || event.metaKey) return
    const container = event.currentTarget as HTMLElement
    const items = [...container.querySelectorAll<HTMLElement>(`[${attribute}]`)]
    if (items.length === 0) return
    const index = items.findIndex((item) => item === document.activeElement)
    let next: number
    if (event.key === 'Home') next = 0
    else if (event.key === 'End') next = items.length - 1
    else if (index < 0) next = 0
    else next = Math.min(items.length - 1, Math.max(0, index + (event.key === 'ArrowDown' ? 1 : -1)))
    event.preventDefault()
    items[next].focus()
  }

  /** For each item: call on focus, so the Tab stop follows the focus. */
  function onFocus(key: string): void {
    focused.value = key
  }

  return { tabStop, onKeydown, onFocus }
}
