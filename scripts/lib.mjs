// Helpers shared by the launch scripts (start, accounts, dist). Plain Node, no build step.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = resolve(fileURLToPath(new URL('..', import.meta.url)))
export const DEFAULT_PORT = 7700

export function tsxArgs(script) {
  return ['--import', 'tsx', join(root, script)]
}

function installedElectron() {
  const dir = join(root, 'node_modules/electron')
  const pathFile = join(dir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const binary = join(
    process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(dir, 'dist'),
    readFileSync(pathFile, 'utf8'),
  )
  return existsSync(binary) ? binary : null
}

/**
 * The path of the Electron binary, or null where none can be had (our build machines cannot
 * download it). electron 45 downloads its binary on first use; try that once, quietly.
 */
export function electronBinary() {
  const found = installedElectron()
  if (found) return found
  spawnSync(process.execPath, [join(root, 'node_modules/electron/install.js')], {
    stdio: 'ignore',
    timeout: 180_000,
  })
  return installedElectron()
}

export async function serverAnswers(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1000) })
    const body = await res.json()
    return body?.ok === true
  } catch {
    return false
  }
}

/**
 * Starts the local IM server as its own detached process (closing one window must not cut the
 * other accounts off), unless one already answers on that port. Returns its ws URL.
 */
export async function ensureLocalServer(port = DEFAULT_PORT, dataDir = join(root, '.local-server')) {
  const url = `ws://127.0.0.1:${port}/ws`
  if (await serverAnswers(port)) return { url, started: false }
  mkdirSync(dataDir, { recursive: true })
  const log = openSync(join(dataDir, 'server.log'), 'a')
  const child = spawn(
    process.execPath,
    [...tsxArgs('src/server/cli.ts'), '--port', String(port), '--data', dataDir],
    {
      cwd: root,
      detached: true,
      stdio: ['ignore', log, log],
    },
  )
  child.unref()
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (await serverAnswers(port)) return { url, started: true, pid: child.pid }
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`the local server did not start on port ${port}; see ${join(dataDir, 'server.log')}`)
}

export function buildApp() {
  const res = spawnSync(
    process.execPath,
    [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'],
    {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  if (res.status !== 0) throw new Error('the app build failed (npm run build shows why)')
}

/** Starts a headless host and resolves with the URL it prints. */
export function startHeadless({ profile, serverUrl, login, port = 0 }) {
  const args = [
    ...tsxArgs('src/main/hosts/headless/cli.ts'),
    '--profile',
    profile,
    '--server',
    serverUrl,
    '--port',
    String(port),
  ]
  if (login) args.push('--login', login)
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  return new Promise((resolvePromise, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      const match = /https?:\/\/\S+/.exec(out)
      if (match) {
        child.stdout.removeAllListeners('data')
        child.stdout.pipe(process.stdout)
        resolvePromise({ child, url: match[0] })
      }
    })
    child.on('exit', (code) => reject(new Error(`the headless host for ${profile} exited (${code})`)))
  })
}
