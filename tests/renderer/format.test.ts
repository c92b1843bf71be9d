import { describe, expect, it } from 'vitest'
import { formatDateTime, formatListTime, formatTimeOfDay } from '@renderer/lib/format'

const at = Date.UTC(2024, 4, 6, 9, 7, 5)

describe('format', () => {
  it('formats like a fresh Intl.DateTimeFormat of each locale, with formatters reused', () => {
    for (const locale of ['en-US', 'zh-CN', 'en-US']) {
      expect(formatDateTime(at, locale)).toBe(
        new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'medium' }).format(at),
      )
      expect(formatTimeOfDay(at, locale)).toBe(
        new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' }).format(at),
      )
    }
  })

  it('shows the time today, the month and day this year, the full date before', () => {
    const now = at + 60_000
    expect(formatListTime(at, now, 'en-US')).toBe(formatTimeOfDay(at, 'en-US'))
    const lastMonth = at - 30 * 86_400_000
    expect(formatListTime(lastMonth, now, 'en-US')).toBe(
      new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric' }).format(lastMonth),
    )
    const lastYear = at - 400 * 86_400_000
    expect(formatListTime(lastYear, now, 'en-US')).toBe(
      new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'short', day: 'numeric' }).format(lastYear),
    )
  })
})
