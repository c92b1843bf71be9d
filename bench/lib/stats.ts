/**
 * Timing and statistics. Every duration comes from process.hrtime.bigint() (monotonic), in ms.
 */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b)
}

/** Linear-interpolated percentile, p in [0, 100]. NaN for an empty list. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN
  const s = sorted(xs)
  const rank = (p / 100) * (s.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  const a = s[lo] as number
  const b = s[hi] as number
  return a + (b - a) * (rank - lo)
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50)
}

export interface Timing {
  /** ms per call */
  median: number
  p95: number
  min: number
  max: number
  iterations: number
}

function summarize(samples: readonly number[]): Timing {
  const s = sorted(samples)
  return {
    median: median(s),
    p95: percentile(s, 95),
    min: s[0] ?? Number.NaN,
    max: s.at(-1) ?? Number.NaN,
    iterations: s.length,
  }
}

/**
 * Times `fn` `iterations` times after `warmup` untimed calls. `setup` (untimed) runs before each
 * call and hands its value to `fn`, so each timed call can work on fresh data.
 */
export function timeSync<S>(
  options: { iterations: number; warmup?: number; setup?: (i: number) => S },
  fn: (state: S, i: number) => unknown,
): Timing {
  const { iterations, warmup = Math.min(20, Math.ceil(iterations / 5)) } = options
  const samples: number[] = []
  for (let i = 0; i < warmup + iterations; i++) {
    const state = options.setup ? options.setup(i) : (undefined as S)
    const t0 = process.hrtime.bigint()
    fn(state, i)
    const dt = Number(process.hrtime.bigint() - t0) / 1e6
    if (i >= warmup) samples.push(dt)
  }
  return summarize(samples)
}

/**
 * timeSync for work that answers with a promise (the server's storage and operations). `budgetMs`:
 * stop early once the timed calls have taken that long and at least 30 were taken (a slow query would
 * otherwise hold the run for minutes); Timing.iterations says how many were.
 */
export async function timeAsync(
  options: { iterations: number; warmup?: number; budgetMs?: number },
  fn: (i: number) => Promise<unknown>,
): Promise<Timing> {
  const { iterations, warmup = Math.min(20, Math.ceil(iterations / 5)), budgetMs = Infinity } = options
  const samples: number[] = []
  let spent = 0
  for (let i = 0; i < warmup + iterations; i++) {
    const t0 = process.hrtime.bigint()
    await fn(i)
    const dt = Number(process.hrtime.bigint() - t0) / 1e6
    if (i >= warmup) {
      samples.push(dt)
      spent += dt
      if (spent > budgetMs && samples.length >= 30) break
    }
  }
  return summarize(samples)
}

/** Round to a few significant digits for tables and JSON. */
export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x) || x === 0) return x
  const mag = Math.floor(Math.log10(Math.abs(x)))
  const factor = 10 ** (digits - 1 - mag)
  return Math.round(x * factor) / factor
}

export function fmt(x: number | undefined, digits = 3): string {
  if (x === undefined || Number.isNaN(x)) return '–'
  if (!Number.isFinite(x)) return '∞'
  const r = round(x, digits)
  if (Math.abs(r) >= 1e6) return `${round(r / 1e6, digits)}M`
  if (Math.abs(r) >= 1e4) return `${round(r / 1e3, digits)}k`
  return String(r)
}

/** Seeded PRNG (mulberry32): the same data set on every run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms))
}

/** Forces a full GC when the process runs with --expose-gc (bench/run.ts sets it). */
export function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc
  if (g) {
    g()
    g()
  }
}

/** Rejects with "timed out: <what>" when `p` takes longer than `ms`: a stuck step fails its scenario, never the whole run. */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
    }),
  ])
}
