/**
 * The processes the e2e tests and `npm run screenshots` start (a server on port 0, headless hosts),
 * and the Chromium they drive: shared by e2e/fixtures.ts, playwright.config.ts and scripts/screenshots.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')

/** CHROMIUM_PATH, else Debian's binary (directly: /usr/bin/chromium is a noisy wrapper), else none (Playwright's own). */
export function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH
  return ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p))
}

/** Spawns a tsx process in the repository and resolves with the first URL matching `pattern` that it prints. */
export function spawnForUrl(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()))
  return new Promise((resolveUrl, reject) => {
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const m = pattern.exec(out)
      if (m) resolveUrl({ child, url: m[0] })
    })
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with ${code}: ${err.slice(-500)}`)))
  })
}

/** SIGTERM, resolved once the process has exited. */
export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve()
  return new Promise((r) => {
    child.once('exit', () => r())
    child.kill('SIGTERM')
  })
}
