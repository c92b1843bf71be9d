// Electron security check for CI: runs electronegativity (pinned) on the sources and on the built
// app (`npm run build` first), reads its SARIF output (it always exits 0, whatever it finds), and
// fails on every finding that security/electronegativity-allowlist.json does not explain.
//
//   node scripts/electronegativity.mjs [--src-only]
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from './lib.mjs'

const TOOL = '@doyensec/electronegativity@1.10.3'
const electron = JSON.parse(
  readFileSync(join(root, 'package.json'), 'utf8'),
).devDependencies.electron.replace(/^[^\d]*/, '')
const targets = process.argv.includes('--src-only') ? ['src'] : ['src', 'out']

if (targets.includes('out') && !existsSync(join(root, 'out/main/index.js'))) {
  console.error('electronegativity: no built app in out/: run "npm run build" first (or pass --src-only)')
  process.exit(2)
}

const allowlistFile = join(root, 'security/electronegativity-allowlist.json')
const { entries } = JSON.parse(readFileSync(allowlistFile, 'utf8'))
for (const entry of entries) {
  if (!entry.check || !entry.file || typeof entry.reason !== 'string' || entry.reason.trim().length < 20) {
    console.error(
      `electronegativity: allowlist entry without a check, a file or a real reason: ${JSON.stringify(entry)}`,
    )
    process.exit(2)
  }
}

const work = mkdtempSync(join(tmpdir(), 'electronegativity-'))
const findings = []
try {
  for (const dir of targets) {
    const sarif = join(work, `${dir}.sarif`)
    const run = spawnSync('npx', ['-y', TOOL, '-i', dir, '-r', '-e', electron, '-o', sarif], {
      cwd: root,
      encoding: 'utf8',
    })
    if (!existsSync(sarif)) {
      console.error(
        `electronegativity: no report for ${dir}/ (exit ${run.status})\n${run.stdout}\n${run.stderr}`,
      )
      process.exit(2)
    }
    const report = JSON.parse(readFileSync(sarif, 'utf8'))
    for (const result of report.runs?.[0]?.results ?? []) {
      for (const location of result.locations ?? [{}]) {
        const physical = location.physicalLocation ?? {}
        findings.push({
          check: result.ruleId,
          file: `${dir}/${physical.artifactLocation?.uri ?? '?'}`,
          line: physical.region?.startLine ?? 0,
          level: result.level,
          message: result.message?.text ?? '',
        })
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true })
}

const explained = (f) => entries.some((e) => e.check === f.check && e.file === f.file)
const unexplained = findings.filter((f) => !explained(f))
const unused = entries.filter((e) => !findings.some((f) => f.check === e.check && f.file === e.file))

for (const f of unexplained)
  console.log(`electronegativity: ${f.check} at ${f.file}:${f.line} (${f.level}): ${f.message}`)
for (const e of unused)
  console.log(`electronegativity: allowlist entry ${e.check} for ${e.file} matched nothing; remove it`)
console.log(
  `electronegativity ${TOOL.split('@').at(-1)} (Electron ${electron}) on ${targets.join(', ')}: ` +
    `${findings.length} findings, ${findings.length - unexplained.length} explained in the allowlist, ${unexplained.length} unexplained`,
)
process.exit(unexplained.length > 0 ? 1 : 0)
