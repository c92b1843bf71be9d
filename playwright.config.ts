import { existsSync } from 'node:fs'
import { defineConfig } from '@playwright/test'
import { chromiumPath } from './e2e/processes'

/**
 * E2E runs through the headless host in Chromium (Debian's, where Playwright's own browser cannot be
 * downloaded). IM_E2E_HOST=electron runs the same specs with `_electron.launch` where an Electron
 * binary exists. Each test gets a fresh server and fresh profiles (see e2e/fixtures.ts).
 */
if (process.env.IM_E2E_HOST === 'electron' && !existsSync('node_modules/electron/path.txt')) {
  console.log('IM_E2E_HOST=electron: no Electron binary exists on this machine, so every spec is skipped.')
}

export default defineConfig({
  testDir: 'e2e',
  // Every test starts a server, several engines and browser contexts: on two cores, one at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // Under CI a test that fails is run once more; one that then passes counts as passed but is named
  // as flaky in npm test's summary (scripts/test.mjs), so a flake is seen, not hidden. Locally: none.
  retries: process.env.CI ? 1 : 0,
  // Traces and screenshots of failures; kept apart from the JSON reports, which Playwright must not clear.
  outputDir: 'test-results/playwright',
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    launchOptions: {
      executablePath: chromiumPath(),
      // Chromium's background connections are refused on our closed build network.
      args: [
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-gpu',
      ],
    },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
})
