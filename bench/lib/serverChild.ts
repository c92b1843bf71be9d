/**
 * The IM server as its own process for the load scenarios, so its CPU time and memory can be read
 * from /proc/<pid>. Started by bench/lib/server.ts with BENCH_SERVER_CONFIG (JSON). Prints one JSON
 * line `{ "url": … }` on stdout once listening.
 *
 * With countFrames, it counts WebSocket frames at the gateway (received, by operation) and on every
 * socket's send (replies and pushes, by event); the parent asks for the counts over the IPC channel.
 * The rate limit is lifted (it guards against a misbehaving client, it is not a capacity limit) and
 * password hashing is cheap, as in the tests; everything else is the server's defaults.
 */
import { WebSocket } from 'ws'
import type { GroupReceiptSettings } from '../../src/shared/model'
import { Gateway } from '../../src/server/gateway'
import { startServer } from '../../src/server/server'
import { openServerStorage } from './server'

interface Config {
  dataDir: string
  store?: string
  bus?: string
  countFrames?: boolean
  groupReceipts?: Partial<GroupReceiptSettings>
  /** Files and images (s9): the size limits of uploads. */
  files?: { maxFileBytes: number; maxImageBytes: number }
}

export interface FrameCounts {
  received: Record<string, number>
  sent: Record<string, number>
  receivedFrames: number
  sentFrames: number
  receivedBytes: number
  sentBytes: number
}

const config = JSON.parse(process.env.BENCH_SERVER_CONFIG ?? '{}') as Config

const counts: FrameCounts = {
  received: {},
  sent: {},
  receivedFrames: 0,
  sentFrames: 0,
  receivedBytes: 0,
  sentBytes: 0,
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1
}

if (config.countFrames) {
  const handleFrame = Gateway.prototype.handleFrame
  Gateway.prototype.handleFrame = function (this: Gateway, connection, text) {
    counts.receivedFrames++
    counts.receivedBytes += text.length
    bump(counts.received, /"op":"(\w+)"/.exec(text.slice(0, 80))?.[1] ?? '?')
    return handleFrame.call(this, connection, text)
  }
  const send = WebSocket.prototype.send as (this: WebSocket, data: unknown, ...rest: unknown[]) => void
  ;(WebSocket.prototype as unknown as { send: typeof send }).send = function (
    this: WebSocket,
    data,
    ...rest
  ) {
    if (typeof data === 'string') {
      counts.sentFrames++
      counts.sentBytes += data.length
      const head = data.slice(0, 60)
      bump(
        counts.sent,
        head.startsWith('{"type":"reply"') ? 'reply' : (/"event":"(\w+)"/.exec(head)?.[1] ?? '?'),
      )
    }
    return send.call(this, data, ...rest)
  }
}

// BENCH_SERVER_PRAGMAS (experiments only, e.g. "synchronous=OFF"): pragmas set on the server's database.
const pragmas = (process.env.BENCH_SERVER_PRAGMAS ?? '').split(',').filter(Boolean)
const storage = pragmas.length > 0 && !config.store ? openServerStorage(config.dataDir) : undefined
for (const p of pragmas) storage?.db.pragma(p)
const server = await startServer({
  port: 0,
  ...(storage ? { storage } : { dataDir: config.dataDir }),
  ...(config.store ? { store: config.store } : {}),
  ...(config.bus ? { bus: config.bus } : {}),
  logLevel: 'error',
  scrypt: { N: 1024, r: 8, p: 1 },
  rateLimit: { perSecond: 1e9, burst: 1e9 },
  // Load, not probes: every message asks for its receipts (the per-pair budget is off).
  deliveryReceiptBudget: { burst: 1e9, perMinute: 1e9 },
  // A benchmark account sends more in minutes than a person in a day: no daily quotas, no lookup
  // budget (both guard a shared server against one account, not capacity).
  quotas: { messagesPerDay: null, bytesPerDay: null, groupsPerDay: null },
  lookups: { burst: 1e9, perHour: 1e9 },
  // Up to 2,000 clients from one address; the byte budgets, like the rate limit, guard against one
  // misbehaving client and are not capacity limits (bench/abuse.ts measures them).
  authLimits: {
    registrationsPerAddress: { perHour: 1e9, burst: 1e9 },
    hashQueue: 1e6,
    hashesPerAddress: 1e6,
  },
  connectionLimits: {
    socketsPerAddress: 1e6,
    inboundBytesPerSecond: 1e12,
    inboundBurstBytes: 1e12,
    userInboundBytesPerSecond: 1e12,
    userInboundBurstBytes: 1e12,
  },
  ...(config.groupReceipts ? { groupReceipts: config.groupReceipts } : {}),
  ...(config.files ? { files: config.files } : {}),
})

process.on('message', (m: { type: string }) => {
  if (m.type === 'counts') process.send?.({ type: 'counts', counts })
  if (m.type === 'reset') {
    counts.received = {}
    counts.sent = {}
    counts.receivedFrames = counts.sentFrames = counts.receivedBytes = counts.sentBytes = 0
    process.send?.({ type: 'reset' })
  }
})
const stop = (): void => {
  void server.close().then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
process.on('disconnect', stop)
process.stdout.write(`${JSON.stringify({ url: server.url, httpUrl: server.httpUrl })}\n`)
