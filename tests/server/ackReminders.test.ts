/**
 * Issue 15: reminder schedules the server runs (src/server/ackScheduler.ts). A schedule's "minute"
 * is made 40 ms here (`ackReminders.minuteMs`), so a schedule of three runs takes a fraction of a
 * second. Waits are for conditions (a push, a stored schedule state), never for a fixed time.
 *
 * On one node (SQLite, or PostgreSQL in the postgres project) a schedule runs its `times` and
 * stops, and stops early once everyone acked. On two nodes over one PostgreSQL and NATS, both
 * scheduler timers race for every run: each run is claimed by one of them only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/server/server'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { ReminderRunRow, Storage } from '../../src/server/storage/types'
import { testBackend } from '../testStore'
import { clientMsgId, connectOne, login, startTestServer, TestClient, text } from './helpers'
import { NATS_URL, skipNats } from './natsHelpers'
import {
  createScratchDatabase,
  openScratchStorage,
  skipPostgres,
  type ScratchDatabase,
} from './postgresHelpers'
import { PostgresStorage } from '../../src/server/storage/postgres/storage'

const MINUTE_MS = 40

/** Polls `read` until `done` holds (a condition, not a time); fails after 5 s. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5000
  for (;;) {
    const value = await read()
    if (done(value)) return value
    if (Date.now() > deadline) throw new Error(`condition not met; last value ${JSON.stringify(value)}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function runOf(storage: Storage, messageUId: string): Promise<ReminderRunRow | undefined> {
  const message = await storage.getMessageByUId(messageUId)
  return message && storage.getReminderRun(message.id)
}

async function askGroup(owner: TestClient, members: TestClient[]) {
  const { group } = await owner.call('createGroup', { name: 'ops', memberIds: members.map((m) => m.userId) })
  const { message } = await owner.call('sendMessage', {
    clientMsgId: clientMsgId(),
    conversation: { type: 'group', targetId: group.groupId },
    content: text('acknowledge the runbook'),
    needAck: true,
  })
  return message
}

describe(`reminder schedules on one node (${testBackend})`, () => {
  let storage: Storage
  let server: RunningServer
  beforeAll(async () => {
    storage = testBackend === 'postgres' ? await openScratchStorage() : new SqliteStorage(':memory:')
    server = await startTestServer({
      storage,
      ackReminders: { minuteMs: MINUTE_MS, intervalMs: 0, remindersPerMember: 5 },
    })
  })
  afterAll(async () => {
    await server.close()
    await storage.close()
  })

  it('runs every N minutes at most K times, to the pending only, then ends', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const carol = await connectOne(server)
    const message = await askGroup(alice, [bob, carol])
    await carol.call('ackMessage', { messageUIds: [message.messageUId] })
    const set = await alice.call('setAckReminderSchedule', {
      messageUId: message.messageUId,
      schedule: { everyMinutes: 1, times: 3 },
    })
    expect(set.schedule).toMatchObject({ everyMinutes: 1, times: 3, remaining: 3 })
    for (const n of [1, 2, 3]) {
      const push = await bob.nextPush('ackReminder', (d) => d.messageUId === message.messageUId && d.n === n)
      expect(push.data.from).toBe(alice.userId)
    }
    const run = await until(
      () => runOf(storage, message.messageUId),
      (r) => r?.remaining === 0 && r.nextAt === null,
    )
    expect(run).toMatchObject({ times: 3, remaining: 0, nextAt: null })
    const page = await alice.call('fetchMessageAcks', {
      messageUId: message.messageUId,
      state: 'notRead',
      pageSize: 10,
    })
    expect(page.entries).toEqual([expect.objectContaining({ userId: bob.userId, reminded: 3 })])
    // Carol acked before the first run: reminded never.
    expect((await carol.barrier()).filter((p) => p.event === 'ackReminder')).toEqual([])
  })

  it('stops once nobody is pending, with runs left', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const message = await askGroup(alice, [bob])
    await alice.call('setAckReminderSchedule', {
      messageUId: message.messageUId,
      schedule: { everyMinutes: 1, times: 20 },
    })
    await bob.nextPush('ackReminder', (d) => d.messageUId === message.messageUId && d.n === 1)
    await bob.call('ackMessage', { messageUIds: [message.messageUId] })
    const run = await until(
      () => runOf(storage, message.messageUId),
      (r) => r?.nextAt === null,
    )
    expect(run?.remaining).toBeGreaterThan(0)
    const acked = await alice.call('fetchMessageAcks', {
      messageUId: message.messageUId,
      state: 'acked',
      pageSize: 10,
    })
    // At most the run that was under way when Bob acked: never one after the schedule ended.
    expect(acked.entries[0]?.reminded).toBeLessThanOrEqual(2)
  })

  it('a cleared schedule does not run; only the sender may set one', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const message = await askGroup(alice, [bob])
    await alice.call('setAckReminderSchedule', {
      messageUId: message.messageUId,
      schedule: { everyMinutes: 60, times: 2 },
    })
    expect(
      await alice.call('setAckReminderSchedule', { messageUId: message.messageUId, schedule: null }),
    ).toEqual({
      schedule: null,
    })
    expect(await runOf(storage, message.messageUId)).toMatchObject({ nextAt: null, everyMinutes: null })
  })
})

describe.skipIf(skipPostgres || skipNats)('reminder schedules on two nodes (PostgreSQL + NATS)', () => {
  let db: ScratchDatabase
  let inspect: PostgresStorage
  let nodes: RunningServer[] = []
  beforeAll(async () => {
    db = await createScratchDatabase()
    for (let i = 0; i < 2; i++)
      nodes.push(
        await startTestServer({
          store: db.url,
          bus: NATS_URL,
          ackReminders: { minuteMs: MINUTE_MS, intervalMs: 0, remindersPerMember: 10 },
        }),
      )
    inspect = await PostgresStorage.open(db.url)
  })
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()))
    nodes = []
    await inspect.close()
    await db.drop()
  })

  it('each run is claimed by one node only: exactly `times` reminders, on every node’s devices', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer]
    const alice = await connectOne(a)
    const bob = await connectOne(b)
    const bobOnA = await TestClient.connect(a, await login(a, bob.userId, 'correct horse battery'))
    const message = await askGroup(alice, [bob])
    await alice.call('setAckReminderSchedule', {
      messageUId: message.messageUId,
      schedule: { everyMinutes: 1, times: 6 },
    })
    await until(
      () => runOf(inspect, message.messageUId),
      (r) => r?.remaining === 0 && r.nextAt === null,
    )
    for (const device of [bob, bobOnA]) {
      for (const n of [1, 2, 3, 4, 5, 6])
        await device.nextPush('ackReminder', (d) => d.messageUId === message.messageUId && d.n === n)
      expect((await device.barrier()).filter((p) => p.event === 'ackReminder')).toEqual([])
    }
    const page = await alice.call('fetchMessageAcks', {
      messageUId: message.messageUId,
      state: 'notRead',
      pageSize: 10,
    })
    expect(page.entries).toEqual([expect.objectContaining({ userId: bob.userId, reminded: 6 })])
  })
})
