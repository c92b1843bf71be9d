/** Date and time in words for the UI, always through Intl in the UI locale (never the OS default). */

const STYLES = {
  dateTime: { dateStyle: 'medium', timeStyle: 'medium' },
  timeOfDay: { hour: '2-digit', minute: '2-digit' },
  monthDay: { month: 'short', day: 'numeric' },
  yearMonthDay: { year: 'numeric', month: 'short', day: 'numeric' },
} satisfies Record<string, Intl.DateTimeFormatOptions>

const formatters = new Map<string, Intl.DateTimeFormat>()

/**
 * One Intl.DateTimeFormat per locale and style, made once: making one costs far more than using it
 * (it resolves the locale's data), and every message row formats two or three times.
 */
function formatter(locale: string, style: keyof typeof STYLES): Intl.DateTimeFormat {
  const key = `${style} ${locale}`
  let f = formatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, STYLES[style])
    formatters.set(key, f)
  }
  return f
}

export function formatDateTime(time: number, locale: string): string {
  return formatter(locale, 'dateTime').format(time)
}

export function formatTimeOfDay(time: number, locale: string): string {
  return formatter(locale, 'timeOfDay').format(time)
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/** The short form a conversation list shows: the time today, the date otherwise. */
export function formatListTime(time: number, now: number, locale: string): string {
  const date = new Date(time)
  const today = new Date(now)
  if (sameDay(date, today)) return formatTimeOfDay(time, locale)
  return formatter(locale, date.getFullYear() === today.getFullYear() ? 'monthDay' : 'yearMonthDay').format(
    time,
  )
}

/** Splits what a person types as a list of ids: commas (ASCII or CJK), enumeration commas or whitespace. */
export function splitIds(text: string): string[] {
  return [...new Set(text.split(/[\s,，、;；]+/).filter((id) => id.length > 0))]
}

/** H4: "last seen …": the time of day when it was today, else the full date and time. */
export function formatLastSeen(
  time: number,
  now: number,
  locale: string,
): { today: true; time: string } | { today: false; date: string } {
  if (sameDay(new Date(time), new Date(now))) return { today: true, time: formatTimeOfDay(time, locale) }
  const date = `${formatter(locale, 'yearMonthDay').format(time)} ${formatTimeOfDay(time, locale)}`
  return { today: false, date }
}
