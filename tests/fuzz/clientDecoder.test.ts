/**
 * Fuzzing the engine's side of the wire protocol: a fake server sends the engine's ServerConnection
 * generated frames (garbage, JSON, push frames with wrong data, replies to no request) before
 * answering a real request. The connection must stay open, emit only pushes that match the protocol,
 * and still match the real reply to its request.
 */
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import { ServerConnection } from '../../src/main/engine/link/connection'
import { Code } from '../../src/shared/codes'
import { pushes, PushFrame, type PushEvent } from '../../src/shared/protocol'
import { fuzzRuns, fuzzTimeout } from './runs'

const pushEvents = Object.keys(pushes) as PushEvent[]

describe('engine wire decoder (fuzzed)', () => {
  let wss: WebSocketServer
  let serverSide: WebSocket
  let conn: ServerConnection
  const emitted: unknown[] = []
  let closed = false

  beforeAll(async () => {
    wss = new WebSocketServer({ port: 0, host: '127.0.0.1' })
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve))
    conn = new ServerConnection({
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/ws`,
      token: 'fuzz',
      deviceId: 'fuzz-device',
      requestTimeoutMs: 5000,
    })
    conn.on('push', (frame) => emitted.push(frame))
    conn.on('close', () => (closed = true))
    await conn.connect()
    serverSide = await accepted
    // The fake server answers getUsers with a valid reply, after whatever the test queued before.
    serverSide.on('message', (raw) => {
      const request = JSON.parse(String(raw)) as { id: number; op: string; data: { userIds: string[] } }
      const users = request.data.userIds.map((userId) => ({ userId, displayName: userId }))
      serverSide.send(JSON.stringify({ type: 'reply', id: request.id, code: 0, data: { users } }))
    })
  })
  afterAll(async () => {
    conn.close()
    await new Promise<void>((resolve) => wss.close(() => resolve()))
  })

  const frame = fc.oneof(
    fc.string({ maxLength: 100 }),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          event: fc.oneof(fc.constantFrom(...pushEvents), fc.string()),
          data: fc.jsonValue(),
          eventSeq: fc.jsonValue(),
        },
        { requiredKeys: ['event'] },
      )
      .map((p) => JSON.stringify({ type: 'push', ...p })),
    fc
      .record({
        id: fc.oneof(fc.integer({ min: 1_000_000 }), fc.constant(null), fc.string()),
        code: fc.oneof(fc.integer(), fc.string()),
        data: fc.jsonValue(),
      })
      .map((r) => JSON.stringify({ type: 'reply', ...r })),
    fc.constant(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
  )

  const runs = fuzzRuns(2000)
  it(
    `stays open and correct through ${runs} batches of generated frames`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
          emitted.length = 0
          for (const text of frames) serverSide.send(text)
          const res = await conn.request('getUsers', { userIds: ['u1'] })
          expect(res).toEqual({ code: 0, data: { users: [{ userId: 'u1', displayName: 'u1' }] } })
          for (const push of emitted) expect(PushFrame.safeParse(push).success).toBe(true)
          expect(closed).toBe(false)
        }),
        { numRuns: runs },
      )
    },
    fuzzTimeout(runs, 10),
  )

  it('turns a reply with malformed data into a typed error, not a crash', async () => {
    serverSide.removeAllListeners('message')
    serverSide.once('message', (raw) => {
      const { id } = JSON.parse(String(raw)) as { id: number }
      serverSide.send(JSON.stringify({ type: 'reply', id, code: 0, data: { users: 'not a list' } }))
    })
    const res = await conn.request('getUsers', { userIds: ['u1'] })
    expect(res.code).toBe(Code.INTERNAL)
    expect(res.msg).toMatch(/malformed getUsers reply/)
  })
})
