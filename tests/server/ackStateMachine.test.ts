/**
 * Issue 15: the ack state machine, property-tested against a model (as tests/shared/receipts.test.ts
 * does for the receipt state). fast-check draws sequences of ack / undo / read / hide / share /
 * clock steps by the recipients of one group message; the real handlers run on the real storage (SQLite, or PostgreSQL
 * in the postgres project) and after every step the server must agree with the model:
 * - an ack is idempotent (a second one keeps the first time) and never goes backwards;
 * - only the acker's own undo, within the window, removes it (ACK_NOT_FOUND, ACK_UNDO_WINDOW_PASSED);
 * - the count equals the acks, the 'acked' tab lists them in the order given, and a sharer's read
 *   (implied by the ack) stays after an undo;
 * - the stored hidden count (recipients hiding their reads with no read fact) follows acks, undos
 *   and changes of sharing, and equals what the members table says.
 * Then the storage contract for concurrent acks: every storage call yields to the event loop first,
 * so two devices acking at once interleave at every await, and the count still equals the facts.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code, CodedError } from '../../src/shared/codes'
import type { Connection } from '../../src/server/connection'
import { DeliveryBudget } from '../../src/server/deliveryBudget'
import { PushBatch, type OpContext } from '../../src/server/ops/context'
import { handlers } from '../../src/server/ops/index'
import { resolveReceiptDefaults } from '../../src/server/receiptSettings'
import { DEFAULT_ACK_SETTINGS } from '../../src/server/ackSettings'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { Storage, StorageOps } from '../../src/server/storage/types'
import type { ParsedRequestData, ReplyData, RequestOp } from '../../src/shared/protocol'
import { testBackend } from '../testStore'
import { openScratchStorage } from './postgresHelpers'

const WINDOW_MS = 1_000
const RECIPIENTS = 3

describe(`ack state machine (${testBackend})`, () => {
  let storage: Storage
  let run = 0
  beforeAll(async () => {
    storage = testBackend === 'postgres' ? await openScratchStorage() : new SqliteStorage(':memory:')
  })
  afterAll(() => storage.close())

  const receiptDefaults = resolveReceiptDefaults({})

  /** One request the way the gateway runs it: the handler in a transaction of its own. */
  function request<Op extends RequestOp>(
    op: Op,
    userId: string,
    now: number,
    data: ParsedRequestData<Op>,
    on: Storage = storage,
    wrap: (ops: StorageOps) => StorageOps = (ops) => ops,
  ): Promise<ReplyData<Op>> {
    return on.transaction(async (tx) => {
      const ctx: OpContext = {
        storage: wrap(tx),
        userId,
        deviceId: `${userId}-device`,
        connection: {} as Connection,
        pushes: new PushBatch(),
        now,
        receiptDefaults,
        deliveryBudget: new DeliveryBudget(),
        policy: {
          usageLimits: { messages: 1e9, bytes: 1e12, groups: 1e9 },
          lookups: { take: async () => true } as never,
          acks: { ...DEFAULT_ACK_SETTINGS, undoWindowMs: WINDOW_MS },
        },
      }
      const handler = handlers[op] as (c: OpContext, d: ParsedRequestData<Op>) => Promise<ReplyData<Op>>
      return handler(ctx, data)
    })
  }

  async function codeOf(promise: Promise<unknown>): Promise<number> {
    try {
      await promise
      return 0
    } catch (error) {
      if (error instanceof CodedError) return error.code
      throw error
    }
  }

  /** A fresh group (sender + recipients) and its needAck message; users unique per run. */
  async function setUp(now: number) {
    run++
    const sender = `s${run}`
    const users = Array.from({ length: RECIPIENTS }, (_, i) => `r${run}x${i}`)
    for (const id of [sender, ...users])
      await storage.insertUser({ id, displayName: id.toUpperCase(), passwordHash: 'x', createdAt: now })
    const { group } = await request('createGroup', sender, now, { name: 'g', memberIds: users })
    const { message } = await request('sendMessage', sender, now, {
      clientMsgId: `m-${run}-xxxxxxxxxxxx`,
      conversation: { type: 'group', targetId: group.groupId },
      channelId: '',
      content: { type: 'text', text: 'ack me' },
      isNeedGroupAck: false,
      needAck: true,
    })
    return { sender, users, messageUId: message.messageUId, groupId: group.groupId, seq: message.seq }
  }

  type Step =
    { kind: 'ack' | 'undo' | 'read' | 'hide' | 'share'; who: number } | { kind: 'clock'; ms: number }
  const who = fc.integer({ min: 0, max: RECIPIENTS - 1 })
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('ack' as const), who }),
    fc.record({ kind: fc.constant('undo' as const), who }),
    fc.record({ kind: fc.constant('read' as const), who }),
    fc.record({ kind: fc.constant('hide' as const), who }),
    fc.record({ kind: fc.constant('share' as const), who }),
    fc.record({ kind: fc.constant('clock' as const), ms: fc.integer({ min: 1, max: 1_500 }) }),
  )

  it('agrees with the model after every ack, undo and tick', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        let now = 1_000_000
        const { sender, users, messageUId, groupId, seq } = await setUp(now)
        /**
         * The model: each recipient's ack time, in the order given; who has a read fact (an ack, or
         * their read position passing it while sharing; a hider's undo takes the ack's read back);
         * whose read position passed it; who hides their reads.
         */
        const acked = new Map<string, number>()
        const readFact = new Set<string>()
        const passed = new Set<string>()
        const hides = new Set<string>()
        for (const s of steps) {
          if (s.kind === 'clock') {
            now += s.ms
            continue
          }
          const who = users[s.who] as string
          if (s.kind === 'ack') {
            const reply = await request('ackMessage', who, now, { messageUIds: [messageUId] })
            if (!acked.has(who)) acked.set(who, now)
            readFact.add(who)
            expect(reply).toEqual({ accepted: [{ messageUId, at: acked.get(who) }], rejected: [] })
          } else if (s.kind === 'undo') {
            const at = acked.get(who)
            const expected =
              at === undefined ? Code.ACK_NOT_FOUND : now - at > WINDOW_MS ? Code.ACK_UNDO_WINDOW_PASSED : 0
            expect(await codeOf(request('undoAckMessage', who, now, { messageUId }))).toBe(expected)
            if (expected === 0) {
              acked.delete(who)
              if (hides.has(who)) readFact.delete(who)
            }
          } else if (s.kind === 'read') {
            await request('ackConversationRead', who, now, {
              conversation: { type: 'group', targetId: groupId },
              seq,
            })
            if (!passed.has(who) && !hides.has(who)) readFact.add(who)
            passed.add(who)
          } else {
            await request('updateSettings', who, now, { shareReadReceipts: s.kind === 'share' })
            if (s.kind === 'hide') hides.add(who)
            else hides.delete(who)
          }
          const page = await request('fetchMessageAcks', sender, now, {
            messageUId,
            state: 'acked',
            pageSize: 10,
          })
          expect(page.entries.map((e) => [e.userId, e.ackedAt])).toEqual([...acked.entries()])
          const hidden = users.filter((u) => hides.has(u) && !readFact.has(u)).length
          expect(page.counts).toEqual({ acked: acked.size, read: readFact.size, total: RECIPIENTS, hidden })
          const message = await storage.getMessageByUId(messageUId)
          expect(
            await storage.countAckHidden({
              convId: message!.convId,
              messageId: message!.id,
              seq,
              senderId: sender,
            }),
          ).toBe(hidden)
        }
      }),
      { numRuns: testBackend === 'postgres' ? 15 : 60 },
    )
  })

  it('pages every tab of a large group completely, each recipient in exactly one', async () => {
    const now = 3_000_000
    run++
    const sender = `big${run}`
    const users = Array.from({ length: 1_200 }, (_, i) => `b${run}x${String(i).padStart(4, '0')}`)
    await storage.transaction(async (tx) => {
      for (const id of [sender, ...users])
        await tx.insertUser({ id, displayName: id, passwordHash: 'x', createdAt: now })
    })
    const { group } = await request('createGroup', sender, now, {
      name: 'big',
      memberIds: users.slice(0, 10),
    })
    const conv = await storage.getConversationByKey(`g:${group.groupId}`)
    await storage.transaction(async (tx) => {
      for (const id of users.slice(10))
        await tx.upsertMember({ convId: conv!.id, userId: id, role: 'member', joinedSeq: 0, joinedAt: now })
      // A few hide their reads (before the message, as the counts expect).
      for (const id of users.filter((_, i) => i % 97 === 5))
        await tx.setMemberReceiptSharing(conv!.id, id, false)
    })
    const { message } = await request('sendMessage', sender, now, {
      clientMsgId: `big-${run}-xxxxxxxxxxxx`,
      conversation: { type: 'group', targetId: group.groupId },
      channelId: '',
      content: { type: 'text', text: 'all hands' },
      isNeedGroupAck: false,
      needAck: true,
    })
    // Most read (the not-read tab must walk far), a third of those ack.
    await storage.transaction(async (tx) => {
      for (const [i, id] of users.entries()) {
        if (i % 10 === 0) continue
        if (i % 3 === 0)
          await tx.insertMessageAck((await tx.getMessageByUId(message.messageUId))!.id, id, now)
        else if (i % 97 !== 5)
          await tx.insertMessageRead((await tx.getMessageByUId(message.messageUId))!.id, id, now)
      }
    })
    const seen = new Map<string, string>()
    let counts
    for (const state of ['acked', 'readNotAcked', 'notRead', 'hidden'] as const) {
      let cursor: string | undefined
      for (;;) {
        const page = await request('fetchMessageAcks', sender, now, {
          messageUId: message.messageUId,
          state,
          pageSize: 50,
          ...(cursor ? { cursor } : {}),
        })
        counts = page.counts
        for (const e of page.entries) {
          expect(seen.get(e.userId)).toBeUndefined()
          seen.set(e.userId, state)
        }
        if (!page.nextCursor) break
        cursor = page.nextCursor
      }
    }
    expect(seen.size).toBe(users.length)
    const inTab = (state: string) => [...seen.values()].filter((s) => s === state).length
    expect(inTab('notRead')).toBe(users.filter((_, i) => i % 10 === 0 && i % 97 !== 5).length)
    expect(counts).toEqual({
      acked: inTab('acked'),
      read: inTab('acked') + inTab('readNotAcked'),
      total: users.length,
      hidden: inTab('hidden'),
    })
  })

  it('keeps the count equal to the acks when devices ack at once (interleaved at every await)', async () => {
    const now = 2_000_000
    const { sender, users, messageUId } = await setUp(now)
    const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))
    const slowed = (ops: StorageOps): StorageOps =>
      new Proxy(ops, {
        get(target, name, receiver) {
          const value: unknown = Reflect.get(target, name, receiver)
          if (typeof value !== 'function') return value
          return async (...args: unknown[]) => {
            await macrotask()
            return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
          }
        },
      })
    // Every recipient on two devices at once, each device twice.
    const replies = await Promise.all(
      [...users, ...users, ...users, ...users].map((who, i) =>
        request('ackMessage', who, now + i, { messageUIds: [messageUId] }, storage, slowed),
      ),
    )
    const page = await request('fetchMessageAcks', sender, now, { messageUId, state: 'acked', pageSize: 10 })
    expect(page.counts.acked).toBe(RECIPIENTS)
    expect(new Set(page.entries.map((e) => e.userId))).toEqual(new Set(users))
    // Every device of one user was told the same (first) time.
    for (const who of users) {
      const times = new Set(
        replies.flatMap((r, i) =>
          [...users, ...users, ...users, ...users][i] === who ? r.accepted.map((a) => a.at) : [],
        ),
      )
      expect(times.size).toBe(1)
    }
  })
})
