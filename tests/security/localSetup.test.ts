/**
 * The local setup around the server and the app: who can read the server's files, whether the
 * launch scripts trust whatever answers on the port, whether a password shows in `ps`, and whether
 * the engine sends a password in clear to another machine.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { createLogger } from '../../src/server/log'
import { Code } from '../../src/shared/codes'
import { startTestServer, uniqueId, registerAndLogin } from '../server/helpers'

const root = join(import.meta.dirname, '../..')
const dirs: string[] = []
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'im-local-setup-'))
  dirs.push(dir)
  return dir
}

const mode = (path: string) => statSync(path).mode & 0o777

interface Lib {
  ensureLocalServer(port: number, dataDir: string): Promise<{ url: string; started: boolean }>
  stopLocalServers(
    dataDir: string,
  ): Promise<Array<{ port: number; pid: number; result: 'stopped' | 'stale' | 'timeout' }>>
}

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

async function answers(port: number): Promise<boolean> {
  try {
    await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) })
    return true
  } catch {
    return false
  }
}
const lib = async () => (await import(pathToFileURL(join(root, 'scripts/lib.mjs')).href)) as Lib

describe('server data folder', () => {
  it('is created 0700, and the database, its WAL and the server secret 0600, whatever the umask', async () => {
    const dataDir = join(tempDir(), 'data')
    const umask = process.umask(0o022)
    try {
      const server = await startTestServer({ dataDir })
      const client = await registerAndLogin(server)
      expect(client.token).toBeTruthy()
      expect(mode(dataDir)).toBe(0o700)
      for (const file of ['server.sqlite', 'server.sqlite-wal', 'server.sqlite-shm', 'server-secret'])
        expect(mode(join(dataDir, file)), file).toBe(0o600)
      await server.close()
    } finally {
      process.umask(umask)
    }
  })
})

describe('npm start and npm run accounts', () => {
  it('use the server on their port only if it proves it owns their data folder', async () => {
    const { ensureLocalServer } = await lib()
    const dataDir = join(tempDir(), 'server')
    // Something else answers on the port, with the very words our /health says.
    const impostor = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ ok: true, name: 'receipts-messenger-server', protocol: 1 }))
    })
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve))
    const { port } = impostor.address() as AddressInfo
    try {
      await expect(ensureLocalServer(port, dataDir)).rejects.toThrow(/not the server of/)
    } finally {
      await new Promise((resolve) => impostor.close(resolve))
    }
    // Our own server with another data folder (another user's, say) is refused too.
    const other = await startTestServer({ dataDir: join(tempDir(), 'other') })
    try {
      await expect(ensureLocalServer(other.port, dataDir)).rejects.toThrow(/not the server of/)
    } finally {
      await other.close()
    }
    const ours = await startTestServer({ dataDir })
    try {
      expect(await ensureLocalServer(ours.port, dataDir)).toMatchObject({ started: false })
    } finally {
      await ours.close()
    }
  })
})

describe('npm run server:stop', () => {
  it('stops the server of its data folder and nothing else; a stale pid file is removed, never signalled', async () => {
    const { ensureLocalServer, stopLocalServers } = await lib()
    const mine = join(tempDir(), 'server')
    const theirs = join(tempDir(), 'server')
    const [minePort, theirPort] = [await freePort(), await freePort()]
    await ensureLocalServer(minePort, mine)
    await ensureLocalServer(theirPort, theirs)
    // A pid file whose process is not our server (this test runner): left alone, the file removed.
    writeFileSync(join(mine, 'server-1.pid'), `${process.pid}\n`)
    try {
      const done = await stopLocalServers(mine)
      expect(done.sort((a, b) => a.port - b.port)).toEqual([
        { port: 1, pid: process.pid, result: 'stale' },
        { port: minePort, pid: expect.any(Number) as number, result: 'stopped' },
      ])
      expect(await answers(minePort)).toBe(false)
      expect(await answers(theirPort)).toBe(true)
      expect(readdirSync(mine).filter((f) => f.endsWith('.pid'))).toEqual([])
      expect(await stopLocalServers(mine)).toEqual([])
    } finally {
      await stopLocalServers(theirs)
      await stopLocalServers(mine)
    }
    expect(await answers(theirPort)).toBe(false)
  }, 60_000)
})

describe('headless host', () => {
  it('signs in with a password from a file, never from its command line', async () => {
    const lines: string[] = []
    const server = await startTestServer({ logger: createLogger('info', (line) => lines.push(line)) })
    const account = await registerAndLogin(server, { password: 'a password for ps to miss' })
    const dir = tempDir()
    const renderer = join(dir, 'renderer')
    mkdirSync(renderer)
    writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>stand-in</title>')
    const passwordFile = join(dir, 'password')
    writeFileSync(passwordFile, `${account.password}\n`, { mode: 0o600 })
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(root, 'src/main/hosts/headless/cli.ts'),
        ...['--profile', join(dir, 'profile'), '--server', server.url, '--port', '0'],
        ...['--renderer', renderer, '--login', account.userId, '--password-file', passwordFile],
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const match = /https?:\/\/\S+/.exec(out)
          if (match) resolve(match[0])
        })
        child.once('exit', (code) => reject(new Error(`headless exited with ${code}: ${stderr}`)))
      })
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//)
      const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')
      expect(cmdline).toContain(account.userId)
      expect(cmdline).not.toContain(account.password)
      expect(readFileSync(`/proc/${child.pid}/environ`, 'utf8')).not.toContain(account.password)
      const logins = lines
        .map((line) => JSON.parse(line) as { msg: string; userId?: string })
        .filter((entry) => entry.msg === 'logged in' && entry.userId === account.userId)
      // registerAndLogin's own login, and the host's.
      expect(logins).toHaveLength(2)
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
      await server.close()
    }
  }, 30_000)
})

describe('engine', () => {
  it('refuses to send a password over ws:// or http:// to another machine, unless told to', async () => {
    const profileDir = tempDir()
    const options = { profileDir, host: 'headless' as const, version: 'test', requestTimeoutMs: 3000 }
    const engine = new Engine({ ...options, defaultServerUrl: 'wss://chat.example.invalid/ws' })
    try {
      for (const serverUrl of [
        'ws://chat.example.invalid:7700/ws',
        'ws://192.0.2.10:7700/ws',
        'http://[2001:db8::1]/ws',
      ]) {
        const login = await engine.login({ serverUrl, userId: uniqueId(), password: 'a secret password' })
        expect(login.code, serverUrl).toBe(Code.INSECURE_TRANSPORT)
        const register = await engine.register({
          serverUrl,
          userId: uniqueId(),
          password: 'a secret password',
        })
        expect(register.code, serverUrl).toBe(Code.INSECURE_TRANSPORT)
      }
      // wss:// is fine (it just does not answer here); so is ws:// on this machine.
      const secure = await engine.login({
        serverUrl: 'wss://chat.example.invalid/ws',
        userId: 'u',
        password: 'p',
      })
      expect(secure.code).toBe(Code.SERVER_UNREACHABLE)
      const server = await startTestServer()
      try {
        for (const host of ['127.0.0.1', 'localhost'])
          expect(
            (
              await engine.register({
                serverUrl: server.url.replace('127.0.0.1', host),
                userId: uniqueId(),
                password: 'local-password',
              })
            ).code,
          ).toBe(0)
      } finally {
        await server.close()
      }
    } finally {
      await engine.shutdown()
    }
    const optedIn = new Engine({
      ...options,
      defaultServerUrl: 'ws://chat.example.invalid/ws',
      allowInsecureTransport: true,
    })
    try {
      const login = await optedIn.login({
        serverUrl: 'ws://chat.example.invalid:7700/ws',
        userId: 'u',
        password: 'p',
      })
      expect(login.code).toBe(Code.SERVER_UNREACHABLE)
    } finally {
      await optedIn.shutdown()
    }
  })
})
