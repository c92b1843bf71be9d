/**
 * Fuzzing the server's frame handling without sockets: generated frames go straight into
 * Gateway.handleFrame for connections whose sockets are in-memory stand-ins, against a real SQLite
 * database. Invariants after every frame: handleFrame never throws; the caller gets exactly one
 * reply, first, with a known code that is never INTERNAL, and a success reply matches the protocol;
 * every push matches the protocol; nothing is logged as an error; and no state goes backwards —
 * triggers in the test database abort any update that would move a watermark, a receipt time, a
 * count or a sequence backwards, or delete a message, a reader fact or a receipt event.
 */
import fc from 'fast-check'
import { DeliveryBudget } from '../../src/server/deliveryBudget'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Code, codeName } from '../../src/shared/codes'
import { LIMITS } from '../../src/shared/model'
import { PushFrame, ReplyFrame, requestOps, requests, type RequestOp } from '../../src/shared/protocol'
import { Accounts } from '../../src/server/accounts'
import { Connection } from '../../src/server/connection'
import { Gateway } from '../../src/server/gateway'
import { Hub } from '../../src/server/hub'
import { hashToken } from '../../src/server/ids'
import type { Logger } from '../../src/server/log'
import { resolveReceiptDefaults } from '../../src/server/receiptSettings'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { fuzzRuns, fuzzTimeout } from './runs'

/** Aborts every change that would move state backwards; a failure surfaces as an INTERNAL reply. */
const NO_BACKWARDS = `
  CREATE TRIGGER fuzz_members_forward BEFORE UPDATE ON members
  WHEN NEW.read_seq < OLD.read_seq OR NEW.delivered_seq < OLD.delivered_seq OR NEW.delivered_seq < NEW.read_seq
  BEGIN SELECT RAISE(ABORT, 'backwards: member watermark'); END;

  CREATE TRIGGER fuzz_messages_forward BEFORE UPDATE ON messages
  WHEN (OLD.delivered_at IS NOT NULL AND (NEW.delivered_at IS NULL OR NEW.delivered_at > OLD.delivered_at))
    OR (OLD.read_at IS NOT NULL AND (NEW.read_at IS NULL OR NEW.read_at > OLD.read_at))
    OR (NEW.read_at IS NOT NULL AND NEW.delivered_at IS NULL)
    OR NEW.group_ack_count < OLD.group_ack_count
    OR NEW.seq IS NOT OLD.seq OR NEW.uid IS NOT OLD.uid OR NEW.sender_id IS NOT OLD.sender_id
    OR NEW.conv_id IS NOT OLD.conv_id
    -- The content changes only by an edit (one more version) or the recall (once, for good).
    OR NEW.edit_count < OLD.edit_count
    OR (OLD.recalled_at IS NOT NULL AND (NEW.recalled_at IS NOT OLD.recalled_at OR NEW.content IS NOT OLD.content))
    OR (NEW.content IS NOT OLD.content AND NEW.edit_count = OLD.edit_count
        AND NOT (OLD.recalled_at IS NULL AND NEW.recalled_at IS NOT NULL))
  BEGIN SELECT RAISE(ABORT, 'backwards: message'); END;

  CREATE TRIGGER fuzz_conversations_forward BEFORE UPDATE ON conversations
  WHEN NEW.last_seq < OLD.last_seq
  BEGIN SELECT RAISE(ABORT, 'backwards: conversation last_seq'); END;

  CREATE TRIGGER fuzz_users_forward BEFORE UPDATE ON users
  WHEN NEW.last_event_seq < OLD.last_event_seq
  BEGIN SELECT RAISE(ABORT, 'backwards: user event seq'); END;

  CREATE TRIGGER fuzz_acks_immutable BEFORE UPDATE ON group_read_acks
  BEGIN SELECT RAISE(ABORT, 'backwards: reader fact changed'); END;

  CREATE TRIGGER fuzz_messages_kept BEFORE DELETE ON messages
  BEGIN SELECT RAISE(ABORT, 'backwards: message deleted'); END;
  CREATE TRIGGER fuzz_acks_kept BEFORE DELETE ON group_read_acks
  BEGIN SELECT RAISE(ABORT, 'backwards: reader fact deleted'); END;
  CREATE TRIGGER fuzz_events_kept BEFORE DELETE ON user_events
  BEGIN SELECT RAISE(ABORT, 'backwards: receipt event deleted'); END;
  CREATE TRIGGER fuzz_requests_kept BEFORE DELETE ON receipt_requests
  BEGIN SELECT RAISE(ABORT, 'backwards: receipt request deleted'); END;
`

/** What handleFrame touches of a socket; everything sent is kept for the checks. */
class MemorySocket {
  readyState: number = WebSocket.OPEN
  bufferedAmount = 0
  readonly sent: string[] = []
  send(payload: string): void {
    this.sent.push(payload)
  }
  terminate(): void {
    this.readyState = WebSocket.CLOSED
  }
  close(): void {
    this.readyState = WebSocket.CLOSED
  }
  ping(): void {}
}

interface World {
  storage: SqliteStorage
  gateway: Gateway
  connections: { connection: Connection; socket: MemorySocket }[]
  errors: string[]
  userIds: string[]
  groupIds: string[]
  messageUIds: string[]
  /** Frames sent, by op, and how many of them succeeded: proof that the fuzzer gets past validation. */
  stats: Map<string, { sent: number; ok: number }>
}

/** The last two are valid user ids named after Object properties (issue #11, gap 6). */
const USERS = ['alice', 'bob', 'carol', 'mallory', 'constructor', '__proto__']

async function buildWorld(): Promise<World> {
  const storage = new SqliteStorage(':memory:')
  storage.db.exec(NO_BACKWARDS)
  const errors: string[] = []
  const record =
    (level: string) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (level === 'error')
        errors.push(
          `${msg} ${JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`,
        )
    }
  const log: Logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  }
  let clock = 1_700_000_000_000
  const hub = new Hub()
  const unlimited = 1e12
  const gateway = new Gateway(
    {
      storage,
      accounts: new Accounts(storage),
      hub,
      log,
      now: () => (clock += 7),
      receiptDefaults: resolveReceiptDefaults(),
      deliveryBudget: new DeliveryBudget(),
    },
    {
      maxPayload: 64 * 1024,
      heartbeatMs: 24 * 60 * 60 * 1000,
      maxBufferedBytes: 8 * 1024 * 1024,
      ratePerSecond: unlimited,
      rateBurst: unlimited,
      userRatePerSecond: unlimited,
      userRateBurst: unlimited,
    },
  )
  for (const id of USERS) {
    await storage.insertUser({ id, displayName: id, passwordHash: 'scrypt$1$1$1$x$y', createdAt: clock })
  }
  // alice has two devices; everyone else one.
  const connections = [...USERS, 'alice'].map((userId, i) => {
    const socket = new MemorySocket()
    const session = { userId, deviceId: `device-${i}-fuzz`, tokenHash: hashToken(`token-${i}`) }
    // The stand-in implements what a Connection and handleFrame use of a ws WebSocket.
    const connection = new Connection(
      socket as unknown as WebSocket,
      session,
      {
        maxBufferedBytes: 8 * 1024 * 1024,
        ratePerSecond: unlimited,
        rateBurst: unlimited,
      },
      log,
    )
    hub.add(connection)
    return { connection, socket }
  })
  return {
    storage,
    gateway,
    connections,
    errors,
    userIds: [...USERS],
    groupIds: [],
    messageUIds: [],
    stats: new Map(),
  }
}

/** Feeds one frame and checks every invariant; returns the parsed reply. */
async function feed(world: World, from: number, text: string, op?: string): Promise<ReplyFrame> {
  const target = world.connections[from]
  if (!target) throw new Error(`no connection ${from}`)
  for (const { socket } of world.connections) socket.sent.length = 0
  world.gateway.handleFrame(target.connection, text)
  // The frame runs in the gateway's next group commit; its reply and pushes go out after it.
  await world.gateway.whenIdle()

  expect(world.errors).toEqual([])
  const [first, ...rest] = target.socket.sent
  expect(first, 'exactly one reply, before any push').toBeDefined()
  const reply = ReplyFrame.parse(JSON.parse(first as string))
  expect(codeName(reply.code), `code ${reply.code} is a known code`).toBeDefined()
  expect(reply.code, reply.msg).not.toBe(Code.INTERNAL)
  if (reply.code !== 0) expect(reply.msg).toEqual(expect.any(String))
  if (reply.code === 0 && op !== undefined && Object.hasOwn(requests, op)) {
    const checked = requests[op as RequestOp].reply.safeParse(reply.data)
    expect(checked.success, checked.error?.message).toBe(true)
  }
  for (const { socket } of world.connections) {
    const pushes = socket === target.socket ? rest : socket.sent
    for (const text of pushes) {
      const push = PushFrame.safeParse(JSON.parse(text))
      expect(push.success, `push ${text.slice(0, 200)}`).toBe(true)
    }
  }
  if (op !== undefined) {
    const stat = world.stats.get(op) ?? { sent: 0, ok: 0 }
    stat.sent++
    if (reply.code === 0) stat.ok++
    world.stats.set(op, stat)
  }
  if (reply.code === 0) learn(world, reply.data)
  return reply
}

/** Keeps ids the server handed out, so later frames can aim at real groups and messages. */
function learn(world: World, data: unknown): void {
  if (typeof data !== 'object' || data === null) return
  const d = data as { message?: { messageUId?: unknown }; group?: { groupId?: unknown } }
  const uid = d.message?.messageUId
  if (typeof uid === 'string' && !world.messageUIds.includes(uid) && world.messageUIds.length < 200)
    world.messageUIds.push(uid)
  const gid = d.group?.groupId
  if (typeof gid === 'string' && !world.groupIds.includes(gid)) world.groupIds.push(gid)
}

async function seed(world: World): Promise<void> {
  let id = 0
  const call = async (from: number, op: RequestOp, data: unknown): Promise<void> => {
    const reply = await feed(world, from, JSON.stringify({ id: ++id, op, data }), op)
    if (reply.code !== 0) throw new Error(`seed ${op}: ${reply.code} ${reply.msg}`)
  }
  await call(0, 'updateSettings', { requireDeliveryAck: true, requireReadAck: true })
  await call(0, 'createGroup', { name: 'abc', memberIds: ['bob', 'carol'] })
  await call(3, 'createGroup', { name: 'mallory', memberIds: ['bob'] })
  await call(4, 'createGroup', { name: 'object', memberIds: ['__proto__', 'alice'] })
  const [abc, mal, obj] = world.groupIds
  for (let i = 0; i < 3; i++) {
    await call(0, 'sendMessage', {
      clientMsgId: `seed-a-${i}-xx`,
      conversation: { type: 'private', targetId: 'bob' },
      content: { type: 'text', text: `hi ${i}` },
    })
    await call(1, 'sendMessage', {
      clientMsgId: `seed-b-${i}-xx`,
      conversation: { type: 'private', targetId: 'alice' },
      content: { type: 'text', text: `yo ${i}` },
    })
    await call(0, 'sendMessage', {
      clientMsgId: `seed-g-${i}-xx`,
      conversation: { type: 'group', targetId: abc },
      content: { type: 'text', text: `all ${i}` },
      isNeedGroupAck: i !== 1,
    })
    await call(5, 'sendMessage', {
      clientMsgId: `seed-o-${i}-xx`,
      conversation: { type: 'group', targetId: obj },
      content: { type: 'text', text: `o ${i}` },
      isNeedGroupAck: i !== 2,
    })
    await call(3, 'sendMessage', {
      clientMsgId: `seed-m-${i}-xx`,
      conversation: { type: 'group', targetId: mal },
      content: { type: 'text', text: `m ${i}` },
      isNeedGroupAck: true,
    })
  }
}

/** Values that are sometimes right, often nearly right, and sometimes absurd. */
function arbitraries(world: World) {
  const pick = <T>(pool: () => T[], fallback: fc.Arbitrary<T>): fc.Arbitrary<T> =>
    fc
      .oneof(
        {
          weight: 4,
          arbitrary: fc
            .integer({ min: 0, max: 1000 })
            .map((i) => pool()[i % Math.max(1, pool().length)] as T),
        },
        { weight: 1, arbitrary: fallback },
      )
      .filter((v) => v !== undefined)
  const userId = pick(
    () => world.userIds,
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('nobody', '', 'a'.repeat(33), '../x', 'toString', 'hasOwnProperty', 'valueOf'),
    ),
  )
  const groupId = pick(() => world.groupIds, fc.oneof(fc.constantFrom('g_missing1', 'g_', 'x'), fc.string()))
  const messageUId = pick(
    () => world.messageUIds,
    fc.oneof(
      fc.constantFrom('ZZZZ-ZZZZ-ZZZZ-ZZZZ', 'bad', ''),
      fc.stringMatching(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/),
    ),
  )
  const seq = fc.oneof(
    fc.integer({ min: 0, max: 20 }),
    fc.constantFrom(-1, 0.5, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e300),
    fc.integer(),
  )
  const conversation = fc.oneof(
    fc.record({ type: fc.constant('private'), targetId: userId }),
    fc.record({ type: fc.constant('group'), targetId: groupId }),
    fc.record({ type: fc.constantFrom('private', 'group', 'channel'), targetId: fc.oneof(userId, groupId) }),
  )
  const content = fc.oneof(
    fc.record({ type: fc.constant('text'), text: fc.string({ minLength: 1, maxLength: 50 }) }),
    fc.record({
      type: fc.constantFrom('text', 'image'),
      text: fc.oneof(fc.string(), fc.constant('x'.repeat(LIMITS.textMax + 1))),
    }),
  )
  const uids = fc.array(messageUId, { minLength: 0, maxLength: 6 })
  const fields = {
    clientMsgId: fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9_-]{8,20}$/),
      fc.constantFrom('seed-a-0-xx', 'seed-g-1-xx', 'short'),
      fc.string(),
    ),
    conversation,
    content,
    channelId: fc.oneof(fc.constant(''), fc.string({ maxLength: 70 })),
    isNeedGroupAck: fc.oneof(fc.boolean(), fc.constant('yes')),
    afterSeq: seq,
    afterEventSeq: seq,
    seq,
    limit: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer()),
    pageSize: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer()),
    messageUIds: uids,
    messageUId,
    groupId,
    userId,
    userIds: fc.array(userId, { maxLength: 5 }),
    memberIds: fc.array(userId, { maxLength: 5 }),
    name: fc.string({ maxLength: 70 }),
    role: fc.constantFrom('owner', 'admin', 'member', 'god'),
    acks: fc.array(
      fc.record(
        { messageUId, ext: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }) },
        { requiredKeys: ['messageUId'] },
      ),
      { maxLength: 5 },
    ),
    messageList: fc.oneof(fc.dictionary(userId, uids, { maxKeys: 3 }), fc.jsonValue()),
    settings: fc.record(
      {
        enabled: fc.boolean(),
        whoMayRequest: fc.constantFrom('all', 'ownerAndAdmins', 'nobody'),
        validityMs: fc.oneof(fc.integer({ min: 1, max: 1e9 }), fc.integer()),
        maxGroupSize: fc.oneof(fc.integer({ min: 1, max: 500 }), fc.integer()),
        countVisibility: fc.constantFrom('sender', 'all', 'none'),
      },
      { requiredKeys: [] },
    ),
    startAckId: fc.oneof(fc.nat().map(String), fc.string({ maxLength: 45 })),
    startUserId: userId,
    requireDeliveryAck: fc.oneof(fc.boolean(), fc.constant(1)),
    requireReadAck: fc.oneof(fc.boolean(), fc.constant(null)),
    senderId: userId,
  }
  type Field = keyof typeof fields
  /** The fields the operation's schema names, all present: the frames most likely to get through. */
  const shaped = (op: string): fc.Arbitrary<unknown> => {
    if (!Object.hasOwn(requests, op)) return fc.constant({})
    const keys = Object.keys(requests[op as RequestOp].data.shape).filter((k): k is Field => k in fields)
    return fc.record(Object.fromEntries(keys.map((k) => [k, fields[k]])))
  }
  const data = (op: string) =>
    fc.oneof(
      { weight: 5, arbitrary: shaped(op) },
      { weight: 3, arbitrary: fc.record(fields, { requiredKeys: [] }) },
      { weight: 1, arbitrary: fc.jsonValue() },
    )
  const op = fc.oneof(
    { weight: 9, arbitrary: fc.constantFrom(...requestOps) },
    { weight: 1, arbitrary: fc.constantFrom('nope', '__proto__', 'constructor', 'toString', '') },
  )
  const frame = fc.record({
    from: fc.integer({ min: 0, max: USERS.length }),
    id: fc.oneof({ weight: 9, arbitrary: fc.nat() }, { weight: 1, arbitrary: fc.jsonValue() }),
    request: op.chain((name) => data(name).map((d) => ({ op: name, data: d }))),
  })
  return { frame }
}

describe('server frame handling (fuzzed, no sockets)', () => {
  let world: World
  beforeAll(async () => {
    world = await buildWorld()
    await seed(world)
  })
  afterAll(async () => {
    for (const { socket } of world.connections) socket.terminate()
    await world.gateway.close()
    await world.storage.close()
  })

  const structuredRuns = fuzzRuns(3000)
  it(
    `keeps every invariant over ${structuredRuns} generated requests`,
    async () => {
      const { frame } = arbitraries(world)
      await fc.assert(
        fc.asyncProperty(frame, async ({ from, id, request }) => {
          await feed(world, from, JSON.stringify({ id, ...request }), request.op)
        }),
        { numRuns: structuredRuns },
      )
      // The fuzzer must get past validation often enough to exercise the operations themselves.
      const succeeded = [...world.stats].filter(([, s]) => s.ok > 0).map(([op]) => op)
      expect(succeeded.length, JSON.stringify([...world.stats])).toBeGreaterThanOrEqual(15)
    },
    fuzzTimeout(structuredRuns, 2),
  )

  const rawRuns = fuzzRuns(3000)
  it(
    `answers ${rawRuns} arbitrary strings and JSON values with one typed reply`,
    async () => {
      const text = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.anything().map((v) => {
          try {
            return JSON.stringify(v) ?? 'undefined'
          } catch {
            return String(v)
          }
        }),
        fc.jsonValue().map((v) => JSON.stringify({ id: 1, op: 'sendMessage', data: v })),
      )
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: USERS.length }), text, async (from, t) => {
          await feed(world, from, t)
        }),
        { numRuns: rawRuns },
      )
    },
    fuzzTimeout(rawRuns, 2),
  )

  it('(control) the triggers do refuse a backwards change', () => {
    const backwards = [
      'UPDATE conversations SET last_seq = last_seq - 1 WHERE last_seq > 0',
      'UPDATE messages SET delivered_at = NULL WHERE delivered_at IS NOT NULL',
      `UPDATE messages SET content = '{"type":"text","text":"rewritten"}' WHERE recalled_at IS NULL`,
      'DELETE FROM user_events',
    ]
    for (const sql of backwards) expect(() => world.storage.db.prepare(sql).run(), sql).toThrow(/backwards/)
  })
})
