/**
 * What a hostile client costs the server, measured against the real server process (the CLI with its
 * defaults and its real password hashing): the figures behind SECURITY.md's "Server: abuse" rows.
 *
 *   npm run bench:abuse [-- --only logins,paused,frames]   (or: npx tsx bench/abuse.ts)
 *
 * - logins: 40 concurrent logins with unknown user ids (one scrypt hash each) from 127.0.0.1, and
 *   at the same moment one real login from 127.0.0.2: how long the real one takes, and how the 40
 *   were answered.
 * - paused: 15 sockets of one user that never read, each asking 10 times for a page of 1,000
 *   messages of 4,000 characters (about 4.4 MB per reply): how much the server process grows (RSS,
 *   from /proc), and what the sockets were answered or closed with.
 * - frames: two users each sending 53 KB frames as fast as their sockets take them (reconnecting
 *   when closed), while a third user makes one request every 20 ms: its round trip, against the same
 *   requests on an idle server.
 *
 * Nothing in `npm test` runs this; it prints one JSON object per scenario.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'
import { memory } from './lib/proc'
import { median, nowMs, percentile, sleep } from './lib/stats'

/** To `digits` decimals. */
function round(x: number, digits: number): number {
  return Math.round(x * 10 ** digits) / 10 ** digits
}

const root = resolve(import.meta.dirname, '..')
const { values } = parseArgs({ options: { only: { type: 'string' } } })
const only = values.only ? new Set(values.only.split(',')) : undefined

interface Server {
  child: ChildProcess
  httpUrl: string
  wsUrl: string
  pid: number
}

async function startServer(dataDir: string): Promise<Server> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/server/cli.ts'), '--port', '0', '--data', dataDir, '--log', 'error'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const wsUrl = await new Promise<string>((res, rej) => {
    let out = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /ws:\/\/\S+/.exec(out)
      if (match) res(match[0])
    })
    child.once('exit', (code) => rej(new Error(`server exited with ${code}`)))
  })
  return {
    child,
    wsUrl,
    httpUrl: wsUrl.replace(/^ws/, 'http').replace(/\/ws$/, ''),
    pid: child.pid as number,
  }
}

function stopServer(server: Server): Promise<void> {
  return new Promise((res) => {
    if (server.child.exitCode !== null) return res()
    server.child.once('exit', () => res())
    server.child.kill('SIGTERM')
  })
}

/** POST JSON from a chosen loopback address (so that per-address limits can tell clients apart). */
function post(
  server: Server,
  path: string,
  body: unknown,
  localAddress = '127.0.0.1',
): Promise<{ code: number; msg?: string; data?: { token?: string } }> {
  return new Promise((res, rej) => {
    const payload = JSON.stringify(body)
    const req = request(
      `${server.httpUrl}${path}`,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (response) => {
        let text = ''
        response.on('data', (chunk: Buffer) => (text += chunk.toString()))
        response.on('end', () => {
          try {
            res(JSON.parse(text) as { code: number })
          } catch {
            res({ code: -response.statusCode! })
          }
        })
      },
    )
    req.on('error', rej)
    req.end(payload)
  })
}

interface Account {
  userId: string
  password: string
  token: string
  deviceId: string
}

let lastDevice = 0
async function account(server: Server, userId: string): Promise<Account> {
  const password = `${userId}-bench-password`
  const reg = await post(server, '/api/register', { userId, password })
  if (reg.code !== 0) throw new Error(`register ${userId}: ${reg.code} ${reg.msg}`)
  const deviceId = `bench-device-${++lastDevice}`
  const login = await post(server, '/api/login', { userId, password, deviceId })
  if (login.code !== 0 || !login.data?.token) throw new Error(`login ${userId}: ${login.code} ${login.msg}`)
  return { userId, password, token: login.data.token, deviceId }
}

function connect(server: Server, a: Account): Promise<WebSocket> {
  return new Promise((res, rej) => {
    const ws = new WebSocket(server.wsUrl, {
      headers: { authorization: `Bearer ${a.token}`, 'x-device-id': a.deviceId },
      perMessageDeflate: false,
    })
    ws.once('open', () => res(ws))
    ws.once('unexpected-response', (_req, r) => rej(new Error(`HTTP ${r.statusCode}`)))
    ws.once('error', rej)
  })
}

/** One request at a time on one socket. */
class Caller {
  private next = 1
  private readonly waiting = new Map<number, (reply: { code: number; msg?: string }) => void>()
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as { type: string; id: number; code: number; msg?: string }
      if (frame.type !== 'reply') return
      this.waiting.get(frame.id)?.(frame)
      this.waiting.delete(frame.id)
    })
  }
  call(op: string, data: unknown): Promise<{ code: number; msg?: string }> {
    const id = this.next++
    return new Promise((res) => {
      this.waiting.set(id, res)
      this.ws.send(JSON.stringify({ id, op, data }))
    })
  }
}

function tally(codes: number[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const code of codes) out[code] = (out[code] ?? 0) + 1
  return out
}

async function logins(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-abuse-'))
  const server = await startServer(dataDir)
  try {
    const victim = await account(server, 'victim')
    const idle: number[] = []
    for (let i = 0; i < 3; i++) {
      const t = nowMs()
      const r = await post(server, '/api/login', { ...victim, deviceId: 'bench-device-idle' }, '127.0.0.2')
      if (r.code !== 0) throw new Error(`idle login: ${r.code}`)
      idle.push(nowMs() - t)
    }
    // The first unknown id computes the server's dummy hash; the flood comes after, as in the report.
    await post(server, '/api/login', {
      userId: 'nobody',
      password: 'guess-guess',
      deviceId: 'bench-device-x',
    })
    const flood = Array.from({ length: 40 }, (_, i) =>
      post(server, '/api/login', {
        userId: `nobody${i}`,
        password: 'guess-guess',
        deviceId: 'bench-device-x',
      }),
    )
    const t = nowMs()
    const real = await post(server, '/api/login', { ...victim, deviceId: 'bench-device-real' }, '127.0.0.2')
    const realMs = nowMs() - t
    const answers = (await Promise.all(flood)).map((r) => r.code)
    return {
      scenario: 'logins',
      idleLoginMs: round(median(idle), 1),
      loginDuringFloodMs: round(realMs, 1),
      loginDuringFloodCode: real.code,
      floodAnswers: tally(answers),
    }
  } finally {
    await stopServer(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function paused(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-abuse-'))
  const server = await startServer(dataDir)
  try {
    const [sender, reader] = [await account(server, 'sender'), await account(server, 'reader')]
    const out = new Caller(await connect(server, sender))
    const body = 'x'.repeat(4000)
    let todo = Array.from({ length: 1000 }, (_, n) => n)
    while (todo.length > 0) {
      const batch = todo.slice(0, 50)
      const replies = await Promise.all(
        batch.map((n) =>
          out.call('sendMessage', {
            clientMsgId: `bench-msg-${n}`,
            conversation: { type: 'private', targetId: reader.userId },
            content: { type: 'text', text: body },
          }),
        ),
      )
      const failed = new Set(batch.filter((_, k) => replies[k]?.code !== 0))
      todo = [...failed, ...todo.slice(batch.length)]
      // Over the rate limit: wait for the bucket to refill (ids are exactly-once, resending is harmless).
      if (failed.size > 0) await sleep(300)
    }
    out.ws.close()
    await sleep(1000)
    const before = memory(server.pid).rssMiB
    let peak = before
    const sampler = setInterval(() => (peak = Math.max(peak, memory(server.pid).rssMiB)), 50)
    const closes: number[] = []
    const sockets = await Promise.all(Array.from({ length: 15 }, () => connect(server, reader)))
    for (const ws of sockets) {
      ws.on('close', (code) => closes.push(code))
      // Never read: the server's replies pile up in its own buffers once the kernel's are full.
      ;(ws as unknown as { _socket: { pause(): void } })._socket.pause()
      for (let k = 0; k < 10; k++) {
        ws.send(
          JSON.stringify({
            id: k + 1,
            op: 'pullMessages',
            data: { conversation: { type: 'private', targetId: sender.userId }, afterSeq: 0, limit: 1000 },
          }),
        )
      }
    }
    await sleep(8000)
    clearInterval(sampler)
    const after = memory(server.pid).rssMiB
    for (const ws of sockets) ws.terminate()
    return {
      scenario: 'paused',
      rssBeforeMiB: round(before, 1),
      rssPeakMiB: round(peak, 1),
      rssGrowthMiB: round(peak - before, 1),
      rssAfter8sMiB: round(after, 1),
      socketsClosedByServer: tally(closes),
    }
  } finally {
    await stopServer(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

async function frames(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-abuse-'))
  const server = await startServer(dataDir)
  try {
    const [victim, a1, a2] = [
      await account(server, 'calm'),
      await account(server, 'flood1'),
      await account(server, 'flood2'),
    ]
    const calm = new Caller(await connect(server, victim))
    const sample = async (ms: number): Promise<number[]> => {
      const times: number[] = []
      const end = nowMs() + ms
      while (nowMs() < end) {
        const t = nowMs()
        const r = await calm.call('getUsers', { userIds: [victim.userId] })
        if (r.code !== 0) throw new Error(`calm getUsers: ${r.code}`)
        times.push(nowMs() - t)
        // Well under the per-connection rate limit (100 frames/s).
        await sleep(20)
      }
      return times
    }
    await sample(500)
    const idle = await sample(3000)
    const pad = 'p'.repeat(53_000)
    let running = true
    let sentFrames = 0
    const closes: number[] = []
    const flood = async (a: Account): Promise<void> => {
      let id = 1
      while (running) {
        let ws: WebSocket
        try {
          ws = await connect(server, a)
        } catch {
          await sleep(100)
          continue
        }
        ws.on('message', () => undefined)
        const closed = new Promise<void>((res) =>
          ws.once('close', (code) => {
            closes.push(code)
            res()
          }),
        )
        while (running && ws.readyState === WebSocket.OPEN) {
          if (ws.bufferedAmount < 1024 * 1024) {
            ws.send(`{"id":${id++},"op":"getUsers","data":{"userIds":["${a.userId}"],"pad":"${pad}"}}`)
            sentFrames++
          } else await new Promise((res) => setImmediate(res))
        }
        if (ws.readyState === WebSocket.OPEN) ws.terminate()
        await closed
      }
    }
    const attackers = [flood(a1), flood(a2)]
    await sleep(500)
    const attacked = await sample(3000)
    running = false
    await Promise.all(attackers)
    return {
      scenario: 'frames',
      idleMedianMs: round(median(idle), 3),
      idleP95Ms: round(percentile(idle, 95), 3),
      attackedMedianMs: round(median(attacked), 3),
      attackedP95Ms: round(percentile(attacked, 95), 3),
      slowdown: round(median(attacked) / median(idle), 1),
      attackerFramesSent: sentFrames,
      attackerSocketsClosed: tally(closes),
    }
  } finally {
    await stopServer(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
}

const scenarios: Record<string, () => Promise<unknown>> = { logins, paused, frames }
for (const [name, run] of Object.entries(scenarios)) {
  if (only && !only.has(name)) continue
  process.stdout.write(`${JSON.stringify(await run())}\n`)
}
