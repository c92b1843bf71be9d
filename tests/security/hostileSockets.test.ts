/**
 * Hostile clients of the WebSocket gateway: sockets that outlive their session or change device,
 * too many sockets, sockets that never read what they asked for, and sockets that send big frames
 * as fast as they can. Real server, real sockets; the session clock is the server's `now` option.
 *
 * The same attacks against the real server process, with its defaults, before and after these
 * limits (`npm run bench:abuse`, figures in SECURITY.md): 15 paused sockets of one user asking for
 * 4.4 MB pages grew the server by 1,407–1,414 MiB, now by 19–43 MiB; two users sending 53 KB frames
 * as fast as they could made a third user's round trips 42–120× slower, now 1.0–1.1×.
 */
import { WebSocket } from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/server/server'
import { Code } from '../../src/shared/codes'
import { DEVICE_HEADER } from '../../src/shared/protocol'
import {
  clientMsgId,
  connectOne,
  login,
  registerAndLogin,
  startTestServer,
  TestClient,
  text,
} from '../server/helpers'
import { sessionHeaders, until, upgradeFrom } from './net'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

async function serverWith(options: Parameters<typeof startTestServer>[0]): Promise<RunningServer> {
  const server = await startTestServer(options)
  servers.push(server)
  return server
}

describe('sockets and their session', () => {
  it('closes a socket when its session expires (4002), even an idle one', async () => {
    let clock = 1_000_000
    const server = await serverWith({ now: () => clock, sessionTtlMs: 60_000, sessionSweepMs: 10 })
    const client = await connectOne(server)
    await client.call('syncState', {})
    clock += 60_001
    expect(await client.closed).toEqual({ code: 4002, reason: 'session expired' })
  })

  it('serves no frame, reply or push, once the session has expired, even before the sweep', async () => {
    let clock = 1_000_000
    const server = await serverWith({ now: () => clock, sessionTtlMs: 60_000, sessionSweepMs: 3_600_000 })
    const [expiring, friend] = await Promise.all([connectOne(server), connectOne(server)])
    await expiring.call('syncState', {})
    const frames: string[] = []
    expiring.ws.on('message', (raw) => frames.push(String(raw)))
    clock += 60_001
    // A fresh session of the friend, so that only the expiring one is past its lifetime.
    const fresh = await TestClient.connect(
      server,
      await login(server, friend.userId, friend.session.password),
    )
    const sent = await fresh.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: expiring.userId },
      content: text('you should not see this'),
    })
    expect(sent.message.messageUId).toBeTruthy()
    expiring.ws.send(JSON.stringify({ id: 99, op: 'syncState', data: {} }))
    expect((await expiring.closed).code).toBe(4002)
    expect(frames).toEqual([])
    await fresh.close()
  })

  it('binds every token to its device: a missing or different device header is refused', async () => {
    const server = await serverWith({})
    const session = await registerAndLogin(server)
    const missing = await upgradeFrom(server.url, { authorization: `Bearer ${session.token}` })
    expect(missing).toMatchObject({ status: 401, body: { code: Code.TOKEN_INVALID } })
    const query = await upgradeFrom(`${server.url}?token=${encodeURIComponent(session.token)}`, {})
    expect(query).toMatchObject({ status: 401, body: { code: Code.TOKEN_INVALID } })
    const other = await upgradeFrom(server.url, {
      authorization: `Bearer ${session.token}`,
      [DEVICE_HEADER]: 'another-device-1',
    })
    expect(other).toMatchObject({ status: 401, body: { code: Code.TOKEN_INVALID } })
    const own = await upgradeFrom(server.url, sessionHeaders(session))
    expect(own.ws).toBeDefined()
    own.ws?.close()
  })
})

describe('socket caps', () => {
  it('caps the sockets of one user (429, RATE_LIMITED); a closed one frees its place', async () => {
    const server = await serverWith({ connectionLimits: { socketsPerUser: 3 } })
    const session = await registerAndLogin(server)
    const open: WebSocket[] = []
    for (let i = 0; i < 3; i++) {
      const result = await upgradeFrom(server.url, sessionHeaders(session))
      if (!result.ws) throw new Error(`socket ${i} refused: ${result.status}`)
      open.push(result.ws)
    }
    const fourth = await upgradeFrom(server.url, sessionHeaders(session))
    expect(fourth).toMatchObject({ status: 429, body: { code: Code.RATE_LIMITED } })
    expect(fourth.body?.msg).toMatch(/3 connections/)
    // Another user is not affected.
    await connectOne(server)
    open[0]?.close()
    await until('the server to see the close', () => server.stats().connections === 3)
    const again = await upgradeFrom(server.url, sessionHeaders(session))
    expect(again.ws).toBeDefined()
    for (const ws of [...open, again.ws]) ws?.close()
  })

  it('caps the sockets of one address; another address still connects', async () => {
    const server = await serverWith({ connectionLimits: { socketsPerAddress: 4 } })
    const sessions = await Promise.all([0, 1, 2, 3, 4].map(() => registerAndLogin(server)))
    const open: WebSocket[] = []
    for (const session of sessions.slice(0, 4)) {
      const result = await upgradeFrom(server.url, sessionHeaders(session), '127.0.0.20')
      if (!result.ws) throw new Error(`refused: ${result.status}`)
      open.push(result.ws)
    }
    const fifth = await upgradeFrom(server.url, sessionHeaders(sessions[4]!), '127.0.0.20')
    expect(fifth).toMatchObject({ status: 429, body: { code: Code.RATE_LIMITED } })
    const elsewhere = await upgradeFrom(server.url, sessionHeaders(sessions[4]!), '127.0.0.21')
    expect(elsewhere.ws).toBeDefined()
    for (const ws of [...open, elsewhere.ws]) ws?.close()
  })
})

describe('byte budgets', () => {
  it('stops reading and serving a socket that does not read its replies; it gets them all once it does', async () => {
    const sendBudget = 256 * 1024
    const userSendBudget = 1024 * 1024
    const server = await serverWith({
      rateLimit: { perSecond: 1e6, burst: 1e6 },
      connectionLimits: { sendBudgetBytes: sendBudget, userSendBudgetBytes: userSendBudget },
    })
    const [sender, bystander] = await Promise.all([connectOne(server), connectOne(server)])
    const reader = await registerAndLogin(server)
    const body = 'x'.repeat(4000)
    for (let chunk = 0; chunk < 3; chunk++) {
      await Promise.all(
        Array.from({ length: 100 }, () =>
          sender.call('sendMessage', {
            clientMsgId: clientMsgId(),
            conversation: { type: 'private', targetId: reader.userId },
            content: text(body),
          }),
        ),
      )
    }
    const pull = (id: number) =>
      JSON.stringify({
        id,
        op: 'pullMessages',
        data: { conversation: { type: 'private', targetId: sender.userId }, afterSeq: 0, limit: 300 },
      })
    const page = await sender.call('pullMessages', {
      conversation: { type: 'private', targetId: reader.userId },
      afterSeq: 0,
      limit: 300,
    })
    const replySize = Buffer.byteLength(JSON.stringify({ type: 'reply', id: 1, code: 0, data: page }))
    expect(replySize).toBeGreaterThan(1_000_000)

    // Three sockets of one user that never read, eight full pages asked on each (31 MB in all).
    const sockets: { ws: WebSocket; replies: number[] }[] = []
    for (let i = 0; i < 3; i++) {
      const opened = await upgradeFrom(server.url, sessionHeaders(reader))
      if (!opened.ws) throw new Error('refused')
      const ws = opened.ws
      ;(ws as unknown as { _socket: { pause(): void } })._socket.pause()
      const entry = { ws, replies: [] as number[] }
      ws.on('message', (raw) => {
        const frame = JSON.parse(String(raw)) as { type: string; id: number; code: number }
        if (frame.type === 'reply') entry.replies.push(frame.code === 0 ? frame.id : -frame.code)
      })
      for (let id = 1; id <= 8; id++) ws.send(pull(id))
      sockets.push(entry)
    }
    await until('the server to hold all three', () => server.stats().holdingConnections === 3)
    const stats = server.stats()
    expect(stats.heldFrames).toBeGreaterThan(0)
    // What waits in the server's buffers for that user: its budget, plus the one reply that crossed it.
    expect(stats.bufferedBytes).toBeLessThanOrEqual(userSendBudget + replySize)
    // Everyone else is served meanwhile.
    await bystander.call('syncState', {})
    await sender.call('syncState', {})

    for (const { ws } of sockets) (ws as unknown as { _socket: { resume(): void } })._socket.resume()
    await until('every reply', () => sockets.every((s) => s.replies.length === 8), 30_000)
    for (const s of sockets) expect(s.replies).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(server.stats().heldFrames).toBe(0)
    for (const { ws } of sockets) ws.close()
  }, 60_000)

  it('counts inbound bytes, not only frames: over budget a frame is refused unparsed, and a socket that keeps on is closed (4008) and kept out for a while', async () => {
    const server = await serverWith({
      connectionLimits: {
        // Refill so slow that the test decides what is over budget, not the time it takes.
        inboundBytesPerSecond: 1,
        inboundBurstBytes: 128 * 1024,
        userInboundBytesPerSecond: 1,
        userInboundBurstBytes: 160 * 1024,
        abuseBytes: 512 * 1024,
      },
    })
    const [first, bystander] = await Promise.all([connectOne(server), connectOne(server)])
    const second = await TestClient.connect(server, await login(server, first.userId, first.session.password))
    const pad = 'p'.repeat(53_000)
    let id = 1000
    const big = (client: TestClient) => {
      const frameId = ++id
      return client.sendFrame(
        `{"id":${frameId},"op":"getUsers","data":{"userIds":["${client.userId}"],"pad":"${pad}"}}`,
        frameId,
        'getUsers',
      )
    }
    expect((await big(first)).code).toBe(0)
    expect((await big(first)).code).toBe(0)
    const refused = await big(first)
    expect(refused.code).toBe(Code.RATE_LIMITED)
    expect(refused.msg).toMatch(/bytes/)
    // Checked before parsing: malformed JSON over the budget is refused, not parsed into BAD_FRAME.
    expect((await first.sendUnattributable(`{"broken": "${pad}`)).code).toBe(Code.RATE_LIMITED)
    // The user's budget is shared by its sockets: the second has 54 KB of the user's left.
    expect((await big(second)).code).toBe(0)
    const shared = await big(second)
    expect(shared.code).toBe(Code.RATE_LIMITED)
    expect(shared.msg).toMatch(/account/)
    // A socket that goes on sending over its budget is closed with a clear code.
    const frame = `{"id":1,"op":"getUsers","data":{"userIds":[],"pad":"${pad}"}}`
    const closed = first.closed
    for (let i = 0; i < 20 && first.ws.readyState === WebSocket.OPEN; i++) first.ws.send(frame)
    expect(await closed).toEqual({ code: 4008, reason: 'too much data: slow down' })
    // …and its user may not come straight back with a new one.
    const again = await upgradeFrom(server.url, sessionHeaders(first.session))
    expect(again).toMatchObject({ status: 429, body: { code: Code.RATE_LIMITED } })
    expect(again.body?.msg).toMatch(/cut off/)
    await bystander.call('syncState', {})
    await second.close()
  })
})
