import { readonly, shallowRef } from 'vue'

/** At most one announcement this often: a burst of messages or receipts is said together. */
export const ANNOUNCE_INTERVAL_MS = 1500
/** Parts said at once; the rest are counted ("And 4 more updates"). */
const MAX_PARTS = 3

interface Announcement {
  /** Changes with every announcement, so the same words said twice are said again. */
  id: number
  parts: string[]
  /** Parts left out. */
  more: number
}

const current = shallowRef<Announcement | null>(null)
/** Waiting to be said, by key: a newer text for the same key (a receipt that moved on) replaces the older. */
const pending = new Map<string, string>()
let timer: ReturnType<typeof setTimeout> | null = null
let lastFlush = Number.NEGATIVE_INFINITY
let sequence = 0

function flush(): void {
  timer = null
  lastFlush = Date.now()
  const parts = [...pending.values()]
  pending.clear()
  if (parts.length === 0) return
  current.value = {
    id: ++sequence,
    parts: parts.slice(-MAX_PARTS),
    more: Math.max(0, parts.length - MAX_PARTS),
  }
}

/**
 * Queues words for the app's one polite live region (LiveAnnouncer). Rate-limited: whatever arrives
 * within ANNOUNCE_INTERVAL_MS of the last announcement waits and is said with the rest, the newest
 * MAX_PARTS in full.
 */
export function announce(text: string, key: string = text): void {
  pending.delete(key)
  pending.set(key, text)
  if (timer) return
  timer = setTimeout(flush, Math.max(0, lastFlush + ANNOUNCE_INTERVAL_MS - Date.now()))
}

/** What the live region shows now. */
export function useAnnouncement() {
  return readonly(current)
}

/** Forgets everything queued and said (sign-out, tests). */
export function resetAnnouncer(): void {
  if (timer) clearTimeout(timer)
  timer = null
  pending.clear()
  lastFlush = Number.NEGATIVE_INFINITY
  current.value = null
}
