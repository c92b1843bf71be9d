/**
 * Scenario 3: receipt traffic in one group. Real engines for every member (each its own SQLite),
 * the server in its own process counting frames at its gateway. The owner sends messages that ask
 * for receipts; then every member reads them all through the engine's API, and we count the frames
 * the read phase puts on the wire and the server's CPU. Both models:
 *  - Easemob: messages sent with isNeedGroupAck, each member calls ackGroupMessageRead per message;
 *  - RongCloud: plain messages, the owner calls sendReadReceiptRequest per message, each member
 *    answers with one sendReadReceiptResponseV2 (messageList built from SQLite).
 * The engine coalesces a member's acks into one frame per conversation per outbox flush, so the
 * frames per reader should not grow with the number of messages read: measured at two counts.
 */
import type { Engine } from '../../src/main/engine/engine'
import type { Conversation } from '../../src/shared/model'
import { engineDb } from '../lib/engineProfile'
import { startEngines, stopEngines, waitFor } from '../lib/engines'
import {
  openServerStorage,
  seedAccounts,
  spawnServer,
  type BenchServer,
  type FrameCounts,
} from '../lib/server'
import { cpuSeconds, selfCpuSeconds } from '../lib/proc'
import { fmt, nowMs, sleep } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, target, type Scenario } from '../lib/types'
import { join } from 'node:path'

interface Phase {
  model: 'easemob' | 'rongcloud'
  messagesRead: number
  members: number
  readers: number
  seconds: number
  serverCpuS: number
  clientCpuS: number
  frames: FrameCounts
  /** Receipt frames the readers sent (acks, conversation read marks, responses). */
  readerFrames: number
  requestPhase?: { frames: FrameCounts; serverCpuS: number; seconds: number }
}

const RECEIPT_OPS = [
  'ackGroupMessageRead',
  'ackConversationRead',
  'sendReadReceiptResponse',
  'ackMessageRead',
]

function count(db: Engine, sql: string, ...params: unknown[]): number {
  return (
    (
      engineDb(db)
        .prepare(sql)
        .get(...params) as { n: number } | undefined
    )?.n ?? 0
  )
}

/** Waits until the server has seen no frame for `quietMs` (the traffic of the phase is over). */
async function quiesce(server: BenchServer, quietMs = 300): Promise<void> {
  let last = -1
  const deadline = Date.now() + 60_000
  for (;;) {
    if (Date.now() > deadline) throw new Error('the wire never went quiet (60 s)')
    const f = await server.frames()
    const n = f.receivedFrames + f.sentFrames
    if (n === last) return
    last = n
    await sleep(quietMs)
  }
}

async function sendBatch(
  owner: Engine,
  group: Conversation,
  n: number,
  ask: boolean,
  tag: string,
): Promise<void> {
  for (let i = 0; i < n; i++)
    owner.sendMessage(group, { type: 'text', text: `${tag} ${i}` }, { isNeedGroupAck: ask, channelId: '' })
  await waitFor(
    `${tag}: owner's messages sent`,
    () =>
      count(
        owner,
        `SELECT count(*) AS n FROM messages WHERE target_id = ? AND seq IS NULL`,
        group.targetId,
      ) === 0,
  )
}

async function runPhase(
  server: BenchServer,
  owner: Engine,
  members: Engine[],
  group: Conversation,
  model: 'easemob' | 'rongcloud',
  n: number,
  tag: string,
): Promise<Phase> {
  const gid = group.targetId
  await sendBatch(owner, group, n, model === 'easemob', tag)
  const uidsOf = (e: Engine): string[] =>
    (
      engineDb(e)
        .prepare(
          `SELECT message_uid AS uid FROM messages WHERE target_id = ? AND direction = 2 AND content LIKE ?
           ORDER BY seq DESC LIMIT ?`,
        )
        .all(gid, `%${tag} %`, n) as { uid: string }[]
    ).map((r) => r.uid)
  await waitFor(`${tag}: every member has the messages`, () => members.every((m) => uidsOf(m).length === n))
  let requestPhase: Phase['requestPhase']
  if (model === 'rongcloud') {
    await quiesce(server)
    await server.resetFrames()
    const cpu0 = cpuSeconds(server.pid)
    const t0 = nowMs()
    const mine = (
      engineDb(owner)
        .prepare(
          `SELECT message_uid AS uid FROM messages WHERE target_id = ? AND direction = 1 AND content LIKE ?`,
        )
        .all(gid, `%${tag} %`) as { uid: string }[]
    ).map((r) => r.uid)
    for (const uid of mine) await owner.sendReadReceiptRequest(gid, uid)
    await waitFor(`${tag}: requests reached every member`, () =>
      members.every(
        (m) =>
          count(
            m,
            `SELECT count(*) AS n FROM messages WHERE target_id = ? AND is_receipt_request = 1 AND content LIKE ?`,
            gid,
            `%${tag} %`,
          ) === n,
      ),
    )
    await quiesce(server)
    requestPhase = {
      frames: await server.frames(),
      serverCpuS: cpuSeconds(server.pid) - cpu0,
      seconds: (nowMs() - t0) / 1000,
    }
  }
  await quiesce(server)
  await server.resetFrames()
  const cpu0 = cpuSeconds(server.pid)
  const self0 = selfCpuSeconds()
  const t0 = nowMs()
  for (const m of members) {
    if (model === 'easemob') for (const uid of uidsOf(m)) m.ackGroupMessageRead(uid, undefined)
    else m.sendReadReceiptResponseV2(gid, undefined, undefined)
  }
  const expected = n * members.length
  await waitFor(
    `${tag}: the owner sees every reader`,
    () =>
      count(
        owner,
        `SELECT coalesce(sum(group_ack_count), 0) AS n FROM messages WHERE target_id = ? AND direction = 1 AND content LIKE ?`,
        gid,
        `%${tag} %`,
      ) >= expected,
    300_000,
  )
  const seconds = (nowMs() - t0) / 1000
  await quiesce(server)
  const frames = await server.frames()
  return {
    model,
    messagesRead: n,
    members: members.length + 1,
    readers: members.length,
    seconds,
    serverCpuS: cpuSeconds(server.pid) - cpu0,
    clientCpuS: selfCpuSeconds() - self0,
    frames,
    readerFrames: RECEIPT_OPS.reduce((a, op) => a + (frames.received[op] ?? 0), 0),
    ...(requestPhase ? { requestPhase } : {}),
  }
}

export const s3ReceiptTraffic: Scenario = {
  id: 's3-receipt-traffic',
  aliases: ['receipts', 'traffic'],
  title: 'Receipt traffic in a group',
  async run(ctx) {
    const out = emptyOutput()
    const groupSize = ctx.quick ? 50 : 200
    const counts = ctx.quick ? [10, 100] : [10, 100]
    out.params = { groupSize, messagesRead: counts }
    const dataDir = join(ctx.tmp, 'server')
    const storage = openServerStorage(dataDir)
    const ids = [
      'owner',
      ...Array.from({ length: groupSize - 1 }, (_, i) => `mem${String(i).padStart(4, '0')}`),
    ]
    const accounts = await seedAccounts(storage, ids)
    await storage.close()
    const server = await spawnServer({ dataDir, countFrames: true })
    const phases: Phase[] = []
    let engines: Engine[] = []
    try {
      engines = await startEngines(join(ctx.tmp, 'profiles'), server.url, accounts)
      ctx.log(`${engines.length} engines connected`)
      const [owner, ...members] = engines as [Engine, ...Engine[]]
      const g = await owner.groupOp('createGroup', { name: 'bench group', memberIds: ids.slice(1) })
      const group = { type: 'group', targetId: g.groupId } as Conversation
      await waitFor('every member knows the group', () =>
        members.every((m) => m.store?.group(g.groupId)?.myRole === 'member'),
      )
      for (const model of ['easemob', 'rongcloud'] as const) {
        for (const n of counts) {
          const p = await runPhase(server, owner, members, group, model, n, `${model}-${n}`)
          phases.push(p)
          ctx.log(
            `${model}, ${n} messages read by ${p.readers}: ${p.readerFrames} receipt frames from readers ` +
              `(${fmt(p.readerFrames / p.readers)} per reader), ${p.frames.receivedFrames + p.frames.sentFrames} frames in all, ` +
              `server ${fmt(p.serverCpuS)} CPU s, ${fmt(p.seconds)} s`,
          )
        }
      }
    } finally {
      await stopEngines(engines)
      await server.close()
    }
    const byOp = (f: FrameCounts, dir: 'received' | 'sent'): string =>
      Object.entries(f[dir])
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')
    out.sections.push({
      text:
        `One group of ${groupSize} (the owner and ${groupSize - 1} readers), a real engine per member, the server in its own process ` +
        'counting WebSocket frames at its gateway. Read phase: from the first read call until the owner has every reader of every ' +
        'message; frames are counted until the wire is quiet.',
      table: {
        columns: [
          'model',
          'messages read',
          'receipt frames from readers',
          'per reader',
          'frames in (all)',
          'frames out (all)',
          'server CPU s',
          'read phase s',
        ],
        rows: phases.map((p) => [
          p.model,
          p.messagesRead,
          p.readerFrames,
          fmt(p.readerFrames / p.readers),
          p.frames.receivedFrames,
          p.frames.sentFrames,
          fmt(p.serverCpuS),
          fmt(p.seconds),
        ]),
      },
    })
    out.sections.push({
      heading: 'Frames by operation (read phase)',
      table: {
        columns: ['model', 'messages read', 'client → server', 'server → client'],
        rows: phases.map((p) => [
          p.model,
          p.messagesRead,
          byOp(p.frames, 'received'),
          byOp(p.frames, 'sent'),
        ]),
      },
    })
    const rong = phases.filter((p) => p.requestPhase)
    if (rong.length > 0)
      out.sections.push({
        heading: 'RongCloud request phase (before reading): the owner asks, per message',
        text:
          'sendReadReceiptRequest takes one message, and the server pushes one receiptRequest per message to every member: ' +
          'this traffic grows with messages × members by the design of the model (a request is per message), unlike the answers.',
        table: {
          columns: ['messages', 'frames in', 'frames out', 'server CPU s', 'seconds'],
          rows: rong.map((p) => [
            p.messagesRead,
            p.requestPhase?.frames.receivedFrames ?? 0,
            p.requestPhase?.frames.sentFrames ?? 0,
            fmt(p.requestPhase?.serverCpuS ?? NaN),
            fmt(p.requestPhase?.seconds ?? NaN),
          ]),
        },
      })
    for (const model of ['easemob', 'rongcloud'] as const) {
      const ps = phases.filter((p) => p.model === model)
      const lo = ps[0]
      const hi = ps.at(-1)
      if (!lo || !hi) continue
      out.targets.push(
        target(
          `${model}: receipt frames from ${hi.readers} readers reading ${hi.messagesRead} messages`,
          `≤ 2 × members (${2 * hi.members})`,
          `${hi.readerFrames}`,
          hi.readerFrames,
          2 * hi.members,
        ),
        target(
          `${model}: frames per reader, ${hi.messagesRead} vs ${lo.messagesRead} messages read`,
          'not growing (≤ 1.0x)',
          `${fmt(hi.readerFrames / hi.readers)} vs ${fmt(lo.readerFrames / lo.readers)}`,
          hi.readerFrames / Math.max(1, lo.readerFrames),
          1,
        ),
      )
    }
    const chart = 's3-receipt-frames.svg'
    writeChart(join(ctx.outDir, chart), {
      title: `Receipt frames per reader vs messages read (group of ${groupSize})`,
      xLabel: 'messages read by each member',
      yLabel: 'frames per reader',
      logX: true,
      series: (['easemob', 'rongcloud'] as const).map((model) => ({
        name: model,
        points: phases
          .filter((p) => p.model === model)
          .map((p) => ({ x: p.messagesRead, y: p.readerFrames / p.readers })),
      })),
    })
    out.charts.push({ file: chart, caption: 'receipt frames per reader vs messages read' })
    out.raw = { phases }
    return out
  },
}
