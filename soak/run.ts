/**
 * npm run soak [-- --clients 2000 --duration 300 --generators 2 --skip-load]
 *
 * The long runs, each bounded, one after the other:
 * 1. the fuzz properties of the test suite with FUZZ_RUNS=100000 (vitest.soak.config.ts), the
 *    server SIGKILLed in the middle of 10,000 messages and receipts (soak/serverKill.soak.ts), and
 *    on three nodes NATS and then a node SIGKILLed in the middle of 10,000 (soak/multiNode.soak.ts);
 * 2. the load test: 2,000 clients for 5 minutes (soak/load.ts).
 * Writes the figures to bench/results/soak.md and exits non-zero if anything failed.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const USAGE =
  'usage: npm run soak [-- --clients 2000 --duration 300 --generators 2 --fuzz-runs 100000 --skip-load --from <dir>]'

const OPTIONS = {
  clients: { type: 'string', default: '2000' },
  duration: { type: 'string', default: '300' },
  generators: { type: 'string', default: '2' },
  'fuzz-runs': { type: 'string', default: '100000' },
  'skip-load': { type: 'boolean', default: false },
  /** Rewrites bench/results/soak.md from the reports of an earlier run kept in this folder. */
  from: { type: 'string' },
} as const
function parseOptions() {
  try {
    return parseArgs({ options: OPTIONS })
  } catch (err) {
    process.stderr.write(`soak: ${(err as Error).message}\n${USAGE}\n`)
    process.exit(2)
  }
}

const { values } = parseOptions()

const root = join(import.meta.dirname, '..')
const work = values.from ?? mkdtempSync(join(tmpdir(), 'im-soak-'))
const vitestJson = join(work, 'vitest.json')
const burstJsonl = join(work, 'burst.jsonl')
const loadJson = join(work, 'load.json')
const metaFile = join(work, 'meta.json')

function run(cmd: string, args: string[], env: Record<string, string> = {}): number {
  process.stderr.write(`soak: ${cmd} ${args.join(' ')}\n`)
  return spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } }).status ?? 1
}

const fresh = values.from === undefined
const started = new Date()
const fuzzStatus = !fresh
  ? 0
  : run(
      join(root, 'node_modules/.bin/vitest'),
      [
        'run',
        '-c',
        'vitest.soak.config.ts',
        '--reporter=default',
        '--reporter=json',
        `--outputFile.json=${vitestJson}`,
      ],
      { FUZZ_RUNS: values['fuzz-runs'], SOAK_REPORT: burstJsonl },
    )
const loadStatus =
  values['skip-load'] || !fresh
    ? 0
    : run(process.execPath, [
        '--import',
        'tsx',
        join(root, 'soak/load.ts'),
        '--clients',
        values.clients,
        '--duration',
        values.duration,
        '--generators',
        values.generators,
        '--json',
        loadJson,
      ])

// When the report is rewritten from an earlier run, its date and length come from that run.
const meta = fresh
  ? { started: started.toISOString(), seconds: Math.round((Date.now() - started.getTime()) / 1000) }
  : (JSON.parse(readFileSync(metaFile, 'utf8')) as { started: string; seconds: number })
if (fresh) writeFileSync(metaFile, JSON.stringify(meta))

interface VitestReport {
  numPassedTests: number
  numFailedTests: number
  testResults: { name: string; assertionResults: { title: string; status: string; duration?: number }[] }[]
}

const lines: string[] = [
  '# Soak results',
  '',
  `Command: \`npm run soak${values['skip-load'] ? ' -- --skip-load' : ''}\` (soak/run.ts), ${meta.started}, ${meta.seconds} s in all.`,
  `Machine: Node ${process.version}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; ` +
    'server, load generators and engines share it.',
  '',
  `## Fuzzing and the 10,000-message kills (FUZZ_RUNS=${values['fuzz-runs']})`,
  '',
]
if (existsSync(vitestJson)) {
  const report = JSON.parse(readFileSync(vitestJson, 'utf8')) as VitestReport
  lines.push('| file | test | status | seconds |', '|---|---|---|---|')
  for (const file of report.testResults) {
    for (const t of file.assertionResults) {
      lines.push(
        `| ${file.name.replace(`${root}/`, '')} | ${t.title} | ${t.status} | ${((t.duration ?? 0) / 1000).toFixed(1)} |`,
      )
    }
  }
  lines.push('', `${report.numPassedTests} passed, ${report.numFailedTests} failed.`, '')
} else {
  lines.push('vitest wrote no report (it crashed before the end).', '')
}
if (existsSync(burstJsonl)) {
  for (const line of readFileSync(burstJsonl, 'utf8').trim().split('\n')) {
    const r = JSON.parse(line) as {
      scenario?: string
      messages: number
      storedAtKill: number
      receiptCalls: number
      groupAcksOnServer: number
      readMarksOnServer: number
      moved?: number
      ms: { burstToKill: number; restartToConverged: number; total: number }
    }
    const figures =
      `${r.receiptCalls} receipt calls, ${r.groupAcksOnServer} group read acks and ${r.readMarksOnServer} ` +
      `single-chat reads on the server.`
    if (r.scenario === 'natsRestart' || r.scenario === 'nodeKill') {
      const nats = r.scenario === 'natsRestart'
      lines.push(
        nats
          ? '### NATS SIGKILLed mid-burst under three nodes (soak/multiNode.soak.ts)'
          : '### A node SIGKILLed mid-burst among three (soak/multiNode.soak.ts)',
        '',
        `${r.messages} messages among 9 engines of 6 users on three nodes over one PostgreSQL database ` +
          `(${r.storedAtKill} stored when ${nats ? 'NATS' : 'the node'} was killed), ${figures} ` +
          (nats
            ? `Killed ${r.ms.burstToKill} ms into the burst; every engine equal to the server ` +
              `${r.ms.restartToConverged} ms after NATS was back; `
            : `Killed ${r.ms.burstToKill} ms into the burst, ${r.moved ?? 0} engines moved to the other ` +
              `nodes; every engine equal to the server ${r.ms.restartToConverged} ms after the burst was stored; `) +
          `${(r.ms.total / 1000).toFixed(1)} s in all.`,
        '',
      )
      continue
    }
    lines.push(
      '### Server SIGKILLed mid-burst (soak/serverKill.soak.ts)',
      '',
      `${r.messages} messages between 8 engines (${r.storedAtKill} stored when the server was killed, the rest ` +
        `queued or written while it was down), ${figures} Killed ${r.ms.burstToKill} ms into the ` +
        `burst; every engine equal to the server ${r.ms.restartToConverged} ms after the restart; ` +
        `${(r.ms.total / 1000).toFixed(1)} s in all.`,
      '',
    )
  }
}
if (existsSync(loadJson)) {
  const r = JSON.parse(readFileSync(loadJson, 'utf8')) as {
    command: string
    clients: number
    durationS: number
    generators: { generator: string; latencyMs: Record<string, number>; sent: Record<string, number> }[]
    totals: { messages: number; receipts: number; errors: number; lost: number }
    server: {
      rssMb: { first: number; afterWarmUp: number; end: number; max: number; growth: number }
      cpuPercent: number
      samples: [number, number][]
    }
  }
  const lat = (p50: string, p99: string) =>
    r.generators.map((g) => `${g.latencyMs[p50]} / ${g.latencyMs[p99]}`).join('; ')
  lines.push(
    '## Load',
    '',
    `\`${r.command}\`: ${r.clients} clients (one WebSocket each, ${r.generators.length} generator processes) ` +
      `for ${r.durationS} s, the server in its own process with a file-backed database.`,
    '',
    '| figure | value |',
    '|---|---|',
    `| messages sent | ${r.totals.messages} (${Math.round(r.totals.messages / r.durationS)}/s) |`,
    `| receipts received by senders (delivered, read, group acks) | ${r.totals.receipts} |`,
    `| errors | ${r.totals.errors} |`,
    `| lost messages or receipts | ${r.totals.lost} |`,
    `| sendMessage reply, p50 / p99 (ms; one pair per generator) | ${lat('replyP50', 'replyP99')} |`,
    `| server timestamp to recipient, p50 / p99 (ms, whole ms; one pair per generator) | ${lat('deliveryP50', 'deliveryP99')} |`,
    `| server RSS: start / after warm-up / end / max (MB) | ${r.server.rssMb.first} / ${r.server.rssMb.afterWarmUp} / ${r.server.rssMb.end} / ${r.server.rssMb.max} |`,
    `| server RSS growth after warm-up | ${r.server.rssMb.growth} % |`,
    `| server CPU (share of one core, whole run) | ${r.server.cpuPercent} % |`,
    '',
    `RSS samples (s, MB): ${r.server.samples.map(([s, mb]) => `${s}:${mb}`).join(' ')}`,
    '',
  )
} else if (!values['skip-load']) {
  lines.push('## Load', '', 'The load test wrote no report (it failed before the end).', '')
}

mkdirSync(join(root, 'bench/results'), { recursive: true })
writeFileSync(join(root, 'bench/results/soak.md'), `${lines.join('\n')}\n`)
// Formatted like every other Markdown file of the repository.
spawnSync(join(root, 'node_modules/.bin/prettier'), ['--write', join(root, 'bench/results/soak.md')], {
  cwd: root,
})
process.stderr.write(`soak: wrote bench/results/soak.md\n`)
process.exit(fuzzStatus === 0 && loadStatus === 0 ? 0 : 1)
