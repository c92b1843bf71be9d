/**
 * Scenario 6: the same single-chat workload against our server, ejabberd (Debian's package, XMPP
 * with XEP-0184 receipts and XEP-0333 displayed markers, via @xmpp/client) and a bare ws relay (the
 * floor: Node and ws with no storage). Every system runs as its own process on loopback and the runs
 * alternate (ours, ejabberd, relay, ours, …). Server CPU from /proc/<pid>/stat, RSS from status.
 */
import { spawn } from 'node:child_process'
import { join, resolve } from 'node:path'
import {
  ejabberdVersion,
  ensureEjabberd,
  startEjabberd,
  XMPP_DOMAIN,
  type RunningEjabberd,
} from '../lib/ejabberd'
import {
  BACKEND_LABEL,
  clusterMemory,
  startCluster,
  withClusterCpu,
  type Backend,
  type BenchCluster,
  type ClusterCpu,
  type CpuTarget,
} from '../lib/backends'
import { pairUp, runPairs, type ChatEndpoint, type LoadResult } from '../lib/load'
import { OursEndpoint } from '../lib/oursEndpoint'
import { memory, type Memory } from '../lib/proc'
import { RelayEndpoint } from '../lib/relayEndpoint'
import { childNodeArgs } from '../lib/server'
import { fmt, median, sleep } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, target, type Scenario } from '../lib/types'
import { pool, WireClient } from '../lib/wire'
import { XmppEndpoint } from '../lib/xmppEndpoint'

const root = resolve(import.meta.dirname, '../..')

interface SystemUnderTest {
  name: string
  /** Set for our server: its backend (sqlite, pg-1, pg-3). */
  backend?: Backend
  cpuTarget: CpuTarget
  /** Largest node's memory (one process but for pg-3). */
  memory(): Memory
  pairs: [ChatEndpoint, ChatEndpoint][]
  clients?: WireClient[]
  close(): Promise<void>
}

interface Sample {
  system: string
  run: number
  result: LoadResult
  serverCpuS: number
  cpu: ClusterCpu
  loadGenCpuS: number
  wallS: number
  rssMiB: number
  peakRssMiB: number
}

/** A one-process system's CPU target and memory. */
function single(pid: number): Pick<SystemUnderTest, 'cpuTarget' | 'memory'> {
  return { cpuTarget: { nodePids: [pid], postgres: false, nats: false }, memory: () => memory(pid) }
}

async function startRelay(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    [...childNodeArgs(), '--import', 'tsx', join(root, 'bench/lib/relayChild.ts')],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  )
  const port = await new Promise<number>((res, rej) => {
    let out = ''
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) res((JSON.parse(line) as { port: number }).port)
    })
    child.once('exit', (code) => rej(new Error(`relay exited with ${code}`)))
  })
  return {
    port,
    pid: child.pid as number,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r()
        child.once('exit', () => r())
        child.kill('SIGTERM')
      }),
  }
}

export const s6Peer: Scenario = {
  id: 's6-peer',
  aliases: ['peer', 'ejabberd', 'xmpp'],
  title: 'Side by side: our server, ejabberd, a bare ws relay',
  usesBackends: true,
  async run(ctx) {
    const out = emptyOutput()
    const pairCount = ctx.quick ? 20 : 100
    const messages = ctx.quick ? 50 : 100
    const window = 10
    const runs = ctx.quick ? 1 : 3
    // A run of ours on PostgreSQL stops after this long (it may take much longer than the others); BENCH_RUN_CAP_S.
    const maxSeconds = Number(process.env.BENCH_RUN_CAP_S ?? '') || (ctx.quick ? 15 : 20)
    const users = Array.from({ length: pairCount * 2 }, (_, i) => `u${String(i).padStart(4, '0')}`)
    const backends = ctx.backends.list
    out.params = { pairs: pairCount, messagesPerSender: messages, window, runs, backends, maxSeconds }
    const systems: SystemUnderTest[] = []
    const ejabberds: RunningEjabberd[] = []
    const clusters: BenchCluster[] = []
    const deadlocks = new Map<string, number>()
    let relay: Awaited<ReturnType<typeof startRelay>> | undefined
    const oursName = (b: Backend): string => (b === 'sqlite' ? 'ours' : `ours ${b}`)
    try {
      // ours, on each backend (client i on node i mod nodes: with three, every pair spans two nodes)
      for (const backend of backends) {
        const { cluster, accounts } = await startCluster(backend, {
          dir: join(ctx.tmp, `ours-${backend}`),
          userIds: users,
        })
        clusters.push(cluster)
        let closing: Promise<void> | undefined
        const clients = await pool(accounts, 50, (a, i) => WireClient.connect(cluster.urlFor(i), a))
        systems.push({
          name: oursName(backend),
          backend,
          cpuTarget: cluster.cpuTarget,
          memory: () => clusterMemory(cluster),
          pairs: pairUp(clients.map((c) => new OursEndpoint(c))),
          clients,
          close: () =>
            (closing ??= cluster.close().then((closed) => {
              if (closed.deadlocks !== undefined) deadlocks.set(oursName(backend), closed.deadlocks)
            })),
        })
        ctx.log(`${oursName(backend)} up (${BACKEND_LABEL[backend]}), ${users.length} clients online`)
      }
      // ejabberd
      const missing = ensureEjabberd(ctx.log)
      if (missing) out.notes.push(`ejabberd not measured: ${missing}`)
      else {
        // As configured for this comparison (nothing stored for online recipients), and with its
        // message archive on (mod_mam in Mnesia), the nearest it has to storing every message as ours does.
        for (const archive of [false, true]) {
          const ej = await startEjabberd(4096, { archive })
          ejabberds.push(ej)
          await ej.register(users, 'bench-password')
          const xmpp = await pool(users, 20, (u) =>
            XmppEndpoint.connect(ej.c2sPort, XMPP_DOMAIN, u, 'bench-password'),
          )
          const name = `ejabberd ${ejabberdVersion()}${archive ? ' + mod_mam' : ''}`
          systems.push({
            name,
            ...single(ej.pid),
            pairs: pairUp(xmpp),
            close: async () => {
              await Promise.all(xmpp.map((x) => x.close()))
            },
          })
          ctx.log(`${name} up (beam pid ${ej.pid}), ${users.length} XMPP clients online`)
        }
      }
      // the floor
      relay = await startRelay()
      const relayPort = relay.port
      const relayed = await pool(users, 50, (u) => RelayEndpoint.connect(relayPort, u))
      systems.push({
        name: 'ws relay (no storage)',
        ...single(relay.pid),
        pairs: pairUp(relayed),
        close: async () => undefined,
      })

      // Warm-up (JIT, connection buffers), then alternating measured runs.
      // Only ours on PostgreSQL is stopped at maxSeconds; the others run to the end, as before.
      const cap = (s: SystemUnderTest): { maxSeconds?: number } =>
        s.backend === undefined || s.backend === 'sqlite' ? {} : { maxSeconds }
      for (const s of systems) await runPairs(s.pairs, { messages: 10, window, ...cap(s) })
      const samples: Sample[] = []
      for (let run = 0; run < runs; run++) {
        for (const s of systems) {
          const m = await withClusterCpu(s.cpuTarget, () =>
            runPairs(s.pairs, { messages, window, ...cap(s) }),
          )
          const mem = s.memory()
          samples.push({
            system: s.name,
            run,
            result: m.result,
            serverCpuS: m.cpu.serverS,
            cpu: m.cpu,
            loadGenCpuS: m.selfCpuS,
            wallS: m.wallS,
            rssMiB: mem.rssMiB,
            peakRssMiB: mem.peakRssMiB,
          })
          const per = (x: number | undefined): string => fmt(((x ?? NaN) / m.result.equivalent) * 10_000)
          ctx.log(
            `run ${run + 1} ${s.name}: ${m.result.finished ? '' : `stopped at ${maxSeconds} s with ${m.result.messages} of ${m.result.planned} read, `}` +
              `${fmt(m.result.messagesPerS)} msgs/s, server ${per(m.cpu.serverS)} CPU s/10k` +
              `${m.cpu.postgresS === undefined ? '' : ` (PostgreSQL ${per(m.cpu.postgresS)}${m.cpu.natsS === undefined ? '' : `, NATS ${per(m.cpu.natsS)}`})`}, ` +
              `read receipt p50/p99 ${fmt(m.result.readReceiptMs.p50)}/${fmt(m.result.readReceiptMs.p99)} ms, load generator ${fmt(m.selfCpuS)} CPU s of ${fmt(m.wallS)} s`,
          )
          // What a stopped run left in flight drains before the next system runs.
          if (!m.result.finished) await sleep(3000)
        }
      }
      const ours = systems.filter((s) => s.backend !== undefined)
      const retries = ours.map((o) => `${o.name} ${o.clients?.reduce((a, c) => a + c.retries, 0) ?? 0}`)
      // Our servers stop now: the deadlock counts are read once their database connections are closed.
      for (const o of ours) await o.close()
      const total = pairCount * messages
      const stat = (name: string, f: (x: Sample) => number): number =>
        median(samples.filter((x) => x.system === name).map(f))
      const per10k =
        (f: (c: ClusterCpu) => number | undefined) =>
        (x: Sample): number =>
          ((f(x.cpu) ?? NaN) / x.result.equivalent) * 10_000
      const serverPer10k = per10k((c) => c.serverS)
      const allPer10k = per10k((c) => c.allInS)
      out.sections.push({
        text:
          `${pairCount} sender → receiver pairs, ${messages} messages per sender, ${window} in flight per sender (not yet read), ` +
          `${fmt(total)} messages per run; every message gets a delivery receipt and a read receipt. Medians of ${runs} alternating run(s) ` +
          'after a warm-up. Receipt latency = send → the receipt back at the sender.',
        table: {
          columns: [
            'system',
            'messages/s',
            'server CPU s / 10k msgs (per node)',
            'PostgreSQL CPU s / 10k',
            'NATS CPU s / 10k',
            'all CPU s / 10k',
            'delivery receipt p50 / p99 ms',
            'read receipt p50 / p99 ms',
            'server RSS MiB (peak)',
            'load generator CPU s / wall s',
          ],
          rows: systems.map((s) => {
            const nodes = s.cpuTarget.nodePids.length
            const stopped = samples.filter((x) => x.system === s.name && !x.result.finished).length
            return [
              `${s.name}${stopped > 0 ? ` (${stopped} run(s) stopped at ${maxSeconds} s)` : ''}`,
              fmt(stat(s.name, (x) => x.result.messagesPerS)),
              nodes > 1
                ? `${fmt(stat(s.name, serverPer10k))} (${Array.from({ length: nodes }, (_, i) =>
                    fmt(
                      stat(
                        s.name,
                        per10k((c) => c.nodesS[i]),
                      ),
                    ),
                  ).join(' / ')})`
                : fmt(stat(s.name, serverPer10k)),
              fmt(
                stat(
                  s.name,
                  per10k((c) => c.postgresS),
                ),
              ),
              fmt(
                stat(
                  s.name,
                  per10k((c) => c.natsS),
                ),
              ),
              fmt(stat(s.name, allPer10k)),
              `${fmt(stat(s.name, (x) => x.result.deliveredReceiptMs.p50))} / ${fmt(stat(s.name, (x) => x.result.deliveredReceiptMs.p99))}`,
              `${fmt(stat(s.name, (x) => x.result.readReceiptMs.p50))} / ${fmt(stat(s.name, (x) => x.result.readReceiptMs.p99))}`,
              `${fmt(stat(s.name, (x) => x.rssMiB))} (${fmt(stat(s.name, (x) => x.peakRssMiB))})`,
              `${fmt(stat(s.name, (x) => x.loadGenCpuS))} / ${fmt(stat(s.name, (x) => x.wallS))}`,
            ]
          }),
        },
      })
      const ej = systems.find((s) => s.name.startsWith('ejabberd') && !s.name.includes('mod_mam'))
      const mam = systems.find((s) => s.name.includes('mod_mam'))
      const floor = systems.find((s) => s.name.startsWith('ws relay'))
      if (ej) {
        const metrics = (s: SystemUnderTest): [string, (x: Sample) => number][] => [
          [
            s.backend === 'sqlite'
              ? 'server CPU per 10k messages'
              : 'CPU per 10k messages, nodes + PostgreSQL' + (s.cpuTarget.nats ? ' + NATS' : ''),
            allPer10k,
          ],
          ...(s.backend === 'sqlite'
            ? []
            : [['CPU per 10k messages, the nodes alone', serverPer10k] as [string, (x: Sample) => number]]),
          ['read receipt p99', (x) => x.result.readReceiptMs.p99],
          [s.cpuTarget.nodePids.length > 1 ? 'server RSS (largest node)' : 'server RSS', (x) => x.rssMiB],
        ]
        out.sections.push({
          heading: 'Ratios',
          table: {
            columns: ['', 'ours / ejabberd', 'ours / ejabberd + mod_mam', 'ours / ws relay'],
            rows: ours.flatMap((o) =>
              metrics(o).map(([label, f]) => [
                ours.length > 1 || o.backend !== 'sqlite' ? `${label} (${o.name})` : label,
                fmt(stat(o.name, f) / stat(ej.name, f)),
                mam ? fmt(stat(o.name, f) / stat(mam.name, f)) : '–',
                floor ? fmt(stat(o.name, f) / stat(floor.name, f)) : '–',
              ]),
            ),
          },
        })
        const ejCpu = stat(ej.name, allPer10k)
        const ejP99 = stat(ej.name, (x) => x.result.readReceiptMs.p99)
        for (const o of ours) {
          const cpu = stat(o.name, allPer10k)
          const p99 = stat(o.name, (x) => x.result.readReceiptMs.p99)
          const who =
            o.backend === 'sqlite'
              ? 'ours'
              : `${o.name} (nodes + PostgreSQL${o.cpuTarget.nats ? ' + NATS' : ''})`
          out.targets.push(
            target(
              `server CPU per 10k messages, ${who} vs ejabberd`,
              '≤ 0.5x',
              `${fmt(cpu)} vs ${fmt(ejCpu)} s (${fmt(cpu / ejCpu)}x)`,
              cpu / ejCpu,
              0.5,
            ),
            target(
              `read receipt p99, ${o.backend === 'sqlite' ? 'ours' : o.name} vs ejabberd`,
              '< 1x (lower)',
              `${fmt(p99)} vs ${fmt(ejP99)} ms`,
              p99 / ejP99,
              1,
            ),
          )
        }
      } else {
        out.targets.push(
          target('server CPU per 10k messages, ours vs ejabberd', '≤ 0.5x', 'ejabberd not run', NaN, 0.5),
        )
      }
      out.notes.push(
        'Not the same work: our server writes every message, receipt and receipt event to its database (SQLite in WAL, or ' +
          'PostgreSQL) before it answers; plain ' +
          'ejabberd keeps nothing for online recipients (no mod_offline; what the Debian package does for a chat between two online ' +
          'users, minus its TLS and shaper), and "ejabberd + mod_mam" archives every message in Mnesia (receipts are not archived). ' +
          'The target compares with plain ejabberd, as the issue asks. XMPP also needs one <received/> stanza per message (XEP-0184), while our protocol ' +
          'and the relay batch receipts per event-loop turn; the displayed markers are batched the same way (XEP-0333 marks all earlier ones).',
        'The load generator (this process: JSON and XML parsing for every client) shares the 2 cores with the server under test; its CPU ' +
          'seconds are in the table so a saturated generator is not mistaken for a server limit.',
      )
      if (ours.some((o) => o.backend !== 'sqlite'))
        out.notes.push(
          `Ours on PostgreSQL (${ctx.backends.postgres ?? 'version unknown'}): pg-1 is one node, pg-3 three nodes over NATS with ` +
            'client i on node i mod 3 (every pair spans two nodes). Its CPU is the nodes (each in brackets), every process ' +
            'named `postgres` on the machine, and the nats-server process; "all" is their sum, which the targets compare ' +
            `with ejabberd's (whose storage runs inside its one process). A run stops after ${maxSeconds} s (BENCH_RUN_CAP_S); ` +
            'a stopped run’s rates and CPU per message count the work done in the window. Requests retried after a transient ' +
            `failure: ${retries.join(', ')}; deadlocks PostgreSQL detected: ` +
            `${[...deadlocks].map(([k, v]) => `${k} ${v}`).join(', ') || 'none read'}.`,
        )
      if (ctx.backends.note) out.notes.push(ctx.backends.note)
      const chart = 's6-peer.svg'
      writeChart(join(ctx.outDir, chart), {
        title: 'CPU seconds per 10k messages, by run',
        xLabel: 'run',
        yLabel: 'CPU s per 10k messages (all processes)',
        series: systems.map((s) => ({
          name: s.name,
          points: samples.filter((x) => x.system === s.name).map((x) => ({ x: x.run + 1, y: allPer10k(x) })),
        })),
      })
      out.charts.push({ file: chart, caption: 'CPU per 10k messages by run' })
      out.raw = { samples: samples.map((x) => ({ ...x })) }
    } finally {
      for (const s of systems) await s.close()
      for (const s of systems) await Promise.all(s.pairs.flat().map((e) => e.close()))
      for (const ej of ejabberds) await ej.stop()
      await relay?.stop()
      for (const c of clusters) if (!systems.some((s) => s.cpuTarget === c.cpuTarget)) await c.close()
    }
    return out
  },
}
