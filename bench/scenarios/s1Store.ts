/**
 * Scenario 1: the client store against history size. One profile holds 1k, 100k and 1M messages over
 * 500 conversations (bench/lib/seedClient.ts); each operation the UI needs is timed through the
 * engine's own methods (what the IPC handlers call), many times, and reported as medians.
 */
import { join } from 'node:path'
import {
  COUNT_UNREAD_BETWEEN_SQL,
  COUNT_UNREAD_SQL,
  MARK_READ_UP_TO_SQL,
} from '../../src/main/engine/store/conversations'
import { UNRESPONDED_SQL, unrespondedMessageList } from '../../src/main/engine/store/groupReceipts'
import { HISTORY_BEFORE_SQL, HISTORY_NEWEST_SQL } from '../../src/main/engine/store/messages'
import { SENT_UNREAD_UP_TO_SQL } from '../../src/main/engine/store/receipts'
import { READERS_OF_SQL } from '../../src/main/engine/store/rows'
import { SqliteEngineStore } from '../../src/main/engine/store/sqliteStore'
import type { Conversation } from '../../src/shared/model'
import { openOfflineEngine, profileDatabase } from '../lib/engineProfile'
import { ME, seedHistory, type SeededConversation } from '../lib/seedClient'
import { fmt, gc, round, timeSync, type Timing } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, target, type Scenario } from '../lib/types'

const conv = (c: SeededConversation): Conversation => ({ type: c.type, targetId: c.targetId }) as Conversation

interface Op {
  key: string
  label: string
  /** Part of the list (the others are extra). */
  core: boolean
}

const OPS: Op[] = [
  { key: 'openPrivate', label: 'open conversation: latest 50 (longest single chat)', core: true },
  { key: 'openGroup', label: 'open conversation: latest 50 (longest group, reader lists)', core: true },
  { key: 'pageBack', label: 'page back 50', core: true },
  { key: 'pageDeep', label: 'page back 50, mid-history', core: false },
  { key: 'listConversations', label: 'unread counts for all conversations (listConversations)', core: true },
  { key: 'messageList', label: 'build the RongCloud messageList (buildUnrespondedMessageList)', core: true },
  { key: 'applyReceipt', label: 'apply one incoming read receipt', core: true },
  { key: 'applyGroupAck', label: 'apply one incoming group read ack', core: false },
  { key: 'markConversationRead', label: 'mark a conversation read (ackConversationRead)', core: true },
  { key: 'markMessageRead', label: 'mark one message read (ackMessageRead)', core: false },
]

/** The store's own statements (imported from its modules), as the engine runs them. */
const PLAN_STATEMENTS: [string, string, unknown[]][] = [
  ['historyNewest', HISTORY_NEWEST_SQL, ['private', 'u0', 51]],
  ['historyBefore', HISTORY_BEFORE_SQL, ['private', 'u0', 100, 51]],
  ['markReadUpTo', MARK_READ_UP_TO_SQL, ['private', 'u0', 100]],
  ['countUnread', COUNT_UNREAD_SQL, ['private', 'u0', 100]],
  ['countUnreadBetween', COUNT_UNREAD_BETWEEN_SQL, ['private', 'u0', 100, 200]],
  ['unresponded', UNRESPONDED_SQL, ['group', 'g_1', '']],
  ['readersOf', READERS_OF_SQL, ['X', 100]],
  ['sentUnreadUpTo', SENT_UNREAD_UP_TO_SQL, ['private', 'u0', 100]],
]

function queryPlans(store: SqliteEngineStore): string {
  return PLAN_STATEMENTS.map(([key, sql, params]) => {
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((r) => (r as { detail: string }).detail)
      .join('; ')
    return `- \`${key}\`: ${plan}`
  }).join('\n')
}

async function measureSize(
  dir: string,
  messages: number,
  iterations: number,
  log: (m: string) => void,
): Promise<{
  timings: Record<string, Timing>
  seedS: number
  bigPrivate: number
  bigGroup: number
  plans: string
  readerRows: number
}> {
  const profileDir = join(dir, `profile-${messages}`)
  const file = profileDatabase(profileDir, ME)
  const seeding = new SqliteEngineStore(file)
  const seed = seedHistory(seeding.db, { messages, conversations: 500, groupEvery: 5, seed: 42 })
  seeding.close()
  log(`${messages} messages seeded in ${seed.seconds.toFixed(1)} s (${seed.readerRows} reader rows)`)

  const engine = openOfflineEngine(profileDir)
  const store = engine.store
  if (!(store instanceof SqliteEngineStore)) throw new Error('engine has no SQLite store')
  const db = store.db
  const big = conv(seed.bigPrivate)
  const group = conv(seed.bigGroup)
  const timings: Record<string, Timing> = {}
  const firstPage = engine.history(big, undefined, 50).list
  const oldestSeq = firstPage.at(-1)?.seq ?? 1
  const midSeq = Math.max(51, Math.floor(seed.bigPrivate.lastSeq / 2))
  const run = (key: string, t: Timing): void => {
    timings[key] = t
  }
  gc()
  run(
    'openPrivate',
    timeSync({ iterations }, () => engine.history(big, undefined, 50)),
  )
  run(
    'openGroup',
    timeSync({ iterations }, () => engine.history(group, undefined, 50)),
  )
  run(
    'pageBack',
    timeSync({ iterations }, () => engine.history(big, oldestSeq, 50)),
  )
  run(
    'pageDeep',
    timeSync({ iterations }, () => engine.history(big, midSeq, 50)),
  )
  run(
    'listConversations',
    timeSync({ iterations }, () => engine.conversationList()),
  )
  run(
    'messageList',
    timeSync({ iterations }, () => unrespondedMessageList(db, group.type, group.targetId, '')),
  )

  // A receipt for one of my single-chat messages that asked for it; each call gets a fresh one.
  const mine = db
    .prepare(
      `SELECT message_uid AS uid, target_id AS peer, local_id FROM messages
       WHERE direction = 1 AND conv_type = 'private' AND need_read_ack = 1 ORDER BY local_id DESC LIMIT 500`,
    )
    .all() as { uid: string; peer: string; local_id: number }[]
  const unsetReceipt = db.prepare(
    'UPDATE messages SET delivered_at = NULL, read_at = NULL WHERE local_id = ?',
  )
  run(
    'applyReceipt',
    timeSync(
      {
        iterations,
        setup: (i) => {
          const m = mine[i % mine.length] as { uid: string; peer: string; local_id: number }
          unsetReceipt.run(m.local_id)
          return m
        },
      },
      (m) => store.applyReceipts('read', [m.uid], m.peer, Date.now()),
    ),
  )
  const asked = db
    .prepare(
      `SELECT message_uid AS uid, target_id AS groupId FROM messages
       WHERE direction = 1 AND conv_type = 'group' AND is_need_group_ack = 1 ORDER BY local_id DESC LIMIT 500`,
    )
    .all() as { uid: string; groupId: string }[]
  run(
    'applyGroupAck',
    timeSync({ iterations }, (_s, i) => {
      const m = asked[i % asked.length] as { uid: string; groupId: string }
      return store.applyGroupReadAcks([
        {
          ackId: String(i + 1),
          messageUId: m.uid,
          groupId: m.groupId,
          from: `z${i}`,
          timestamp: Date.now(),
          count: 0,
        },
      ])
    }),
  )

  // Reading: the longest chat gets an unread tail of 20 received messages before each call.
  const last = seed.bigPrivate.lastSeq
  const tail = db
    .prepare(
      `SELECT message_uid AS uid, seq FROM messages WHERE conv_type = 'private' AND target_id = ? AND seq > ?
         AND direction = 2 ORDER BY seq`,
    )
    .all(big.targetId, Math.max(0, last - 40)) as { uid: string; seq: number }[]
  const makeUnread = (): { uid: string; seq: number } => {
    db.transaction(() => {
      db.prepare(
        `UPDATE messages SET is_unread = 1 WHERE conv_type = 'private' AND target_id = ? AND seq > ? AND direction = 2`,
      ).run(big.targetId, Math.max(0, last - 40))
      db.prepare(
        'UPDATE conversations SET read_seq = ?, unread_count = ? WHERE conv_type = ? AND target_id = ?',
      ).run(Math.max(0, last - 40), tail.length, 'private', big.targetId)
      db.prepare('DELETE FROM outbox').run()
    })()
    return tail[0] as { uid: string; seq: number }
  }
  run(
    'markConversationRead',
    timeSync({ iterations, setup: makeUnread }, () => engine.ackConversationRead(big)),
  )
  run(
    'markMessageRead',
    timeSync({ iterations, setup: makeUnread }, (m) => engine.ackMessageRead(m.uid)),
  )
  const plans = queryPlans(store)
  await engine.shutdown()
  return {
    timings,
    seedS: seed.seconds,
    bigPrivate: seed.bigPrivate.lastSeq,
    bigGroup: seed.bigGroup.lastSeq,
    plans,
    readerRows: seed.readerRows,
  }
}

export const s1Store: Scenario = {
  id: 's1-store',
  aliases: ['store', 'client'],
  title: 'Client store vs history size',
  async run(ctx) {
    const sizes = process.env.BENCH_S1_SIZES
      ? process.env.BENCH_S1_SIZES.split(',').map(Number)
      : ctx.quick
        ? [1_000, 10_000, 100_000]
        : [1_000, 100_000, 1_000_000]
    const iterations = ctx.quick ? 100 : 400
    const out = emptyOutput()
    out.params = { sizes, conversations: 500, iterations, pageSize: 50 }
    const bySize: Record<number, Awaited<ReturnType<typeof measureSize>>> = {}
    for (const n of sizes) bySize[n] = await measureSize(ctx.tmp, n, iterations, ctx.log)
    const small = sizes[0] as number
    const large = sizes.at(-1) as number
    out.sections.push({
      text:
        `Median (p95) ms per call over ${iterations} calls, through the engine methods the IPC handlers call, on a ` +
        `file-backed profile (WAL) with ${sizes.map((n) => fmt(n)).join(' / ')} messages over 500 conversations. ` +
        `Longest single chat: ${sizes.map((n) => fmt(bySize[n]?.bigPrivate)).join(' / ')} messages; longest group: ` +
        `${sizes.map((n) => fmt(bySize[n]?.bigGroup)).join(' / ')}.`,
      table: {
        columns: ['operation', ...sizes.map((n) => `${fmt(n)} msgs`), `${fmt(large)} / ${fmt(small)}`],
        rows: OPS.map((op) => [
          op.core ? op.label : `${op.label} (extra)`,
          ...sizes.map((n) => {
            const t = bySize[n]?.timings[op.key]
            return t ? `${fmt(t.median)} (${fmt(t.p95)})` : '–'
          }),
          fmt(
            (bySize[large]?.timings[op.key]?.median ?? NaN) / (bySize[small]?.timings[op.key]?.median ?? NaN),
          ),
        ]),
      },
    })
    for (const op of OPS.filter((o) => o.core)) {
      const a = bySize[small]?.timings[op.key]?.median ?? NaN
      const b = bySize[large]?.timings[op.key]?.median ?? NaN
      out.targets.push(
        target(`${op.label}: ${fmt(large)} vs ${fmt(small)} messages`, '≤ 2x', `${fmt(b / a)}x`, b / a, 2),
        target(`${op.label}: median at ${fmt(large)}`, '< 5 ms', `${fmt(b)} ms`, b, 5),
      )
    }
    out.sections.push({ heading: `Query plans (${fmt(large)} messages)`, text: bySize[large]?.plans ?? '' })
    const chart = 's1-store.svg'
    writeChart(join(ctx.outDir, chart), {
      title: 'Client store: median ms per operation vs history size',
      xLabel: 'messages in the profile',
      yLabel: 'median ms per call',
      logX: true,
      logY: true,
      series: OPS.map((op) => ({
        name: op.key,
        points: sizes.map((n) => ({ x: n, y: bySize[n]?.timings[op.key]?.median ?? NaN })),
      })),
      guides: [{ y: 5, label: 'target: 5 ms' }],
    })
    out.charts.push({ file: chart, caption: 'client store cost vs history size' })
    out.raw = Object.fromEntries(
      sizes.map((n) => [
        n,
        {
          seedSeconds: round(bySize[n]?.seedS ?? NaN),
          readerRows: bySize[n]?.readerRows,
          timings: bySize[n]?.timings,
        },
      ]),
    )
    return out
  },
}
