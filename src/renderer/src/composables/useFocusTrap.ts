import { useEventListener } from '@vueuse/core'
import { onBeforeUnmount, onMounted, type Ref } from 'vue'

/**
 * Focus management for the dialog frame and the side panels (WCAG 2.4.3, 2.1.2):
 *  - a modal dialog keeps Tab / Shift+Tab inside itself and answers Escape;
 *  - a panel closes on Escape when no dialog is open;
 *  - both give focus back, when they close, to the element that had it when they opened.
 *
 * A small composable rather than the focus-trap package: our dialogs are plain DOM without
 * iframes or shadow roots, and the stack below is all nesting needs (a confirm dialog over a dialog).
 */

const TABBABLE = [
  'a[href]',
  'button:not([disabled])',
  'input:not([disabled]):not([type="hidden"])',
  'select:not([disabled])',
  'textarea:not([disabled])',
  '[tabindex]',
  '[contenteditable="true"]',
].join(',')

/** Open modal dialogs, innermost last: only the top one traps Tab and answers Escape. */
const openDialogs: symbol[] = []

/** True while a modal dialog is open (panels leave Escape to it). */
export function isDialogOpen(): boolean {
  return openDialogs.length > 0
}

function isShown(element: HTMLElement): boolean {
  // checkVisibility is Chromium's (and Electron's); test DOMs without layout count everything as shown.
  return typeof element.checkVisibility !== 'function' || element.checkVisibility()
}

/** The elements Tab reaches inside `root`, in order (positive tabindex is not used in this app). */
function tabbables(root: HTMLElement): HTMLElement[] {
  return [...root.querySelectorAll<HTMLElement>(TABBABLE)].filter(
    (element) => element.tabIndex >= 0 && !element.closest('[inert]') && isShown(element),
  )
}

/** Whether the focus is in `root`, or nowhere (on the body): then closing `root` should move it. */
function focusWasIn(root: HTMLElement | null): boolean {
  const active = document.activeElement
  return !active || active === document.body || (root?.contains(active) ?? false)
}

/** Focuses `target` if it is still on the page; says whether it did. */
function focusIfConnected(target: Element | null): boolean {
  if (!(target instanceof HTMLElement) || !target.isConnected) return false
  target.focus()
  return document.activeElement === target
}

interface TrapOptions {
  /** Escape (when this dialog is the top one). */
  onEscape: () => void
  /** Read when the dialog closes: false when what it did moved focus elsewhere on purpose. */
  returnFocus?: () => boolean
}

/**
 * Traps focus in a modal dialog while it is mounted. The opener is taken when the component is set
 * up, before the dialog focuses anything of its own.
 */
export function useFocusTrap(container: Ref<HTMLElement | null>, options: TrapOptions): void {
  const id = Symbol('dialog')
  const opener = document.activeElement
  openDialogs.push(id)

  useEventListener(document, 'keydown', (event: KeyboardEvent) => {
    if (openDialogs.at(-1) !== id || event.defaultPrevented) return
    const root = container.value
    if (!root) return
    if (event.key === 'Escape') {
      event.preventDefault()
      options.onEscape()
      return
    }
    if (event.key !== 'Tab') return
    const items = tabbables(root)
    const active = document.activeElement
    if (items.length === 0) {
      event.preventDefault()
      root.focus()
      return
    }
    const first = items[0]
    const last = items[items.length - 1]
    const inside = active instanceof Node && root.contains(active)
    if (event.shiftKey && (!inside || active === first || active === root)) {
      event.preventDefault()
      last.focus()
    } else if (!event.shiftKey && (!inside || active === last)) {
      event.preventDefault()
      first.focus()
    }
  })

  onBeforeUnmount(() => {
    const index = openDialogs.indexOf(id)
    if (index >= 0) openDialogs.splice(index, 1)
    if (options.returnFocus?.() === false || !focusWasIn(container.value)) return
    focusIfConnected(opener)
  })
}

/**
 * A non-modal side panel: focused when it opens (so Tab continues inside it), closed by Escape when
 * no dialog is open, and focus goes back to its opener when it closes with focus inside it.
 */
export function usePanelFocus(panel: Ref<HTMLElement | null>, onClose: () => void): void {
  const opener = document.activeElement

  useEventListener(document, 'keydown', (event: KeyboardEvent) => {
    if (event.key !== 'Escape' || event.defaultPrevented || isDialogOpen()) return
    event.preventDefault()
    onClose()
  })

  onMounted(() => panel.value?.focus())

  onBeforeUnmount(() => {
    if (focusWasIn(panel.value)) focusIfConnected(opener)
  })
}
