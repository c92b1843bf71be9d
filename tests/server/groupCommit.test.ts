/**
 * The gateway's group commit, driven without sockets: frames handed to handleFrame in one turn run
 * as one Storage.batch; replies and pushes leave only once that batch has committed, each
 * connection's in one corked write; one failing operation answers alone.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeliveryBudget } from '../../src/server/deliveryBudget'
import { WebSocket } from 'ws'
import { Code } from '../../src/shared/codes'
import { Accounts } from '../../src/server/accounts'
import { Connection } from '../../src/server/connection'
import { Gateway, MAX_BATCH } from '../../src/server/gateway'
import { Hub } from '../../src/server/hub'
import { createLogger } from '../../src/server/log'
import { resolveReceiptDefaults } from '../../src/server/receiptSettings'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { Storage, Unit, UnitResult } from '../../src/server/storage/types'

interface Frame {
  type: 'reply' | 'push'
  id?: number
  code?: number
  msg?: string
  event?: string
  /** A pushed message (its data is the message itself). */
  data?: { seq?: number; clientMsgId?: string }
}

/** A stand-in for ws: records each frame and which socket write (cork … uncork) it went out in. */
class FakeSocket {
  readonly readyState = WebSocket.OPEN
  readonly bufferedAmount = 0
  readonly frames: Frame[] = []
  /** One entry per socket write: the frames it carried. */
  readonly writes: Frame[][] = []
  private corked: Frame[] | null = null
  private waiter: { count: number; resolve: () => void } | undefined

  readonly _socket = {
    cork: () => {
      this.corked = []
    },
    uncork: () => {
      if (this.corked) this.writes.push(this.corked)
      this.corked = null
    },
  }

  send(payload: string): void {
    const frame = JSON.parse(payload) as Frame
    this.frames.push(frame)
    if (this.corked) this.corked.push(frame)
    else this.writes.push([frame])
    if (this.waiter && this.frames.length >= this.waiter.count) this.waiter.resolve()
  }

  /** Resolves once `count` frames have arrived in all. */
  received(count: number): Promise<Frame[]> {
    if (this.frames.length >= count) return Promise.resolve(this.frames)
    return new Promise((resolve) => {
      this.waiter = { count, resolve: () => resolve(this.frames) }
    })
  }
}

describe('gateway group commit', () => {
  let raw: SqliteStorage
  let batches: number[]
  /** When set, the batch's result is held back until it resolves (the commit has happened by then). */
  let holdAfterCommit: Promise<void> | undefined
  let failCommit: boolean
  let gateway: Gateway
  const hub = new Hub()
  const log = createLogger('silent')

  const storageSpy = (): Storage =>
    new Proxy(raw, {
      get(target, name, receiver) {
        if (name === 'batch') {
          return async <T>(units: readonly Unit<T>[]): Promise<UnitResult<T>[]> => {
            batches.push(units.length)
            if (failCommit) throw new Error('disk I/O error')
            const results = await raw.batch(units)
            if (holdAfterCommit) await holdAfterCommit
            return results
          }
        }
        return Reflect.get(target, name, receiver) as unknown
      },
    })

  function connect(userId: string): FakeSocket {
    const ws = new FakeSocket()
    const options = { maxBufferedBytes: 1 << 20, ratePerSecond: 1000, rateBurst: 1000 }
    const session = { userId, deviceId: `${userId}-device`, tokenHash: Buffer.from(userId) }
    const connection = new Connection(ws as unknown as WebSocket, session, options, log)
    hub.add(connection)
    sockets.set(ws, connection)
    return ws
  }
  const sockets = new Map<FakeSocket, Connection>()

  const frame = (ws: FakeSocket, id: number, op: string, data: unknown): void =>
    gateway.handleFrame(sockets.get(ws) as Connection, JSON.stringify({ id, op, data }))
  const sendTo = (ws: FakeSocket, id: number, targetId: string, clientMsgId: string): void =>
    frame(ws, id, 'sendMessage', {
      clientMsgId,
      conversation: { type: 'private', targetId },
      content: { type: 'text', text: clientMsgId },
    })

  beforeEach(async () => {
    raw = new SqliteStorage(':memory:')
    batches = []
    holdAfterCommit = undefined
    failCommit = false
    for (const id of ['alice', 'bob', 'carol'])
      await raw.insertUser({ id, displayName: id, passwordHash: 'x', createdAt: 1 })
    const storage = storageSpy()
    gateway = new Gateway(
      {
        storage,
        accounts: new Accounts(storage),
        hub,
        log,
        now: () => 1000,
        receiptDefaults: resolveReceiptDefaults({}),
        deliveryBudget: new DeliveryBudget(),
      },
      {
        maxPayload: 65536,
        heartbeatMs: 3_600_000,
        maxBufferedBytes: 1 << 20,
        ratePerSecond: 1000,
        rateBurst: 1000,
        userRatePerSecond: 1000,
        userRateBurst: 1000,
      },
    )
  })

  afterEach(async () => {
    for (const connection of sockets.values()) hub.remove(connection)
    sockets.clear()
    await gateway.close()
    await raw.close()
  })

  it('runs the frames of one turn in one commit and answers each', async () => {
    const alice = connect('alice')
    const bob = connect('bob')
    sendTo(alice, 1, 'bob', 'from-alice-00001')
    sendTo(alice, 2, 'bob', 'from-alice-00002')
    sendTo(bob, 7, 'alice', 'from-bob-0000001')
    // alice: two replies and bob's message; bob: one reply and alice's two messages.
    const [toAlice, toBob] = await Promise.all([alice.received(3), bob.received(3)])
    expect(batches).toEqual([3])
    expect(toAlice.filter((f) => f.type === 'reply').map((f) => [f.id, f.code])).toEqual([
      [1, Code.OK],
      [2, Code.OK],
    ])
    expect(toBob.filter((f) => f.type === 'reply').map((f) => [f.id, f.code])).toEqual([[7, Code.OK]])
    expect(toBob.filter((f) => f.type === 'push').map((f) => f.data?.seq)).toEqual([1, 2])
    // Each connection got all of its frames of the turn in one socket write.
    expect(alice.writes).toHaveLength(1)
    expect(bob.writes).toHaveLength(1)
    // Frames of a later turn go in the next commit.
    sendTo(alice, 3, 'bob', 'from-alice-00003')
    await alice.received(4)
    expect(batches).toEqual([3, 1])
  })

  it('commits a burst in slices, answering the first slice before the next one runs', async () => {
    const alice = connect('alice')
    connect('bob')
    const burst = MAX_BATCH + 44
    let answeredBeforeSecond = -1
    const batch = raw.batch.bind(raw)
    raw.batch = async (units) => {
      if (batches.length === 2) answeredBeforeSecond = alice.frames.length
      return batch(units)
    }
    for (let i = 0; i < burst; i++) sendTo(alice, i + 1, 'bob', `burst-message-${String(i).padStart(4, '0')}`)
    const frames = await alice.received(burst)
    expect(batches).toEqual([MAX_BATCH, 44])
    expect(answeredBeforeSecond).toBe(MAX_BATCH)
    expect(frames.map((f) => f.id)).toEqual(Array.from({ length: burst }, (_, i) => i + 1))
    expect((await raw.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(burst)
  })

  it('sends nothing before the commit is done', async () => {
    const alice = connect('alice')
    const bob = connect('bob')
    let release = (): void => undefined
    holdAfterCommit = new Promise((resolve) => (release = resolve))
    sendTo(alice, 1, 'bob', 'held-message-0001')
    // Wait until the batch has run and committed (the message is stored), but is still held.
    await expect.poll(() => batches.length).toBe(1)
    await expect.poll(async () => (await raw.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(1)
    expect(alice.frames).toEqual([])
    expect(bob.frames).toEqual([])
    release()
    expect((await alice.received(1))[0]).toMatchObject({ type: 'reply', id: 1, code: Code.OK })
    expect((await bob.received(1))[0]).toMatchObject({ type: 'push', event: 'message' })
  })

  it('answers a failing operation with its own error and keeps the others of its commit', async () => {
    const alice = connect('alice')
    sendTo(alice, 1, 'bob', 'kept-message-00001')
    sendTo(alice, 2, 'nobody', 'lost-message-00001')
    frame(alice, 3, 'ackMessageRead', { messageUIds: ['AAAA-BBBB-CCCC-DDDD'] })
    sendTo(alice, 4, 'carol', 'kept-message-00002')
    frame(alice, 5, 'noSuchOperation', {})
    const frames = await alice.received(5)
    expect(batches).toEqual([3 + 1])
    expect(frames.map((f) => [f.id, f.code])).toEqual([
      [1, Code.OK],
      [2, Code.USER_NOT_FOUND],
      [3, Code.OK],
      [4, Code.OK],
      [5, Code.UNKNOWN_OPERATION],
    ])
    expect((await raw.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(1)
    expect((await raw.getConversationByKey('p:alice:carol'))?.lastSeq).toBe(1)
    expect(await raw.getConversationByKey('p:alice:nobody')).toBeUndefined()
  })

  it('reports no operation as done when the commit fails, and pushes nothing', async () => {
    const alice = connect('alice')
    const bob = connect('bob')
    failCommit = true
    sendTo(alice, 1, 'bob', 'never-stored-0001')
    sendTo(alice, 2, 'bob', 'never-stored-0002')
    const frames = await alice.received(2)
    expect(frames.map((f) => [f.id, f.code])).toEqual([
      [1, Code.INTERNAL],
      [2, Code.INTERNAL],
    ])
    expect(frames[0]?.msg).toMatch(/nothing of this request was saved/)
    // The storage's own words stay in the server's log.
    expect(frames[0]?.msg).not.toMatch(/disk/)
    expect(bob.frames).toEqual([])
    // The server keeps serving: the same messages go through once storage works again.
    failCommit = false
    sendTo(alice, 3, 'bob', 'never-stored-0001')
    expect((await alice.received(3))[2]).toMatchObject({ id: 3, code: Code.OK })
    expect((await bob.received(1))[0]).toMatchObject({ type: 'push', event: 'message' })
  })
})
