/**
 * Scenario 10 (issue 15): the acknowledgement panel of one needAck message in a group of 200 and of
 * 20,000 members. A realistic spread: 60% acked, 20% read without acking, 2% hide their read
 * receipts (some of them ack too), the rest have not read it. Timed as the sender asks, through the
 * server's own handlers on its storage (SQLite on a file; PostgreSQL too when a pg backend is
 * chosen, as s4 does): the counts (fetchMessageAcks with one entry) and the first page (50) of each
 * tab. Target: 20,000 members within 3x of 200.
 */
import { join } from 'node:path'
import { DeliveryBudget } from '../../src/server/deliveryBudget'
import type { Connection } from '../../src/server/connection'
import { PushBatch, type OpContext } from '../../src/server/ops/context'
import { handlers } from '../../src/server/ops/index'
import { resolveReceiptDefaults } from '../../src/server/receiptSettings'
import type { Storage, StorageOps } from '../../src/server/storage/types'
import type { AckListState } from '../../src/shared/acks'
import { openScratchStorage } from '../lib/backends'
import { openServerStorage } from '../lib/server'
import { fmt, rng, timeAsync, type Timing } from '../lib/stats'
import { emptyOutput, target, type Scenario } from '../lib/types'

const OPS: { key: string; label: string; state: AckListState; pageSize: number }[] = [
  { key: 'counts', label: 'counts (fetchMessageAcks, 1 entry)', state: 'acked', pageSize: 1 },
  { key: 'acked', label: 'first page of acknowledged (50)', state: 'acked', pageSize: 50 },
  {
    key: 'readNotAcked',
    label: 'first page of read, not acknowledged (50)',
    state: 'readNotAcked',
    pageSize: 50,
  },
  { key: 'notRead', label: 'first page of not read (50)', state: 'notRead', pageSize: 50 },
]

const SHARES = { acked: 0.6, readOnly: 0.2, hiders: 0.02 }
const PG_BUDGET_MS = 5000
type Store = 'sqlite' | 'postgres'

interface Measured {
  timings: Record<string, Timing>
  seedS: number
  counts: unknown
}

async function measure(store: Store, dir: string, members: number, iterations: number): Promise<Measured> {
  if (store === 'sqlite') {
    const storage = openServerStorage(join(dir, `acks-${members}`))
    try {
      return await measureOn(storage, store, members, iterations)
    } finally {
      await storage.close()
    }
  }
  const { storage } = await openScratchStorage()
  try {
    return await measureOn(storage, store, members, iterations)
  } finally {
    await storage.close()
  }
}

/** Runs `fn` on each item: on SQLite one after another; on PostgreSQL in batches of 500 units. */
async function each(
  storage: Storage,
  store: Store,
  items: readonly string[],
  fn: (id: string, ops: StorageOps) => Promise<unknown>,
): Promise<void> {
  if (store === 'sqlite') {
    await storage.transaction(async (tx) => {
      for (const id of items) await fn(id, tx)
    })
    return
  }
  for (let i = 0; i < items.length; i += 500) {
    const part = items.slice(i, i + 500)
    const results = await storage.batch(
      part.map((id) => (tx: StorageOps) => fn(id, tx)),
      part,
    )
    for (const r of results) if (!r.ok) throw r.error
  }
}

async function measureOn(
  storage: Storage,
  store: Store,
  members: number,
  iterations: number,
): Promise<Measured> {
  const t0 = process.hrtime.bigint()
  const receiptDefaults = resolveReceiptDefaults({})
  const now = Date.now()
  const ids = Array.from({ length: members }, (_, i) => `u${String(i).padStart(6, '0')}`)
  const owner = ids[0] as string
  const groupId = `g_acks${members}`
  await each(storage, store, ids, (id, tx) =>
    tx.insertUser({ id, displayName: id.toUpperCase(), passwordHash: 'x', createdAt: now }),
  )
  const conv = await storage.transaction(async (tx) => {
    const c = await tx.insertConversation({ key: `g:${groupId}`, type: 'group', createdAt: now })
    await tx.insertGroup({ id: groupId, convId: c.id, name: 'big', ownerId: owner, createdAt: now })
    return c
  })
  await each(storage, store, ids, (id, tx) =>
    tx.upsertMember({
      convId: conv.id,
      userId: id,
      role: id === owner ? 'owner' : 'member',
      joinedSeq: 0,
      joinedAt: now,
    }),
  )
  const ctxOf = (userId: string, ops: StorageOps = storage): OpContext => ({
    storage: ops,
    userId,
    deviceId: 'bench-device',
    connection: {} as Connection,
    pushes: new PushBatch(),
    now: Date.now(),
    receiptDefaults,
    deliveryBudget: new DeliveryBudget(),
  })
  const r = rng(members)
  const hiders: string[] = []
  const ackers: string[] = []
  const readers: string[] = []
  for (const id of ids.slice(1)) {
    if (r() < SHARES.hiders) hiders.push(id)
    const x = r()
    if (x < SHARES.acked) ackers.push(id)
    else if (x < SHARES.acked + SHARES.readOnly) readers.push(id)
  }
  // Those who hide their read receipts chose so before the message came.
  await each(storage, store, hiders, (id, tx) => tx.setMemberReceiptSharing(conv.id, id, false))
  for (let i = 0; i < 20; i++)
    await handlers.sendMessage(ctxOf(ids[1 + (i % (members - 1))] as string), {
      clientMsgId: `before-${i}-xxxxxxxx`,
      conversation: { type: 'group', targetId: groupId },
      channelId: '',
      content: { type: 'text', text: `hello ${i}` },
      isNeedGroupAck: false,
      needAck: false,
    })
  const sent = await handlers.sendMessage(ctxOf(owner), {
    clientMsgId: 'the-message-xxxxxxxx',
    conversation: { type: 'group', targetId: groupId },
    channelId: '',
    content: { type: 'text', text: 'please acknowledge' },
    isNeedGroupAck: false,
    needAck: true,
  })
  const uid = sent.message.messageUId
  await each(storage, store, ackers, (id, tx) => handlers.ackMessage(ctxOf(id, tx), { messageUIds: [uid] }))
  await each(storage, store, readers, (id, tx) =>
    handlers.ackConversationRead(ctxOf(id, tx), {
      conversation: { type: 'group', targetId: groupId },
      seq: sent.message.seq,
    }),
  )
  const seedS = Number(process.hrtime.bigint() - t0) / 1e9
  const ownerCtx = ctxOf(owner)
  const options = { iterations, ...(store === 'sqlite' ? {} : { budgetMs: PG_BUDGET_MS }) }
  const timings: Record<string, Timing> = {}
  for (const op of OPS)
    timings[op.key] = await timeAsync(options, () =>
      handlers.fetchMessageAcks(ownerCtx, { messageUId: uid, state: op.state, pageSize: op.pageSize }),
    )
  const check = await handlers.fetchMessageAcks(ownerCtx, { messageUId: uid, state: 'acked', pageSize: 1 })
  const stored = await storage.getMessageByUId(uid)
  const hidden =
    stored &&
    (await storage.countAckHidden({
      convId: stored.convId,
      messageId: stored.id,
      seq: stored.seq,
      senderId: owner,
    }))
  if (
    check.counts.acked !== ackers.length ||
    check.counts.total !== members - 1 ||
    check.counts.hidden !== hidden
  )
    throw new Error(
      `counts ${JSON.stringify(check.counts)}, expected ${ackers.length} acked of ${members - 1}, ${hidden} hidden`,
    )
  return { timings, seedS, counts: check.counts }
}

export const s10Acks: Scenario = {
  id: 's10-acks',
  aliases: ['acks', 'acknowledgements'],
  title: 'Acknowledgement panel vs group size',
  usesBackends: true,
  async run(ctx) {
    const out = emptyOutput()
    const sizes = [200, 20_000]
    const iterations = ctx.quick ? 100 : 400
    const stores: Store[] = [
      ...(ctx.backends.list.includes('sqlite') ? (['sqlite'] as const) : []),
      ...(ctx.backends.list.some((b) => b !== 'sqlite') ? (['postgres'] as const) : []),
    ]
    out.params = { sizes, shares: SHARES, iterations, pageSize: 50, stores }
    const res: Record<string, Measured> = {}
    for (const store of stores)
      for (const n of sizes) {
        const m = await measure(store, ctx.tmp, n, iterations)
        res[`${store}/${n}`] = m
        ctx.log(
          `${store}, ${fmt(n)} members: seeded in ${fmt(m.seedS)} s; counts ${JSON.stringify(m.counts)}`,
        )
      }
    for (const store of stores) {
      const t = (n: number, op: string) => res[`${store}/${n}`]?.timings[op]
      const label = store === 'sqlite' ? 'SQLite' : 'PostgreSQL (no statistics)'
      out.sections.push({
        heading: `${label}: 60% acked, 20% read only, 2% hide their reads`,
        text: `Median (p95) ms per call over up to ${iterations} calls, as the message's sender asks.`,
        table: {
          columns: ['operation', ...sizes.map((n) => `${fmt(n)} members`), '20,000 / 200'],
          rows: OPS.map((op) => [
            op.label,
            ...sizes.map((n) => `${fmt(t(n, op.key)?.median)} (${fmt(t(n, op.key)?.p95)})`),
            fmt((t(20_000, op.key)?.median ?? NaN) / (t(200, op.key)?.median ?? NaN)),
          ]),
        },
      })
      for (const op of OPS) {
        const a = t(200, op.key)?.median ?? NaN
        const b = t(20_000, op.key)?.median ?? NaN
        out.targets.push(
          target(
            `${op.label}, 20,000 vs 200 members, ${label}`,
            '≤ 3x',
            `${fmt(b / a)}x (${fmt(b)} ms)`,
            b / a,
            3,
          ),
        )
      }
    }
    out.notes.push(
      'Counts are three stored counts on the message row (acks, reads, hidden), kept as acks, reads, undos and changes ' +
        'of sharing happen; each tab is an index range from its cursor (message_acks_page; the partial index ' +
        'message_reads_not_acked; the members primary key probed in the UNIQUE (message_id, user_id) index of ' +
        'message_reads, on PostgreSQL a bounded walk of it repeated until the page is full). "No statistics": timed ' +
        'right after seeding, before any ANALYZE (autovacuum is off on this database).',
    )
    if (ctx.backends.note) out.notes.push(ctx.backends.note)
    out.raw = res
    return out
  },
}
