/**
 * Results: one JSON file per scenario under bench/results (bench/results/quick in --quick mode),
 * and a Markdown summary built from all of them, which `npm run bench` also writes into the marked
 * section of BENCHMARKS.md (full runs only).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'

interface Table {
  columns: string[]
  rows: (string | number)[][]
}

export interface Section {
  heading?: string
  text?: string
  table?: Table
}

/** One target of the issue: `ratio` is measured / allowed, so ≤ 1 means met. */
export interface TargetCheck {
  what: string
  target: string
  measured: string
  ratio: number | null
  met: boolean | null
}

export interface ScenarioResult {
  id: string
  title: string
  command: string
  mode: 'quick' | 'full'
  startedAt: string
  durationS: number
  machine: MachineInfo
  params: Record<string, unknown>
  sections: Section[]
  targets: TargetCheck[]
  charts: { file: string; caption: string }[]
  notes: string[]
  /** Set when the scenario could not run here, with the reason. */
  skipped?: string
  raw: unknown
}

export interface MachineInfo {
  nproc: number
  cpuModel: string
  memoryGiB: number
  node: string
  os: string
  sqlite: string
  loadAverageAtStart: number[]
}

export function machineInfo(): MachineInfo {
  let cpuModel = cpus()[0]?.model ?? 'unknown'
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))
    if (m?.[1]) cpuModel = m[1].trim()
  } catch {
    // not Linux
  }
  let os: string = process.platform
  try {
    os = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os
  } catch {
    // no os-release
  }
  let nproc = cpus().length
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc
  } catch {
    // no nproc
  }
  const db = new Database(':memory:')
  const sqlite = (db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v
  db.close()
  return {
    nproc,
    cpuModel,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os,
    sqlite,
    loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

export function writeResult(dir: string, result: ScenarioResult): void {
  writeFileSync(join(dir, `${result.id}.json`), JSON.stringify(result, null, 2) + '\n')
}

export function readResults(dir: string): ScenarioResult[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => /^s\d.*\.json$/.test(f))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as ScenarioResult)
}

function mdTable(t: Table): string {
  const head = `| ${t.columns.join(' | ')} |`
  const sep = `|${t.columns.map(() => '---').join('|')}|`
  const body = t.rows.map((r) => `| ${r.map((c) => String(c)).join(' | ')} |`)
  return [head, sep, ...body].join('\n')
}

function verdict(t: TargetCheck): string {
  if (t.met === null) return 'not measured'
  return t.met ? 'met' : '**missed**'
}

/** `linkPrefix`: how chart files are reached from the Markdown file that embeds this text. */
export function renderSummary(results: ScenarioResult[], linkPrefix: string): string {
  const out: string[] = []
  const machines = new Map<string, MachineInfo>()
  for (const r of results) machines.set(JSON.stringify({ ...r.machine, loadAverageAtStart: [] }), r.machine)
  out.push('### Machine\n')
  for (const m of machines.values()) {
    out.push(
      `- ${m.nproc} cores (\`nproc\`), ${m.cpuModel}, ${m.memoryGiB} GiB memory, ${m.os}, Node ${m.node}, SQLite ${m.sqlite}`,
    )
  }
  out.push('')
  out.push('| scenario | mode | run at | took | load average at start (1/5/15 min) |')
  out.push('|---|---|---|---|---|')
  for (const r of results)
    out.push(
      `| ${r.id} ${r.title} | ${r.mode} | ${r.startedAt} | ${Math.round(r.durationS)} s | ${r.machine.loadAverageAtStart.join(' / ')} |`,
    )
  out.push('')
  out.push('### Targets (ratio = measured / allowed: at most 1 meets the target)\n')
  out.push('| scenario | what | target | measured | ratio | verdict |')
  out.push('|---|---|---|---|---|---|')
  for (const r of results) {
    if (r.skipped) {
      out.push(`| ${r.id} | (scenario not run) | | ${r.skipped} | | not measured |`)
      continue
    }
    for (const t of r.targets)
      out.push(
        `| ${r.id} | ${t.what} | ${t.target} | ${t.measured} | ${t.ratio === null ? '–' : t.ratio.toFixed(2)} | ${verdict(t)} |`,
      )
  }
  out.push('')
  for (const r of results) {
    out.push(`### ${r.id}: ${r.title}\n`)
    out.push(`Command: \`${r.command}\` (${r.mode} mode, ${Math.round(r.durationS)} s)\n`)
    if (r.skipped) {
      out.push(`Not run: ${r.skipped}\n`)
      continue
    }
    for (const s of r.sections) {
      if (s.heading) out.push(`**${s.heading}**\n`)
      if (s.text) out.push(`${s.text}\n`)
      if (s.table) out.push(`${mdTable(s.table)}\n`)
    }
    for (const c of r.charts) out.push(`![${c.caption}](${linkPrefix}${c.file})\n`)
    for (const n of r.notes) out.push(`- ${n}`)
    if (r.notes.length > 0) out.push('')
  }
  return out.join('\n')
}

const BEGIN_MARK = '<!-- bench:results:begin (written by npm run bench; edit the prose outside) -->'
const END_MARK = '<!-- bench:results:end -->'

/** Replaces the marked section of BENCHMARKS.md; returns false when the markers are missing. */
export function updateBenchmarksMd(file: string, summary: string): boolean {
  if (!existsSync(file)) return false
  const text = readFileSync(file, 'utf8')
  const a = text.indexOf(BEGIN_MARK)
  const b = text.indexOf(END_MARK)
  if (a < 0 || b < a) return false
  writeFileSync(file, `${text.slice(0, a + BEGIN_MARK.length)}\n\n${summary}\n${text.slice(b)}`)
  return true
}
