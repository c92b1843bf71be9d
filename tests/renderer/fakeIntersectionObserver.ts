import { vi } from 'vitest'

/**
 * happy-dom does no layout, so nothing ever intersects. This stand-in lets a test say which observed
 * elements are "in view" (by data-testid): `scrollTo` reports one as it comes into view, and, like a
 * real observer, observing an element that is in view reports it at once.
 */
export class FakeIntersectionObserver {
  static readonly instances = new Set<FakeIntersectionObserver>()
  /** data-testids of the elements currently in view. */
  static readonly inView = new Set<string>()

  readonly targets = new Set<Element>()
  readonly root: Element | Document | null
  readonly rootMargin: string
  readonly thresholds: readonly number[] = [0]

  constructor(
    private readonly callback: IntersectionObserverCallback,
    options: IntersectionObserverInit = {},
  ) {
    this.root = options.root ?? null
    this.rootMargin = options.rootMargin ?? '0px'
    FakeIntersectionObserver.instances.add(this)
  }

  observe(target: Element): void {
    this.targets.add(target)
    const id = (target as HTMLElement).dataset.testid
    if (id && FakeIntersectionObserver.inView.has(id)) queueMicrotask(() => this.report(target, true))
  }

  unobserve(target: Element): void {
    this.targets.delete(target)
  }

  disconnect(): void {
    this.targets.clear()
    FakeIntersectionObserver.instances.delete(this)
  }

  takeRecords(): IntersectionObserverEntry[] {
    return []
  }

  report(target: Element, isIntersecting: boolean): void {
    if (!this.targets.has(target)) return
    const entry = { target, isIntersecting, intersectionRatio: isIntersecting ? 1 : 0 }
    this.callback([entry as unknown as IntersectionObserverEntry], this as unknown as IntersectionObserver)
  }

  /** The element with this data-testid scrolls into view (and stays there until `scrollAway`). */
  static scrollTo(testId: string): void {
    FakeIntersectionObserver.inView.add(testId)
    for (const observer of [...FakeIntersectionObserver.instances]) {
      for (const target of [...observer.targets]) {
        if ((target as HTMLElement).dataset.testid === testId) observer.report(target, true)
      }
    }
  }

  static scrollAway(testId: string): void {
    FakeIntersectionObserver.inView.delete(testId)
    for (const observer of [...FakeIntersectionObserver.instances]) {
      for (const target of [...observer.targets]) {
        if ((target as HTMLElement).dataset.testid === testId) observer.report(target, false)
      }
    }
  }

  /** How many observers watch an element with this data-testid. */
  static watching(testId: string): number {
    let count = 0
    for (const observer of FakeIntersectionObserver.instances) {
      for (const target of observer.targets) {
        if ((target as HTMLElement).dataset.testid === testId) count += 1
      }
    }
    return count
  }

  static install(): void {
    FakeIntersectionObserver.instances.clear()
    FakeIntersectionObserver.inView.clear()
    vi.stubGlobal('IntersectionObserver', FakeIntersectionObserver)
  }
}
