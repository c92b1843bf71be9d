import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { Code } from '../../src/shared/codes'
import { DEVICE_HEADER } from '../../src/shared/protocol'
import type { Bus } from '../../src/server/bus'
import type { Connection } from '../../src/server/connection'
import { Hub } from '../../src/server/hub'
import { ServerMetrics } from '../../src/server/metrics'
import type { RunningServer } from '../../src/server/server'
import {
  clientMsgId,
  connectOne,
  connectUser,
  openSocket,
  registerAndLogin,
  startTestServer,
  text,
  type TestClient,
} from './helpers'

/** One sample of the text exposition: `name{a="x",b="y"} value`. */
interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

function parseExposition(body: string): Sample[] {
  const samples: Sample[] = []
  for (const line of body.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!match) throw new Error(`not an exposition line: ${line}`)
    const labels: Record<string, string> = {}
    for (const [, key, value] of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g))
      labels[key as string] = value as string
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) })
  }
  return samples
}

/** The value of the series with exactly these labels; 0 when it has not appeared yet. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort())
  const found = samples.filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted,
  )
  if (found.length > 1) throw new Error(`${name} ${wanted}: ${found.length} series`)
  return found[0]?.value ?? 0
}

async function scrape(server: RunningServer, token?: string): Promise<Sample[]> {
  const response = await fetch(`${server.httpUrl}/metrics`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  return parseExposition(await response.text())
}

/** `after - before` of one series. */
function delta(before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}): number {
  return valueOf(after, name, labels) - valueOf(before, name, labels)
}

function sendTo(from: TestClient, targetId: string) {
  return from.request('sendMessage', {
    clientMsgId: clientMsgId(),
    conversation: { type: 'private', targetId },
    content: text('hi'),
  })
}

describe('GET /metrics', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer({ maxPayload: 4096 })
  })
  afterAll(() => server.close())

  it('counts frames, operations by op and code, their latency, group commits and pushes', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const before = await scrape(server)

    for (let i = 0; i < 3; i++) expect((await sendTo(alice, bob.userId)).code).toBe(Code.OK)
    expect((await sendTo(alice, 'nobody-here')).code).toBe(Code.USER_NOT_FOUND)
    // Refused before any operation runs: bad data, an unknown operation, not JSON.
    expect((await alice.requestRaw('sendMessage', { clientMsgId: 7 })).code).toBe(Code.INVALID_ARGUMENT)
    expect((await alice.requestRaw('noSuchOperation', {})).code).toBe(Code.UNKNOWN_OPERATION)
    expect((await alice.sendUnattributable('{not json')).code).toBe(Code.BAD_FRAME)
    for (let i = 0; i < 3; i++) await bob.nextPush('message')
    expect(await bob.barrier()).toEqual([]) // one getUsers, and no other push for bob
    const after = await scrape(server)

    const op = (o: string, code: string) => delta(before, after, 'im_operations_total', { op: o, code })
    expect(op('sendMessage', 'OK')).toBe(3)
    expect(op('sendMessage', 'USER_NOT_FOUND')).toBe(1)
    expect(op('getUsers', 'OK')).toBe(1)
    const refused = (reason: string) => delta(before, after, 'im_frames_refused_total', { reason })
    expect(refused('INVALID_ARGUMENT')).toBe(1)
    expect(refused('UNKNOWN_OPERATION')).toBe(1)
    expect(refused('BAD_FRAME')).toBe(1)
    expect(refused('RATE_LIMITED')).toBe(0)
    // 4 sends, 3 refused frames and bob's getUsers; 8 replies and bob's 3 pushes.
    expect(delta(before, after, 'im_frames_received_total')).toBe(8)
    expect(delta(before, after, 'im_frames_sent_total')).toBe(11)
    expect(delta(before, after, 'im_pushes_delivered_total', { source: 'local' })).toBe(3)
    expect(delta(before, after, 'im_pushes_delivered_total', { source: 'bus' })).toBe(0)

    // Latency: one observation per operation answered, the buckets cumulative up to +Inf = count.
    const latency = (suffix: string, labels: Record<string, string> = {}) =>
      delta(before, after, `im_operation_duration_seconds_${suffix}`, { op: 'sendMessage', ...labels })
    expect(latency('count')).toBe(4)
    expect(latency('bucket', { le: '+Inf' })).toBe(4)
    expect(latency('sum')).toBeGreaterThan(0)
    const buckets = after
      .filter((s) => s.name === 'im_operation_duration_seconds_bucket' && s.labels.op === 'sendMessage')
      .map((s) => s.value)
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b))

    // Group commits: the 5 operations above ran in 1 to 5 batches, each timed.
    const commits = delta(before, after, 'im_group_commit_operations_count')
    expect(delta(before, after, 'im_group_commit_operations_sum')).toBe(5)
    expect(commits).toBeGreaterThanOrEqual(1)
    expect(commits).toBeLessThanOrEqual(5)
    expect(delta(before, after, 'im_group_commit_duration_seconds_count')).toBe(commits)

    // HTTP (this server's first test): the two registrations and logins, and the scrape before this one.
    expect(valueOf(after, 'im_http_requests_total', { path: '/api/register', status: '200' })).toBe(2)
    expect(valueOf(after, 'im_http_requests_total', { path: '/api/login', status: '200' })).toBe(2)
    expect(delta(before, after, 'im_http_requests_total', { path: '/metrics', status: '200' })).toBe(1)
    await fetch(`${server.httpUrl}/no/such/path?x=1`)
    const last = await scrape(server)
    expect(valueOf(last, 'im_http_requests_total', { path: 'other', status: '404' })).toBe(1)

    // The process metrics are on the same registry; no label carries a user id.
    expect(valueOf(after, 'process_cpu_user_seconds_total')).toBeGreaterThan(0)
    const labelValues = after.flatMap((s) => Object.values(s.labels))
    expect(labelValues).not.toContain(alice.userId)
    expect(labelValues).not.toContain(bob.userId)
    await Promise.all([alice.close(), bob.close()])
  })

  it('counts a frame over maxPayload as refused (the socket is closed with 1009)', async () => {
    const alice = await connectOne(server)
    const before = await scrape(server)
    alice.ws.send('x'.repeat(5000))
    expect((await alice.closed).code).toBe(1009)
    const after = await scrape(server)
    expect(delta(before, after, 'im_frames_refused_total', { reason: 'FRAME_TOO_LARGE' })).toBe(1)
  })

  it('counts frames refused by the rate limits', async () => {
    const limited = await startTestServer({ rateLimit: { perSecond: 0.001, burst: 1 } })
    try {
      const alice = await connectOne(limited)
      expect((await alice.request('getUsers', { userIds: [alice.userId] })).code).toBe(Code.OK)
      expect((await alice.request('getUsers', { userIds: [alice.userId] })).code).toBe(Code.RATE_LIMITED)
      const samples = await scrape(limited)
      expect(valueOf(samples, 'im_frames_refused_total', { reason: 'RATE_LIMITED' })).toBe(1)
      expect(valueOf(samples, 'im_operations_total', { op: 'getUsers', code: 'OK' })).toBe(1)
      expect(valueOf(samples, 'im_frames_received_total')).toBe(2)
      await alice.close()
    } finally {
      await limited.close()
    }
  })

  it('has gauges of open sockets and connected users that follow connects and disconnects', async () => {
    const fresh = await startTestServer()
    try {
      const gauges = async () => {
        const samples = await scrape(fresh)
        return { sockets: valueOf(samples, 'im_sockets'), users: valueOf(samples, 'im_connected_users') }
      }
      expect(await gauges()).toEqual({ sockets: 0, users: 0 })
      const [phone, laptop] = await connectUser(fresh, { devices: 2 })
      const bob = await connectOne(fresh)
      expect(await gauges()).toEqual({ sockets: 3, users: 2 })
      // The server learns of a close on its own side of the socket, after the client does.
      const settle = (want: { sockets: number; users: number }) =>
        vi.waitFor(async () => expect(await gauges()).toEqual(want), { timeout: 5000 })
      await phone?.close()
      await settle({ sockets: 2, users: 2 })
      await laptop?.close()
      await settle({ sockets: 1, users: 1 })
      await bob.close()
      await settle({ sockets: 0, users: 0 })
    } finally {
      await fresh.close()
    }
  })
})

describe('GET /metrics access', () => {
  it('needs the bearer token when one is set', async () => {
    const server = await startTestServer({ metricsToken: 'scrape-secret' })
    try {
      const without = await fetch(`${server.httpUrl}/metrics`)
      expect(without.status).toBe(401)
      expect(without.headers.get('www-authenticate')).toMatch(/^Bearer/)
      expect((await without.json()) as unknown).toMatchObject({ code: Code.NOT_LOGGED_IN })
      const wrong = await fetch(`${server.httpUrl}/metrics`, { headers: { authorization: 'Bearer nope' } })
      expect(wrong.status).toBe(401)
      await wrong.text()
      const samples = await scrape(server, 'scrape-secret')
      expect(valueOf(samples, 'im_frames_received_total')).toBe(0)
      // The two refusals were counted too.
      const again = await scrape(server, 'scrape-secret')
      expect(valueOf(again, 'im_http_requests_total', { path: '/metrics', status: '401' })).toBe(2)
      // POST is not a scrape.
      const post = await fetch(`${server.httpUrl}/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer scrape-secret' },
        body: '{}',
      })
      expect(post.status).toBe(405)
    } finally {
      await server.close()
    }
  })

  it('refuses an empty or spaced token at start', async () => {
    await expect(startTestServer({ metricsToken: '' })).rejects.toThrow(/metricsToken/)
    await expect(startTestServer({ metricsToken: 'a b' })).rejects.toThrow(/metricsToken/)
  })

  it('is behind the browser guard: a foreign Host is refused', async () => {
    const server = await startTestServer()
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(
          { host: server.host, port: server.port, path: '/metrics', headers: { host: 'rebound.example' } },
          (res) => {
            res.resume()
            resolve(res.statusCode ?? 0)
          },
        )
        req.on('error', reject)
        req.end()
      })
      expect(status).toBe(403)
    } finally {
      await server.close()
    }
  })

  it('answers 404 when metrics are off, and the server works as before', async () => {
    const server = await startTestServer({ metrics: false })
    try {
      expect((await fetch(`${server.httpUrl}/metrics`)).status).toBe(404)
      const session = await registerAndLogin(server)
      const opened = await openSocket(server.url, {
        authorization: `Bearer ${session.token}`,
        [DEVICE_HEADER]: session.deviceId,
      })
      expect(opened.ws).toBeInstanceOf(WebSocket)
      opened.ws?.close()
      expect((await fetch(`${server.httpUrl}/health`)).status).toBe(200)
    } finally {
      await server.close()
    }
  })
})

describe('bus metrics (hub.ts and what bus.ts reports)', () => {
  it('counts pushes published, received and delivered, and the bus lag', async () => {
    const metrics = new ServerMetrics()
    const hub = new Hub(Date.now, metrics)
    const published: string[] = []
    const bus: Bus = {
      nodeId: 'n1',
      watchUser: () => {},
      unwatchUser: () => {},
      publishToUser: (userId: string) => void published.push(userId),
      publishSessionEnded: () => {},
      close: async () => {},
    } as unknown as Bus
    hub.attachBus(bus)
    const sent: string[] = []
    const socket = (userId: string) =>
      ({
        userId,
        session: { userId },
        expired: () => false,
        send: (payload: string) => void sent.push(payload),
      }) as unknown as Connection
    hub.add(socket('u1'))
    hub.add(socket('u1'))
    hub.add(socket('u2'))

    hub.deliverFromBus('u1', '{"type":"push"}')
    hub.route([{ userIds: ['u1', 'u2', 'u3'], payload: '{}' }], () => {})
    metrics.busLag(3) // 3 ms
    metrics.busLag(-5) // the clocks apart: counted as 0
    metrics.busLag(20_000) // past the last bucket

    const samples = parseExposition(await metrics.text())
    expect(valueOf(samples, 'im_bus_pushes_received_total')).toBe(1)
    expect(valueOf(samples, 'im_pushes_delivered_total', { source: 'bus' })).toBe(2)
    expect(valueOf(samples, 'im_pushes_delivered_total', { source: 'local' })).toBe(3)
    expect(valueOf(samples, 'im_bus_pushes_published_total')).toBe(3)
    expect(published).toEqual(['u1', 'u2', 'u3'])
    expect(valueOf(samples, 'im_frames_sent_total')).toBe(2)
    expect(valueOf(samples, 'im_bus_lag_seconds_bucket', { le: '0.0005' })).toBe(1)
    expect(valueOf(samples, 'im_bus_lag_seconds_bucket', { le: '0.005' })).toBe(2)
    expect(valueOf(samples, 'im_bus_lag_seconds_bucket', { le: '5' })).toBe(2)
    expect(valueOf(samples, 'im_bus_lag_seconds_bucket', { le: '+Inf' })).toBe(3)
    expect(valueOf(samples, 'im_bus_lag_seconds_count')).toBe(3)
    expect(valueOf(samples, 'im_bus_lag_seconds_sum')).toBeCloseTo(20.003, 6)

    // Another instance keeps its own counts (one registry per server).
    const other = parseExposition(await new ServerMetrics().text())
    expect(valueOf(other, 'im_bus_pushes_received_total')).toBe(0)
    expect(valueOf(other, 'im_bus_lag_seconds_count')).toBe(0)
  })
})
