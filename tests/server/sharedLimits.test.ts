/**
 * The abuse limits shared by several nodes (issue 10): the SharedLimits contract, run against the
 * in-memory store and the PostgreSQL one (two stores on one database, as two nodes have), and three
 * real server nodes on one scratch database and NATS: failed logins, registrations per address and
 * the delivery-receipt budget count the same whichever node a request reaches. The PostgreSQL parts
 * are skipped with one line where PostgreSQL (or, for the nodes, NATS) does not answer, except under
 * CI=true. No sleeps: every clock here is a fake one.
 */
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer, ServerOptions } from '../../src/server/server'
import {
  MemoryLimits,
  type BucketRule,
  type FailureRule,
  type SharedLimits,
} from '../../src/server/sharedLimits'
import { PostgresLimits } from '../../src/server/storage/postgres/limits'
import { Code } from '../../src/shared/codes'
import { http } from '../../src/shared/protocol'
import { loginFrom, registerFrom } from '../security/net'
import { clientMsgId, startTestServer, TestClient, text, uniqueId } from './helpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from './postgresHelpers'
import { NATS_URL, skipNats } from './natsHelpers'

if (skipNats && !skipPostgres)
  console.warn(`shared-limits node tests skipped: start NATS at ${NATS_URL} (nats-server -js)`)

/** 3 at once, then 3 an hour: one every 20 minutes. */
const HOURLY: BucketRule = { burst: 3, refill: 3, intervalMs: 3_600_000 }
const MINUTE = 60_000
const FAILURES: FailureRule = { free: 2, delayMs: 1000, maxDelayMs: 4000, forgetAfterMs: 10_000 }

/** Two handles on one set of counters: two nodes' stores on one database, or one memory store twice. */
interface Pair {
  a: SharedLimits
  b: SharedLimits
}

/** Distinct keys per test, so tests on one database do not meet. */
let lastKey = 0
const key = (): string => `k${++lastKey}`

function contract(name: string, skip: boolean, open: () => Promise<Pair & { close(): Promise<void> }>): void {
  describe.skipIf(skip)(`SharedLimits contract: ${name}`, () => {
    let pair: Pair & { close(): Promise<void> }
    beforeAll(async () => {
      pair = await open()
    })
    afterAll(async () => {
      await pair?.close()
    })

    it('gives the burst at once, then refills at its rate; a refusal says when to come back', async () => {
      const { a, b } = pair
      const k = key()
      const t = 1_000_000
      const takes = []
      for (const store of [a, b, a, b]) takes.push(await store.take('r', k, 1, HOURLY, t))
      expect(takes).toEqual([
        { ok: true, retryAfterMs: 0 },
        { ok: true, retryAfterMs: 0 },
        { ok: true, retryAfterMs: 0 },
        { ok: false, retryAfterMs: 20 * MINUTE },
      ])
      // Ten minutes: half a token, still refused, and the wait is what is left.
      expect(await b.take('r', k, 1, HOURLY, t + 10 * MINUTE)).toEqual({
        ok: false,
        retryAfterMs: 10 * MINUTE,
      })
      expect(await a.take('r', k, 1, HOURLY, t + 20 * MINUTE)).toEqual({ ok: true, retryAfterMs: 0 })
      expect(await b.take('r', k, 1, HOURLY, t + 20 * MINUTE)).toEqual({
        ok: false,
        retryAfterMs: 20 * MINUTE,
      })
      // A long pause refills to the burst, never past it.
      const later = t + 10 * 3_600_000
      for (let i = 0; i < 3; i++) expect((await [a, b][i % 2]!.take('r', k, 1, HOURLY, later)).ok).toBe(true)
      expect((await a.take('r', k, 1, HOURLY, later)).ok).toBe(false)
    })

    it('takes several tokens at once or none; more than the burst never', async () => {
      const { a, b } = pair
      const k = key()
      const rule: BucketRule = { burst: 5, refill: 5, intervalMs: 3_600_000 }
      expect((await a.take('l', k, 3, rule, 0)).ok).toBe(true)
      expect(await b.take('l', k, 3, rule, 0)).toEqual({ ok: false, retryAfterMs: 12 * MINUTE })
      expect((await b.take('l', k, 2, rule, 0)).ok).toBe(true)
      expect(await a.take('l', key(), 6, rule, 0)).toEqual({ ok: false, retryAfterMs: Infinity })
      // A bucket that never refills says so.
      const never: BucketRule = { burst: 1, refill: 0, intervalMs: MINUTE }
      const n = key()
      expect((await a.take('d', n, 1, never, 0)).ok).toBe(true)
      expect(await b.take('d', n, 1, never, 1e12)).toEqual({ ok: false, retryAfterMs: Infinity })
    })

    it('keeps spaces apart, and a clock that lags gets no refill from it', async () => {
      const { a, b } = pair
      const k = key()
      for (let i = 0; i < 3; i++) await a.take('one', k, 1, HOURLY, 5 * 3_600_000)
      expect((await b.take('one', k, 1, HOURLY, 5 * 3_600_000)).ok).toBe(false)
      expect((await b.take('two', k, 1, HOURLY, 5 * 3_600_000)).ok).toBe(true)
      // A node whose clock is 20 minutes behind, then one on time: no token came from the lag.
      expect((await a.take('one', k, 1, HOURLY, 5 * 3_600_000 - 20 * MINUTE)).ok).toBe(false)
      expect(await b.take('one', k, 1, HOURLY, 5 * 3_600_000)).toEqual({
        ok: false,
        retryAfterMs: 20 * MINUTE,
      })
    })

    it('counts failures: free ones, then doubling waits up to the cap; clear and forget', async () => {
      const { a, b } = pair
      const k = key()
      const t = 50_000
      const waits: number[] = []
      for (let i = 0; i < 6; i++) waits.push(await [a, b][i % 2]!.recordFailure('acct', k, FAILURES, t))
      expect(waits).toEqual([0, 0, 1000, 2000, 4000, 4000])
      expect(await b.failureWait('acct', k, t + 1500)).toBe(2500)
      expect(await a.failureWait('acct', k, t + 5000)).toBe(0)
      // Another space, same key: nothing.
      expect(await a.failureWait('addr', k, t)).toBe(0)
      await b.clearFailures('acct', k)
      expect(await a.failureWait('acct', k, t)).toBe(0)
      expect(await a.recordFailure('acct', k, FAILURES, t)).toBe(0)
      expect(await a.recordFailure('acct', k, FAILURES, t)).toBe(0)
      expect(await b.recordFailure('acct', k, FAILURES, t)).toBe(1000)
      // Forgotten once forgetAfterMs has passed since the last failure: the count starts again.
      expect(await a.failureWait('acct', k, t + 10_000)).toBe(0)
      expect(await b.recordFailure('acct', k, FAILURES, t + 10_001)).toBe(0)
      expect(await a.recordFailure('acct', k, FAILURES, t + 10_001)).toBe(0)
      expect(await a.recordFailure('acct', k, FAILURES, t + 10_001)).toBe(1000)
    })

    it('sweeps full buckets and forgotten failures only; what is swept reads as full or clean', async () => {
      const { a, b } = pair
      // Its own space and times far past the other tests', so that the counts are this test's alone.
      const space = `sweep${key()}`
      const t = 1e13
      const [full, partial, stale, fresh] = [key(), key(), key(), key()]
      await a.take(space, full, 1, HOURLY, t)
      await a.take(space, partial, 3, HOURLY, t)
      await b.recordFailure(space, stale, FAILURES, t)
      await b.recordFailure(space, fresh, FAILURES, t + 20 * MINUTE)
      // At t + 20 min `full` has its token back, `partial` has one of three, `stale` is forgotten.
      const swept = await Promise.all([a.sweep(t + 20 * MINUTE), b.sweep(t + 20 * MINUTE)])
      expect(swept[0] + swept[1]).toBeGreaterThanOrEqual(2)
      expect(await b.take(space, partial, 2, HOURLY, t + 20 * MINUTE)).toEqual({
        ok: false,
        retryAfterMs: 20 * MINUTE,
      })
      for (let i = 0; i < 3; i++)
        expect((await b.take(space, full, 1, HOURLY, t + 20 * MINUTE)).ok).toBe(true)
      expect(await a.recordFailure(space, stale, { ...FAILURES, free: 0 }, t + 20 * MINUTE)).toBe(1000)
      expect(await a.recordFailure(space, fresh, FAILURES, t + 20 * MINUTE)).toBe(0)
      expect(await a.recordFailure(space, fresh, FAILURES, t + 20 * MINUTE)).toBe(1000)
    })

    it('50 concurrent takes from two stores on a bucket of 10 give exactly 10', async () => {
      const { a, b } = pair
      const k = key()
      const rule: BucketRule = { burst: 10, refill: 1, intervalMs: 3_600_000 }
      const results = await Promise.all(
        Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).take('race', k, 1, rule, 7_000_000)),
      )
      expect(results.filter((r) => r.ok)).toHaveLength(10)
      expect(results.filter((r) => !r.ok).every((r) => r.retryAfterMs > 0)).toBe(true)
    })

    it('20 concurrent failures from two stores are all counted', async () => {
      const { a, b } = pair
      const k = key()
      const rule: FailureRule = { free: 0, delayMs: 1, maxDelayMs: 2 ** 30, forgetAfterMs: 3_600_000 }
      await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).recordFailure('f', k, rule, 0)))
      // The 20th failure waits 2^19 ms: the count is exactly 20.
      expect(await a.failureWait('f', k, 0)).toBe(2 ** 19)
    })
  })
}

contract('memory', false, async () => {
  const memory = new MemoryLimits()
  return { a: memory, b: memory, close: () => memory.close() }
})

let db: ScratchDatabase | undefined
contract('PostgreSQL, two stores on one database', skipPostgres, async () => {
  db = await createScratchDatabase()
  const a = await PostgresLimits.open(db.url)
  const b = await PostgresLimits.open(db.url)
  return {
    a,
    b,
    close: async () => {
      await Promise.all([a.close(), b.close()])
      await db?.drop()
    },
  }
})

/** A small deterministic generator, so a failing sequence can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let x = s
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32
  }
}

describe.skipIf(skipPostgres)('PostgreSQL limits answer as the memory ones', () => {
  it('the same answers to 400 random takes, failures, clears and sweeps', async () => {
    const scratch = await createScratchDatabase()
    const [pa, pb] = [await PostgresLimits.open(scratch.url), await PostgresLimits.open(scratch.url)]
    const memory = new MemoryLimits()
    try {
      const next = random(20240601)
      const rules: BucketRule[] = [
        { burst: 3, refill: 3, intervalMs: 3_600_000 },
        { burst: 30, refill: 20, intervalMs: MINUTE },
        { burst: 7, refill: 0.37, intervalMs: 1000 },
      ]
      const failureRule: FailureRule = { free: 3, delayMs: 250, maxDelayMs: 5000, forgetAfterMs: 9000 }
      let now = 1_700_000_000_000
      const answers: { memory: unknown[]; postgres: unknown[] } = { memory: [], postgres: [] }
      for (let i = 0; i < 400; i++) {
        now += Math.floor(next() * 3000)
        const k = `key${Math.floor(next() * 4)}`
        const op = next()
        const pg = i % 2 ? pa : pb
        if (op < 0.55) {
          const ruleIndex = Math.floor(next() * rules.length)
          const count = 1 + Math.floor(next() * 3)
          const rule = rules[ruleIndex] as BucketRule
          answers.memory.push(await memory.take(`s${ruleIndex}`, k, count, rule, now))
          answers.postgres.push(await pg.take(`s${ruleIndex}`, k, count, rule, now))
        } else if (op < 0.8) {
          answers.memory.push(await memory.recordFailure('f', k, failureRule, now))
          answers.postgres.push(await pg.recordFailure('f', k, failureRule, now))
        } else if (op < 0.93) {
          answers.memory.push(await memory.failureWait('f', k, now))
          answers.postgres.push(await pg.failureWait('f', k, now))
        } else if (op < 0.97) {
          await memory.clearFailures('f', k)
          await pg.clearFailures('f', k)
        } else {
          // What a sweep deletes is gone from both; the counts differ (memory forgets on reading).
          await memory.sweep(now)
          await pg.sweep(now)
        }
      }
      expect(answers.postgres).toEqual(answers.memory)
      expect(answers.memory.length).toBeGreaterThan(300)
    } finally {
      await Promise.all([pa.close(), pb.close()])
      await scratch.drop()
    }
  })
})

async function loginAt(server: RunningServer, from: string, userId: string, password: string) {
  const reply = await loginFrom(server, from, { userId, password, deviceId: uniqueId('device') })
  return { code: reply.body.code, status: reply.status, retryAfterMs: reply.body.retryAfterMs }
}

describe.skipIf(skipPostgres || skipNats)('three nodes on one PostgreSQL share the abuse limits', () => {
  let scratch: ScratchDatabase
  let nodes: RunningServer[] = []
  /** One node on its own, memory limits: what the three must match. */
  let single: RunningServer
  let clock = 1_800_000_000_000
  const options: ServerOptions = {
    now: () => clock,
    authLimits: { registrationsPerAddress: { perHour: 3, burst: 3 } },
    deliveryReceiptBudget: { burst: 4, perMinute: 1 },
  }
  beforeAll(async () => {
    scratch = await createScratchDatabase()
    for (let i = 0; i < 3; i++)
      nodes.push(await startTestServer({ ...options, store: scratch.url, bus: NATS_URL }))
    single = await startTestServer(options)
  })
  afterAll(async () => {
    await Promise.all([...nodes, single].map((n) => n?.close()))
    nodes = []
    await scratch?.drop()
  })

  /** Registers from `from` on `server`; the reply's code. */
  async function register(server: RunningServer, from: string, userId = uniqueId('r')) {
    const reply = await registerFrom(server, from, { userId, password: 'a long password' })
    return { code: reply.body.code, status: reply.status, retryAfterMs: reply.body.retryAfterMs }
  }

  it('wrong passwords spread over the nodes make the account wait after as many as on one node', async () => {
    const guesses = async (servers: RunningServer[], from: string) => {
      const userId = uniqueId('victim')
      expect((await register(servers[0]!, `${from}0`, userId)).code).toBe(0)
      const answers = []
      for (let i = 0; i < 8; i++)
        answers.push(await loginAt(servers[i % servers.length]!, `${from}1`, userId, `wrong ${i}`))
      // The right password, on yet another node, waits too.
      answers.push(await loginAt(servers[8 % servers.length]!, `${from}1`, userId, 'a long password'))
      return { userId, answers }
    }
    const one = await guesses([single], '127.0.1.')
    const three = await guesses(nodes, '127.0.2.')
    expect(three.answers).toEqual(one.answers)
    expect(three.answers.map((a) => a.code)).toEqual([
      ...Array(6).fill(Code.AUTH_FAILED),
      Code.RATE_LIMITED,
      Code.RATE_LIMITED,
      Code.RATE_LIMITED,
    ])
    expect(three.answers.at(-1)).toMatchObject({ status: 429, retryAfterMs: 1000 })
    // Once the wait is over, the right password works on any node, and clears the count for all.
    clock += 1000
    expect((await loginAt(nodes[1]!, '127.0.2.1', three.userId, 'a long password')).code).toBe(0)
    for (const node of nodes)
      expect((await loginAt(node, '127.0.2.1', three.userId, 'wrong again')).code).toBe(Code.AUTH_FAILED)
  })

  it('registrations from one address spread over the nodes share one bucket', async () => {
    const answers = []
    for (let i = 0; i < 5; i++) answers.push(await register(nodes[i % 3]!, '127.0.3.1'))
    expect(answers.map((a) => a.code)).toEqual([0, 0, 0, Code.RATE_LIMITED, Code.RATE_LIMITED])
    expect(answers[3]).toMatchObject({ status: 429, retryAfterMs: 20 * MINUTE })
    // Another address has its own bucket.
    expect((await register(nodes[0]!, '127.0.3.2')).code).toBe(0)
    // The bucket regains one every 20 minutes, for all nodes together.
    clock += 20 * MINUTE
    expect((await register(nodes[2]!, '127.0.3.1')).code).toBe(0)
    expect((await register(nodes[0]!, '127.0.3.1')).code).toBe(Code.RATE_LIMITED)
    expect((await register(nodes[1]!, '127.0.3.1')).code).toBe(Code.RATE_LIMITED)
  })

  it("a sender's delivery-receipt budget toward one receiver is shared by its devices on two nodes", async () => {
    const [a, b, c] = nodes as [RunningServer, RunningServer, RunningServer]
    const sender = uniqueId('alice')
    const receiver = uniqueId('bob')
    expect((await register(a, '127.0.4.1', sender)).code).toBe(0)
    expect((await register(c, '127.0.4.2', receiver)).code).toBe(0)
    const device = async (server: RunningServer) => {
      const deviceId = uniqueId('device')
      const reply = await loginFrom(server, '127.0.4.1', {
        userId: sender,
        password: 'a long password',
        deviceId,
      })
      const { token } = http.login.reply.parse(reply.body.data)
      return TestClient.connect(server, { userId: sender, password: 'a long password', deviceId, token })
    }
    const [onA, onB] = [await device(a), await device(b)]
    await onA.call('updateSettings', { requireDeliveryAck: true })
    const send = async (client: TestClient) =>
      (
        await client.call('sendMessage', {
          clientMsgId: clientMsgId(),
          conversation: { type: 'private', targetId: receiver },
          content: text('are you there?'),
        })
      ).message.needDeliveryAck
    // The first message opens the conversation (and takes a receipt of the four); then both devices
    // at once, four each: three more messages ask for a receipt, not eight.
    expect(await send(onA)).toBe(true)
    const clients: TestClient[] = [...Array<TestClient>(4).fill(onA), ...Array<TestClient>(4).fill(onB)]
    const asked = await Promise.all(clients.map(send))
    expect(asked.filter(Boolean)).toHaveLength(3)
    // One more a minute, whichever node takes it.
    clock += MINUTE
    expect(await send(onB)).toBe(true)
    expect(await send(onA)).toBe(false)
    expect(await send(onB)).toBe(false)
    onA.ws.close()
    onB.ws.close()
  })

  it('the retention sweep deletes what carries no information any more: the tables do not grow', async () => {
    const count = async (): Promise<number[]> => {
      const client = new pg.Client({ connectionString: scratch.url })
      await client.connect()
      try {
        const tables = ['limit_buckets', 'login_failures']
        const counts = tables.map(
          async (t) =>
            (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t}`)).rows[0]?.n ?? 0,
        )
        return await Promise.all(counts)
      } finally {
        await client.end()
      }
    }
    // One of each, so that this test stands alone (the tests above left more).
    expect((await register(nodes[0]!, '127.0.5.1')).code).toBe(0)
    expect((await loginAt(nodes[1]!, '127.0.5.1', 'nobody-here', 'guess')).code).toBe(Code.AUTH_FAILED)
    const [buckets, failures] = await count()
    expect(buckets).toBeGreaterThan(0)
    expect(failures).toBeGreaterThan(0)
    // Two hours on, every bucket is full again and every failure forgotten: one node's sweep clears all.
    clock += 2 * 3_600_000
    expect((await nodes[2]!.sweep()).limits).toBe(buckets + failures)
    expect(await count()).toEqual([0, 0])
  })
})
