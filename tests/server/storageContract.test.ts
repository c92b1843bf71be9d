/**
 * What any Storage implementation must guarantee when operations overlap, and what the operations
 * must not take for granted. Every storage call here first yields to the event loop (a macrotask),
 * as a call to a database over the network would, so two requests in flight interleave at every
 * await unless the storage keeps them apart. The real operation handlers run on top.
 *
 * `storageContract(name, open)` is the whole suite; a new backend adds one line at the bottom.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DeliveryBudget } from '../../src/server/deliveryBudget'
import type { Connection } from '../../src/server/connection'
import { PushBatch, type OpContext } from '../../src/server/ops/context'
import { handlers } from '../../src/server/ops/index'
import { resolveReceiptDefaults } from '../../src/server/receiptSettings'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { Storage, StorageOps, Unit } from '../../src/server/storage/types'
import type { ParsedRequestData, ReplyData, RequestOp } from '../../src/shared/protocol'
import { openScratchStorage, skipPostgres } from './postgresHelpers'

const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The same storage, with a macrotask before every call made through it (direct or in a transaction). */
function slowed(storage: Storage): Storage {
  const slowOps = (ops: StorageOps): StorageOps =>
    new Proxy(ops, {
      get(target, name, receiver) {
        const value: unknown = Reflect.get(target, name, receiver)
        if (typeof value !== 'function' || name === 'transaction' || name === 'batch' || name === 'close')
          return value
        return async (...args: unknown[]) => {
          await macrotask()
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args)
        }
      },
    })
  const direct = slowOps(storage) as Storage
  return new Proxy(direct, {
    get(target, name, receiver) {
      if (name === 'transaction') return <T>(fn: Unit<T>) => storage.transaction((tx) => fn(slowOps(tx)))
      if (name === 'batch')
        return <T>(units: readonly Unit<T>[], chains?: readonly unknown[]) =>
          storage.batch(
            units.map((unit) => (tx: StorageOps) => unit(slowOps(tx))),
            chains,
          )
      return Reflect.get(target, name, receiver)
    },
  })
}

export function storageContract(name: string, open: () => Promise<Storage>): void {
  describe(`storage contract: ${name}`, () => {
    let raw: Storage
    let storage: Storage
    const receiptDefaults = resolveReceiptDefaults({})
    const users = ['alice', 'bob', 'carol']

    beforeEach(async () => {
      raw = await open()
      storage = slowed(raw)
      for (const id of users) {
        await raw.insertUser({ id, displayName: id, passwordHash: 'x', createdAt: 1 })
        await raw.updateSettings(id, { requireDeliveryAck: true, requireReadAck: true })
      }
    })
    afterEach(() => raw.close())

    /** Runs one request the way the gateway does: the operation in a transaction of its own. */
    function request<Op extends RequestOp>(
      op: Op,
      userId: string,
      data: ParsedRequestData<Op>,
    ): Promise<{ reply: ReplyData<Op>; pushes: PushBatch }> {
      const pushes = new PushBatch()
      return storage.transaction(async (tx) => {
        const ctx: OpContext = {
          storage: tx,
          userId,
          deviceId: `${userId}-device`,
          connection: {} as Connection,
          pushes,
          now: 1000,
          receiptDefaults,
          deliveryBudget: new DeliveryBudget(),
        }
        const handler = handlers[op] as (c: OpContext, d: ParsedRequestData<Op>) => Promise<ReplyData<Op>>
        return { reply: await handler(ctx, data), pushes }
      })
    }

    const send = (from: string, to: string, clientMsgId: string, type: 'private' | 'group' = 'private') =>
      request('sendMessage', from, {
        clientMsgId,
        conversation: { type, targetId: to },
        channelId: '',
        content: { type: 'text', text: clientMsgId },
        isNeedGroupAck: type === 'group',
        needAck: false,
      })

    it('gives concurrent sends to one conversation consecutive seqs, none twice, none skipped', async () => {
      await send('alice', 'bob', 'first-message-0001')
      const results = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          send(i % 2 ? 'alice' : 'bob', i % 2 ? 'bob' : 'alice', `concurrent-${String(i).padStart(4, '0')}`),
        ),
      )
      const seqs = results.map((r) => r.reply.message.seq).sort((a, b) => a - b)
      expect(seqs).toEqual(Array.from({ length: 12 }, (_, i) => i + 2))
      const conv = await raw.getConversationByKey('p:alice:bob')
      expect(conv?.lastSeq).toBe(13)
      const stored = await raw.listMessages(conv?.id ?? 0, 0, 100, 100)
      expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 13 }, (_, i) => i + 1))
    })

    it('stores a message sent twice at once (two devices, one clientMsgId) exactly once', async () => {
      const [a, b, c] = await Promise.all([
        send('alice', 'bob', 'same-client-id-01'),
        send('alice', 'bob', 'same-client-id-01'),
        send('alice', 'bob', 'same-client-id-01'),
      ])
      const replies = [a, b, c].map((r) => r.reply)
      expect(new Set(replies.map((r) => r.message.messageUId)).size).toBe(1)
      expect(replies.filter((r) => !r.duplicate)).toHaveLength(1)
      // Only the send that stored it tells the recipients.
      expect([a, b, c].map((r) => r.pushes.queued.length).sort()).toEqual([0, 0, 1])
      const conv = await raw.getConversationByKey('p:alice:bob')
      expect(conv?.lastSeq).toBe(1)
    })

    it('never moves a read watermark backwards when reads race', async () => {
      for (let i = 0; i < 8; i++) await send('alice', 'bob', `to-bob-${String(i).padStart(8, '0')}`)
      const conversation = { type: 'private' as const, targetId: 'alice' }
      await Promise.all([
        request('ackConversationRead', 'bob', { conversation, seq: 6 }),
        request('ackConversationRead', 'bob', { conversation, seq: 2 }),
        request('ackConversationRead', 'bob', { conversation, seq: 8 }),
        request('ackConversationRead', 'bob', { conversation, seq: 4 }),
      ])
      const conv = await raw.getConversationByKey('p:alice:bob')
      const bob = await raw.getMember(conv?.id ?? 0, 'bob')
      expect(bob?.readSeq).toBe(8)
      expect(bob?.deliveredSeq).toBe(8)
      // A late, older read changes nothing.
      const late = await request('ackConversationRead', 'bob', { conversation, seq: 3 })
      expect(late.reply.readSeq).toBe(8)
    })

    it('records a delivery acked from two devices at once once, with one event for the sender', async () => {
      const { reply } = await send('alice', 'bob', 'deliver-me-000001')
      const uid = reply.message.messageUId
      const acks = await Promise.all([
        request('ackDelivered', 'bob', { messageUIds: [uid] }),
        request('ackDelivered', 'bob', { messageUIds: [uid] }),
      ])
      expect(acks.map((a) => a.reply.accepted)).toEqual([[uid], [uid]])
      const events = await raw.listUserEvents('alice', 0, 10)
      expect(events.map((e) => e.event)).toEqual(['messageDelivered'])
    })

    it('keeps one reader fact per member when two devices ack a group message at once', async () => {
      const created = await request('createGroup', 'alice', { name: 'g', memberIds: ['bob', 'carol'] })
      const groupId = created.reply.group.groupId
      const { reply } = await send('alice', groupId, 'group-message-0001', 'group')
      const uid = reply.message.messageUId
      const [one, two] = await Promise.all([
        request('ackGroupMessageRead', 'bob', { groupId, acks: [{ messageUId: uid }] }),
        request('ackGroupMessageRead', 'bob', { groupId, acks: [{ messageUId: uid }] }),
        request('ackGroupMessageRead', 'carol', { groupId, acks: [{ messageUId: uid }] }),
      ])
      expect(one?.reply.accepted[0]?.ackId).toBe(two?.reply.accepted[0]?.ackId)
      const message = await raw.getMessageByUId(uid)
      // The count equals the facts recomputed: bob once, carol once.
      const facts = await raw.listGroupReadAcks(message?.id ?? 0, 0, 100)
      expect(facts.map((f) => f.userId).sort()).toEqual(['bob', 'carol'])
      expect(message?.groupAckCount).toBe(facts.length)
      const events = await raw.listUserEvents('alice', 0, 10)
      expect(events.filter((e) => e.event === 'groupMessageRead')).toHaveLength(2)
    })

    it('rolls back a failing unit of a batch alone and reports each unit in order', async () => {
      const results = await storage.batch<string>([
        async (tx) => {
          await tx.insertUser({ id: 'dave', displayName: 'dave', passwordHash: 'x', createdAt: 1 })
          return 'dave'
        },
        async (tx) => {
          await tx.insertUser({ id: 'erin', displayName: 'erin', passwordHash: 'x', createdAt: 1 })
          throw new Error('erin changed her mind')
        },
        async (tx) => {
          await tx.updateSettings('alice', { requireReadAck: false })
          return 'alice'
        },
      ])
      expect(results.map((r) => (r.ok ? r.value : (r.error as Error).message))).toEqual([
        'dave',
        'erin changed her mind',
        'alice',
      ])
      expect((await raw.getUser('dave'))?.displayName).toBe('dave')
      expect(await raw.getUser('erin')).toBeUndefined()
      expect((await raw.getUser('alice'))?.settings.requireReadAck).toBe(false)
    })

    it('charges a daily quota in one step: sends at once never pass the limit together', async () => {
      const limits = { messages: 3, bytes: 1000, groups: 1 }
      const charges = await Promise.all(
        Array.from({ length: 8 }, () =>
          storage.transaction((tx) =>
            tx.chargeUsage('alice', 42, { messages: 1, bytes: 10, groups: 0 }, limits),
          ),
        ),
      )
      expect(charges.filter(Boolean)).toHaveLength(3)
      // Another day, another user: their own counts.
      expect(await storage.chargeUsage('alice', 43, { messages: 3, bytes: 0, groups: 1 }, limits)).toBe(true)
      expect(await storage.chargeUsage('bob', 42, { messages: 3, bytes: 0, groups: 1 }, limits)).toBe(true)
      expect(await storage.chargeUsage('bob', 42, { messages: 0, bytes: 0, groups: 1 }, limits)).toBe(false)
    })

    it('prunes a prefix and marks it, while sends go on in between', async () => {
      for (let i = 0; i < 5; i++) await send('alice', 'bob', `before-prune-${i}x`)
      const conv = await raw.getConversationByKey('p:alice:bob')
      const [pruned] = await Promise.all([
        storage.transaction((tx) => tx.pruneMessages(1001, 0, 3)),
        send('bob', 'alice', 'during-prune-0001'),
      ])
      expect(pruned).toEqual({ deleted: 3, next: conv?.id })
      // Messages are stamped at 1000 by request(); the one sent meanwhile is older than the cut too.
      const rest = await storage.transaction((tx) => tx.pruneMessages(1001, pruned.next ?? 0, 100))
      expect(rest).toEqual({ deleted: 3 })
      expect(await raw.messagesPrunedSeq(conv?.id ?? 0)).toBe(6)
      expect((await raw.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(6)
      expect((await send('alice', 'bob', 'after-prune-00001')).reply.message.seq).toBe(7)
    })

    it('keeps a call made outside a transaction out of one that is open, and out of its rollback', async () => {
      let direct: Promise<boolean> | undefined
      const failing = storage.transaction(async (tx) => {
        await tx.insertUser({ id: 'frank', displayName: 'frank', passwordHash: 'x', createdAt: 1 })
        // While this transaction is open, another caller writes on its own.
        direct = storage.insertUser({ id: 'grace', displayName: 'grace', passwordHash: 'x', createdAt: 1 })
        await macrotask()
        throw new Error('rolled back')
      })
      await expect(failing).rejects.toThrow('rolled back')
      expect(await direct).toBe(true)
      expect(await raw.getUser('frank')).toBeUndefined()
      expect((await raw.getUser('grace'))?.displayName).toBe('grace')
    })
  })
}

storageContract('SQLite (embedded)', async () => new SqliteStorage(':memory:'))
describe.skipIf(skipPostgres)('PostgreSQL', () => storageContract('PostgreSQL', () => openScratchStorage()))
