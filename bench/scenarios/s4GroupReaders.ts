/**
 * Scenario 4: read count and the first page of readers / not-yet-readers of one message, in groups of
 * 200, 2,000 and 20,000 members (the server's maxGroupSize default of 200 is raised by setting, as an
 * operator would). Server storage on a file, calls through the server's own operation handlers.
 */
import { join } from 'node:path'
import { DeliveryBudget } from '../../src/server/deliveryBudget'
import type { Connection } from '../../src/server/connection'
import { PushBatch, type OpContext } from '../../src/server/ops/context'
import { handlers } from '../../src/server/ops/index'
import { resolveReceiptDefaults } from '../../src/server/receiptSettings'
import { openServerStorage } from '../lib/server'
import { fmt, rng, timeAsync, type Timing } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, target, type Scenario } from '../lib/types'

const OPS = [
  { key: 'count', label: 'read count (the stored count of the message)' },
  { key: 'readers', label: 'first page of readers (fetchGroupReadAcks, 50)' },
  { key: 'unread', label: 'first page of not-yet-readers (fetchGroupUnreadMembers, 50)' },
] as const

async function measure(
  dir: string,
  members: number,
  readShare: number,
  iterations: number,
): Promise<{ timings: Record<string, Timing>; seedS: number; readers: number }> {
  const t0 = process.hrtime.bigint()
  const storage = openServerStorage(join(dir, `group-${members}-${readShare}`))
  const receiptDefaults = resolveReceiptDefaults({ maxGroupSize: members })
  const now = Date.now()
  const ids = Array.from({ length: members }, (_, i) => `u${String(i).padStart(6, '0')}`)
  const owner = ids[0] as string
  const groupId = `g_bench${members}`
  await storage.transaction(async (tx) => {
    for (const id of ids)
      await tx.insertUser({ id, displayName: id.toUpperCase(), passwordHash: 'x', createdAt: now })
    const conv = await tx.insertConversation({ key: `g:${groupId}`, type: 'group', createdAt: now })
    await tx.insertGroup({ id: groupId, convId: conv.id, name: 'big', ownerId: owner, createdAt: now })
    for (const [i, id] of ids.entries()) {
      await tx.upsertMember({
        convId: conv.id,
        userId: id,
        role: i === 0 ? 'owner' : 'member',
        joinedSeq: 0,
        joinedAt: now,
      })
    }
  })
  const ctxOf = (userId: string): OpContext => ({
    storage,
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
    })
  const sent = await handlers.sendMessage(ctxOf(owner), {
    clientMsgId: 'the-message-xxxxxxxx',
    conversation: { type: 'group', targetId: groupId },
    channelId: '',
    content: { type: 'text', text: 'who has read this?' },
    isNeedGroupAck: true,
  })
  const uid = sent.message.messageUId
  // A random share of the members read it, each with its own ack (as their engines would send).
  const r = rng(members)
  const readers = ids.slice(1).filter(() => r() < readShare)
  for (const id of readers)
    await handlers.ackGroupMessageRead(ctxOf(id), { groupId, acks: [{ messageUId: uid }] })
  const seedS = Number(process.hrtime.bigint() - t0) / 1e9
  const ownerCtx = ctxOf(owner)
  const timings: Record<string, Timing> = {
    count: await timeAsync({ iterations }, async () => (await storage.getMessageByUId(uid))?.groupAckCount),
    readers: await timeAsync({ iterations }, () =>
      handlers.fetchGroupReadAcks(ownerCtx, { messageUId: uid, pageSize: 50 }),
    ),
    unread: await timeAsync({ iterations }, () =>
      handlers.fetchGroupUnreadMembers(ownerCtx, { messageUId: uid, pageSize: 50 }),
    ),
  }
  const check = await handlers.fetchGroupReadAcks(ownerCtx, { messageUId: uid, pageSize: 1 })
  if (check.count !== readers.length || check.total !== members - 1)
    throw new Error(`count ${check.count}/${check.total}, expected ${readers.length}/${members - 1}`)
  await storage.close()
  return { timings, seedS, readers: readers.length }
}

export const s4GroupReaders: Scenario = {
  id: 's4-group-readers',
  aliases: ['readers', 'groups'],
  title: 'Read counts and reader lists vs group size',
  async run(ctx) {
    const out = emptyOutput()
    const sizes = [200, 2_000, 20_000]
    const shares = ctx.quick ? [0.5] : [0.5, 0.95]
    const iterations = ctx.quick ? 100 : 400
    out.params = { sizes, readShares: shares, iterations, pageSize: 50 }
    const res: Record<string, Awaited<ReturnType<typeof measure>>> = {}
    for (const share of shares)
      for (const n of sizes) {
        res[`${n}/${share}`] = await measure(ctx.tmp, n, share, iterations)
        ctx.log(
          `${fmt(n)} members, ${share * 100}% read: seeded in ${fmt(res[`${n}/${share}`]?.seedS ?? NaN)} s`,
        )
      }
    const t = (n: number, share: number, op: string): Timing | undefined => res[`${n}/${share}`]?.timings[op]
    for (const share of shares) {
      out.sections.push({
        heading: `${share * 100}% of the members have read the message`,
        text: `Median (p95) ms per call over ${iterations} calls, as the message's sender asks.`,
        table: {
          columns: ['operation', ...sizes.map((n) => `${fmt(n)} members`), `${fmt(20_000)} / ${fmt(200)}`],
          rows: OPS.map((op) => [
            op.label,
            ...sizes.map((n) => `${fmt(t(n, share, op.key)?.median)} (${fmt(t(n, share, op.key)?.p95)})`),
            fmt((t(20_000, share, op.key)?.median ?? NaN) / (t(200, share, op.key)?.median ?? NaN)),
          ]),
        },
      })
    }
    for (const op of OPS) {
      const a = t(200, 0.5, op.key)?.median ?? NaN
      const b = t(20_000, 0.5, op.key)?.median ?? NaN
      out.targets.push(
        target(
          `${op.label}, 20,000 vs 200 members (half read)`,
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
    const chart = 's4-group-readers.svg'
    writeChart(join(ctx.outDir, chart), {
      title: 'Reader queries vs group size',
      xLabel: 'group members',
      yLabel: 'median ms per call',
      logX: true,
      logY: true,
      series: shares.flatMap((share) =>
        OPS.map((op) => ({
          name: `${op.key}${shares.length > 1 ? ` ${share * 100}%` : ''}`,
          points: sizes.map((n) => ({ x: n, y: t(n, share, op.key)?.median ?? NaN })),
        })),
      ),
    })
    out.charts.push({ file: chart, caption: 'reader queries vs group size' })
    out.raw = res
    return out
  },
}
