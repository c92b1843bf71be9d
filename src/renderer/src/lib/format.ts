/** Date and time in words for the UI, always through Intl in the UI locale (never the OS default). */

export function formatDateTime(time: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(time)
}

export function formatTimeOfDay(time: number, locale: string): string {
  return new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(time)
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/** The short form a conversation list shows: the time today, the date otherwise. */
export function formatListTime(time: number, now: number, locale: string): string {
  const date = new Date(time)
  const today = new Date(now)
  if (sameDay(date, today)) return formatTimeOfDay(time, locale)
  const options: Intl.DateTimeFormatOptions =
    date.getFullYear() === today.getFullYear()
      ? { month: 'short', day: 'numeric' }
      : { year: 'numeric', month: 'short', day: 'numeric' }
  return new Intl.DateTimeFormat(locale, options).format(time)
}

/** Splits what a person types as a list of ids: commas (ASCII or CJK), enumeration commas or whitespace. */
export function splitIds(text: string): string[] {
  return [...new Set(text.split(/[\s,，、;；]+/).filter((id) => id.length > 0))]
}
