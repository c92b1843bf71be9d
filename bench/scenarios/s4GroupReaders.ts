/**
 * Scenario 4: read count and the first page of readers / not-yet-readers of one message, in groups of
 * 200, 2,000 and 20,000 members (the server's maxGroupSize default of 200 is raised by setting, as an
 * operator would). Calls through the server's own operation handlers on its storage: SQLite on a file,
 * and PostgreSQL (a scratch database, bench/lib/backends.ts) when a pg backend is chosen; the number of
 * nodes does not matter here (one storage, no sockets).
 */
import { join } from 'node:path'
import { DeliveryBudget } from '../../src/server/deliveryBudget'
import type { Connection } from '../../src/server/connection'
import { PushBatch, type OpContext } from '../../src/server/ops/context'
import { handlers } from '../../src/server/ops/index'
import { resolveReceiptDefaults } from '../../src/server/receiptSettings'
import type { Storage, StorageOps } from '../../src/server/storage/types'
import { openScratchStorage } from '../lib/backends'
import { openServerStorage } from '../lib/server'
import { fmt, rng, timeAsync, type Timing } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, target, type Scenario } from '../lib/types'

const OPS = [
  { key: 'count', label: 'read count (the stored count of the message)' },
  { key: 'readers', label: 'first page of readers (fetchGroupReadAcks, 50)' },
  { key: 'unread', label: 'first page of not-yet-readers (fetchGroupUnreadMembers, 50)' },
] as const

type Store = 'sqlite' | 'postgres'
/** What a table shows: SQLite, PostgreSQL as seeded (no statistics), the same after ANALYZE. */
type Variant = Store | 'postgres-analyzed'
const LABEL: Record<Variant, string> = {
  sqlite: 'SQLite',
  postgres: 'PostgreSQL, no statistics',
  'postgres-analyzed': 'PostgreSQL after ANALYZE',
}

const PG_BUDGET_MS = 5000

interface Measured {
  timings: Record<string, Timing>
  seedS: number
  readers: number
  /** PostgreSQL: the same calls again after ANALYZE. */
  analyzed?: Record<string, Timing>
}

/** Runs `fn` on each item, `parallel` at a time (1: one after another, in order). */
async function each<T>(
  items: readonly T[],
  parallel: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T)
  }
  await Promise.all(Array.from({ length: parallel }, worker))
}

async function measure(
  store: Store,
  dir: string,
  members: number,
  readShare: number,
  iterations: number,
): Promise<Measured> {
  const t0 = process.hrtime.bigint()
  if (store === 'sqlite') {
    const storage = openServerStorage(join(dir, `group-${members}-${readShare}`))
    try {
      return await measureOn(storage, store, members, readShare, iterations, t0)
    } finally {
      await storage.close()
    }
  }
  const { storage, analyze } = await openScratchStorage()
  try {
    return await measureOn(storage, store, members, readShare, iterations, t0, analyze)
  } finally {
    await storage.close()
  }
}

async function measureOn(
  storage: Storage,
  store: Store,
  members: number,
  readShare: number,
  iterations: number,
  t0: bigint,
  analyze?: () => Promise<void>,
): Promise<Measured> {
  const receiptDefaults = resolveReceiptDefaults({ maxGroupSize: members })
  const now = Date.now()
  const ids = Array.from({ length: members }, (_, i) => `u${String(i).padStart(6, '0')}`)
  const owner = ids[0] as string
  const groupId = `g_bench${members}`
  // SQLite: one transaction, as before. PostgreSQL (a round trip per call): transactions of 1,000
  // rows, 4 at once, so 20,000 members are seeded in seconds; the same rows either way.
  const chunk = store === 'sqlite' ? members : 1000
  const parallel = store === 'sqlite' ? 1 : 4
  const chunks: string[][] = []
  for (let i = 0; i < ids.length; i += chunk) chunks.push(ids.slice(i, i + chunk))
  await each(chunks, parallel, (part) =>
    storage.transaction(async (tx) => {
      for (const id of part)
        await tx.insertUser({ id, displayName: id.toUpperCase(), passwordHash: 'x', createdAt: now })
    }),
  )
  const conv = await storage.transaction(async (tx) => {
    const c = await tx.insertConversation({ key: `g:${groupId}`, type: 'group', createdAt: now })
    await tx.insertGroup({ id: groupId, convId: c.id, name: 'big', ownerId: owner, createdAt: now })
    return c
  })
  await each(chunks, parallel, (part) =>
    storage.transaction(async (tx) => {
      for (const id of part) {
        await tx.upsertMember({
          convId: conv.id,
          userId: id,
          role: id === owner ? 'owner' : 'member',
          joinedSeq: 0,
          joinedAt: now,
        })
      }
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
  // A little history before the message, then the message that asks for read acks.
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
    content: { type: 'text', text: 'who has read this?' },
    isNeedGroupAck: true,
    needAck: false,
  })
  const uid = sent.message.messageUId
  // A random share of the members read it, each with its own ack (as their engines would send).
  const r = rng(members)
  const readers = ids.slice(1).filter(() => r() < readShare)
  const ack = (id: string, ops?: StorageOps): Promise<unknown> =>
    handlers.ackGroupMessageRead(ctxOf(id, ops), { groupId, acks: [{ messageUId: uid }] })
  if (store === 'sqlite') for (const id of readers) await ack(id)
  else {
    // As the gateway commits frames on PostgreSQL: each ack a unit (savepoint) of a group commit of
    // 500, so the fsync of a commit (with the message row locked for its count) is paid per batch.
    for (let i = 0; i < readers.length; i += 500) {
      const results = await storage.batch(readers.slice(i, i + 500).map((id) => (tx) => ack(id, tx)))
      for (const x of results) if (!x.ok) throw x.error
    }
  }
  const seedS = Number(process.hrtime.bigint() - t0) / 1e9
  const ownerCtx = ctxOf(owner)
  // PostgreSQL: at most ~5 s of calls per operation (without statistics a page can take 100 ms).
  const options = { iterations, ...(store === 'sqlite' ? {} : { budgetMs: PG_BUDGET_MS }) }
  const time = async (): Promise<Record<string, Timing>> => ({
    count: await timeAsync(options, async () => (await storage.getMessageByUId(uid))?.groupAckCount),
    readers: await timeAsync(options, () =>
      handlers.fetchGroupReadAcks(ownerCtx, { messageUId: uid, pageSize: 50 }),
    ),
    unread: await timeAsync(options, () =>
      handlers.fetchGroupUnreadMembers(ownerCtx, { messageUId: uid, pageSize: 50 }),
    ),
  })
  const timings = await time()
  const check = await handlers.fetchGroupReadAcks(ownerCtx, { messageUId: uid, pageSize: 1 })
  if (check.count !== readers.length || check.total !== members - 1)
    throw new Error(`count ${check.count}/${check.total}, expected ${readers.length}/${members - 1}`)
  if (!analyze) return { timings, seedS, readers: readers.length }
  await analyze()
  return { timings, seedS, readers: readers.length, analyzed: await time() }
}

export const s4GroupReaders: Scenario = {
  id: 's4-group-readers',
  aliases: ['readers', 'groups'],
  title: 'Read counts and reader lists vs group size',
  usesBackends: true,
  async run(ctx) {
    const out = emptyOutput()
    const sizes = [200, 2_000, 20_000]
    const shares = ctx.quick ? [0.5] : [0.5, 0.95]
    const iterations = ctx.quick ? 100 : 400
    const stores: Store[] = [
      ...(ctx.backends.list.includes('sqlite') ? (['sqlite'] as const) : []),
      ...(ctx.backends.list.some((b) => b !== 'sqlite') ? (['postgres'] as const) : []),
    ]
    const variants: Variant[] = stores.flatMap((s): Variant[] =>
      s === 'sqlite' ? ['sqlite'] : ['postgres', 'postgres-analyzed'],
    )
    out.params = { sizes, readShares: shares, iterations, pageSize: 50, stores }
    // Keys of SQLite as before ("200/0.5"), so earlier results read the same.
    const key = (store: Store, n: number, share: number): string =>
      store === 'sqlite' ? `${n}/${share}` : `${store}/${n}/${share}`
    const res: Record<string, Measured> = {}
    for (const store of stores)
      for (const share of shares)
        for (const n of sizes) {
          const r = await measure(store, ctx.tmp, n, share, iterations)
          res[key(store, n, share)] = r
          ctx.log(
            `${store === 'sqlite' ? 'SQLite' : 'PostgreSQL'}, ${fmt(n)} members, ${share * 100}% read: seeded in ${fmt(r.seedS)} s; ` +
              `unread page ${fmt(r.timings.unread?.median)} ms${r.analyzed ? `, after ANALYZE ${fmt(r.analyzed.unread?.median)} ms` : ''}`,
          )
        }
    const t = (v: Variant, n: number, share: number, op: string): Timing | undefined => {
      const r = res[key(v === 'postgres-analyzed' ? 'postgres' : v, n, share)]
      return (v === 'postgres-analyzed' ? r?.analyzed : r?.timings)?.[op]
    }
    const suffix = (v: Variant): string => (variants.length > 1 || v !== 'sqlite' ? ` (${LABEL[v]})` : '')
    for (const v of variants)
      for (const share of shares) {
        out.sections.push({
          heading: `${share * 100}% of the members have read the message${suffix(v)}`,
          text:
            `Median (p95) ms per call over ${iterations} calls, as the message's sender asks` +
            (v === 'sqlite'
              ? '.'
              : ` (fewer, at least 30, where ${PG_BUDGET_MS / 1000} s of calls were not enough: ` +
                `${
                  sizes
                    .flatMap((n) =>
                      OPS.map((op) => [n, op.key, t(v, n, share, op.key)?.iterations ?? 0] as const),
                    )
                    .filter(([, , k]) => k < iterations)
                    .map(([n, op, k]) => `${op} at ${fmt(n)}: ${k}`)
                    .join(', ') || 'none'
                }).`),
          table: {
            columns: ['operation', ...sizes.map((n) => `${fmt(n)} members`), `${fmt(20_000)} / ${fmt(200)}`],
            rows: OPS.map((op) => [
              op.label,
              ...sizes.map(
                (n) => `${fmt(t(v, n, share, op.key)?.median)} (${fmt(t(v, n, share, op.key)?.p95)})`,
              ),
              fmt((t(v, 20_000, share, op.key)?.median ?? NaN) / (t(v, 200, share, op.key)?.median ?? NaN)),
            ]),
          },
        })
      }
    for (const v of variants)
      for (const op of OPS) {
        const a = t(v, 200, 0.5, op.key)?.median ?? NaN
        const b = t(v, 20_000, 0.5, op.key)?.median ?? NaN
        out.targets.push(
          target(
            `${op.label}, 20,000 vs 200 members (half read)${v === 'sqlite' ? '' : `, ${LABEL[v]}`}`,
            '≤ 3x',
            `${fmt(b / a)}x (${fmt(b)} ms)`,
            b / a,
            3,
          ),
        )
      }
    if (shares.includes(0.95))
      out.notes.push(
        'The first page of not-yet-readers walks the members key in user id order and skips those with a reader fact ' +
          '(UNIQUE (message_id, user_id) index) until it has 50: about 50 / (share not read) rows, so it costs more when ' +
          'nearly everyone has read (95% table), bounded by the group size when almost no one is left.',
      )
    if (stores.includes('postgres'))
      out.notes.push(
        `PostgreSQL: ${ctx.backends.postgres ?? 'version unknown'}; a scratch database per group size on loopback, every ` +
          'storage call a round trip from the bench process (outside a transaction, as the handlers make them here). ' +
          '"No statistics": timed right after seeding, before any ANALYZE, so the planner sees the tables as the server ' +
          'sees them until autovacuum (when on) analyzes them; "after ANALYZE": the same calls again on the same data ' +
          '(the statements are prepared once per connection; ANALYZE makes PostgreSQL plan them again).',
      )
    if (ctx.backends.note) out.notes.push(ctx.backends.note)
    for (const v of variants) {
      const chart = v === 'sqlite' ? 's4-group-readers.svg' : `s4-group-readers-${v}.svg`
      writeChart(join(ctx.outDir, chart), {
        title: `Reader queries vs group size${suffix(v)}`,
        xLabel: 'group members',
        yLabel: 'median ms per call',
        logX: true,
        logY: true,
        series: shares.flatMap((share) =>
          OPS.map((op) => ({
            name: `${op.key}${shares.length > 1 ? ` ${share * 100}%` : ''}`,
            points: sizes.map((n) => ({ x: n, y: t(v, n, share, op.key)?.median ?? NaN })),
          })),
        ),
      })
      out.charts.push({ file: chart, caption: `reader queries vs group size${suffix(v)}` })
    }
    out.raw = res
    return out
  },
}
