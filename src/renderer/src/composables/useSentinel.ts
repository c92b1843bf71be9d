import { nextTick, watch, type Ref } from 'vue'

/** Whether this environment can watch a sentinel; without it the lists offer a "show more" button. */
export function canObserveSentinels(): boolean {
  return typeof IntersectionObserver !== 'undefined'
}

/**
 * Infinite scroll: while `sentinel` (an element after the last row) is within `margin` of the visible
 * part of `root`, `load` runs; it resolves true when it added rows and more remain. As long as that is
 * so and the sentinel is still in view (a short page does not fill the list), it runs again.
 * A hidden sentinel (display: none, e.g. in an inactive tab) never intersects, so only what the user
 * can see pages. Remove the sentinel from the DOM (v-if) once the list is complete.
 */
export function useSentinel(
  sentinel: Ref<HTMLElement | null>,
  root: Ref<HTMLElement | null>,
  load: () => Promise<boolean>,
  margin = '0px 0px 160px 0px',
): void {
  if (!canObserveSentinels()) return

  watch(
    [sentinel, root],
    ([target, rootElement], _previous, onCleanup) => {
      if (!target) return
      let running = false
      let stopped = false
      const observer = new IntersectionObserver(
        (entries) => {
          if (running || stopped || !entries.some((entry) => entry.isIntersecting)) return
          running = true
          void load()
            .then(async (more) => {
              running = false
              if (!more || stopped) return
              await nextTick()
              // Observing anew reports the sentinel's current position at once: still in view after
              // the new rows were drawn means the next page is due.
              observer.unobserve(target)
              observer.observe(target)
            })
            .catch(() => {
              running = false
            })
        },
        { root: rootElement, rootMargin: margin },
      )
      observer.observe(target)
      onCleanup(() => {
        stopped = true
        observer.disconnect()
      })
    },
    { immediate: true, flush: 'post' },
  )
}
