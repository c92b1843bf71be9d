/**
 * Prometheus metrics of one server node, served at `GET /metrics` (httpApi.ts). Every metric is a
 * count, a duration or a size: no user id, device id or message content is ever a label, so what
 * this exposes says how busy the node is, never who uses it. The names and their meanings are listed
 * in src/server/README.md, "Metrics".
 *
 * One registry per server instance (tests start many servers in one process), holding this node's
 * metrics and prom-client's default process metrics. Those describe the process, so they are made
 * once per process and shared by every registry of it: prom-client starts an event-loop-delay
 * monitor and a GC observer for each collectDefaultMetrics call and never stops them.
 *
 * The hot paths (every frame, every batch) only add to numbers held here: no label object is made
 * and no label set is hashed per frame. prom-client reads those numbers when /metrics is scraped
 * (metrics/collectors.ts: the counters' and gauges' collect callbacks, and `Buckets`, a histogram
 * the registry reads through the same get() a prom-client metric offers).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { Registry, type Metric } from 'prom-client'
import { codeName, type CodeValue } from '../shared/codes'
import { http, WS_PATH } from '../shared/protocol'
import {
  Buckets,
  processMetrics,
  readCounter,
  readGauge,
  readLabelledCounter,
  type Series,
} from './metrics/collectors'

/** Durations, in seconds: 0.5 ms to 5 s (slower lands in +Inf). */
const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
/** Operations per group commit: powers of two up to MAX_BATCH (gateway.ts). */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256]

/** The HTTP paths counted by name; any other is counted as `other` (a path is not a free label). */
const HTTP_PATHS = new Set([
  '/health',
  '/ready',
  '/metrics',
  http.register.path,
  http.login.path,
  http.logout.path,
  WS_PATH,
])

/** What the gauges read when scraped: the node's sockets as the gateway and the hub see them now. */
interface GaugeSource {
  /** Open (authenticated) WebSocket connections. */
  sockets(): number
  /** Distinct users with at least one of them. */
  users(): number
  /** Bytes written to those sockets and not yet sent. */
  bufferedBytes(): number
  /** Frames waiting for a send budget (gateway/sendBudgets.ts). */
  heldFrames(): number
}

interface OpSeries {
  latency: Series
  codes: Map<CodeValue, number>
}

interface MetricsOptions {
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  token?: string
}

/** The metrics of one server node. Durations are passed in milliseconds and exposed in seconds. */
export class ServerMetrics {
  /** This node's metrics and the process metrics (text format: `registry.metrics()`). */
  readonly registry: Registry
  private readonly tokenDigest: Buffer | undefined

  private framesReceived = 0
  private framesSent = 0
  private readonly refused = new Map<CodeValue, number>()
  private readonly ops = new Map<string, OpSeries>()
  private localPushes = 0
  private busPushes = 0
  private busReceived = 0
  private busPublished = 0
  private readonly http = new Map<string, Map<number, number>>()
  private gauges: GaugeSource | undefined

  private readonly opLatency: Buckets
  private readonly batchSize: Series
  private readonly batchLatency: Series
  private readonly busLagSeries: Series

  constructor(options: MetricsOptions = {}) {
    if (options.token !== undefined && !/^\S{1,4096}$/.test(options.token))
      throw new Error('metricsToken must be 1 to 4096 characters without spaces')
    this.tokenDigest = options.token === undefined ? undefined : digest(options.token)
    const own = new Registry()
    readCounter(
      own,
      'im_frames_received_total',
      'WebSocket frames read from clients.',
      () => this.framesReceived,
    )
    readCounter(
      own,
      'im_frames_sent_total',
      'WebSocket frames (replies and pushes) handed to client sockets.',
      () => this.framesSent,
    )
    readLabelledCounter(
      own,
      'im_frames_refused_total',
      'Frames answered or dropped without running their operation, by the code of the refusal.',
      ['reason'],
      () => mapEntries(this.refused, (code) => ({ reason: nameOf(code) })),
    )
    readLabelledCounter(
      own,
      'im_operations_total',
      'Operations run in a group commit and answered, by operation and result code.',
      ['op', 'code'],
      () => this.opCounts(),
    )
    readLabelledCounter(
      own,
      'im_pushes_delivered_total',
      'Push frames handed to sockets of this node, by where the push came from (local request or bus).',
      ['source'],
      () => [
        [{ source: 'local' }, this.localPushes],
        [{ source: 'bus' }, this.busPushes],
      ],
    )
    readCounter(
      own,
      'im_bus_pushes_published_total',
      'Pushes this node published on the bus (one per recipient user).',
      () => this.busPublished,
    )
    readCounter(
      own,
      'im_bus_pushes_received_total',
      'Pushes received from the bus for users with sockets on this node.',
      () => this.busReceived,
    )
    readLabelledCounter(
      own,
      'im_http_requests_total',
      'HTTP requests answered (not WebSocket upgrades), by path and status.',
      ['path', 'status'],
      () => this.httpCounts(),
    )
    readGauge(
      own,
      'im_sockets',
      'Open WebSocket connections on this node.',
      () => this.gauges?.sockets() ?? 0,
    )
    readGauge(
      own,
      'im_connected_users',
      'Distinct users with at least one WebSocket connection on this node.',
      () => this.gauges?.users() ?? 0,
    )
    readGauge(
      own,
      'im_socket_buffered_bytes',
      'Bytes written to WebSocket connections and not yet sent.',
      () => this.gauges?.bufferedBytes() ?? 0,
    )
    readGauge(
      own,
      'im_frames_held',
      'Frames waiting for their connection to drain (send budgets).',
      () => this.gauges?.heldFrames() ?? 0,
    )
    this.opLatency = this.histogram(
      own,
      'im_operation_duration_seconds',
      'From reading a frame to handing its reply to the socket, by operation.',
      SECONDS_BUCKETS,
      'op',
    )
    this.batchSize = this.histogram(
      own,
      'im_group_commit_operations',
      'Operations per group commit (its count is the number of group commits).',
      BATCH_BUCKETS,
    ).of('')
    this.batchLatency = this.histogram(
      own,
      'im_group_commit_duration_seconds',
      'Storage.batch of one group commit: its transaction and commit.',
      SECONDS_BUCKETS,
    ).of('')
    this.busLagSeries = this.histogram(
      own,
      'im_bus_lag_seconds',
      'From a node publishing a push on the bus to this node receiving it (wall clocks of both).',
      SECONDS_BUCKETS,
    ).of('')
    this.registry = Registry.merge([processMetrics(), own])
  }

  private histogram(
    registry: Registry,
    name: string,
    help: string,
    bounds: readonly number[],
    labelName?: string,
  ): Buckets {
    const buckets = new Buckets(name, help, bounds, labelName)
    // The registry takes any object with prom-client's metric shape (name, help, type, get, reset).
    registry.registerMetric(buckets as unknown as Metric)
    return buckets
  }

  /** Where the gauges read from (the gateway and the hub exist only after this object). */
  sampleFrom(source: GaugeSource): void {
    this.gauges = source
  }

  /** True when /metrics may answer this Authorization header. */
  authorized(header: string | undefined): boolean {
    if (!this.tokenDigest) return true
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
    return match?.[1] !== undefined && timingSafeEqual(digest(match[1]), this.tokenDigest)
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics()
  }

  get contentType(): string {
    return this.registry.contentType
  }

  // The hot paths: numbers only.

  frameReceived(): void {
    this.framesReceived++
  }

  /** A frame refused with this code (rate limits, not JSON, bad envelope, unknown op, bad data, too large). */
  frameRefused(code: CodeValue): void {
    this.refused.set(code, (this.refused.get(code) ?? 0) + 1)
  }

  framesHandedOut(count: number): void {
    this.framesSent += count
  }

  /** An operation answered with `code`, `ms` after its frame was read. */
  operation(op: string, code: CodeValue, ms: number): void {
    let series = this.ops.get(op)
    if (!series) {
      series = { latency: this.opLatency.of(op), codes: new Map() }
      this.ops.set(op, series)
    }
    series.codes.set(code, (series.codes.get(code) ?? 0) + 1)
    series.latency.observe(ms / 1000)
  }

  /** A group commit of `operations` operations whose Storage.batch took `ms`. */
  groupCommit(operations: number, ms: number): void {
    this.batchSize.observe(operations)
    this.batchLatency.observe(ms / 1000)
  }

  /** Push frames of requests on this node handed to its sockets. */
  pushesDelivered(count: number): void {
    this.localPushes += count
  }

  /** A push came from the bus and went to `delivered` sockets of this node. */
  busPushReceived(delivered: number): void {
    this.busReceived++
    this.busPushes += delivered
    this.framesSent += delivered
  }

  /** Pushes published on the bus (one per recipient user). */
  busPushesPublished(count: number): void {
    this.busPublished += count
  }

  /**
   * The time between a node publishing a push and this node receiving it, in ms of wall clock
   * (`Date.now()` of the publisher against this node's): for bus.ts. Below zero (clocks apart) is 0.
   */
  busLag(ms: number): void {
    this.busLagSeries.observe(ms > 0 ? ms / 1000 : 0)
  }

  /** An HTTP request answered (`url`: req.url, its query ignored). */
  httpRequest(url: string | undefined, status: number): void {
    const raw = url ?? '/'
    const query = raw.indexOf('?')
    const path = query < 0 ? raw : raw.slice(0, query)
    const key = HTTP_PATHS.has(path) ? path : 'other'
    let byStatus = this.http.get(key)
    if (!byStatus) {
      byStatus = new Map()
      this.http.set(key, byStatus)
    }
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1)
  }

  private *opCounts(): Iterable<[Partial<Record<'op' | 'code', string>>, number]> {
    for (const [op, series] of this.ops)
      for (const [code, value] of series.codes) yield [{ op, code: nameOf(code) }, value]
  }

  private *httpCounts(): Iterable<[Partial<Record<'path' | 'status', string>>, number]> {
    for (const [path, byStatus] of this.http)
      for (const [status, value] of byStatus) yield [{ path, status: String(status) }, value]
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest()
}

function nameOf(code: CodeValue): string {
  return codeName(code) ?? String(code)
}

function mapEntries<K, L>(map: Map<K, number>, labels: (key: K) => L): [L, number][] {
  return [...map].map(([key, value]) => [labels(key), value])
}
