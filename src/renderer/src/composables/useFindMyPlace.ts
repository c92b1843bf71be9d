import { useEventListener } from '@vueuse/core'
import { computed, nextTick, ref, toValue, type MaybeRefOrGetter, type Ref } from 'vue'
import { MessageDirection, type Message } from '../../../shared/model'

/** Earlier pages loaded at most, on opening, to reach the first unread message (30 each). */
const MAX_PAGES_TO_FIRST_UNREAD = 20
/** Scrolled up more than this from the bottom: the jump-to-latest button shows. */
const JUMP_SHOWN_FROM_PX = 160

export interface FindMyPlaceOptions {
  messages: MaybeRefOrGetter<readonly Message[]>
  /** The engine's unread count of the chat (received, past my read mark). */
  unreadCount: MaybeRefOrGetter<number>
  /** Whether older pages remain, and a call that loads the previous one. */
  hasMore: MaybeRefOrGetter<boolean>
  loadOlder(): Promise<void>
  scrollElement: Ref<HTMLElement | null>
  visibleIds: ReadonlySet<string>
  /** Indexes of the rows the virtual list has drawn (a few screens at most, never the history). */
  renderedIndexes(): readonly number[]
  scrollToIndex(index: number): void
  scrollToEnd(): void
}

const isUnreadReceived = (m: Message): boolean =>
  m.messageDirection === MessageDirection.RECEIVE && m.isUnread

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()))
}

/**
 * Finding my place in a chat (issue 13): opening it at the first unread message, under a "New
 * messages" divider, rather than at the bottom of a backlog never seen; and, while scrolled up, a
 * jump-to-latest button with the count of unread messages below.
 *
 * `ready` turns true once the list stands where it opened: rows the virtual list drew at its first
 * position (the top of the newest page, somewhere inside the backlog) were never on screen for
 * the reader, and the read policy waits for it so that they are not acknowledged.
 */
export function useFindMyPlace(options: FindMyPlaceOptions) {
  /** The first unread message when the chat was opened: the divider stays there as they are read. */
  const dividerId = ref<string | null>(null)
  const ready = ref(false)
  const scrolledUp = ref(false)

  async function reachFirstUnread(): Promise<void> {
    for (let page = 0; page < MAX_PAGES_TO_FIRST_UNREAD; page++) {
      const list = toValue(options.messages)
      const loadedUnread = list.reduce((n, m) => n + (isUnreadReceived(m) ? 1 : 0), 0)
      // The oldest unread is loaded once the loaded ones are as many as the engine counts, or the
      // loaded history starts with a message already read.
      const oldest = list.find((m) => m.seq !== null)
      if (loadedUnread >= toValue(options.unreadCount) || (oldest && !isUnreadReceived(oldest))) return
      if (!toValue(options.hasMore)) return
      await options.loadOlder()
    }
  }

  /**
   * After the newest page is loaded: to the first unread under its divider, or to the bottom.
   * `placed`: the list was already moved elsewhere (a search result): only wait for it to settle.
   */
  async function openAtMyPlace({ placed = false }: { placed?: boolean } = {}): Promise<void> {
    if (placed) {
      await nextFrame()
      await nextFrame()
      updateScrolledUp()
      ready.value = true
      return
    }
    await reachFirstUnread()
    const list = toValue(options.messages)
    const index = list.findIndex(isUnreadReceived)
    // A chat whose unread messages are all on one screen with the latest is simply opened at the bottom.
    dividerId.value = index >= 0 ? (list[index]?.messageId ?? null) : null
    await nextTick()
    const position = (): void => (index >= 0 ? options.scrollToIndex(index) : options.scrollToEnd())
    position()
    // The virtual list measures the rows it drew and corrects; place again once it has, then let
    // the visibility observer report the rows that are really on screen before anything is read.
    await nextFrame()
    position()
    await nextFrame()
    await nextFrame()
    updateScrolledUp()
    ready.value = true
  }

  function updateScrolledUp(): void {
    const el = options.scrollElement.value
    if (!el) return
    scrolledUp.value = el.scrollHeight - el.scrollTop - el.clientHeight > JUMP_SHOWN_FROM_PX
  }

  /** Where the unread messages are: one pass per change of the list, not per scrolled frame. */
  const unreadIndexes = computed(() => {
    const list = toValue(options.messages)
    const indexes: number[] = []
    for (let i = 0; i < list.length; i++) if (isUnreadReceived(list[i] as Message)) indexes.push(i)
    return indexes
  })

  /**
   * Unread messages below the last one on screen (loaded pages reach the newest, so all are here).
   * Only the drawn rows are asked whether they are on screen: scrolling costs the same in any history.
   */
  const unreadBelow = computed(() => {
    const list = toValue(options.messages)
    let last = -1
    for (const index of options.renderedIndexes()) {
      const m = list[index]
      if (index > last && m && options.visibleIds.has(m.messageId)) last = index
    }
    if (last < 0) return 0
    let count = 0
    for (const index of unreadIndexes.value) if (index > last) count++
    return count
  })

  useEventListener(options.scrollElement, 'scroll', updateScrolledUp, { passive: true })

  const showJump = computed(() => ready.value && (scrolledUp.value || unreadBelow.value > 0))

  function jumpToLatest(): void {
    options.scrollToEnd()
  }

  return { dividerId, ready, openAtMyPlace, onScroll: updateScrolledUp, unreadBelow, showJump, jumpToLatest }
}
