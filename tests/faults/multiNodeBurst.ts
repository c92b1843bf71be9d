/**
 * The burst of burst.ts on three server nodes over one scratch PostgreSQL database and a NATS of the
 * test's own (issue 10, faults across nodes). Users' devices are spread over the nodes, every other
 * user with a second device on another node (multi-device read sync crosses nodes).
 *
 * - natsRestartBurst: NATS SIGKILLed mid-burst and started again on the same port. The nodes keep
 *   serving their own sockets; every push between nodes meanwhile is lost, and the resync push the
 *   nodes send when their NATS connection comes back is the only thing that brings it back (the
 *   last messages of the burst are written while NATS is down and nothing follows them).
 * - nodeKillBurst: one node (a CLI process) SIGKILLed mid-burst; the engines, signed in with all
 *   three URLs, move to the others.
 *
 * Skipped where PostgreSQL or nats-server is missing, except under CI=true.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunningServer } from '../../src/server/server'
import { tempDir, type Device } from '../integration/harness'
import { startTestServer } from '../server/helpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from '../server/postgresHelpers'
import { postgresFacts, runBurst, whenAll, type BurstOptions, type BurstReport } from './burst'
import { NatsProcess, skipNatsProcess } from './natsProcess'
import { ServerProcess } from './serverProcess'

/** The size of the fault tests' bursts: FAULT_BURST_MESSAGES, else 2,000 (the soak runs 10,000). */
export const BURST_MESSAGES = Number(process.env.FAULT_BURST_MESSAGES ?? 2000)
/** Their waits, for 2,000 messages on 2 busy cores, times this: they grow with the burst. */
export const BURST_SCALE = Math.max(1, BURST_MESSAGES / 2000)

export const skipMultiNode = skipPostgres || skipNatsProcess
if (skipNatsProcess && !skipPostgres)
  console.warn('multi-node fault tests skipped: no nats-server installed (apt-get install nats-server)')

const NODES = 3

/** Device k of user u: the first on node u mod 3, a second (even users) on the next node. */
function spread<T>(nodes: readonly T[], user: number): T[] {
  const home = nodes[user % nodes.length] as T
  return user % 2 === 0 ? [home, nodes[(user + 1) % nodes.length] as T] : [home]
}

/** Runs `fn` with NATS, a scratch database and `nodes` started by `start`; stops all of it after. */
async function withCluster<N, R>(
  start: (nats: NatsProcess, db: ScratchDatabase, i: number) => Promise<N>,
  stop: (node: N) => Promise<void>,
  fn: (nodes: N[], nats: NatsProcess, db: ScratchDatabase) => Promise<R>,
): Promise<R> {
  const nats = await NatsProcess.start()
  const db = await createScratchDatabase()
  const nodes: N[] = []
  try {
    // One after another: the first migrates the database.
    for (let i = 0; i < NODES; i++) nodes.push(await start(nats, db, i))
    return await fn(nodes, nats, db)
  } finally {
    // A node waiting on a lock must not hold the cleanup: the database goes (FORCE) after a while.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      Promise.allSettled(nodes.map(stop)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 10_000))),
    ])
    clearTimeout(timer)
    await db.drop()
    await Promise.allSettled(nodes.map(stop))
    await nats.close()
  }
}

export function natsRestartBurst(options: BurstOptions): Promise<BurstReport> {
  return withCluster<RunningServer, BurstReport>(
    (nats, db) =>
      // The burst sends far more frames a second per socket than a person would (10,000 messages
      // among six users): the frame rate limits have tests of their own (tests/security).
      startTestServer({
        store: db.url,
        bus: nats.url,
        rateLimit: { perSecond: 1e6, burst: 1e6 },
        userRateLimit: { perSecond: 1e6, burst: 1e6 },
      }),
    (node) => node.close(),
    (nodes, nats, db) =>
      runBurst(options, {
        devicesOf: (user) => spread(nodes, user).map((n) => n.url),
        fault: () => nats.stop('SIGKILL'),
        storesDuringFault: true,
        recover: () => nats.restart(),
        facts: () => postgresFacts(db.url),
      }),
  )
}

/** The node an engine is connected to (the engine names it in the state's detail when it has several). */
const nodeOf = (d: Device): string | undefined =>
  d.engine.connectionState.state === 'connected' ? d.engine.connectionState.detail : undefined

export interface NodeKillReport extends BurstReport {
  /** Engines on the killed node when it was killed (they moved to the others). */
  moved: number
}

export async function nodeKillBurst(options: BurstOptions): Promise<NodeKillReport> {
  let moved = 0
  const report = await withCluster<ServerProcess, BurstReport>(
    (nats, db, i) => {
      const dir = tempDir(`node${i}`)
      // Nine sign-ups and logins from one address in a few seconds: those limits have tests of their own.
      const config = join(dir, 'config.json')
      writeFileSync(
        config,
        JSON.stringify({
          authLimits: { registrationsPerAddress: { perHour: 1000, burst: 1000 }, hashesPerAddress: 1000 },
        }),
      )
      return ServerProcess.start(dir, { store: db.url, bus: nats.url, args: ['--config', config] })
    },
    (node) => node.stop('SIGTERM'),
    (nodes, _nats, db) => {
      // Every engine knows all three nodes (the engine picks where it starts).
      const list = nodes.map((n) => n.url).join(',')
      return runBurst(options, {
        devicesOf: (user) => spread([list, list], user),
        async fault(devices) {
          // The node holding the most engines goes.
          const count = (url: string) => devices.filter((d) => nodeOf(d) === url).length
          const victim = nodes.reduce((a, b) => (count(b.url) > count(a.url) ? b : a))
          const on = devices.filter((d) => nodeOf(d) === victim.url)
          moved = on.length
          await victim.stop('SIGKILL')
          await whenAll(
            on,
            'the engines of the killed node on another',
            () => on.every((d) => nodeOf(d) !== undefined && nodeOf(d) !== victim.url),
            options.timeoutMs,
            () =>
              on.map((d) => `${d.userId}: ${d.engine.connectionState.state} ${nodeOf(d) ?? ''}`).join('; '),
          )
        },
        storesDuringFault: true,
        recover: () => Promise.resolve(),
        facts: () => postgresFacts(db.url),
      })
    },
  )
  return { ...report, moved }
}
