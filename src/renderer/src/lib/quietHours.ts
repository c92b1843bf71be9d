/**
 * Quiet hours (issue 15): a daily span of local time during which this device shows no
 * notification and plays no sound, reminders and mentions included. What arrives meanwhile still
 * counts (unread badges, "Waiting for me"); only the interruption is held back. A device setting,
 * kept per profile like the other notification preferences.
 */
import { ref } from 'vue'

interface QuietHours {
  enabled: boolean
  /** Local time "HH:MM" the quiet starts. */
  from: string
  /** Local time "HH:MM" it ends; before `from` means it runs past midnight. */
  to: string
}

const DEFAULT_QUIET_HOURS: QuietHours = { enabled: false, from: '22:00', to: '07:00' }
const STORAGE_KEY = 'messenger.quietHours'
const TIME = /^([01]\d|2[0-3]):([0-5]\d)$/

/** Minutes since midnight of an "HH:MM" time; null when it is not one. */
function minutesOf(time: string): number | null {
  const match = TIME.exec(time)
  return match ? Number(match[1]) * 60 + Number(match[2]) : null
}

function readStored(): QuietHours {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}')
    if (typeof stored !== 'object' || stored === null) return { ...DEFAULT_QUIET_HOURS }
    const value = stored as Record<string, unknown>
    return {
      enabled: typeof value.enabled === 'boolean' ? value.enabled : DEFAULT_QUIET_HOURS.enabled,
      from: typeof value.from === 'string' && TIME.test(value.from) ? value.from : DEFAULT_QUIET_HOURS.from,
      to: typeof value.to === 'string' && TIME.test(value.to) ? value.to : DEFAULT_QUIET_HOURS.to,
    }
  } catch {
    // Unreadable or unavailable storage: the defaults (off).
    return { ...DEFAULT_QUIET_HOURS }
  }
}

/** This profile's quiet hours, shared by the whole window. */
export const quietHours = ref<QuietHours>(readStored())

/** Changes one part; a time that is not "HH:MM" is ignored (the input keeps what was held). */
export function setQuietHours(patch: Partial<QuietHours>): void {
  const next = { ...quietHours.value, ...patch }
  if (minutesOf(next.from) === null || minutesOf(next.to) === null) return
  quietHours.value = next
  try {
    localStorage.setItem(STORAGE_KEY, JSON.stringify(next))
  } catch {
    // Not persisting is acceptable: the choice still holds for this window.
  }
}

/**
 * Whether `now` (local time) falls in the quiet span [from, to). A span whose end is before its
 * start runs over midnight (22:00–07:00); equal ends mean the whole day.
 */
export function isQuietTime(hours: QuietHours, now: Date): boolean {
  if (!hours.enabled) return false
  const from = minutesOf(hours.from)
  const to = minutesOf(hours.to)
  if (from === null || to === null) return false
  const minute = now.getHours() * 60 + now.getMinutes()
  if (from === to) return true
  return from < to ? minute >= from && minute < to : minute >= from || minute < to
}

/** Quiet right now, by this profile's setting. */
export function quietNow(): boolean {
  return isQuietTime(quietHours.value, new Date())
}
