/**
 * Main-thread work per animation frame, from a Chromium trace (Playwright's browser.startTracing).
 *
 * Headless Chromium paces requestAnimationFrame at 60 Hz, so rAF intervals only ever read 16.7,
 * 33.3, 50 ms…: they say whether a frame was dropped, not how close a frame came to it. The page
 * marks each animation frame (`performance.mark(name)` in its rAF callback); the work of frame i is
 * the time the renderer's main thread spent in top-level tasks between mark i and mark i + 1
 * (script, style, layout, paint recording; raster and compositing run on other threads).
 */

export interface TraceEvent {
  name: string
  ph: string
  ts: number
  dur?: number
  pid: number
  tid: number
  cat?: string
}

/** The top-level task events of Chromium's schedulers (one per task the thread ran). */
const TASK_NAMES = new Set(['RunTask', 'ThreadControllerImpl::RunTask', 'ThreadPool_RunTask'])

/**
 * Busy ms of the marking thread between consecutive marks named `mark` (one entry per interval, so
 * one fewer than the marks). Tasks nested in another task are counted once; a task spanning a mark
 * is split at it. Empty when the trace holds fewer than two marks.
 */
export function frameWorkMs(events: readonly TraceEvent[], mark: string): number[] {
  const marks = events.filter((e) => e.name === mark && e.ph !== 'e').sort((a, b) => a.ts - b.ts)
  const first = marks[0]
  if (!first || marks.length < 2) return []
  const tasks = events
    .filter(
      (e) =>
        e.pid === first.pid &&
        e.tid === first.tid &&
        e.ph === 'X' &&
        TASK_NAMES.has(e.name) &&
        (e.dur ?? 0) > 0,
    )
    .sort((a, b) => a.ts - b.ts)
  // Outermost tasks only: a task starting before the previous outermost one ends is nested in it.
  const spans: [number, number][] = []
  for (const t of tasks) {
    const end = t.ts + (t.dur as number)
    const last = spans.at(-1)
    if (last && t.ts < last[1]) last[1] = Math.max(last[1], end)
    else spans.push([t.ts, end])
  }
  const out: number[] = []
  let s = 0
  for (let i = 0; i + 1 < marks.length; i++) {
    const from = (marks[i] as TraceEvent).ts
    const to = (marks[i + 1] as TraceEvent).ts
    while (s < spans.length && (spans[s] as [number, number])[1] <= from) s++
    let busy = 0
    for (let j = s; j < spans.length; j++) {
      const [a, b] = spans[j] as [number, number]
      if (a >= to) break
      busy += Math.min(b, to) - Math.max(a, from)
    }
    out.push(busy / 1000)
  }
  return out
}
