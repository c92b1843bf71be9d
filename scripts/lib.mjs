// Helpers shared by the launch scripts (start, accounts, dist). Plain Node, no build step.
import { spawn, spawnSync } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
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

/**
 * Who answers on the port: 'none', 'ours' (it proved it holds `dataDir`/server-secret, see
 * src/server/dataDir.ts), or 'other' (anything else: another program, or another server of ours
 * with another data folder, say another user's). Passwords go only to 'ours'.
 */
async function whoAnswers(port, dataDir) {
  const challenge = randomBytes(16).toString('hex')
  let body
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health?challenge=${challenge}`, {
      signal: AbortSignal.timeout(1000),
    })
    body = await res.json()
  } catch (err) {
    // Nothing listens, or nothing that speaks HTTP and JSON.
    return err?.cause?.code === 'ECONNREFUSED' || err?.name === 'TimeoutError' ? 'none' : 'other'
  }
  const secretFile = join(dataDir, 'server-secret')
  if (!existsSync(secretFile) || typeof body?.proof !== 'string') return 'other'
  const secret = Buffer.from(readFileSync(secretFile, 'utf8').trim(), 'hex')
  const expected = createHmac('sha256', secret).update(challenge).digest('hex')
  return body.proof === expected ? 'ours' : 'other'
}

/**
 * Starts the local IM server as its own detached process (closing one window must not cut the
 * other accounts off), unless ours already answers on that port. Returns its ws URL. Throws when
 * something else answers there: the app would send it the passwords.
 */
export async function ensureLocalServer(port = DEFAULT_PORT, dataDir = join(root, '.local-server')) {
  const url = `ws://127.0.0.1:${port}/ws`
  const notOurs = () =>
    new Error(
      `something answers on 127.0.0.1:${port} but it is not the server of ${dataDir} (it cannot prove it holds ${join(dataDir, 'server-secret')}); stop it, or use another --port`,
    )
  const found = await whoAnswers(port, dataDir)
  if (found === 'ours') return { url, started: false }
  if (found === 'other') throw notOurs()
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  chmodSync(dataDir, 0o700)
  const log = openSync(join(dataDir, 'server.log'), 'a', 0o600)
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
    const now = await whoAnswers(port, dataDir)
    if (now === 'ours') return { url, started: true, pid: child.pid }
    if (now === 'other' && existsSync(join(dataDir, 'server-secret'))) throw notOurs()
    if (child.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`the local server did not start on port ${port}; see ${join(dataDir, 'server.log')}`)
}

/** The command line of a running process, or null when it is gone (Linux /proc, else `ps`). */
function commandLine(pid) {
  if (existsSync('/proc')) {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
    } catch {
      return null
    }
  }
  const res = spawnSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' })
  return res.status === 0 ? res.stdout.trim() : null
}

function alive(pid) {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

/**
 * `npm run server:stop`: stops the servers of `dataDir` and only them. Each one the CLI started keeps
 * `server-<port>.pid` in its data folder (0700) while it serves; a pid whose process is gone, or is no
 * longer our server's CLI (the pid was reused), is a stale file and is removed, never signalled.
 * Resolves with what was done, one entry per pid file: { port, pid, result: 'stopped' | 'stale' | 'timeout' }.
 */
export async function stopLocalServers(dataDir = join(root, '.local-server'), timeoutMs = 15_000) {
  const files = existsSync(dataDir)
    ? readdirSync(dataDir).filter((name) => /^server-\d+\.pid$/.test(name))
    : []
  const done = []
  for (const name of files) {
    const file = join(dataDir, name)
    const port = Number(/\d+/.exec(name)[0])
    const pid = Number(readFileSync(file, 'utf8').trim())
    const cmd = Number.isInteger(pid) && pid > 0 ? commandLine(pid) : null
    if (!cmd || !cmd.includes('src/server/cli.ts')) {
      rmSync(file, { force: true })
      done.push({ port, pid, result: 'stale' })
      continue
    }
    process.kill(pid, 'SIGTERM')
    const deadline = Date.now() + timeoutMs
    while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    const stopped = !alive(pid)
    // A server killed without its shutdown leaves the file; it is stale now.
    if (stopped) rmSync(file, { force: true })
    done.push({ port, pid, result: stopped ? 'stopped' : 'timeout' })
  }
  return done
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

/**
 * The password of the account a profile signs in with (npm run accounts): random, made once and
 * kept in `<profile>/password` (0600), so it never appears on a command line. `created` says whether
 * it was just made (the caller prints it, once).
 */
export function profilePassword(profileDir) {
  const file = join(profileDir, 'password')
  if (existsSync(file)) return { password: readFileSync(file, 'utf8').trim(), created: false }
  mkdirSync(profileDir, { recursive: true, mode: 0o700 })
  const password = randomBytes(18).toString('base64url')
  writeFileSync(file, `${password}\n`, { mode: 0o600, flag: 'wx' })
  return { password, created: true }
}

/**
 * Starts a headless host and resolves with the URL it prints. With `login`, it signs in as that user
 * with the password in `passwordFile` (never on its command line).
 */
export function startHeadless({ profile, serverUrl, login, passwordFile, port = 0 }) {
  const args = [
    ...tsxArgs('src/main/hosts/headless/cli.ts'),
    '--profile',
    profile,
    '--server',
    serverUrl,
    '--port',
    String(port),
  ]
  if (login) args.push('--login', login, '--password-file', passwordFile)
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
