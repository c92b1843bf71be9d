/**
 * The bus between server nodes (bus.ts) on a nats-server of the test's own: pushes cross, carry
 * their publish time, and when a node's connection to NATS is lost and comes back it tells its
 * sockets to resync and tells the other nodes to do the same (what it published meanwhile is lost:
 * NATS core is at-most-once). No PostgreSQL needed: one node on SQLite with a bus does it all.
 */
import { connect as natsConnect } from '@nats-io/transport-node'
import { WebSocket } from 'ws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NatsBus, parseBusMessage, type BusHandlers, type BusResyncReason } from '../../src/server/bus'
import { Connection } from '../../src/server/connection'
import { Hub } from '../../src/server/hub'
import { createLogger } from '../../src/server/log'
import { NatsProcess, skipNatsProcess } from '../faults/natsProcess'
import type { RunningServer } from '../../src/server/server'
import { api, clientMsgId, connectOne, startTestServer, text } from './helpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from './postgresHelpers'

if (skipNatsProcess) console.warn('bus tests skipped: no nats-server installed (apt-get install nats-server)')

/** Every call of a bus's handlers, and a way to wait for the next one that matches. */
class Recorder implements BusHandlers {
  readonly pushes: [string, string][] = []
  readonly resyncs: BusResyncReason[] = []
  readonly lags: number[] = []
  private waiters: { test: () => boolean; resolve: () => void }[] = []

  push(userId: string, payload: string): void {
    this.pushes.push([userId, payload])
    this.wake()
  }
  sessionEnded(): void {}
  resync(reason: BusResyncReason): void {
    this.resyncs.push(reason)
    this.wake()
  }
  lag(ms: number): void {
    this.lags.push(ms)
  }

  until(what: string, test: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (test()) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs)
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer)
          resolve()
        },
      })
    })
  }

  private wake(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.test()) return true
      w.resolve()
      return false
    })
  }
}

describe('bus messages', () => {
  it('carry origin, publish time and payload; anything else is ignored', () => {
    expect(parseBusMessage('n1\n1700000000000\n{"a":"x\\ny"}')).toEqual({
      origin: 'n1',
      sentAt: 1_700_000_000_000,
      payload: '{"a":"x\\ny"}',
    })
    expect(parseBusMessage('n1\n{"type":"push"}')).toBeUndefined()
    expect(parseBusMessage('n1\nsoon\npayload')).toBeUndefined()
  })
})

describe('hub', () => {
  it('tells every socket it holds to resync, except those whose session has expired', () => {
    const log = createLogger('silent')
    let now = 1000
    const hub = new Hub(() => now)
    const sockets = ['a', 'a', 'b', 'c'].map((userId, i) => {
      const ws = { readyState: WebSocket.OPEN, bufferedAmount: 0, sent: [] as string[] }
      const send = (payload: string) => ws.sent.push(payload)
      const session = {
        userId,
        deviceId: `d${i}`,
        tokenHash: Buffer.from(`t${i}`),
        ...(userId === 'c' ? { expiresAt: 1500 } : {}),
      }
      const options = { maxBufferedBytes: 1 << 20, ratePerSecond: 10, rateBurst: 10 }
      hub.add(new Connection({ ...ws, send } as unknown as WebSocket, session, options, log))
      return ws
    })
    now = 2000
    hub.resyncAll('reconnected')
    const frame = { type: 'push', event: 'resync', data: { reason: 'reconnected' } }
    expect(sockets.map((s) => s.sent.map((p) => JSON.parse(p) as unknown))).toEqual([
      [frame],
      [frame],
      [frame],
      [],
    ])
  })
})

describe.skipIf(skipNatsProcess)('NATS restarted under two nodes', () => {
  let nats: NatsProcess
  const a = new Recorder()
  const b = new Recorder()
  let busA: NatsBus
  let busB: NatsBus
  beforeAll(async () => {
    nats = await NatsProcess.start()
    const deployment = 'test'
    busA = await NatsBus.connect(nats.url, a, { deployment, reconnectTimeWaitMs: 100, resyncWhileDownMs: 50 })
    busB = await NatsBus.connect(nats.url, b, { deployment, reconnectTimeWaitMs: 100 })
  })
  afterAll(async () => {
    await busA?.close()
    await busB?.close()
    await nats?.close()
  })

  it('a push crosses with its publish time, never back to its own node', async () => {
    const raw = await natsConnect({ servers: nats.url })
    const seen: string[] = []
    raw.subscribe(`im.test.u.${Buffer.from('ann').toString('hex')}`, {
      callback: (_e, m) => {
        seen.push(m.string())
      },
    })
    await raw.flush()
    busA.watchUser('ann')
    busB.watchUser('ann')
    // Each bus sends its subscription before anything it publishes: a round trip on A settles both.
    await (busA as unknown as { nc: { flush(): Promise<void> } }).nc.flush()
    const before = Date.now()
    busB.publishToUser('ann', '{"type":"push","event":"x"}')
    await a.until('the push on A', () => a.pushes.length === 1)
    expect(a.pushes).toEqual([['ann', '{"type":"push","event":"x"}']])
    expect(a.lags).toHaveLength(1)
    expect(a.lags[0]).toBeGreaterThanOrEqual(0)
    expect(b.pushes).toEqual([])
    await raw.flush()
    const wire = parseBusMessage(seen[0] ?? '')
    expect(wire).toMatchObject({ origin: busB.nodeId, payload: '{"type":"push","event":"x"}' })
    expect(wire?.sentAt).toBeGreaterThanOrEqual(before)
    await raw.close()
  })

  it('killed and started again: each node resyncs its sockets (also while down), tells the other, and pushes flow again', async () => {
    a.resyncs.length = 0
    b.resyncs.length = 0
    await nats.stop('SIGKILL')
    // Down: publishing neither throws nor arrives anywhere; A's sockets resync on a timer.
    busB.publishToUser('ann', 'lost')
    await a.until('a resync while down', () => a.resyncs.includes('down'))
    await nats.restart()
    await a.until('A reconnected', () => a.resyncs.includes('reconnected'))
    await b.until('B reconnected', () => b.resyncs.includes('reconnected'))
    // Whichever came back second heard the first one say so.
    await Promise.race([
      a.until('A told by B', () => a.resyncs.includes('peerReconnected')),
      b.until('B told by A', () => b.resyncs.includes('peerReconnected')),
    ])
    busB.publishToUser('ann', 'after')
    await a.until('the push after the restart', () => a.pushes.some(([, p]) => p === 'after'))
    expect(a.pushes.map(([, p]) => p)).not.toContain('lost')
    // Back up: the timer stopped.
    expect(a.resyncs.slice(a.resyncs.indexOf('reconnected'))).not.toContain('down')
  })
})

describe.skipIf(skipNatsProcess)('a node whose NATS restarts', () => {
  it('pushes resync to the sockets it holds', async () => {
    const nats = await NatsProcess.start()
    const server = await startTestServer({ bus: nats.url })
    try {
      const client = await connectOne(server)
      await nats.stop('SIGKILL')
      await nats.restart()
      expect((await client.nextPush('resync')).data).toEqual({ reason: 'reconnected' })
      await client.close()
    } finally {
      await server.close()
      await nats.close()
    }
  })
})

describe.skipIf(skipNatsProcess || skipPostgres)('deployments and sessions on one NATS', () => {
  let nats: NatsProcess
  const dbs: ScratchDatabase[] = []
  const servers: RunningServer[] = []
  beforeAll(async () => {
    nats = await NatsProcess.start()
  })
  afterAll(async () => {
    for (const server of servers) await server.close()
    for (const db of dbs) await db.drop()
    await nats?.close()
  })
  async function node(db: ScratchDatabase): Promise<RunningServer> {
    const server = await startTestServer({ store: db.url, bus: nats.url })
    servers.push(server)
    return server
  }

  it('two deployments sharing one NATS never hear each other, even for the same user id', async () => {
    const [one, two] = [await createScratchDatabase(), await createScratchDatabase()]
    dbs.push(one, two)
    const [a1, a2, b1] = [await node(one), await node(one), await node(two)]
    // "dana" and "eve" exist in both deployments: same ids, same bus, different databases.
    const dana = await connectOne(a1, { userId: 'dana' })
    const danaElsewhere = await connectOne(b1, { userId: 'dana' })
    const eve = await connectOne(a2, { userId: 'eve' })
    await connectOne(b1, { userId: 'eve' })
    const { message } = await eve.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: 'dana' },
      content: text('for this deployment only'),
    })
    // Crossed nodes of its own deployment...
    expect((await dana.nextPush('message')).data.messageUId).toBe(message.messageUId)
    // ...and not into the other one (a round trip there is a barrier for what was sent before it).
    expect((await danaElsewhere.barrier()).filter((p) => p.event === 'message')).toEqual([])
  })

  it('closes a session ended on another node while the bus was down, once it is back', async () => {
    const db = await createScratchDatabase()
    dbs.push(db)
    const [a, b] = [await node(db), await node(db)]
    const frank = await connectOne(a)
    await nats.stop('SIGKILL')
    // The logout happens on node b; its "session ended" cannot cross the bus now.
    const res = await api(b, '/api/logout', {}, { token: frank.session.token })
    expect(res.body).toMatchObject({ code: 0 })
    expect(frank.ws.readyState).toBe(WebSocket.OPEN)
    await nats.restart()
    expect((await frank.closed).code).toBe(4001)
  })
})
