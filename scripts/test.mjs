// npm test: unit + integration (vitest), then e2e (Playwright, after a build). Prints one line
// "N passed, N failed" from both JSON reports and exits non-zero on any failure.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './lib.mjs'

const results = join(root, 'test-results')
rmSync(results, { recursive: true, force: true })
mkdirSync(results, { recursive: true })
const bin = (name) => join(root, 'node_modules/.bin', name)
const run = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }).status ?? 1

const only = process.argv[2] // "unit" or "e2e" to run one half
const statuses = []
let passed = 0
let failed = 0

if (only !== 'e2e') {
  const unit = join(results, 'unit.json')
  statuses.push(
    run(bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${unit}`]),
  )
  // Counted at once, so that nothing running later can take the report away.
  if (existsSync(unit)) {
    const r = JSON.parse(readFileSync(unit, 'utf8'))
    passed += r.numPassedTests
    failed += r.numFailedTests
    if (r.numTotalTests === 0) failed += 1
  }
}

/**
 * E2E drives Chromium: the one CHROMIUM_PATH names, else Debian's, else Playwright's own. Where there
 * is none, `npm test` installs one, saying so in one line: Debian's package when this user may
 * (root, or sudo without a password), else Playwright's download; it stops with one line only when
 * neither works (no root and no network for Playwright's download).
 */
async function ensureChromium() {
  if (process.env.IM_E2E_HOST === 'electron') return true
  const debian = ['/usr/lib/chromium/chromium', '/usr/bin/chromium']
  if (process.env.CHROMIUM_PATH || debian.some((p) => existsSync(p))) return true
  const { chromium } = await import('@playwright/test')
  if (existsSync(chromium.executablePath())) return true
  // root runs apt-get itself; anyone else only through sudo that asks for no password.
  const asRoot = process.getuid?.() === 0
  const quiet = (cmd, args) => spawnSync(cmd, args, { cwd: root, stdio: 'ignore' }).status ?? 1
  const apt = (...args) => (asRoot ? quiet('apt-get', args) : quiet('sudo', ['-n', 'apt-get', ...args]))
  if (existsSync('/usr/bin/apt-get') && (asRoot || quiet('sudo', ['-n', 'true']) === 0)) {
    console.log('test: no Chromium for the e2e tests; installing Debian’s (apt-get install chromium)')
    process.env.DEBIAN_FRONTEND = 'noninteractive'
    if (apt('update', '-qq') === 0 && apt('install', '-y', '-qq', 'chromium') === 0) return true
  }
  console.log(
    'test: no Chromium for the e2e tests; downloading Playwright’s (npx playwright install chromium)',
  )
  if (quiet(bin('playwright'), ['install', 'chromium']) === 0 && existsSync(chromium.executablePath()))
    return true
  console.log(
    'test: e2e needs Chromium and none could be installed here: run `sudo apt-get install chromium` ' +
      '(or `npx playwright install chromium` where its download is reachable, or set CHROMIUM_PATH), then npm test again',
  )
  return false
}

if (only !== 'unit') {
  const built = (await ensureChromium()) ? run(bin('electron-vite'), ['build']) : 1
  statuses.push(built === 0 ? run(bin('playwright'), ['test']) : built)
  const e2e = join(results, 'e2e.json')
  if (existsSync(e2e)) {
    const r = JSON.parse(readFileSync(e2e, 'utf8'))
    passed += r.stats.expected + r.stats.flaky
    failed += r.stats.unexpected
    for (const title of flakyTitles(r.suites ?? []))
      console.log(`test: FLAKY (failed, then passed on its retry): ${title}`)
  }
}

/** The titles of the tests of a Playwright JSON report whose outcome was 'flaky'. */
function flakyTitles(suites) {
  const out = []
  for (const suite of suites) {
    for (const spec of suite.specs ?? [])
      for (const t of spec.tests ?? []) if (t.status === 'flaky') out.push(`${spec.file}: ${spec.title}`)
    out.push(...flakyTitles(suite.suites ?? []))
  }
  return out
}

const broken = statuses.some((s) => s !== 0)
if (broken && failed === 0) failed = 1 // a runner that crashed before reporting still fails the run
console.log(`${passed} passed, ${failed} failed`)
process.exit(broken || failed > 0 ? 1 : 0)
