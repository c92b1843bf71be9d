/**
 * Hostile clients of the account endpoints: password guessing (one account, or many from one
 * address), scrypt floods, automated registration, and web pages in a browser that try to reach a
 * local server (DNS rebinding, cross-origin requests, text/plain posts). Real server, real sockets;
 * the clock is the server's `now` option, never a sleep.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { createLogger } from '../../src/server/log'
import type { RunningServer } from '../../src/server/server'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { Code } from '../../src/shared/codes'
import { http } from '../../src/shared/protocol'
import { registerAndLogin, startTestServer, uniqueId } from '../server/helpers'
import { loginFrom, raw, registerFrom, sessionHeaders, upgradeFrom } from './net'

const root = join(import.meta.dirname, '../..')
const servers: RunningServer[] = []
const dirs: string[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

async function serverWith(options: Parameters<typeof startTestServer>[0]): Promise<RunningServer> {
  const server = await startTestServer(options)
  servers.push(server)
  return server
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'im-hostile-accounts-'))
  dirs.push(dir)
  return dir
}

describe('password guessing', () => {
  it('throttles one account with growing delays: 30 wrong passwords, then the right one is made to wait', async () => {
    let clock = 1_000_000
    const server = await serverWith({ now: () => clock })
    const victim = await registerAndLogin(server)
    const codes: number[] = []
    let last = await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: 'wrong password' })
    codes.push(last.body.code)
    for (let i = 1; i < 30; i++) {
      last = await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: `wrong password ${i}` })
      codes.push(last.body.code)
    }
    // Five free failures, the sixth earns the first delay; while it lasts nothing is even checked.
    expect(codes.slice(0, 6)).toEqual(Array(6).fill(Code.AUTH_FAILED))
    expect(new Set(codes.slice(6))).toEqual(new Set([Code.RATE_LIMITED]))
    expect(last.status).toBe(429)
    expect(last.body.retryAfterMs).toBe(1000)
    expect(last.headers['retry-after']).toBe('1')

    const right = await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: victim.password })
    expect(right.body.code).toBe(Code.RATE_LIMITED)
    // The wait doubles with each further failure.
    const waits: number[] = []
    for (let i = 0; i < 3; i++) {
      clock += (await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: 'x' })).body
        .retryAfterMs as number
      expect(
        (await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: 'wrong' })).body.code,
      ).toBe(Code.AUTH_FAILED)
      waits.push(
        (await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: victim.password })).body
          .retryAfterMs as number,
      )
    }
    expect(waits).toEqual([2000, 4000, 8000])
    clock += 8000
    const ok = await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: victim.password })
    expect(ok.body.code).toBe(0)
    // A success clears the account's failures.
    expect(
      (await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: 'wrong' })).body.code,
    ).toBe(Code.AUTH_FAILED)
    expect(
      (await loginFrom(server, '127.0.0.1', { userId: victim.userId, password: 'wrong' })).body.code,
    ).toBe(Code.AUTH_FAILED)
  })

  it('throttles one address across accounts (password spraying), not the other addresses', async () => {
    const clock = 1_000_000
    const server = await serverWith({ now: () => clock })
    const bystander = await registerAndLogin(server)
    const codes: number[] = []
    for (let i = 0; i < 25; i++) {
      const reply = await loginFrom(server, '127.0.0.3', { userId: `sprayed${i}`, password: 'Winter2025!' })
      codes.push(reply.body.code)
    }
    expect(codes.slice(0, 21)).toEqual(Array(21).fill(Code.AUTH_FAILED))
    expect(new Set(codes.slice(21))).toEqual(new Set([Code.RATE_LIMITED]))
    const fromThere = await loginFrom(server, '127.0.0.3', {
      userId: bystander.userId,
      password: bystander.password,
    })
    expect(fromThere.body.code).toBe(Code.RATE_LIMITED)
    const fromElsewhere = await loginFrom(server, '127.0.0.4', {
      userId: bystander.userId,
      password: bystander.password,
    })
    expect(fromElsewhere.body.code).toBe(0)
  })

  it('bounds the password hashes in flight: a flood is refused with typed codes, a login from elsewhere gets through', async () => {
    const server = await serverWith({
      // A real cost, so that the flood arrives while the first hashes run.
      scrypt: { N: 2 ** 15, r: 8, p: 1 },
      authLimits: { hashConcurrency: 1, hashQueue: 4, hashesPerAddress: 2 },
    })
    const victim = await registerAndLogin(server)
    const flood = Array.from({ length: 40 }, (_, i) =>
      loginFrom(server, '127.0.0.5', { userId: `nobody${i}`, password: 'guess-guess' }),
    )
    // Many addresses, two logins each: the global queue is what refuses them.
    const botnet = Array.from({ length: 20 }, (_, i) =>
      loginFrom(server, `127.0.1.${i + 1}`, { userId: `nobody-b${i}`, password: 'guess-guess' }),
    )
    const real = await loginFrom(server, '127.0.0.6', { userId: victim.userId, password: victim.password })
    const floodCodes = (await Promise.all(flood)).map((r) => r.body.code)
    const botnetAnswers = await Promise.all(botnet)
    const botnetCodes = botnetAnswers.map((r) => r.body.code)
    expect(real.body.code === 0 || real.body.code === Code.SERVER_BUSY).toBe(true)
    for (const code of [...floodCodes, ...botnetCodes])
      expect([Code.AUTH_FAILED, Code.RATE_LIMITED, Code.SERVER_BUSY]).toContain(code)
    // One address may have two logins in flight; the rest of its flood is refused at once.
    expect(floodCodes.filter((c) => c === Code.RATE_LIMITED).length).toBeGreaterThanOrEqual(30)
    expect(botnetCodes.filter((c) => c === Code.SERVER_BUSY).length).toBeGreaterThanOrEqual(5)
    const busy = botnetAnswers.find((r) => r.body.code === Code.SERVER_BUSY)
    expect(busy?.status).toBe(503)
    expect(busy?.body.retryAfterMs).toBeGreaterThan(0)
    // Once the flood is over, the real user logs in (from its address, never throttled).
    expect(
      (await loginFrom(server, '127.0.0.6', { userId: victim.userId, password: victim.password })).body.code,
    ).toBe(0)
  })

  it('logs every failed login with the account and the address, never the password', async () => {
    const lines: string[] = []
    const server = await serverWith({ logger: createLogger('info', (line) => lines.push(line)) })
    const victim = await registerAndLogin(server)
    const secret = 'a-guess-that-must-not-be-logged'
    await loginFrom(server, '127.0.0.7', { userId: victim.userId, password: secret })
    await loginFrom(server, '127.0.0.7', { userId: 'no-such-user', password: secret })
    const failed = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((e) => e.msg === 'login failed')
    expect(failed).toEqual([
      expect.objectContaining({
        level: 'warn',
        userId: victim.userId,
        address: '127.0.0.7',
        code: Code.AUTH_FAILED,
      }),
      expect.objectContaining({
        level: 'warn',
        userId: 'no-such-user',
        address: '127.0.0.7',
        code: Code.AUTH_FAILED,
      }),
    ])
    expect(lines.join('')).not.toContain(secret)
  })
})

describe('registration', () => {
  it('is limited per address; other addresses are not; the allowance refills', async () => {
    let clock = 1_000_000
    const server = await serverWith({
      now: () => clock,
      authLimits: { registrationsPerAddress: { perHour: 3, burst: 3 } },
    })
    const codes: number[] = []
    for (let i = 0; i < 5; i++)
      codes.push(
        (await registerFrom(server, '127.0.0.8', { userId: uniqueId('bot'), password: 'bot-password' })).body
          .code,
      )
    expect(codes).toEqual([0, 0, 0, Code.RATE_LIMITED, Code.RATE_LIMITED])
    const refused = await registerFrom(server, '127.0.0.8', {
      userId: uniqueId('bot'),
      password: 'bot-password',
    })
    expect(refused.status).toBe(429)
    expect(refused.body.retryAfterMs).toBe(20 * 60 * 1000)
    expect(
      (await registerFrom(server, '127.0.0.9', { userId: uniqueId('human'), password: 'my-password' })).body
        .code,
    ).toBe(0)
    clock += 20 * 60 * 1000
    expect(
      (await registerFrom(server, '127.0.0.8', { userId: uniqueId('bot'), password: 'bot-password' })).body
        .code,
    ).toBe(0)
  })

  it('closed: refuses everyone with REGISTRATION_CLOSED and writes nothing', async () => {
    const storage = new SqliteStorage(':memory:')
    const server = await serverWith({ storage, registration: 'closed' })
    try {
      const reply = await registerFrom(server, '127.0.0.1', {
        userId: 'newcomer',
        password: 'newcomer-password',
      })
      expect(reply.body.code).toBe(Code.REGISTRATION_CLOSED)
      expect(storage.db.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 0 })
    } finally {
      await server.close()
      await storage.close()
    }
  })

  it('invite: an operator makes codes with the CLI; each works once and only its hash is stored', async () => {
    const dataDir = tempDir()
    const made = spawnSync(
      process.execPath,
      ['--import', 'tsx', join(root, 'src/server/cli.ts'), 'invite', '--data', dataDir, '--count', '2'],
      { cwd: root, encoding: 'utf8' },
    )
    expect(made.status, made.stderr).toBe(0)
    const codes = made.stdout.trim().split('\n')
    expect(codes).toHaveLength(2)
    const [first, second] = codes as [string, string]
    expect(first).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(first).not.toBe(second)

    const server = await serverWith({ dataDir, registration: 'invite' })
    const register = (userId: string, inviteCode?: string) =>
      registerFrom(server, '127.0.0.1', {
        userId,
        password: 'invited-password',
        ...(inviteCode ? { inviteCode } : {}),
      })
    expect((await register('uninvited')).body.code).toBe(Code.INVITE_INVALID)
    expect((await register('guesser', `${first.slice(0, -1)}x`)).body.code).toBe(Code.INVITE_INVALID)
    expect((await register('invited', first)).body.code).toBe(0)
    expect((await register('second-use', first)).body.code).toBe(Code.INVITE_INVALID)
    // A refused registration (the id is taken) does not use the code up.
    expect((await register('invited', second)).body.code).toBe(Code.USER_EXISTS)
    expect((await register('also-invited', second)).body.code).toBe(0)
    await server.close()
    servers.length = 0

    const storage = new SqliteStorage(join(dataDir, 'server.sqlite'))
    try {
      const dump = JSON.stringify(storage.db.prepare('SELECT * FROM invites').all(), (_k, v: unknown) =>
        Buffer.isBuffer(v) ? v.toString('hex') : v,
      )
      expect(dump).not.toContain(first)
      expect(dump).not.toContain(Buffer.from(first).toString('hex'))
    } finally {
      await storage.close()
    }
  })
})

describe('a web page in a browser', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer({
      allowedHosts: ['chat.example.org'],
      allowedOrigins: ['https://chat.example.org'],
    })
  })
  afterAll(async () => {
    await server.close()
  })

  const body = () => ({ userId: uniqueId('page'), password: 'page-password' })

  it('cannot reach the server through a rebound DNS name: a foreign Host is refused everywhere', async () => {
    const host = { host: `attacker.example:${server.port}` }
    for (const path of ['/health', http.register.path, http.login.path]) {
      const reply = await raw(server, path, {
        headers: host,
        ...(path === '/health' ? {} : { body: body() }),
      })
      expect(reply.status, path).toBe(403)
      expect(reply.body.code, path).toBe(Code.PERMISSION_DENIED)
    }
    const session = await registerAndLogin(server)
    const upgrade = await upgradeFrom(server.url, { ...sessionHeaders(session), ...host })
    expect(upgrade.status).toBe(403)
    // Loopback names, IP literals and the configured public name are ours.
    for (const name of ['localhost', '127.0.0.1', 'chat.example.org']) {
      const reply = await raw(server, '/health', { headers: { host: `${name}:${server.port}` } })
      expect(reply.status, name).toBe(200)
    }
  })

  it('cannot call the API or open a socket from another origin; no origin, the app’s own and configured ones can', async () => {
    const evil = { origin: 'https://attacker.example' }
    const refused = await raw(server, http.register.path, { headers: evil, body: body() })
    expect(refused).toMatchObject({ status: 403, body: { code: Code.PERMISSION_DENIED } })
    // Another web app on this very machine is another origin too.
    const local = await raw(server, http.login.path, {
      headers: { origin: 'http://127.0.0.1:3000' },
      body: body(),
    })
    expect(local.status).toBe(403)
    const session = await registerAndLogin(server)
    expect((await upgradeFrom(server.url, { ...sessionHeaders(session), ...evil })).status).toBe(403)

    for (const origin of ['file://', 'null', server.httpUrl, 'https://chat.example.org']) {
      const reply = await raw(server, http.register.path, { headers: { origin }, body: body() })
      expect(reply.body.code, origin).toBe(0)
      const opened = await upgradeFrom(server.url, { ...sessionHeaders(session), origin })
      expect(opened.ws, origin).toBeDefined()
      opened.ws?.close()
    }
  })

  it('refuses a POST that is not JSON: text/plain and forms need no CORS preflight', async () => {
    for (const contentType of [
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      null,
    ]) {
      const reply = await raw(server, http.register.path, { contentType, rawBody: JSON.stringify(body()) })
      expect(reply.status, String(contentType)).toBe(415)
      expect(reply.body.code).toBe(Code.BAD_FRAME)
    }
    const json = await raw(server, http.register.path, {
      contentType: 'application/json; charset=utf-8',
      rawBody: JSON.stringify(body()),
    })
    expect(json.body.code).toBe(0)
  })

  it('still serves the engine: its JSON posts and its socket carry no Origin', async () => {
    const profileDir = tempDir()
    const engine = new Engine({ profileDir, host: 'headless', version: 'test', defaultServerUrl: server.url })
    try {
      const userId = uniqueId('engine')
      expect(
        (await engine.register({ serverUrl: server.url, userId, password: 'engine-password' })).code,
      ).toBe(0)
      expect((await engine.login({ serverUrl: server.url, userId, password: 'engine-password' })).code).toBe(
        0,
      )
      await new Promise<void>((resolve) => {
        if (engine.connectionState.state === 'connected') return resolve()
        const on = (state: { state: string }) => {
          if (state.state !== 'connected') return
          engine.off('connectionState', on)
          resolve()
        }
        engine.on('connectionState', on)
      })
    } finally {
      await engine.shutdown()
    }
  })
})

describe('npm run accounts', () => {
  it('gives each profile a random password, kept 0600 in the profile and printed once', async () => {
    const lib = (await import(join(root, 'scripts/lib.mjs'))) as {
      profilePassword(dir: string): { password: string; created: boolean }
    }
    const [alice, bob] = [tempDir(), tempDir()]
    const first = lib.profilePassword(alice)
    expect(first.created).toBe(true)
    expect(first.password).toMatch(/^[A-Za-z0-9_-]{20,}$/)
    expect(first.password).not.toMatch(/password/)
    expect(lib.profilePassword(alice)).toEqual({ password: first.password, created: false })
    expect(lib.profilePassword(bob).password).not.toBe(first.password)
    const { statSync } = await import('node:fs')
    expect(statSync(join(alice, 'password')).mode & 0o777).toBe(0o600)
  })
})
