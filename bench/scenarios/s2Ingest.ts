/**
 * Scenario 2: sync ingest. (a) storeServerMessages alone, in pull-sized batches (500, the engine's
 * page), into a fresh profile: messages/s as the history grows. (b) End to end: a real server on
 * loopback holds the history of accounts of several sizes; an engine in its own process signs in
 * and syncs it all; time, messages/s, and the engine's heap and RSS against history size.
 */
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import { SqliteEngineStore } from '../../src/main/engine/store/sqliteStore'
import type { WireMessage } from '../../src/shared/protocol'
import { newMessageUId } from '../../src/server/ids'
import { newClientMsgId } from '../../src/shared/clientMsgId'
import { childNodeArgs, openServerStorage, seedAccounts, spawnServer, type Account } from '../lib/server'
import { fmt, gc, median, nowMs, rng } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, target, type Scenario } from '../lib/types'

const root = resolve(import.meta.dirname, '../..')
const ME = 'reader'
const PAGE = 500

/** Wire messages as a pull delivers them: conversation by conversation, in seq order. */
function wireHistory(total: number, conversations: number, seed: number): WireMessage[] {
  const r = rng(seed)
  const out: WireMessage[] = []
  const per = Math.ceil(total / conversations)
  for (let c = 0; c < conversations && out.length < total; c++) {
    const group = c % 4 === 3
    for (let seq = 1; seq <= per && out.length < total; seq++) {
      const mine = r() < 0.3
      const n = out.length + 1
      out.push({
        // Ids as the server and the engines make them (time first; see src/server/ids.ts).
        messageUId: newMessageUId(1_700_000_000_000 + n),
        clientMsgId: newClientMsgId(1_700_000_000_000 + n),
        convType: group ? 'group' : 'private',
        senderId: mine ? ME : group ? `m${Math.floor(r() * 50)}` : `p${c}`,
        to: group ? `g_${c}` : mine ? `p${c}` : ME,
        channelId: '',
        seq,
        content: { type: 'text', text: `message ${n} with some words in it to look like a chat line` },
        sentAt: 1_700_000_000_000 + n,
        needDeliveryAck: !group && r() < 0.5,
        needReadAck: !group && r() < 0.5,
        isNeedGroupAck: group && r() < 0.1,
        memberCount: group ? 50 : 1,
      })
    }
  }
  return out
}

function storeOnly(
  dir: string,
  messages: WireMessage[],
): { seconds: number; chunkRates: { at: number; rate: number }[] } {
  const store = new SqliteEngineStore(join(dir, `ingest-${Date.now()}-${Math.random()}.sqlite`))
  const chunkRates: { at: number; rate: number }[] = []
  const chunk = Math.max(PAGE, Math.floor(messages.length / 10 / PAGE) * PAGE)
  gc()
  const t0 = nowMs()
  let tc = t0
  for (let i = 0; i < messages.length; i += PAGE) {
    // As a sync pull calls it: nothing is built per message for the renderer.
    store.storeServerMessages(ME, messages.slice(i, i + PAGE), Date.now(), { collectInserted: false })
    const done = i + PAGE
    if (done % chunk === 0) {
      const t = nowMs()
      chunkRates.push({ at: done, rate: chunk / ((t - tc) / 1000) })
      tc = t
    }
  }
  const seconds = (nowMs() - t0) / 1000
  store.close()
  return { seconds, chunkRates }
}

interface IngestRun {
  seconds: number
  stored: number
  cpuSeconds: number
  heapBeforeMiB: number
  heapAfterMiB: number
  peakHeapMiB: number
  rssAfterMiB: number
  rssBeforeMiB: number
  peakRssMiB: number
}

function runIngestChild(job: {
  profileDir: string
  serverUrl: string
  userId: string
  token: string
  deviceId: string
}): Promise<IngestRun> {
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      [...childNodeArgs(), '--expose-gc', '--import', 'tsx', join(root, 'bench/lib/ingestChild.ts')],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, BENCH_INGEST: JSON.stringify(job) },
      },
    )
    let out = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (code === 0 && line) res(JSON.parse(line) as IngestRun)
      else rej(new Error(`ingest child exited with ${code}: ${out.slice(-300)}`))
    })
  })
}

/** Server history for one account: `total` messages over private chats and groups it is in. */
async function seedServerHistory(
  storage: ReturnType<typeof openServerStorage>,
  reader: string,
  peers: string[],
  total: number,
): Promise<void> {
  const now = Date.now()
  const convs = []
  for (const [i, peer] of peers.entries()) {
    const group = i % 4 === 3
    const key = group ? `g:g_${reader}${i}` : `p:${[reader, peer].sort().join(':')}`
    const conv = await storage.insertConversation({ key, type: group ? 'group' : 'private', createdAt: now })
    if (group) {
      await storage.insertGroup({
        id: `g_${reader}${i}`,
        convId: conv.id,
        name: `group ${i}`,
        ownerId: peer,
        createdAt: now,
      })
      for (const [k, u] of [peer, reader, ...peers.slice(0, 10).filter((p) => p !== peer)].entries())
        await storage.upsertMember({
          convId: conv.id,
          userId: u,
          role: k === 0 ? 'owner' : 'member',
          joinedSeq: 0,
          joinedAt: now,
        })
    } else {
      for (const u of [reader, peer])
        await storage.upsertMember({ convId: conv.id, userId: u, role: null, joinedSeq: 0, joinedAt: now })
    }
    convs.push({ conv, group, peer, to: group ? `g_${reader}${i}` : '' })
  }
  const per = Math.ceil(total / convs.length)
  let n = 0
  for (const c of convs) {
    await storage.transaction(async (tx) => {
      for (let s = 0; s < per && n < total; s++, n++) {
        const mine = s % 3 === 0
        await tx.insertMessage({
          uid: newMessageUId(now - total + n),
          convId: c.conv.id,
          senderId: mine ? reader : c.peer,
          clientMsgId: newClientMsgId(now - total + n),
          to: c.group ? c.to : mine ? c.peer : reader,
          convType: c.group ? 'group' : 'private',
          channelId: '',
          content: { type: 'text', text: `message ${n} with some words in it to look like a chat line` },
          sentAt: now - total + n,
          needDeliveryAck: !c.group,
          needReadAck: !c.group,
          isNeedGroupAck: false,
          memberCount: c.group ? 10 : 1,
        })
      }
    })
  }
}

export const s2Ingest: Scenario = {
  id: 's2-ingest',
  aliases: ['ingest', 'sync'],
  title: 'Sync ingest',
  async run(ctx) {
    const out = emptyOutput()
    const total = ctx.quick ? 20_000 : 100_000
    const runs = ctx.quick ? 2 : 3
    const e2eSizes = process.env.BENCH_S2_SIZES
      ? process.env.BENCH_S2_SIZES.split(',').map(Number)
      : ctx.quick
        ? [2_000, 10_000]
        : [10_000, 30_000, 100_000]
    out.params = { total, runs, page: PAGE, e2eSizes }

    // (a) the store alone
    const messages = wireHistory(total, 40, 7)
    const storeRuns = Array.from({ length: runs }, () => storeOnly(ctx.tmp, messages))
    const storeRate = median(storeRuns.map((r) => total / r.seconds))
    ctx.log(`storeServerMessages: ${fmt(storeRate)} msgs/s (median of ${runs})`)
    const chunkSeries = (storeRuns[0]?.chunkRates ?? []).map((c, i) => ({
      x: c.at,
      y: median(storeRuns.map((r) => r.chunkRates[i]?.rate ?? NaN)),
    }))

    // (b) end to end over a real server
    const dataDir = join(ctx.tmp, 'server')
    const storage = openServerStorage(dataDir)
    const peers = Array.from({ length: 20 }, (_, i) => `peer${i}`)
    const readers = e2eSizes.map((n) => `reader${n}`)
    const accounts = await seedAccounts(storage, [...peers, ...readers])
    const t0 = nowMs()
    for (const [i, n] of e2eSizes.entries()) {
      await seedServerHistory(storage, readers[i] as string, peers, n)
    }
    await storage.close()
    ctx.log(
      `server history seeded (${e2eSizes.map((n) => fmt(n)).join(', ')}) in ${((nowMs() - t0) / 1000).toFixed(1)} s`,
    )
    const server = await spawnServer({ dataDir })
    const e2e: Record<number, IngestRun[]> = {}
    try {
      for (let run = 0; run < runs; run++) {
        for (const [i, n] of e2eSizes.entries()) {
          const account = accounts.find((a) => a.userId === readers[i]) as Account
          const r = await runIngestChild({
            profileDir: join(ctx.tmp, `profile-${n}-${run}`),
            serverUrl: server.url,
            userId: account.userId,
            token: account.token,
            deviceId: account.deviceId,
          })
          if (r.stored < n) throw new Error(`engine stored ${r.stored} of ${n} messages`)
          ;(e2e[n] ??= []).push(r)
          ctx.log(
            `e2e ${fmt(n)}: ${r.seconds.toFixed(2)} s, ${fmt(n / r.seconds)} msgs/s, heap ${r.heapAfterMiB} MiB, RSS ${r.rssAfterMiB} MiB`,
          )
        }
      }
    } finally {
      await server.close()
    }
    const med = (n: number, f: (r: IngestRun) => number): number => median((e2e[n] ?? []).map(f))
    const largest = e2eSizes.at(-1) as number
    const smallest = e2eSizes[0] as number
    const e2eRate = med(largest, (r) => largest / r.seconds)

    out.sections.push({
      heading: 'storeServerMessages alone',
      text: `${fmt(total)} messages over 40 conversations, pages of ${PAGE} (one transaction each), into a fresh file-backed profile: median of ${runs} runs.`,
      table: {
        columns: ['messages', 'seconds', 'messages/s'],
        rows: [[fmt(total), fmt(median(storeRuns.map((r) => r.seconds))), fmt(storeRate)]],
      },
    })
    out.sections.push({
      heading: 'End to end: a real server on loopback, an engine process syncing the whole history',
      text:
        'From engine start (stored session) to "connected" (syncState, every pull page of 500, syncEvents); the server ' +
        'runs in its own process. Heap and RSS of the engine process after the sync and a full GC; baseline = before start. ' +
        'Peak heap is sampled every 20 ms during the sync: it includes garbage not yet collected (V8 defers full collections ' +
        'while a process allocates fast, so a longer sync peaks higher), and RSS keeps the pages V8 committed at that peak; ' +
        'the live heap after a full GC is what would grow if the engine held on to history.',
      table: {
        columns: [
          'history',
          'seconds',
          'messages/s',
          'engine CPU s',
          'heap before → after (MiB)',
          'peak heap',
          'RSS after (MiB)',
          'peak RSS',
        ],
        rows: e2eSizes.map((n) => [
          fmt(n),
          fmt(med(n, (r) => r.seconds)),
          fmt(med(n, (r) => n / r.seconds)),
          fmt(med(n, (r) => r.cpuSeconds)),
          `${fmt(med(n, (r) => r.heapBeforeMiB))} → ${fmt(med(n, (r) => r.heapAfterMiB))}`,
          fmt(med(n, (r) => r.peakHeapMiB)),
          fmt(med(n, (r) => r.rssAfterMiB)),
          fmt(med(n, (r) => r.peakRssMiB)),
        ]),
      },
    })
    out.targets.push(
      target(
        `storeServerMessages, ${fmt(total)} messages in pages of ${PAGE}`,
        '≥ 100k msgs/s',
        `${fmt(storeRate)} msgs/s`,
        storeRate,
        100_000,
        true,
      ),
      target(
        `end to end sync of ${fmt(largest)} messages over loopback`,
        '≥ 100k msgs/s',
        `${fmt(e2eRate)} msgs/s`,
        e2eRate,
        100_000,
        true,
      ),
    )
    const heapSmall = med(smallest, (r) => r.heapAfterMiB)
    const heapLarge = med(largest, (r) => r.heapAfterMiB)
    out.targets.push(
      target(
        `engine heap after syncing ${fmt(largest)} vs ${fmt(smallest)} messages`,
        'not growing with history (≤ 1.2x)',
        `${fmt(heapLarge)} vs ${fmt(heapSmall)} MiB (${fmt(heapLarge / heapSmall)}x)`,
        heapLarge / heapSmall,
        1.2,
      ),
    )
    const chart1 = 's2-ingest-rate.svg'
    writeChart(join(ctx.outDir, chart1), {
      title: 'storeServerMessages: messages/s as the history grows',
      xLabel: 'messages already stored',
      yLabel: 'messages/s',
      series: [{ name: 'store only', points: chunkSeries }],
      guides: [{ y: 100_000, label: 'target 100k/s' }],
    })
    const chart2 = 's2-ingest-memory.svg'
    writeChart(join(ctx.outDir, chart2), {
      title: 'Engine memory after syncing, vs history size',
      xLabel: 'messages synced',
      yLabel: 'MiB',
      logX: true,
      series: [
        { name: 'heap used', points: e2eSizes.map((n) => ({ x: n, y: med(n, (r) => r.heapAfterMiB) })) },
        { name: 'peak heap', points: e2eSizes.map((n) => ({ x: n, y: med(n, (r) => r.peakHeapMiB) })) },
        { name: 'RSS', points: e2eSizes.map((n) => ({ x: n, y: med(n, (r) => r.rssAfterMiB) })) },
      ],
    })
    out.charts.push(
      { file: chart1, caption: 'ingest rate vs history' },
      { file: chart2, caption: 'engine memory vs history' },
    )
    out.raw = { storeRuns, e2e }
    return out
  },
}
