import { ref, shallowRef } from 'vue'
import type { Result } from '../../../shared/codes'
import { toUiError, type UiError } from '../lib/im'

export interface Page<T> {
  items: T[]
  /** Cursor of the next page; absent on the last page. */
  next?: string
}

/**
 * A list fetched page by page with a cursor (fetchGroupReadAcks, fetchGroupUnreadMembers). One load
 * at a time: a call made while one is running shares it. After the last page, `resume` lets the list
 * grow again from where it ended (the server cursors are exclusive and stable, so nothing repeats).
 */
export function usePagedList<T>(
  fetchPage: (cursor: string | undefined) => Promise<Result<Page<T>>>,
  /** The cursor that follows `item`: where to resume after the last page. */
  cursorAfter: (item: T) => string,
) {
  const items = shallowRef<T[]>([])
  const loading = ref(false)
  /** The last page has been loaded. */
  const done = ref(false)
  /** At least one page has been loaded. */
  const started = ref(false)
  const error = ref<UiError | null>(null)
  let cursor: string | undefined
  let inFlight: Promise<boolean> | null = null

  async function fetchNext(): Promise<boolean> {
    loading.value = true
    error.value = null
    const result = await fetchPage(cursor)
    loading.value = false
    if (result.code !== 0) {
      error.value = toUiError(result)
      return false
    }
    const { items: page, next } = result.data
    if (page.length > 0) items.value = [...items.value, ...page]
    const last = items.value.at(-1)
    cursor = next ?? (last === undefined ? cursor : cursorAfter(last))
    done.value = next === undefined
    started.value = true
    return page.length > 0 && !done.value
  }

  /** Loads the next page; resolves true when it loaded something and more remains. */
  function loadNext(): Promise<boolean> {
    if (inFlight) return inFlight
    if (done.value) return Promise.resolve(false)
    inFlight = fetchNext().finally(() => {
      inFlight = null
    })
    return inFlight
  }

  /** After the last page: look again for items added since (new acks arrive at the end). */
  function resume(): Promise<boolean> {
    if (!started.value || error.value) return Promise.resolve(false)
    done.value = false
    return loadNext()
  }

  return { items, loading, done, started, error, loadNext, resume }
}
