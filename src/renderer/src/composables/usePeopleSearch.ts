import { onBeforeUnmount, ref, watch, type Ref } from 'vue'
import type { UserProfile } from '../../../shared/model'
import { callIm, toUiError, type UiError } from '../lib/im'

/** Typing pauses this long before the server is asked: strangers in a reply cost lookups. */
const DEBOUNCE_MS = 250

/**
 * Search (H2): people on the server whose id or name contains what is typed (searchUsers), for
 * "New chat" and the quick switcher. `searchedFor` says which text `people` answers, so a form
 * never acts on the answer to something the user has already typed past.
 */
export function usePeopleSearch(query: Ref<string>, options: { limit: number; minLength?: number }) {
  const people = ref<UserProfile[]>([])
  const searchedFor = ref('')
  const busy = ref(false)
  const failure = ref<UiError | null>(null)
  let timer: ReturnType<typeof setTimeout> | undefined
  let run = 0

  async function search(text: string): Promise<void> {
    const mine = ++run
    busy.value = true
    const result = await callIm(() => window.im.searchUsers(text, options.limit))
    if (mine !== run) return
    busy.value = false
    searchedFor.value = text
    if (result.code === 0) {
      failure.value = null
      people.value = result.data
    } else {
      failure.value = toUiError(result)
      people.value = []
    }
  }

  watch(query, (value) => {
    clearTimeout(timer)
    const text = value.normalize('NFC').trim()
    if ([...text].length < (options.minLength ?? 1)) {
      run++
      people.value = []
      searchedFor.value = ''
      busy.value = false
      failure.value = null
      return
    }
    timer = setTimeout(() => void search(text), DEBOUNCE_MS)
  })
  onBeforeUnmount(() => clearTimeout(timer))

  return { people, searchedFor, busy, failure }
}
