import { describe, expect, it } from 'vitest'
import { frameWorkMs, type TraceEvent } from '../../bench/lib/frameWork'

const main = { pid: 1, tid: 7 }
const mark = (ts: number): TraceEvent => ({ name: 'frame', ph: 'R', ts, ...main })
const task = (ts: number, dur: number, where = main): TraceEvent => ({
  name: 'RunTask',
  ph: 'X',
  ts,
  dur,
  ...where,
})

describe('frameWorkMs', () => {
  it('sums the main thread busy time between consecutive marks', () => {
    const events = [
      mark(0),
      task(100, 2000),
      task(5000, 1000),
      mark(16_700),
      task(17_000, 4000),
      mark(33_400),
    ]
    expect(frameWorkMs(events, 'frame')).toEqual([3, 4])
  })

  it('counts nested tasks once and splits a task spanning a mark', () => {
    const events = [mark(0), task(10_000, 10_000), task(11_000, 2000), mark(16_000), mark(32_000)]
    expect(frameWorkMs(events, 'frame')).toEqual([6, 4])
  })

  it('ignores other threads and needs two marks', () => {
    const events = [mark(0), task(0, 5000, { pid: 1, tid: 8 }), mark(10_000)]
    expect(frameWorkMs(events, 'frame')).toEqual([0])
    expect(frameWorkMs([mark(0)], 'frame')).toEqual([])
  })
})
