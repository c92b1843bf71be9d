/**
 * Scenario 5: server throughput and latency with N clients on loopback. The server runs in its own
 * process (CPU seconds and RSS from /proc); the load generator is this process, with one WebSocket
 * per simulated device (bench/lib/wire.ts), whose CPU is reported too.
 *  - single chats: N/2 sender → receiver pairs, delivery and read receipts on (account settings);
 *  - groups of 200 with receipts: 10 senders per group send messages with isNeedGroupAck, every member
 *    acks each message as it arrives (batched per event-loop turn, as the engine does).
 * Closed loop: each sender keeps a few messages in flight (not yet fully receipted), so the server is
 * kept busy and the latencies include its queueing at that load.
 * Each on every backend of the run (bench/lib/backends.ts): SQLite, PostgreSQL with one node, and
 * PostgreSQL with three nodes over NATS (client i on node i mod 3), runs alternating between them.
 * CPU per run: the nodes (sum and each), every `postgres` process, the `nats-server` process.
 */
import { join } from 'node:path'
import {
  BACKEND_LABEL,
  clusterMemory,
  startCluster,
  withClusterCpu,
  type Backend,
  type BenchCluster,
} from '../lib/backends'
import { runPairs, type LoadResult } from '../lib/load'
import { OursEndpoint } from '../lib/oursEndpoint'
import type { Account } from '../lib/server'
import { fmt, median, nowMs, percentile, withTimeout } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, type Scenario } from '../lib/types'
import { pool, WireClient } from '../lib/wire'

interface Run {
  workload: 'single' | 'group'
  backend: Backend
  clients: number
  /** Messages fully receipted (every member's ack, in groups). */
  messages: number
  /** Messages the run was to send. */
  planned: number
  /** False when the run was stopped at maxSeconds: its figures are those of that window. */
  finished: boolean
  seconds: number
  messagesPerS: number
  receiptsPerS: number
  deliveriesPerS: number
  deliveryP50: number
  deliveryP99: number
  receiptP50: number
  receiptP99: number
  /** Sum of the nodes. */
  serverCpuS: number
  serverCpuPer10k: number
  /** Each node, per 10k messages. */
  nodeCpuPer10k: number[]
  /** Every `postgres` process; NaN on SQLite. */
  postgresCpuPer10k: number
  /** The nats-server process; NaN without a bus. */
  natsCpuPer10k: number
  /** Nodes + PostgreSQL + NATS. */
  allInCpuPer10k: number
  /** Requests the clients sent again after a transient failure (PostgreSQL deadlock victims). */
  retries: number
  /** Deadlocks PostgreSQL detected in the run's database (NaN on SQLite). */
  deadlocks: number
  /** PostgreSQL transactions committed per message sent (its receipts included; NaN on SQLite). */
  dbCommitsPerMessage: number
  /** Rows inserted, updated or deleted per message sent (its receipts included; NaN on SQLite). */
  dbRowsPerMessage: number
  /** NATS messages the nodes published per message sent (NaN without a bus). */
  busPerMessage: number
  loadGenCpuS: number
  serverRssMiB: number
  serverPeakRssMiB: number
}

/** Client i on node i mod nodes: pairs (2k, 2k+1) and group members on different nodes with three. */
async function connectAll(cluster: BenchCluster, accounts: readonly Account[]): Promise<WireClient[]> {
  return pool(accounts, 50, (a, i) => WireClient.connect(cluster.urlFor(i), a))
}

type Cpu = Awaited<ReturnType<typeof withClusterCpu>>['cpu']

/** The CPU fields of a Run, per 10k messages. */
function cpuFields(
  cpu: Cpu,
  messages: number,
): Pick<
  Run,
  | 'serverCpuS'
  | 'serverCpuPer10k'
  | 'nodeCpuPer10k'
  | 'postgresCpuPer10k'
  | 'natsCpuPer10k'
  | 'allInCpuPer10k'
> {
  const per10k = (x: number | undefined): number => ((x ?? NaN) / messages) * 10_000
  return {
    serverCpuS: cpu.serverS,
    serverCpuPer10k: per10k(cpu.serverS),
    nodeCpuPer10k: cpu.nodesS.map(per10k),
    postgresCpuPer10k: per10k(cpu.postgresS),
    natsCpuPer10k: per10k(cpu.natsS),
    allInCpuPer10k: per10k(cpu.allInS),
  }
}

async function singleChats(
  cluster: BenchCluster,
  clients: WireClient[],
  messages: number,
  window: number,
  maxSeconds: number | undefined,
): Promise<Run> {
  const endpoints = clients.map((c) => new OursEndpoint(c))
  const pairs: [OursEndpoint, OursEndpoint][] = []
  for (let i = 0; i + 1 < endpoints.length; i += 2)
    pairs.push([endpoints[i] as OursEndpoint, endpoints[i + 1] as OursEndpoint])
  const m = await withClusterCpu(cluster.cpuTarget, () =>
    runPairs(pairs, { messages, window, ...(maxSeconds === undefined ? {} : { maxSeconds }) }),
  )
  const r: LoadResult = m.result
  const mem = clusterMemory(cluster)
  return {
    workload: 'single',
    backend: cluster.backend,
    clients: clients.length,
    messages: r.messages,
    planned: r.planned,
    finished: r.finished,
    seconds: r.seconds,
    messagesPerS: r.messagesPerS,
    receiptsPerS: r.receiptsPerS,
    deliveriesPerS: r.messagesPerS,
    deliveryP50: r.deliveryMs.p50,
    deliveryP99: r.deliveryMs.p99,
    receiptP50: r.readReceiptMs.p50,
    receiptP99: r.readReceiptMs.p99,
    ...cpuFields(m.cpu, r.equivalent),
    retries: clients.reduce((a, c) => a + c.retries, 0),
    deadlocks: NaN,
    dbCommitsPerMessage: NaN,
    dbRowsPerMessage: NaN,
    busPerMessage: NaN,
    loadGenCpuS: m.selfCpuS,
    serverRssMiB: mem.rssMiB,
    serverPeakRssMiB: mem.peakRssMiB,
  }
}

/**
 * Groups of `size`: the first 10 members of each send `perSender` messages that ask for acks. Stopped
 * after `maxSeconds` (senders send nothing more; the figures are those of the window).
 */
async function groups(
  cluster: BenchCluster,
  clients: WireClient[],
  size: number,
  perSender: number,
  window: number,
  maxSeconds: number | undefined,
  log: (m: string) => void,
): Promise<Run> {
  const created = nowMs()
  const groupsOf: WireClient[][] = []
  for (let i = 0; i + size <= clients.length; i += size) groupsOf.push(clients.slice(i, i + size))
  const gids = await Promise.all(
    groupsOf.map(async (members) => {
      const owner = members[0] as WireClient
      const res = await withTimeout(
        owner.call<{ group: { groupId: string } }>('createGroup', {
          name: 'load',
          memberIds: members.slice(1).map((m) => m.account.userId),
        }),
        60_000,
        'createGroup',
      )
      return res.group.groupId
    }),
  )
  log(`${groupsOf.length} group(s) of ${size} created in ${fmt((nowMs() - created) / 1000)} s`)
  // Let the groupChanged pushes settle before timing.
  await new Promise((r) => setTimeout(r, 300))
  const sentAt = new Map<string, number>()
  const delivery: number[] = []
  const receipt: number[] = []
  let deliveries = 0
  let acks = 0
  const total = groupsOf.length * 10 * perSender
  let complete = 0
  let stopped = false
  const t0 = nowMs()
  const m = await withClusterCpu(cluster.cpuTarget, async () => {
    await new Promise<void>((resolveRun, rejectRun) => {
      const stop = (error?: Error): void => {
        if (stopped) return
        stopped = true
        clearTimeout(timer)
        if (error) rejectRun(error)
        else resolveRun()
      }
      const resolve = (): void => stop()
      const reject = (error: Error): void => stop(error)
      // Without a time limit (SQLite, as before): a run not done in 180 s fails.
      const timer =
        maxSeconds === undefined
          ? setTimeout(
              () =>
                reject(
                  new Error(
                    `group load timed out: ${complete}/${total} complete, ${deliveries} deliveries, ${acks} acks`,
                  ),
                ),
              180_000,
            )
          : setTimeout(resolve, maxSeconds * 1000)
      groupsOf.forEach((members, g) => {
        const groupId = gids[g] as string
        const uidToId = new Map<string, string>()
        const ackCount = new Map<string, number>()
        for (const [k, c] of members.entries()) {
          let pending: { messageUId: string }[] = []
          const senderState = k < 10 ? { next: 0, inFlight: 0 } : undefined
          const pump = (): void => {
            if (!senderState) return
            while (!stopped && senderState.inFlight < window && senderState.next < perSender) {
              const id = `g${g}s${k}m${senderState.next++}`
              senderState.inFlight++
              sentAt.set(id, nowMs())
              c.requestRetrying(
                'sendMessage',
                {
                  clientMsgId: `${id}-xxxxxxxx`,
                  conversation: { type: 'group', targetId: groupId },
                  channelId: '',
                  content: { type: 'text', text: id },
                  isNeedGroupAck: true,
                },
                (r) => {
                  const uid = (r.data as { message?: { messageUId: string } } | undefined)?.message
                    ?.messageUId
                  if (r.code !== 0 || !uid)
                    return reject(new Error(`group send failed: ${r.code} ${r.msg ?? ''}`))
                  uidToId.set(uid, id)
                },
              )
            }
          }
          c.onPush = (p) => {
            if (stopped) return
            if (p.event === 'message') {
              const msg = p.data as { messageUId: string; content: { text: string } }
              const t = sentAt.get(msg.content.text)
              if (t !== undefined) delivery.push(nowMs() - t)
              deliveries++
              if (pending.length === 0)
                setImmediate(() => {
                  const batch = pending
                  pending = []
                  c.requestRetrying('ackGroupMessageRead', { groupId, acks: batch }, (r) => {
                    if (r.code !== 0)
                      reject(new Error(`ackGroupMessageRead failed: ${r.code} ${r.msg ?? ''}`))
                  })
                })
              pending.push({ messageUId: msg.messageUId })
            } else if (p.event === 'groupMessageRead' && senderState) {
              const now = nowMs()
              for (const a of (p.data as { acks: { messageUId: string }[] }).acks) {
                acks++
                const id = uidToId.get(a.messageUId)
                if (id === undefined) continue
                const t = sentAt.get(id)
                if (t !== undefined) receipt.push(now - t)
                const n = (ackCount.get(a.messageUId) ?? 0) + 1
                ackCount.set(a.messageUId, n)
                if (n === members.length - 1) {
                  senderState.inFlight--
                  complete++
                  if (complete === total) resolve()
                }
              }
              pump()
            }
          }
          setImmediate(pump)
        }
      })
    })
  })
  const seconds = (nowMs() - t0) / 1000
  const mem = clusterMemory(cluster)
  // Work done in messages: each is delivered to size - 1 members and acked by each.
  const equivalent = complete === total ? total : (deliveries + acks) / (2 * (size - 1))
  return {
    workload: 'group',
    backend: cluster.backend,
    clients: groupsOf.length * size,
    messages: complete,
    planned: total,
    finished: complete === total,
    seconds,
    messagesPerS: equivalent / seconds,
    receiptsPerS: acks / seconds,
    deliveriesPerS: deliveries / seconds,
    deliveryP50: percentile(delivery, 50),
    deliveryP99: percentile(delivery, 99),
    receiptP50: percentile(receipt, 50),
    receiptP99: percentile(receipt, 99),
    ...cpuFields(m.cpu, equivalent),
    retries: clients.reduce((a, c) => a + c.retries, 0),
    deadlocks: NaN,
    dbCommitsPerMessage: NaN,
    dbRowsPerMessage: NaN,
    busPerMessage: NaN,
    loadGenCpuS: m.selfCpuS,
    serverRssMiB: mem.rssMiB,
    serverPeakRssMiB: mem.peakRssMiB,
  }
}

export const s5ServerLoad: Scenario = {
  id: 's5-server-load',
  aliases: ['load', 'server', 'throughput'],
  title: 'Server throughput and latency with N clients',
  usesBackends: true,
  async run(ctx) {
    const out = emptyOutput()
    const singleNs = ctx.quick ? [100] : [200, 1000, 2000]
    const groupNs = ctx.quick ? [200] : [200, 2000]
    const perSender = ctx.quick ? 20 : 50
    const perGroupSender = ctx.quick ? 5 : 10
    const window = 5
    const groupWindow = 2
    const runs = ctx.quick ? 1 : 2
    // PostgreSQL: one run per size (most are stopped at maxSeconds, and each takes a database and up
    // to three nodes to set up), so the default bench stays within minutes of what it was.
    const runsOf = (b: Backend): number => (b === 'sqlite' ? runs : 1)
    // A PostgreSQL run stops after this long (some would take minutes); BENCH_RUN_CAP_S. SQLite runs
    // are not stopped (they take seconds), as before.
    const maxSeconds = Number(process.env.BENCH_RUN_CAP_S ?? '') || 15
    const capOf = (b: Backend): number | undefined => (b === 'sqlite' ? undefined : maxSeconds)
    const backends = ctx.backends.list
    out.params = {
      singleNs,
      groupNs,
      perSender,
      perGroupSender,
      window,
      groupWindow,
      runs,
      postgresRuns: 1,
      groupSize: 200,
      sendersPerGroup: 10,
      backends,
      maxSeconds,
    }
    const maxN = Math.max(...singleNs, ...groupNs)
    const results: Run[] = []
    for (const [workload, ns] of [
      ['single', singleNs],
      ['group', groupNs],
    ] as const) {
      for (const n of ns) {
        const perConfig: Run[] = []
        // Runs alternate between the backends (sqlite, pg-1, pg-3, sqlite, …).
        for (let run = 0; run < runs; run++)
          for (const backend of backends.filter((b) => run < runsOf(b))) {
            // A fresh server per run: the same starting point (empty history) every time.
            const { cluster, accounts, seedS } = await startCluster(backend, {
              dir: join(ctx.tmp, `server-${workload}-${n}-${run}-${backend}`),
              userIds: Array.from({ length: n }, (_, i) => `c${String(i).padStart(5, '0')}`),
            })
            let clients: WireClient[] = []
            let r: Run | undefined
            try {
              const t0 = nowMs()
              clients = await connectAll(cluster, accounts)
              ctx.log(`${backend}: ${n} clients connected in ${fmt((nowMs() - t0) / 1000)} s`)
              r =
                workload === 'single'
                  ? await singleChats(cluster, clients, perSender, window, capOf(backend))
                  : await groups(cluster, clients, 200, perGroupSender, groupWindow, capOf(backend), ctx.log)
            } finally {
              await Promise.all(clients.map((c) => c.close()))
              const published = cluster.nodes.length > 1 ? await cluster.busPublished().catch(() => NaN) : NaN
              const closed = await cluster.close()
              if (r) {
                r.deadlocks = closed.deadlocks ?? NaN
                r.dbCommitsPerMessage = (closed.commits ?? NaN) / r.messages
                r.dbRowsPerMessage = (closed.rowsWritten ?? NaN) / r.messages
                r.busPerMessage = published / r.messages
              }
            }
            perConfig.push(r)
            const extra =
              backend === 'sqlite'
                ? ''
                : ` (nodes ${r.nodeCpuPer10k.map((x) => fmt(x)).join(' + ')}, PostgreSQL ${fmt(r.postgresCpuPer10k)}` +
                  `${Number.isNaN(r.natsCpuPer10k) ? '' : `, NATS ${fmt(r.natsCpuPer10k)}`}; ${r.deadlocks} deadlocks; seeded in ${fmt(seedS)} s)`
            ctx.log(
              `${workload} ${n} clients, ${backend}: ${r.finished ? '' : `stopped at ${maxSeconds} s with ${r.messages} of ${r.planned} messages fully receipted, `}` +
                `${fmt(r.messagesPerS)} msgs/s, ${fmt(r.receiptsPerS)} receipts/s, ` +
                `delivery p50/p99 ${fmt(r.deliveryP50)}/${fmt(r.deliveryP99)} ms, receipt p50/p99 ${fmt(r.receiptP50)}/${fmt(r.receiptP99)} ms, ` +
                `server ${fmt(r.serverCpuPer10k)} CPU s/10k msgs${extra}, ${r.retries} retried, RSS ${fmt(r.serverRssMiB)} MiB, ` +
                `load generator ${fmt(r.loadGenCpuS)} CPU s in ${fmt(r.seconds)} s`,
            )
          }
        for (const backend of backends) {
          const mine = perConfig.filter((r) => r.backend === backend)
          const med = (f: (r: Run) => number): number => median(mine.map(f))
          results.push({
            workload,
            backend,
            clients: n,
            messages: med((r) => r.messages),
            planned: med((r) => r.planned),
            finished: mine.every((r) => r.finished),
            seconds: med((r) => r.seconds),
            messagesPerS: med((r) => r.messagesPerS),
            receiptsPerS: med((r) => r.receiptsPerS),
            deliveriesPerS: med((r) => r.deliveriesPerS),
            deliveryP50: med((r) => r.deliveryP50),
            deliveryP99: med((r) => r.deliveryP99),
            receiptP50: med((r) => r.receiptP50),
            receiptP99: med((r) => r.receiptP99),
            serverCpuS: med((r) => r.serverCpuS),
            serverCpuPer10k: med((r) => r.serverCpuPer10k),
            nodeCpuPer10k: (mine[0]?.nodeCpuPer10k ?? []).map((_, i) =>
              med((r) => r.nodeCpuPer10k[i] ?? NaN),
            ),
            postgresCpuPer10k: med((r) => r.postgresCpuPer10k),
            natsCpuPer10k: med((r) => r.natsCpuPer10k),
            allInCpuPer10k: med((r) => r.allInCpuPer10k),
            retries: med((r) => r.retries),
            deadlocks: med((r) => r.deadlocks),
            dbCommitsPerMessage: med((r) => r.dbCommitsPerMessage),
            dbRowsPerMessage: med((r) => r.dbRowsPerMessage),
            busPerMessage: med((r) => r.busPerMessage),
            loadGenCpuS: med((r) => r.loadGenCpuS),
            serverRssMiB: med((r) => r.serverRssMiB),
            serverPeakRssMiB: med((r) => r.serverPeakRssMiB),
          })
        }
      }
    }
    const row = (r: Run): (string | number)[] => [
      r.backend,
      r.clients,
      r.finished ? fmt(r.messages) : `${fmt(r.messages)} of ${fmt(r.planned)} (stopped)`,
      fmt(r.messagesPerS),
      fmt(r.deliveriesPerS),
      fmt(r.receiptsPerS),
      `${fmt(r.deliveryP50)} / ${fmt(r.deliveryP99)}`,
      `${fmt(r.receiptP50)} / ${fmt(r.receiptP99)}`,
      r.nodeCpuPer10k.length > 1
        ? `${fmt(r.serverCpuPer10k)} (${r.nodeCpuPer10k.map((x) => fmt(x)).join(' / ')})`
        : fmt(r.serverCpuPer10k),
      fmt(r.postgresCpuPer10k),
      fmt(r.natsCpuPer10k),
      fmt(r.allInCpuPer10k),
      `${fmt(r.retries)}${Number.isNaN(r.deadlocks) ? '' : ` / ${fmt(r.deadlocks)}`}`,
      Number.isNaN(r.dbCommitsPerMessage) ? '' : `${fmt(r.dbCommitsPerMessage)} / ${fmt(r.dbRowsPerMessage)}`,
      fmt(r.busPerMessage),
      `${fmt(r.serverRssMiB)} (${fmt(r.serverPeakRssMiB)})`,
      `${fmt(r.loadGenCpuS)} of ${fmt(r.seconds)}`,
    ]
    const columns = [
      'backend',
      'clients',
      'messages',
      'messages/s',
      'deliveries/s',
      'receipts/s',
      'delivery p50 / p99 ms',
      'receipt p50 / p99 ms',
      'server CPU s / 10k msgs (per node)',
      'PostgreSQL CPU s / 10k',
      'NATS CPU s / 10k',
      'all CPU s / 10k',
      'retried requests / PostgreSQL deadlocks',
      'PostgreSQL commits / rows written per message',
      'NATS messages per message',
      'server RSS MiB (peak)',
      'load generator CPU s of wall s',
    ]
    const ordered = (w: Run['workload']): Run[] =>
      results
        .filter((r) => r.workload === w)
        .sort((a, b) => a.clients - b.clients || backends.indexOf(a.backend) - backends.indexOf(b.backend))
    out.sections.push({
      heading: `Single chats: N/2 pairs, ${perSender} messages per sender, ${window} in flight, delivery + read receipts`,
      text:
        'Receipt = the read receipt back at the sender (each message also gets a delivery receipt, counted in receipts/s). ' +
        `Medians of ${runs} run(s)${runs > 1 && backends.some((b) => b !== 'sqlite') ? ' on SQLite and 1 on PostgreSQL' : ''}, ` +
        'a fresh server (and database) each, runs alternating between the backends.',
      table: { columns, rows: ordered('single').map(row) },
    })
    out.sections.push({
      heading: `Groups of 200: 10 senders per group, ${perGroupSender} messages each with isNeedGroupAck, ${groupWindow} in flight until every member acked`,
      text: 'Delivery = send → one member has it (one sample per member); receipt = send → that member’s ack back at the sender.',
      table: { columns, rows: ordered('group').map(row) },
    })
    out.notes.push(
      `Backends: ${backends.map((b) => `${b} = ${BACKEND_LABEL[b]}`).join('; ')}. With three nodes, client i is on node i mod 3 ` +
        '(every single-chat pair and every group spans nodes, so pushes cross NATS).',
      'CPU per 10k messages: server = the node processes (sum; each node in brackets); PostgreSQL = every process named ' +
        '`postgres` on the machine (its backends for the nodes, WAL writer, checkpointer…), so nothing else may use that ' +
        'PostgreSQL during the run; NATS = the nats-server process; all = their sum (on SQLite, the server alone). ' +
        'RSS is the largest node’s (PostgreSQL’s memory is not in it). Retried requests: answered INTERNAL/UNAVAILABLE ' +
        '(on PostgreSQL a unit of a group commit chosen as a deadlock victim is rolled back and answered so) and sent ' +
        'again by the load generator, as the engine’s outbox does; deadlocks: pg_stat_database of the run’s database ' +
        '(medians per run).',
      `Each PostgreSQL run stops after ${maxSeconds} s (BENCH_RUN_CAP_S): a run that did not finish shows "m of n (stopped)" ` +
        'messages fully receipted, and its rates and CPU per 10k messages count the work done in the window in messages ' +
        '(deliveries + receipts, over 2 per message and member), latencies those of the receipts that arrived.',
      `The load generator shares the 2 cores with the server: when its CPU seconds approach the wall time, it (not the server) is the limit.`,
      `Server with the per-connection rate limit lifted (an abuse guard, 100 frames/s by default); SQLite data on a file (WAL); up to ${maxN} WebSockets.`,
    )
    if (ctx.backends.postgres)
      out.notes.push(`${ctx.backends.postgres}, on this machine, with its settings as found.`)
    if (ctx.backends.note) out.notes.push(ctx.backends.note)
    const label = (w: Run['workload']): string => (w === 'single' ? 'single chats' : 'groups of 200')
    const chart = 's5-server-cpu.svg'
    writeChart(join(ctx.outDir, chart), {
      title: 'CPU seconds per 10k messages vs clients (nodes + PostgreSQL + NATS)',
      xLabel: 'clients',
      yLabel: 'CPU s per 10k messages',
      logX: true,
      series: (['single', 'group'] as const).flatMap((w) =>
        backends.map((b) => ({
          name: `${label(w)}, ${b}`,
          points: ordered(w)
            .filter((r) => r.backend === b)
            .map((r) => ({ x: r.clients, y: r.allInCpuPer10k })),
        })),
      ),
    })
    out.charts.push({ file: chart, caption: 'CPU per 10k messages (nodes + PostgreSQL + NATS)' })
    for (const w of ['single', 'group'] as const) {
      const file = w === 'single' ? 's5-latency.svg' : 's5-latency-groups.svg'
      writeChart(join(ctx.outDir, file), {
        title: `Receipt latency vs clients, ${label(w)} (p50 and p99)`,
        xLabel: 'clients',
        yLabel: 'ms',
        logX: true,
        logY: true,
        series: backends.flatMap((b) =>
          (['receiptP50', 'receiptP99'] as const).map((k) => ({
            name: `${b} ${k === 'receiptP50' ? 'p50' : 'p99'}`,
            points: ordered(w)
              .filter((r) => r.backend === b)
              .map((r) => ({ x: r.clients, y: r[k] })),
          })),
        ),
      })
      out.charts.push({ file, caption: `receipt latency vs clients, ${label(w)}` })
    }
    out.raw = { results }
    return out
  },
}
