/**
 * The pieces metrics.ts builds the node's metrics from: numbers the hot paths add to in place (a
 * `Series` per histogram label set, plain counters), which prom-client reads only when /metrics is
 * scraped (`Buckets`, a histogram the registry reads as it reads its own, and counters and gauges
 * whose collect callbacks read a number), and prom-client's process metrics, made once per process.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client'

/** Observations of one label set of a histogram: added to in place, never reallocated. */
export class Series {
  /** Observations per bucket (not cumulative); those above the last bound are count minus their sum. */
  readonly counts: Float64Array
  sum = 0
  count = 0

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length)
  }

  observe(value: number): void {
    const { bounds } = this
    let i = 0
    while (i < bounds.length && value > (bounds[i] as number)) i++
    if (i < bounds.length) this.counts[i] = (this.counts[i] as number) + 1
    this.sum += value
    this.count++
  }
}

/**
 * A histogram with at most one label, whose observe is `Series.observe` on a series kept by the
 * caller. The registry reads it as it reads a prom-client metric (name, help, type, get(), reset()).
 */
export class Buckets {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  private readonly series = new Map<string, Series>()

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    /** The one label's name; without it the histogram has the single series `of()`, shown from the start. */
    private readonly labelName?: string,
  ) {
    if (labelName === undefined) this.of('')
  }

  /** The series of one label value, made on first use and the same object after. */
  of(labelValue: string): Series {
    let series = this.series.get(labelValue)
    if (!series) {
      series = new Series(this.bounds)
      this.series.set(labelValue, series)
    }
    return series
  }

  async get(): Promise<{
    name: string
    help: string
    type: string
    aggregator: string
    values: { metricName: string; labels: Record<string, string | number>; value: number }[]
  }> {
    const values = []
    for (const [labelValue, series] of this.series) {
      const labels: Record<string, string> =
        this.labelName === undefined ? {} : { [this.labelName]: labelValue }
      let cumulative = 0
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += series.counts[i] as number
        const le = this.bounds[i] as number
        values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: cumulative })
      }
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { ...labels, le: '+Inf' },
        value: series.count,
      })
      values.push({ metricName: `${this.name}_sum`, labels, value: series.sum })
      values.push({ metricName: `${this.name}_count`, labels, value: series.count })
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values }
  }

  /** Back to zero; the series objects stay (callers hold them). */
  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0)
      series.sum = 0
      series.count = 0
    }
  }
}

let processRegistry: Registry | undefined

/** prom-client's default process metrics (CPU, memory, event loop, GC, handles), once per process. */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry()
    collectDefaultMetrics({ register: processRegistry })
  }
  return processRegistry
}

/** A counter whose value is read from the caller's numbers when scraped. */
export function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset()
      this.inc(read())
    },
  })
}

/** The same with labels: `read` yields each label set with its value. */
export function readLabelledCounter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: () => Iterable<[Partial<Record<L, string>>, number]>,
): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset()
      for (const [labels, value] of read()) this.inc(labels, value)
    },
  })
}

export function readGauge(registry: Registry, name: string, help: string, read: () => number): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      this.set(read())
    },
  })
}
