import { onScopeDispose, shallowReactive, type Directive } from 'vue'

/** A row counts as seen when half of it is on screen, or it fills half the screen (rows taller than that). */
function isMostlyVisible(entry: IntersectionObserverEntry): boolean {
  if (!entry.isIntersecting) return false
  if (entry.intersectionRatio >= 0.5) return true
  return entry.rootBounds !== null && entry.intersectionRect.height >= entry.rootBounds.height * 0.5
}

const THRESHOLDS = Array.from({ length: 11 }, (_, i) => i / 10)

/**
 * One IntersectionObserver for all rows of a list. Rows opt in with the returned directive and carry
 * their id in `data-message-id`; `visibleIds` holds the ids of the rows that are mostly visible.
 * The implicit root (the viewport) is enough: ancestors that scroll clip what it reports.
 */
export function useVisibleRows() {
  const visibleIds = shallowReactive(new Set<string>())
  const observer =
    typeof IntersectionObserver === 'undefined'
      ? null
      : new IntersectionObserver(
          (entries) => {
            for (const entry of entries) {
              const id = (entry.target as HTMLElement).dataset.messageId
              if (!id) continue
              if (isMostlyVisible(entry)) visibleIds.add(id)
              else visibleIds.delete(id)
            }
          },
          { threshold: THRESHOLDS },
        )

  // A directive, not a function ref: a function ref re-runs on every render and would flicker the set.
  const vVisibleRow: Directive<HTMLElement> = {
    mounted: (el) => observer?.observe(el),
    beforeUnmount: (el) => {
      observer?.unobserve(el)
      const id = el.dataset.messageId
      if (id) visibleIds.delete(id)
    },
  }

  onScopeDispose(() => observer?.disconnect())

  return { visibleIds, vVisibleRow }
}
