import { nextTick, type Ref } from 'vue'

/** What the list tells the keyboard handling about itself. */
interface MessageRows {
  /** The scroll container (the list's one Tab stop). */
  element: Ref<HTMLElement | null>
  /** Ids of the messages, oldest first. */
  ids: () => readonly string[]
  /** Indexes of the rows at least partly in view, in order. */
  visibleIndexes: () => number[]
  /** Brings a row into view (the list is virtual: a row out of view has no element). */
  scrollToIndex: (index: number) => void
  /** At the oldest row: ask for an earlier page. */
  loadOlder: () => Promise<void>
  /** Enter (or i) on a row: the message's info panel. */
  openInfo: (messageId: string) => void
  /** Shift+F10 or the Menu key on a row: its action menu, at that point of the window (H1). */
  openMenu?: (messageId: string, x: number, y: number) => void
}

function rowOf(element: HTMLElement | null, id: string): HTMLElement | null {
  return (
    element?.querySelector<HTMLElement>(`.message-list__row[data-message-id="${CSS.escape(id)}"]`) ?? null
  )
}

/**
 * Moving through messages by keyboard (WCAG 2.1.1) without a Tab stop per message: the list is one
 * Tab stop; ↑/↓ there move focus onto the newest/oldest message in view, and on a message ↑/↓ go to
 * the previous/next one (loading earlier pages at the top), Home/End to the first/last loaded, Enter
 * or i opens its info, Escape goes back to the list. Rows and their controls are focusable (tabindex
 * -1) but not in the page's Tab order: Tab on a focused message goes through its own controls (its
 * Info button shows while the message has the focus), then on to what follows the list.
 */
export function useMessageKeyboard(rows: MessageRows) {
  async function focusIndex(index: number): Promise<void> {
    const id = rows.ids()[index]
    if (id === undefined) return
    rows.scrollToIndex(index)
    await nextTick()
    let row = rowOf(rows.element.value, id)
    // A row scrolled to from far away renders on the virtualizer's next frame.
    if (!row) {
      await new Promise<void>((resolve) => requestAnimationFrame(() => resolve()))
      await nextTick()
      row = rowOf(rows.element.value, id)
    }
    row?.focus()
  }

  /** Keys on the list itself: ↑ enters at the newest message in view, ↓ at the oldest. */
  function onListKeydown(event: KeyboardEvent): boolean {
    if (event.target !== rows.element.value || event.altKey || event.ctrlKey || event.metaKey) return false
    if (event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return false
    const visible = rows.visibleIndexes()
    const index = event.key === 'ArrowUp' ? visible.at(-1) : visible[0]
    if (index === undefined) return false
    event.preventDefault()
    void focusIndex(index)
    return true
  }

  /**
   * Tab on a control of a message: on to its next control (they are out of the page's Tab order, so
   * that the list stays one Tab stop); past the last, on to what follows the list; Shift+Tab from the
   * first, back to the message.
   */
  function onControlTab(event: KeyboardEvent, row: HTMLElement): void {
    const controls = [...row.querySelectorAll<HTMLElement>('button:not([disabled])')]
    const at = controls.indexOf(event.target as HTMLElement)
    if (at < 0) return
    const next = event.shiftKey ? (controls[at - 1] ?? row) : controls[at + 1]
    if (!next) return
    event.preventDefault()
    next.focus()
  }

  /** Keys on a focused row, and Tab on its controls. */
  function onRowKeydown(event: KeyboardEvent, index: number): void {
    const row = event.currentTarget as HTMLElement
    if (event.key === 'Tab' && event.target !== row) return onControlTab(event, row)
    if (event.target !== row || event.altKey || event.ctrlKey || event.metaKey) return
    const last = rows.ids().length - 1
    switch (event.key) {
      case 'ArrowUp':
        if (index === 0) void rows.loadOlder()
        else void focusIndex(index - 1)
        break
      case 'ArrowDown':
        void focusIndex(Math.min(last, index + 1))
        break
      case 'Home':
        void focusIndex(0)
        break
      case 'End':
        void focusIndex(last)
        break
      case 'Enter':
      case 'i': {
        const id = rows.ids()[index]
        if (id !== undefined) rows.openInfo(id)
        break
      }
      case 'Escape':
        rows.element.value?.focus()
        break
      case 'ContextMenu':
      case 'F10': {
        // H1: the keyboard's right click (Shift+F10, or the Menu key), under the message's start.
        const id = rows.ids()[index]
        if ((event.key === 'F10' && !event.shiftKey) || id === undefined || !rows.openMenu) return
        const box = row.getBoundingClientRect()
        rows.openMenu(id, box.left + 24, box.top + 24)
        break
      }
      case 'Tab': {
        // Into the message's own controls (tabindex -1: out of the page's Tab order); Shift+Tab and a
        // message without controls go on as usual.
        const control = event.shiftKey ? null : row.querySelector<HTMLElement>('button:not([disabled])')
        if (!control) return
        control.focus()
        break
      }
      default:
        return
    }
    event.preventDefault()
    event.stopPropagation()
  }

  /** Focus back on a message's row (after its info panel closes), then on one of its controls. */
  function focusRow(id: string, control?: string): void {
    const row = rowOf(rows.element.value, id)
    row?.focus()
    if (control) row?.querySelector<HTMLElement>(`[data-testid="${control}"]`)?.focus()
  }

  return { onListKeydown, onRowKeydown, focusRow }
}
