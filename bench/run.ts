/**
 * npm run bench [-- --quick] [-- --only 1,3,renderer] [-- --backends sqlite,pg-1,pg-3]
 *
 * Runs the performance scenarios of issue 5 (see BENCHMARKS.md), each several times, and writes
 * medians: bench/results/<scenario>.json, SVG charts beside them, bench/results/summary.md, and the
 * marked results section of BENCHMARKS.md. --quick uses small sizes (under 2 minutes in all) and
 * writes to bench/results/quick/ instead, leaving BENCHMARKS.md alone.
 *
 * --backends: what the server scenarios (s4, s5, s6) run on (bench/lib/backends.ts): SQLite, PostgreSQL
 * with one node, PostgreSQL with three nodes over NATS. Default: all three when PostgreSQL and NATS
 * answer (BENCH_PG_URL, BENCH_NATS_URL), else those that can run, with one line saying why.
 *
 * Never part of the test suite: nothing here asserts a time.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { chooseBackends, parseBackends, type BackendChoice } from './lib/backends'
import {
  machineInfo,
  readResults,
  renderSummary,
  updateBenchmarksMd,
  writeResult,
  type ScenarioResult,
} from './lib/report'
import type { Scenario } from './lib/types'
import { scenarios } from './scenarios/index'

setFlagsFromString('--expose-gc')
;(globalThis as { gc?: unknown }).gc = runInNewContext('gc')

const root = resolve(import.meta.dirname, '..')

function pick(only: string | undefined): Scenario[] {
  if (!only) return scenarios
  const wanted = only
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
  const chosen = scenarios.filter((s) => {
    const num = /^s(\d+)/.exec(s.id)?.[1] ?? ''
    const names = [s.id, num, `s${num}`, ...s.aliases]
    return wanted.some((w) => names.includes(w))
  })
  const unknown = wanted.filter(
    (w) =>
      !scenarios.some((s) =>
        [s.id, /^s(\d+)/.exec(s.id)?.[1], `s${/^s(\d+)/.exec(s.id)?.[1]}`, ...s.aliases].includes(w),
      ),
  )
  if (unknown.length > 0) {
    process.stderr.write(
      `unknown scenario ${unknown.join(', ')}; choose from: ${scenarios.map((s) => `${s.id} (${s.aliases.join(', ')})`).join('; ')}\n`,
    )
    process.exit(2)
  }
  return chosen
}

/** Written files in the repository's Prettier style, so `npm run format` leaves them alone. */
async function formatFiles(files: string[]): Promise<void> {
  const prettier = await import('prettier')
  for (const file of files) {
    const options = (await prettier.resolveConfig(file)) ?? {}
    writeFileSync(file, await prettier.format(readFileSync(file, 'utf8'), { ...options, filepath: file }))
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      backends: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(
      'usage: npm run bench [-- --quick] [-- --only <id|number|alias>[,…]] [-- --backends sqlite,pg-1,pg-3]\n' +
        scenarios
          .map(
            (s) =>
              `  ${s.id}  ${s.title}  (aliases: ${s.aliases.join(', ')})${s.usesBackends ? ' [backends]' : ''}\n`,
          )
          .join('') +
        '--backends: storage of the [backends] scenarios: sqlite (1 node), pg-1 (PostgreSQL, 1 node), pg-3\n' +
        '  (PostgreSQL, 3 nodes over NATS); default all three when PostgreSQL (BENCH_PG_URL, default\n' +
        '  postgres://postgres@127.0.0.1:5432/postgres) and NATS (BENCH_NATS_URL, default nats://127.0.0.1:4222) answer.\n',
    )
    return
  }
  const quick = values.quick ?? false
  const outDir = quick ? join(root, 'bench/results/quick') : join(root, 'bench/results')
  mkdirSync(outDir, { recursive: true })
  const chosen = pick(values.only)
  let requested
  try {
    requested = values.backends === undefined ? undefined : parseBackends(values.backends)
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(2)
  }
  const started = process.hrtime.bigint()
  const log = (m: string): void => {
    const t = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(1).padStart(6)
    process.stdout.write(`[${t}s] ${m}\n`)
  }
  log(`bench ${quick ? '--quick' : '(full)'}: ${chosen.map((s) => s.id).join(', ')}`)
  let backends: BackendChoice = { list: ['sqlite'] }
  if (chosen.some((s) => s.usesBackends)) {
    try {
      backends = await chooseBackends(requested)
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(2)
    }
    log(`backends: ${backends.list.join(', ')}${backends.postgres ? `; ${backends.postgres}` : ''}`)
    if (backends.note) log(backends.note)
  }
  let failures = 0
  for (const s of chosen) {
    const tmp = mkdtempSync(join(tmpdir(), `im-bench-${s.id}-`))
    const t0 = process.hrtime.bigint()
    const machine = machineInfo()
    log(`${s.id}: ${s.title}`)
    const command = `npm run bench -- ${quick ? '--quick ' : ''}--only ${s.id}${s.usesBackends && values.backends !== undefined ? ` --backends ${backends.list.join(',')}` : ''}`
    const startedAt = new Date().toISOString()
    // What every result carries, whether the scenario ran or failed.
    const header = () => ({
      id: s.id,
      title: s.title,
      command,
      mode: quick ? ('quick' as const) : ('full' as const),
      startedAt,
      durationS: Number(process.hrtime.bigint() - t0) / 1e9,
      machine,
    })
    let result: ScenarioResult
    try {
      const out = await s.run({
        quick,
        outDir,
        tmp,
        root,
        log: (m) => log(`  ${s.id}: ${m}`),
        backends: s.usesBackends ? backends : { list: ['sqlite'] },
      })
      result = { ...header(), ...out }
    } catch (error) {
      failures++
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error)
      log(`${s.id} FAILED: ${message}`)
      result = {
        ...header(),
        params: {},
        sections: [],
        targets: [],
        charts: [],
        notes: [],
        skipped: `failed: ${message.split('\n')[0]}`,
        raw: {},
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
    writeResult(outDir, result)
    for (const t of result.targets)
      log(`  ${t.met === null ? '·' : t.met ? '✓' : '✗'} ${t.what}: ${t.measured} (target ${t.target})`)
    if (result.skipped) log(`  not run: ${result.skipped}`)
  }
  const all = readResults(outDir)
  writeFileSync(join(outDir, 'summary.md'), renderSummary(all, '') + '\n')
  const written = [...chosen.map((s) => join(outDir, `${s.id}.json`)), join(outDir, 'summary.md')]
  if (!quick) {
    const updated = updateBenchmarksMd(join(root, 'BENCHMARKS.md'), renderSummary(all, 'bench/results/'))
    log(
      updated
        ? 'BENCHMARKS.md results section rewritten'
        : 'BENCHMARKS.md has no results markers: left alone',
    )
    if (updated) written.push(join(root, 'BENCHMARKS.md'))
  }
  await formatFiles(written)
  log(
    `done in ${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(0)} s; summary in ${join(outDir, 'summary.md')}`,
  )
  if (failures > 0) process.exitCode = 1
}

await main()
