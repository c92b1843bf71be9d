import { useMediaQuery } from '@vueuse/core'
import { onBeforeUnmount, readonly, ref, watchEffect } from 'vue'

/** Below this width the member panel lies over the chat list (the same query as MemberPanel's CSS). */
const OVERLAY_QUERY = '(max-width: 1020px)'

const covered = ref(false)

/**
 * For a side panel that, on narrow windows, lies over the chat list: while it does, the list is made
 * inert, so Tab never lands on a chat hidden under the panel (WCAG 2.4.11, focus not obscured).
 */
export function useOverlaysSidebar(): void {
  const narrow = useMediaQuery(OVERLAY_QUERY)
  watchEffect(() => (covered.value = narrow.value))
  onBeforeUnmount(() => (covered.value = false))
}

/** True while a panel covers the chat list. */
export function useSidebarCovered() {
  return readonly(covered)
}
