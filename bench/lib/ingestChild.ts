/**
 * A client engine in its own process (so its memory is its own): signs in with a seeded session,
 * syncs everything the server holds for the account, and prints one JSON line with the time it took
 * and its memory. Started by scenario s2 with BENCH_INGEST (JSON).
 */
import { Engine } from '../../src/main/engine/engine'
import { engineDb, writeSignedInProfile } from './engineProfile'

interface Job {
  profileDir: string
  serverUrl: string
  userId: string
  token: string
  deviceId: string
}

const job = JSON.parse(process.env.BENCH_INGEST ?? '{}') as Job
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined)
const mib = (b: number): number => Math.round((b / 2 ** 20) * 10) / 10

writeSignedInProfile(job.profileDir, job, job.serverUrl)
gc()
const before = process.memoryUsage()
const engine = new Engine({
  profileDir: job.profileDir,
  host: 'headless',
  version: 'bench',
  defaultServerUrl: job.serverUrl,
  requestTimeoutMs: 120_000,
})
let peakHeap = 0
const sampler = setInterval(() => {
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
}, 20)
const cpu0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
const done = new Promise<void>((resolve, reject) => {
  engine.on('connectionState', (s) => {
    if (s.state === 'connected') resolve()
    if (s.state === 'unauthorized' || s.state === 'disconnected')
      reject(new Error(`engine ${s.state}: ${s.detail ?? ''}`))
  })
})
engine.start()
await done
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(cpu0)
clearInterval(sampler)
const stored = (engineDb(engine).prepare('SELECT count(*) AS n FROM messages').get() as { n: number }).n
gc()
const after = process.memoryUsage()
await engine.shutdown()
process.stdout.write(
  `${JSON.stringify({
    seconds,
    stored,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    heapBeforeMiB: mib(before.heapUsed),
    heapAfterMiB: mib(after.heapUsed),
    peakHeapMiB: mib(peakHeap),
    rssAfterMiB: mib(after.rss),
    rssBeforeMiB: mib(before.rss),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
  })}\n`,
)
process.exit(0)
