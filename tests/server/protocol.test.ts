import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { DEVICE_HEADER, http } from '../../src/shared/protocol'
import { createLogger } from '../../src/server/log'
import type { RunningServer } from '../../src/server/server'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { StorageOps, Unit } from '../../src/server/storage/types'
import {
  api,
  clientMsgId,
  connectOne,
  openSocket,
  registerAndLogin,
  startTestServer,
  text,
  TestClient,
} from './helpers'

describe('protocol robustness', () => {
  let server: RunningServer
  let alice: TestClient
  let bob: TestClient
  /** A bystander on the same server: must keep working whatever the others send. */
  let carol: TestClient
  let firstUId: string

  beforeAll(async () => {
    server = await startTestServer({ maxPayload: 32 * 1024 })
    ;[alice, bob, carol] = await Promise.all([connectOne(server), connectOne(server), connectOne(server)])
    const sent = await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: text('before the storm'),
    })
    firstUId = sent.message.messageUId
  })
  afterAll(async () => {
    for (const client of [alice, bob, carol]) expect(client.protocolErrors).toEqual([])
    await server.close()
  })

  async function bystanderStillWorks(): Promise<void> {
    const sent = await carol.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: text('still here'),
    })
    await bob.nextPush('message', (m) => m.messageUId === sent.message.messageUId)
    const history = await bob.call('pullMessages', {
      conversation: { type: 'private', targetId: alice.userId },
      afterSeq: 0,
      limit: 10,
    })
    expect(history.messages.map((m) => m.messageUId)).toContain(firstUId)
  }

  it('answers health checks', async () => {
    const response = await fetch(`${server.httpUrl}/health`)
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true, name: 'receipts-messenger-server', protocol: 1 })
  })

  it('replies BAD_FRAME with id null to malformed JSON', async () => {
    const reply = await alice.sendUnattributable('{"id": 1, "op": "syncState", ')
    expect(reply).toMatchObject({ type: 'reply', id: null, code: Code.BAD_FRAME })
    await alice.call('syncState', {})
    await bystanderStillWorks()
  })

  it('replies BAD_FRAME to JSON that is not an envelope, with its id when it has one', async () => {
    expect(await alice.sendUnattributable('[1, 2, 3]')).toMatchObject({ id: null, code: Code.BAD_FRAME })
    expect(await alice.sendUnattributable('"just a string"')).toMatchObject({
      id: null,
      code: Code.BAD_FRAME,
    })
    const reply = await alice.sendFrame(JSON.stringify({ id: 77, op: 42 }), 77, 'syncState')
    expect(reply).toMatchObject({ id: 77, code: Code.BAD_FRAME })
    expect(reply.msg).toMatch(/op/)
  })

  it('replies UNKNOWN_OPERATION with the request id', async () => {
    const reply = await alice.requestRaw('launchRockets', {})
    expect(reply.code).toBe(Code.UNKNOWN_OPERATION)
    expect(reply.msg).toMatch(/launchRockets/)
    // Names inherited from Object.prototype are not operations either.
    expect((await alice.requestRaw('toString', {})).code).toBe(Code.UNKNOWN_OPERATION)
    expect((await alice.requestRaw('__proto__', {})).code).toBe(Code.UNKNOWN_OPERATION)
  })

  it('replies INVALID_ARGUMENT naming the field', async () => {
    const reply = await alice.requestRaw('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: { type: 'text', text: 42 },
    })
    expect(reply.code).toBe(Code.INVALID_ARGUMENT)
    expect(reply.msg).toMatch(/content\.text/)
    const limit = await alice.requestRaw('pullMessages', {
      conversation: { type: 'private', targetId: bob.userId },
      afterSeq: -1,
      limit: 10,
    })
    expect(limit.code).toBe(Code.INVALID_ARGUMENT)
    expect(limit.msg).toMatch(/afterSeq/)
  })

  it('survives deeply nested JSON', async () => {
    const depth = 3000
    const nested = `${'['.repeat(depth * 3)}${']'.repeat(depth * 3)}`
    const asData = await alice.sendFrame(
      `{"id": 5001, "op": "sendMessage", "data": ${nested}}`,
      5001,
      'sendMessage',
    )
    expect(asData.code).toBe(Code.INVALID_ARGUMENT)
    const objects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    const asContent = await alice.sendFrame(
      `{"id": 5002, "op": "sendMessage", "data": {"clientMsgId": "abcdefgh1", "conversation": ${objects}}}`,
      5002,
      'sendMessage',
    )
    expect(asContent.code).toBe(Code.INVALID_ARGUMENT)
    expect((await alice.sendUnattributable(nested)).code).toBe(Code.BAD_FRAME)
    await bystanderStillWorks()
  })

  it('answers a group receipt operation on an unknown group with a typed error', async () => {
    const reply = await alice.requestRaw('sendReadReceiptRequest', { groupId: 'g_abc', messageUId: firstUId })
    expect(reply).toMatchObject({ code: Code.GROUP_NOT_FOUND })
    const badCursor = await alice.requestRaw('fetchGroupReadAcks', {
      messageUId: firstUId,
      pageSize: 10,
      startAckId: 'not-a-cursor',
    })
    expect(badCursor).toMatchObject({ code: Code.INVALID_ARGUMENT, msg: 'startAckId: not an ack id' })
  })

  it('closes a socket that sends a frame over maxPayload (1009), and only that socket', async () => {
    const session = await registerAndLogin(server)
    const victim = await TestClient.connect(server, session)
    victim.ws.send(JSON.stringify({ id: 1, op: 'syncState', data: { pad: 'x'.repeat(40_000) } }))
    expect((await victim.closed).code).toBe(1009)
    await bystanderStillWorks()
    // The same session may reconnect: an oversized frame is not a reason to log anyone out.
    const again = await TestClient.connect(server, session)
    await again.call('syncState', {})
    await again.close()
  })

  it('rate-limits a flooding connection with RATE_LIMITED and keeps it open', async () => {
    const limited = await startTestServer({ rateLimit: { perSecond: 10, burst: 20 } })
    try {
      const [flooder, calm] = await Promise.all([connectOne(limited), connectOne(limited)])
      const replies = await Promise.all(Array.from({ length: 60 }, () => flooder.request('syncState', {})))
      expect(replies.filter((r) => r.code === Code.RATE_LIMITED).length).toBeGreaterThan(0)
      expect(replies.filter((r) => r.code === 0).length).toBeGreaterThanOrEqual(20)
      expect(flooder.ws.readyState).toBe(flooder.ws.OPEN)
      // Another connection has its own bucket.
      await calm.call('syncState', {})
    } finally {
      await limited.close()
    }
  })

  it('answers INTERNAL when a handler fails unexpectedly, logs it, and keeps serving', async () => {
    const storage = new SqliteStorage(':memory:')
    let failing = false
    // Operations run inside the gateway's group commit, on the transaction's view of the storage.
    const flakyTx = (tx: StorageOps): StorageOps =>
      new Proxy(tx, {
        get(target, property, receiver) {
          if (property === 'getUsers' && failing)
            return () => {
              throw new Error('disk on fire')
            }
          return Reflect.get(target, property, receiver) as unknown
        },
      })
    const flaky = new Proxy(storage, {
      get(target, property, receiver) {
        if (property === 'batch')
          return <T>(units: readonly Unit<T>[]) =>
            storage.batch(units.map((unit) => (tx: StorageOps) => unit(flakyTx(tx))))
        return Reflect.get(target, property, receiver) as unknown
      },
    })
    const logged: string[] = []
    const broken = await startTestServer({
      storage: flaky,
      logger: { ...createLogger('silent'), error: (msg) => logged.push(msg) },
    })
    try {
      const client = await connectOne(broken)
      failing = true
      const reply = await client.request('getUsers', { userIds: [client.userId] })
      expect(reply).toMatchObject({ code: Code.INTERNAL })
      expect(reply.msg).not.toMatch(/disk on fire/)
      expect(logged).toEqual(['operation failed'])
      failing = false
      await client.call('getUsers', { userIds: [client.userId] })
    } finally {
      await broken.close()
      await storage.close()
    }
  })

  describe('upgrade', () => {
    it('refuses a socket without a token with 401', async () => {
      const result = await openSocket(server.url, {})
      expect(result.status).toBe(401)
      expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: Code.NOT_LOGGED_IN })
    })

    it('refuses an unknown token with 401', async () => {
      const result = await openSocket(server.url, { authorization: 'Bearer not-a-token' })
      expect(result.status).toBe(401)
      expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: Code.TOKEN_INVALID })
    })

    it('accepts the token as a query parameter too (with its device header)', async () => {
      const session = await registerAndLogin(server)
      const result = await openSocket(`${server.url}?token=${encodeURIComponent(session.token)}`, {
        [DEVICE_HEADER]: session.deviceId,
      })
      expect(result.ws).toBeDefined()
      result.ws?.close()
    })

    it('refuses a token presented by another device', async () => {
      const session = await registerAndLogin(server)
      const result = await openSocket(server.url, {
        authorization: `Bearer ${session.token}`,
        [DEVICE_HEADER]: 'someone-elses-device',
      })
      expect(result.status).toBe(401)
    })

    it('serves WebSockets at /ws only', async () => {
      const session = await registerAndLogin(server)
      const result = await openSocket(server.url.replace(/\/ws$/, '/other'), {
        authorization: `Bearer ${session.token}`,
      })
      expect(result.status).toBe(404)
    })
  })

  describe('HTTP API errors', () => {
    it('answers unparseable JSON with 400 and a code', async () => {
      const response = await api(server, http.login.path, undefined, { rawBody: '{"userId": ' })
      expect(response).toMatchObject({ status: 400, body: { code: Code.BAD_FRAME } })
    })

    it('answers an oversized body with 413 and a code', async () => {
      const response = await api(server, http.register.path, { userId: 'big', password: 'x'.repeat(20_000) })
      expect(response).toMatchObject({ status: 413, body: { code: Code.FRAME_TOO_LARGE } })
    })

    it('answers invalid fields with INVALID_ARGUMENT naming them', async () => {
      const response = await api(server, http.register.path, { userId: 'has space', password: 'short' })
      expect(response.body.code).toBe(Code.INVALID_ARGUMENT)
      expect(response.body.msg).toMatch(/userId/)
    })

    it('answers unknown paths and wrong methods', async () => {
      expect((await api(server, '/api/nothing', {})).status).toBe(404)
      expect((await fetch(`${server.httpUrl}${http.login.path}`)).status).toBe(405)
    })
  })
})
