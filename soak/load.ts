/**
 * The load test: the server in its own process, `generators` load-generator processes with
 * `clients` accounts between them, messages and receipts flowing for `duration` seconds; the
 * server's memory (RSS) and CPU sampled from /proc every 5 s. Bounded: it stops by itself.
 *
 *   tsx soak/load.ts [--clients 2000] [--duration 300] [--generators 2] [--interval-ms 5000] [--json <file>]
 *
 * Prints progress on stderr and one JSON report line on stdout; exits 1 on any error, any lost
 * message or receipt, or server memory that keeps growing after warm-up.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '2000' },
    duration: { type: 'string', default: '300' },
    generators: { type: 'string', default: '2' },
    'interval-ms': { type: 'string', default: '5000' },
    json: { type: 'string' },
  },
})
const CLIENTS = Number(values.clients)
const DURATION_S = Number(values.duration)
const GENERATORS = Number(values.generators)
const INTERVAL_MS = Number(values['interval-ms'])
/** RSS may grow by this much between the first and the last quarter of the run after warm-up. */
const MAX_GROWTH = 0.15

const root = join(import.meta.dirname, '..')

function tsx(script: string, args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(root, script), ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
}

function lines(child: ChildProcess, onLine: (line: string) => void): void {
  let buffer = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    for (let i = buffer.indexOf('\n'); i >= 0; i = buffer.indexOf('\n')) {
      onLine(buffer.slice(0, i))
      buffer = buffer.slice(i + 1)
    }
  })
}

interface Sample {
  atS: number
  rssMb: number
  cpuS: number
}

function sample(pid: number, startedAt: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12])
  return { atS: (Date.now() - startedAt) / 1000, rssMb: Math.round(rssKb / 102.4) / 10, cpuS: ticks / 100 }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? 0 : (s[Math.floor(s.length / 2)] as number)
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'im-load-'))
  const server = tsx('soak/loadServer.ts', [dataDir])
  const serverExit = new Promise<void>((resolve) => server.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    lines(server, (line) => {
      const match = /listening at (\S+)/.exec(line)
      if (match?.[1]) resolve(match[1])
    })
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
  })
  const startedAt = Date.now()
  const samples: Sample[] = []
  const sampler = setInterval(() => samples.push(sample(server.pid as number, startedAt)), 5000)
  samples.push(sample(server.pid as number, startedAt))

  const perGenerator = Math.ceil(CLIENTS / GENERATORS)
  const reports = await Promise.all(
    Array.from({ length: GENERATORS }, (_, g) => {
      const prefix = `l${String.fromCharCode(97 + g)}`
      const child = tsx('soak/loadGenerator.ts', [
        '--url',
        url,
        '--clients',
        String(Math.min(perGenerator, CLIENTS - g * perGenerator)),
        '--prefix',
        prefix,
        '--duration-ms',
        String(DURATION_S * 1000),
        '--interval-ms',
        String(INTERVAL_MS),
      ])
      return new Promise<Record<string, unknown>>((resolve, reject) => {
        lines(child, (line) => {
          if (line.startsWith('{')) resolve(JSON.parse(line) as Record<string, unknown>)
        })
        child.once('exit', (code) => {
          if (code !== 0) reject(new Error(`generator ${prefix} exited with ${code}`))
        })
      })
    }),
  )
  clearInterval(sampler)
  samples.push(sample(server.pid as number, startedAt))
  server.kill('SIGTERM')
  await serverExit
  rmSync(dataDir, { recursive: true, force: true })

  // Warm-up: the first quarter (accounts, sockets, groups, caches). Flat: the last quarter's median
  // RSS is within MAX_GROWTH of the second quarter's.
  const total = samples.at(-1)?.atS ?? 0
  const q = (from: number, to: number) =>
    samples.filter((s) => s.atS >= total * from && s.atS <= total * to).map((s) => s.rssMb)
  const afterWarmUp = median(q(0.25, 0.5))
  const end = median(q(0.75, 1))
  const growth = afterWarmUp > 0 ? (end - afterWarmUp) / afterWarmUp : 0
  const cpuS = (samples.at(-1)?.cpuS ?? 0) - (samples[0]?.cpuS ?? 0)
  const sum = (key: string, sub: string) =>
    reports.reduce((n, r) => n + Number((r[key] as Record<string, number>)[sub] ?? 0), 0)
  const result = {
    command: `npx tsx soak/load.ts --clients ${CLIENTS} --duration ${DURATION_S} --generators ${GENERATORS} --interval-ms ${INTERVAL_MS}`,
    clients: CLIENTS,
    durationS: DURATION_S,
    generators: reports,
    totals: {
      messages: sum('sent', 'private') + sum('sent', 'group'),
      receipts: sum('receipts', 'delivered') + sum('receipts', 'read') + sum('receipts', 'groupAcks'),
      errors: reports.reduce((n, r) => n + Number(r.errors), 0),
      lost:
        sum('lost', 'messages') + sum('lost', 'delivered') + sum('lost', 'read') + sum('lost', 'groupAcks'),
    },
    server: {
      rssMb: {
        first: samples[0]?.rssMb,
        afterWarmUp,
        end,
        max: Math.max(...samples.map((s) => s.rssMb)),
        growth: Math.round(growth * 1000) / 10,
      },
      cpuPercent: Math.round((cpuS / total) * 1000) / 10,
      samples: samples.map((s) => [Math.round(s.atS), s.rssMb]),
    },
  }
  const text = JSON.stringify(result)
  if (values.json) writeFileSync(values.json, `${text}\n`)
  process.stdout.write(`${text}\n`)
  const ok = result.totals.errors === 0 && result.totals.lost === 0 && growth <= MAX_GROWTH
  process.stderr.write(
    `load: ${CLIENTS} clients, ${DURATION_S} s: ${result.totals.messages} messages, ${result.totals.receipts} receipts, ` +
      `${result.totals.errors} errors, ${result.totals.lost} lost; server RSS ${afterWarmUp} → ${end} MB ` +
      `(${result.server.rssMb.growth}%), CPU ${result.server.cpuPercent}% → ${ok ? 'OK' : 'FAILED'}\n`,
  )
  process.exit(ok ? 0 : 1)
}

main().catch((err: unknown) => {
  process.stderr.write(`load: ${err instanceof Error ? err.stack : String(err)}\n`)
  process.exit(1)
})
