import { onScopeDispose, shallowReactive, type Directive } from 'vue'

/** A row counts as seen when half of it is on screen, or it fills half the screen (rows taller than that). */
function isMostlyVisible(entry: IntersectionObserverEntry): boolean {
  if (!entry.isIntersecting) return false
  if (entry.intersectionRatio >= 0.5) return true
  return entry.rootBounds !== null && entry.intersectionRect.height >= entry.rootBounds.height * 0.5
}

const THRESHOLDS = Array.from({ length: 11 }, (_, i) => i / 10)

/**
 * One IntersectionObserver for all rows of a list. Rows opt in with the returned directive, given
 * their message id as its value (`v-visible-row="id"`), or else carry it in `data-message-id`;
 * `visibleIds` holds the ids of the rows that are mostly visible. The implicit root (the viewport)
 * is enough: ancestors that scroll clip what it reports.
 *
 * Put the directive on an element, not on a component: a directive on a component's vnode makes
 * Vue re-render that component whenever its parent renders (every scrolled frame of the list).
 */
export function useVisibleRows() {
  const visibleIds = shallowReactive(new Set<string>())
  const ids = new WeakMap<HTMLElement, string>()
  const idOf = (el: HTMLElement): string | undefined => ids.get(el) ?? el.dataset.messageId
  const observer =
    typeof IntersectionObserver === 'undefined'
      ? null
      : new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              const id = idOf(entry.target as HTMLElement)
              if (!id) continue
              if (isMostlyVisible(entry)) visibleIds.add(id)
              else visibleIds.delete(id)
            }
          },
          { threshold: THRESHOLDS },
        )

  // A directive, not a function ref: a function ref re-runs on every render and would flicker the set.
  const vVisibleRow: Directive<HTMLElement, string | undefined> = {
    mounted: (el, { value }) => {
      if (value) ids.set(el, value)
      observer?.observe(el)
    },
    updated: (el, { value }) => {
      if (value) ids.set(el, value)
    },
    beforeUnmount: (el) => {
      observer?.unobserve(el)
      const id = idOf(el)
      if (id) visibleIds.delete(id)
    },
  }

  onScopeDispose(() => observer?.disconnect())

  return { visibleIds, vVisibleRow }
}
