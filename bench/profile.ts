/**
 * npm run bench:profile [-- --pairs 100 --messages 100 --runs 3 --strace --cpu-prof]
 *
 * Where our server's time goes under the s6 workload (single chats, a delivery and a read receipt
 * per message): the server runs as its own process, as in `npm run bench`, and this prints
 * - user and system CPU seconds of the server per 10k messages (from /proc/<pid>/stat);
 * - with --strace: the server's system calls per message, by call (`strace -c -f -p <pid>`; it
 *   slows the server, so its CPU figures are not compared with the others);
 * - with --cpu-prof: a V8 CPU profile of the server (written to bench/results/profile/), and its
 *   top functions by self time.
 * Nothing here asserts a time; BENCHMARKS.md quotes its output.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { pairUp, runPairs } from './lib/load'
import { OursEndpoint } from './lib/oursEndpoint'
import { cpuTimes } from './lib/proc'
import { openServerStorage, seedAccounts, spawnServer } from './lib/server'
import { fmt, median } from './lib/stats'
import { pool, WireClient } from './lib/wire'

const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '100' },
    messages: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    strace: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
  },
})
const pairCount = Number(values.pairs)
const messages = Number(values.messages)
const runs = Number(values.runs)
const root = resolve(import.meta.dirname, '..')
const profileDir = join(root, 'bench/results/profile')

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
}

/** Self time by function (name and file:line), largest first, as shares of all samples. */
function topFunctions(file: string, count: number): { share: number; name: string }[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as { nodes: ProfileNode[] }
  const total = profile.nodes.reduce((n, node) => n + (node.hitCount ?? 0), 0)
  const byName = new Map<string, number>()
  for (const node of profile.nodes) {
    const { functionName, url, lineNumber } = node.callFrame
    const where = url ? `${url.replace(/^.*\/(node_modules|src)\//, '$1/')}:${lineNumber + 1}` : ''
    const name = `${functionName || '(anonymous)'} ${where}`.trim()
    byName.set(name, (byName.get(name) ?? 0) + (node.hitCount ?? 0))
  }
  return [...byName.entries()]
    .map(([name, hits]) => ({ name, share: hits / total }))
    .sort((a, b) => b.share - a.share)
    .slice(0, count)
}

const tmp = mkdtempSync(join(tmpdir(), 'im-profile-'))
const log = (line: string): void => void process.stdout.write(`${line}\n`)
try {
  const users = Array.from({ length: pairCount * 2 }, (_, i) => `u${String(i).padStart(4, '0')}`)
  const dataDir = join(tmp, 'server')
  const storage = openServerStorage(dataDir)
  const accounts = await seedAccounts(storage, users)
  await storage.close()
  if (values['cpu-prof']) {
    rmSync(profileDir, { recursive: true, force: true })
    mkdirSync(profileDir, { recursive: true })
    process.env.BENCH_CPU_PROF = profileDir
  }
  const server = await spawnServer({ dataDir })
  delete process.env.BENCH_CPU_PROF
  const clients = await pool(
    accounts,
    50,
    async (a) => new OursEndpoint(await WireClient.connect(server.url, a)),
  )
  const pairs = pairUp(clients)
  await runPairs(pairs, { messages: 10, window: 10 })

  const total = pairCount * messages
  const per10k = (s: number): number => (s / total) * 10_000
  const samples: { user: number; system: number; msgsPerS: number; p99: number }[] = []
  for (let run = 0; run < runs; run++) {
    const before = cpuTimes(server.pid)
    const result = await runPairs(pairs, { messages, window: 10 })
    const after = cpuTimes(server.pid)
    samples.push({
      user: per10k(after.user - before.user),
      system: per10k(after.system - before.system),
      msgsPerS: result.messagesPerS,
      p99: result.readReceiptMs.p99,
    })
  }
  const m = (f: (s: (typeof samples)[number]) => number): string => fmt(median(samples.map(f)))
  log(
    `${pairCount} pairs x ${messages} messages, a delivery and a read receipt each; median of ${runs} run(s)`,
  )
  log(
    `server CPU s per 10k messages: user ${m((s) => s.user)}, system ${m((s) => s.system)}, total ${m((s) => s.user + s.system)}`,
  )
  log(`messages/s ${m((s) => s.msgsPerS)}, read receipt p99 ${m((s) => s.p99)} ms`)

  if (values.strace) {
    const out = join(tmp, 'strace.txt')
    const tracer = spawn('strace', ['-c', '-f', '-o', out, '-p', String(server.pid)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    // strace says on stderr when it has attached to every thread of the server.
    await new Promise<void>((attached, failed) => {
      let said = ''
      tracer.stderr.on('data', (chunk: Buffer) => {
        said += chunk.toString()
        if (/attached/.test(said)) attached()
      })
      tracer.once('exit', (code) => failed(new Error(`strace exited with ${code}: ${said}`)))
      tracer.once('error', (error) =>
        failed(new Error(`strace could not start (${error.message}); apt-get install strace`)),
      )
    })
    await runPairs(pairs, { messages, window: 10 })
    tracer.kill('SIGINT')
    await new Promise((r) => tracer.once('exit', r))
    const rows = readFileSync(out, 'utf8')
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f.length >= 5 && /^\d/.test(f[0] ?? '') && !Number.isNaN(Number(f[3])))
      .map((f) => ({ call: f.at(-1) as string, calls: Number(f[3]) }))
      .filter((r) => r.call !== 'total')
      .sort((a, b) => b.calls - a.calls)
    const all = rows.reduce((n, r) => n + r.calls, 0)
    log(`system calls per message (strace -c -f, one run of ${total}): ${fmt(all / total)} in all`)
    for (const r of rows.slice(0, 8)) log(`  ${r.call}: ${fmt(r.calls / total)}`)
  }

  await Promise.all(clients.map((c) => c.close()))
  await server.close()
  if (values['cpu-prof']) {
    const file = readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))
    if (file) {
      log(`V8 CPU profile of the server: bench/results/profile/${file}; top functions by self time:`)
      for (const f of topFunctions(join(profileDir, file), 25))
        log(`  ${(f.share * 100).toFixed(1)}%  ${f.name}`)
    }
  }
} finally {
  rmSync(tmp, { recursive: true, force: true })
}
