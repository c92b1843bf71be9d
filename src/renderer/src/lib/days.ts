/**
 * Time in the message list (issue 13): which rows start a new day, the day's label ("Today",
 * "Yesterday", then a date in the UI locale), and which rows continue their sender's run. Each
 * rule looks at a row and the one before it only, so the list asks it for the rows it renders, never
 * for the whole history.
 */
import type { Message } from '../../../shared/model'

/** Consecutive messages of one sender this close together are shown as one run (name once). */
const RUN_GAP_MS = 5 * 60 * 1000

const formatters = new Map<string, Intl.DateTimeFormat>()

/** A date without the time, cached per locale and form (making a formatter costs far more than using it). */
function dateFormatter(locale: string, withYear: boolean): Intl.DateTimeFormat {
  const key = `${withYear ? 'y' : 'n'} ${locale}`
  let f = formatters.get(key)
  if (!f) {
    f = new Intl.DateTimeFormat(locale, {
      weekday: 'long',
      month: 'long',
      day: 'numeric',
      ...(withYear ? { year: 'numeric' } : {}),
    })
    formatters.set(key, f)
  }
  return f
}

/** Local midnight of the day `time` falls on. */
export function startOfDay(time: number): number {
  const d = new Date(time)
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
}

function isSameDay(a: number, b: number): boolean {
  return startOfDay(a) === startOfDay(b)
}

/** 'today', 'yesterday', or the date in words ("Monday, March 3"; with the year when not this year). */
export function dayLabel(time: number, now: number, locale: string): 'today' | 'yesterday' | string {
  const day = startOfDay(time)
  const today = startOfDay(now)
  if (day === today) return 'today'
  // Yesterday's midnight from a date, not today - 24 h: days around a DST change are 23 or 25 h.
  const d = new Date(today)
  if (day === new Date(d.getFullYear(), d.getMonth(), d.getDate() - 1).getTime()) return 'yesterday'
  return dateFormatter(locale, new Date(time).getFullYear() !== new Date(now).getFullYear()).format(time)
}

/** Whether the row needs a day separator above it: the first row, or a new day. */
export function startsDay(messages: readonly Message[], index: number): boolean {
  const m = messages[index]
  const previous = messages[index - 1]
  return m !== undefined && (previous === undefined || !isSameDay(previous.sentTime, m.sentTime))
}

/** Whether the row continues its sender's run: same sender and side, same day, within RUN_GAP_MS. */
export function continuesRun(messages: readonly Message[], index: number): boolean {
  const m = messages[index]
  const previous = messages[index - 1]
  if (!m || !previous) return false
  return (
    previous.senderUserId === m.senderUserId &&
    previous.messageDirection === m.messageDirection &&
    m.sentTime - previous.sentTime >= 0 &&
    m.sentTime - previous.sentTime < RUN_GAP_MS &&
    isSameDay(previous.sentTime, m.sentTime)
  )
}
