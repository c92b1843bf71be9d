import { ref, shallowRef } from 'vue'
import type { AckCounts, AckEntry, AckState } from '../../../shared/acks'
import type { Message } from '../../../shared/model'
import { callIm, toUiError, type UiError } from '../lib/im'

const PAGE_SIZE = 50

/** One tab of the acknowledgement panel, paged on the server's opaque cursor. */
interface AckTab {
  entries: AckEntry[]
  /** Cursor of the next page; null once the last page is in. */
  next: string | null
  started: boolean
  loading: boolean
  error: UiError | null
}

function emptyTab(): AckTab {
  return { entries: [], next: null, started: false, loading: false, error: null }
}

/**
 * The three tabs of a message's acknowledgement panel (getMessageAcks: acked, read but not acked,
 * not read), each paged on its stable cursor, and the counts of the latest page. `reload` starts
 * every loaded tab over (a new ack moves someone between tabs, so a page already shown is stale);
 * an answer to a load begun before a reload is dropped.
 */
export function useMessageAckPages(message: () => Message) {
  const tabs = shallowRef<Record<AckState, AckTab>>({
    acked: emptyTab(),
    readNotAcked: emptyTab(),
    notRead: emptyTab(),
  })
  const counts = ref<AckCounts | null>(null)
  let generation = 0

  function patch(state: AckState, change: Partial<AckTab>): void {
    tabs.value = { ...tabs.value, [state]: { ...tabs.value[state], ...change } }
  }

  /** The next page of one tab (the first when none is loaded); nothing once the last is in. */
  async function loadMore(state: AckState): Promise<void> {
    const tab = tabs.value[state]
    if (tab.loading || (tab.started && tab.next === null)) return
    const asked = generation
    patch(state, { loading: true, error: null })
    const cursor = tab.next ?? undefined
    const result = await callIm(() => window.im.getMessageAcks(message().messageId, state, PAGE_SIZE, cursor))
    if (asked !== generation) return
    if (result.code !== 0) {
      patch(state, { loading: false, error: toUiError(result) })
      return
    }
    counts.value = result.data.counts
    patch(state, {
      loading: false,
      started: true,
      entries: [...tabs.value[state].entries, ...result.data.entries],
      next: result.data.nextCursor ?? null,
    })
  }

  /** Every tab from its first page again. */
  function reload(): Promise<void[]> {
    generation += 1
    tabs.value = { acked: emptyTab(), readNotAcked: emptyTab(), notRead: emptyTab() }
    return Promise.all((['acked', 'readNotAcked', 'notRead'] as const).map((state) => loadMore(state)))
  }

  return { tabs, counts, loadMore, reload }
}
