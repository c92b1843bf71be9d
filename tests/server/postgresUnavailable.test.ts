/**
 * PostgreSQL going away under a running node (issue #10): while the database is stopped the node
 * keeps its sockets open and answers every request with the typed UNAVAILABLE (5003; HTTP 503), saves
 * nothing, and serves again as soon as the database is back, with nothing lost and nothing twice.
 *
 * "Stopped" is a port forwarder between the node and PostgreSQL that stops listening and drops every
 * connection, which is what a client sees of a stopped server (connections ended, then refused); the
 * machine's own PostgreSQL, shared by other tests running at the same time, is left alone. Skipped
 * with one line when PostgreSQL does not answer (never under CI=true).
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { DEVICE_HEADER } from '../../src/shared/protocol'
import { isUnavailable } from '../../src/server/storage/postgres/sql'
import type { RunningServer } from '../../src/server/server'
import {
  api,
  clientMsgId,
  connectOne,
  login,
  openSocket,
  startTestServer,
  text,
  type TestClient,
} from './helpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from './postgresHelpers'

/** Forwards a local port to PostgreSQL; `stop()` is PostgreSQL stopping, `start()` it coming back. */
class PortForward {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  port = 0

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect({ host: this.targetHost, port: this.targetPort })
      for (const s of [client, upstream]) {
        this.sockets.add(s)
        s.on('close', () => this.sockets.delete(s))
        s.on('error', () => {
          client.destroy()
          upstream.destroy()
        })
      }
      client.pipe(upstream).pipe(client)
    })
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as AddressInfo).port
    this.server = server
  }

  /** Refuses new connections and drops the open ones. */
  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    for (const s of this.sockets) s.destroy()
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

describe.skipIf(skipPostgres)('a node whose PostgreSQL stops and comes back', () => {
  let db: ScratchDatabase
  let forward: PortForward
  let node: RunningServer
  let alice: TestClient
  let bob: TestClient

  beforeAll(async () => {
    db = await createScratchDatabase()
    const target = new URL(db.url)
    forward = new PortForward(target.hostname, Number(target.port || 5432))
    await forward.start()
    const through = new URL(db.url)
    through.host = `127.0.0.1:${forward.port}`
    node = await startTestServer({ store: through.toString() })
    alice = await connectOne(node)
    bob = await connectOne(node)
  })
  afterAll(async () => {
    await node?.close()
    await forward?.stop()
    await db?.drop()
  })

  it('answers UNAVAILABLE, keeps sockets open, and serves again when the database returns', async () => {
    const conversation = { type: 'private' as const, targetId: bob.userId }
    await alice.call('sendMessage', { clientMsgId: clientMsgId(), conversation, content: text('before') })
    expect((await bob.nextPush('message')).data.seq).toBe(1)

    await forward.stop()
    const retried = clientMsgId()
    const request = { clientMsgId: retried, conversation, content: text('while the database is down') }
    const reply = await alice.request('sendMessage', request)
    expect(reply.code).toBe(Code.UNAVAILABLE)
    expect(reply.msg).toMatch(/database/)
    // Reads too, and both sockets are still open.
    expect((await bob.request('syncState', {})).code).toBe(Code.UNAVAILABLE)
    expect(alice.ws.readyState).toBe(alice.ws.OPEN)
    expect(bob.ws.readyState).toBe(bob.ws.OPEN)

    // HTTP: liveness stays up, readiness and sign-in say 503 UNAVAILABLE, a new socket is refused 503.
    expect((await fetch(`${node.httpUrl}/health`)).status).toBe(200)
    const ready = await fetch(`${node.httpUrl}/ready`)
    expect(ready.status).toBe(503)
    expect(((await ready.json()) as { code: number }).code).toBe(Code.UNAVAILABLE)
    const signIn = await api(node, '/api/login', {
      userId: alice.userId,
      password: alice.session.password,
      deviceId: 'd-while-down',
    })
    expect(signIn).toMatchObject({ status: 503, body: { code: Code.UNAVAILABLE } })
    const refused = await openSocket(node.url, {
      authorization: `Bearer ${alice.session.token}`,
      [DEVICE_HEADER]: alice.session.deviceId,
    })
    expect(refused.status).toBe(503)
    expect(refused.ws).toBeUndefined()

    await forward.start()
    expect((await fetch(`${node.httpUrl}/ready`)).status).toBe(200)
    // The client's retry of the refused send is stored once, with the next seq: nothing was saved before.
    const { message } = await alice.call('sendMessage', request)
    expect(message.seq).toBe(2)
    expect((await bob.nextPush('message')).data).toMatchObject({ seq: 2, messageUId: message.messageUId })
    const again = await alice.call('sendMessage', request)
    expect(again).toMatchObject({ duplicate: true, message: { messageUId: message.messageUId } })
    const page = await bob.call('pullMessages', {
      conversation: { type: 'private', targetId: alice.userId },
      afterSeq: 0,
      limit: 10,
    })
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2])
    // A new device signs in again.
    expect((await login(node, alice.userId, alice.session.password)).token).toBeTruthy()
  })

  it('classifies the errors of a database that is gone, and only those', () => {
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code })
    expect(isUnavailable(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))).toBe(true)
    expect(isUnavailable(withCode('terminating connection due to administrator command', '57P01'))).toBe(true)
    expect(isUnavailable(withCode('the database system is starting up', '57P03'))).toBe(true)
    expect(isUnavailable(withCode('connection failure', '08006'))).toBe(true)
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isUnavailable(withCode('duplicate key value violates unique constraint', '23505'))).toBe(false)
    expect(isUnavailable(withCode('syntax error at or near "SELEC"', '42601'))).toBe(false)
    expect(isUnavailable('a string')).toBe(false)
  })
})
