/**
 * The storage backends of the server scenarios (issue 10): `sqlite` (one node, its database on a
 * file, as before), `pg-1` (one node on PostgreSQL) and `pg-3` (three identical nodes over one
 * PostgreSQL database and one NATS, the clients spread round-robin over them).
 *
 * PostgreSQL runs get a scratch database each (`im_bench_<pid>_<random>`, created on BENCH_PG_URL,
 * default postgres://postgres@127.0.0.1:5432/postgres), migrated by opening PostgresStorage, seeded
 * through the Storage interface, and dropped afterwards (WITH (FORCE)); one left behind by a bench
 * that was killed is dropped by the next one (BENCH_PG_KEEP=1 keeps them all, for a look with psql,
 * until the next bench). NATS: BENCH_NATS_URL, default nats://127.0.0.1:4222.
 *
 * CPU of a run: the server nodes (each /proc/<pid>/stat), PostgreSQL (every process named `postgres`
 * on the machine: postmaster, the nodes' backends, WAL writer, checkpointer…) and NATS (the
 * `nats-server` process), each as the difference of two snapshots around the measured window.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import pg from 'pg'
import { PostgresStorage } from '../../src/server/storage/postgres/storage'
import type { Storage } from '../../src/server/storage/types'
import type { GroupReceiptSettings } from '../../src/shared/model'
import { cpuDelta, cpuSnapshot, memory, pidsNamed, selfCpuSeconds, type Memory } from './proc'
import { openServerStorage, seedAccounts, spawnServer, type Account, type BenchServer } from './server'
import { withTimeout } from './stats'

export type Backend = 'sqlite' | 'pg-1' | 'pg-3'
const BACKENDS: readonly Backend[] = ['sqlite', 'pg-1', 'pg-3']

export const BACKEND_LABEL: Record<Backend, string> = {
  sqlite: 'SQLite, 1 node',
  'pg-1': 'PostgreSQL, 1 node',
  'pg-3': 'PostgreSQL, 3 nodes + NATS',
}

const NODES: Record<Backend, number> = { sqlite: 1, 'pg-1': 1, 'pg-3': 3 }

const PG_ADMIN_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
const NATS_URL = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222'

/** What the run was given: the backends, why some are missing, and the PostgreSQL it used. */
export interface BackendChoice {
  list: Backend[]
  /** One line: why a backend of the default set is not run. */
  note?: string
  /** PostgreSQL version and the settings that matter for these figures. */
  postgres?: string
}

/** `--backends sqlite,pg-1,pg-3` → the list; throws on an unknown name. */
export function parseBackends(text: string): Backend[] {
  const wanted = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)
  const unknown = wanted.filter((w) => !(BACKENDS as readonly string[]).includes(w))
  if (unknown.length > 0 || wanted.length === 0)
    throw new Error(`unknown backend ${unknown.join(', ') || '(none)'}; choose from ${BACKENDS.join(', ')}`)
  return BACKENDS.filter((b) => wanted.includes(b))
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** PostgreSQL's version and settings, or why it does not answer. */
async function probePostgres(): Promise<{ info?: string; error?: string }> {
  try {
    const info = await admin(async (c) => {
      const show = async (name: string): Promise<string> =>
        String((await c.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name])
      return (
        `PostgreSQL ${await show('server_version')} (synchronous_commit ${await show('synchronous_commit')}, ` +
        `fsync ${await show('fsync')}, autovacuum ${await show('autovacuum')}, shared_buffers ${await show('shared_buffers')}, ` +
        `max_connections ${await show('max_connections')})`
      )
    })
    return { info }
  } catch (error) {
    return { error: errorText(error) }
  }
}

async function probeNats(): Promise<string | undefined> {
  try {
    const nc = await withTimeout(connect({ servers: NATS_URL, timeout: 3000 }), 5000, 'NATS')
    await nc.close()
    return undefined
  } catch (error) {
    return errorText(error)
  }
}

/** Drops the scratch databases of benches that are no longer running (killed before their cleanup). */
async function dropStaleScratchDatabases(): Promise<void> {
  await admin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'im\\_bench\\_%'`,
    )
    for (const { datname } of rows) {
      const pid = Number(/^im_bench_(\d+)_/.exec(datname)?.[1])
      if (!Number.isInteger(pid) || pid === process.pid) continue
      try {
        process.kill(pid, 0)
        continue // its bench still runs
      } catch {
        // gone
      }
      await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`)
    }
  })
}

/**
 * The backends of this run. `requested` (from --backends) must all be available, else this throws
 * saying why; without it: all three when PostgreSQL and NATS answer, else those that can run, with
 * one line (`note`) saying why the others are not.
 */
export async function chooseBackends(requested: Backend[] | undefined): Promise<BackendChoice> {
  const wanted = requested ?? [...BACKENDS]
  if (!wanted.some((b) => b !== 'sqlite')) return { list: wanted }
  const pgProbe = await probePostgres()
  const natsError = wanted.includes('pg-3') ? await probeNats() : undefined
  const why: string[] = []
  if (pgProbe.error)
    why.push(`PostgreSQL does not answer at ${PG_ADMIN_URL} (${pgProbe.error}; set BENCH_PG_URL)`)
  else if (natsError) why.push(`NATS does not answer at ${NATS_URL} (${natsError}; set BENCH_NATS_URL)`)
  const list = wanted.filter((b) => b === 'sqlite' || (!pgProbe.error && (b === 'pg-1' || !natsError)))
  const missing = wanted.filter((b) => !list.includes(b))
  if (missing.length > 0 && requested) throw new Error(`--backends ${missing.join(',')}: ${why.join('; ')}`)
  if (!pgProbe.error) await dropStaleScratchDatabases()
  return {
    list,
    ...(missing.length > 0 ? { note: `${missing.join(', ')} not run: ${why.join('; ')}` } : {}),
    ...(pgProbe.info ? { postgres: pgProbe.info } : {}),
  }
}

/** pg_stat_database counters of one database (each backend reports its own when it ends). */
interface DbCounters {
  deadlocks: number
  /** Transactions committed (autocommit statements count one each). */
  commits: number
  /** Rows inserted, updated and deleted. */
  rowsWritten: number
}

interface ScratchDatabase {
  url: string
  /** pg_stat_database of this database, once its connections have ended. */
  counters(): Promise<DbCounters>
  drop(): Promise<void>
}

/** A new, empty database on PG_ADMIN_URL's server, dropped (even with connections open) by drop(). */
async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `im_bench_${process.pid}_${randomBytes(4).toString('hex')}`
  await admin((c) => c.query(`CREATE DATABASE ${name}`))
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  let dropped: Promise<void> | undefined
  return {
    url: url.toString(),
    counters: () =>
      admin(async (c) => {
        // A backend reports its counts when it ends: wait (up to 5 s) until the nodes' have.
        for (let i = 0; i < 50; i++) {
          const { rows } = await c.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          )
          if (Number(rows[0]?.n) === 0) break
          await new Promise((r) => setTimeout(r, 100))
        }
        await new Promise((r) => setTimeout(r, 300))
        const { rows } = await c.query<{ deadlocks: string; commits: string; written: string }>(
          `SELECT deadlocks, xact_commit AS commits, tup_inserted + tup_updated + tup_deleted AS written
           FROM pg_stat_database WHERE datname = $1`,
          [name],
        )
        const row = rows[0]
        return {
          deadlocks: Number(row?.deadlocks ?? NaN),
          commits: Number(row?.commits ?? NaN),
          rowsWritten: Number(row?.written ?? NaN),
        }
      }),
    drop: () =>
      (dropped ??= admin(async (c) => {
        if (process.env.BENCH_PG_KEEP === '1') return
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      })),
  }
}

/**
 * PostgresStorage on a migrated scratch database of its own; its close() also drops the database.
 * `analyze()` runs ANALYZE on it (what autovacuum does to a live database once enough rows changed).
 */
export async function openScratchStorage(): Promise<{ storage: PostgresStorage; analyze(): Promise<void> }> {
  const db = await createScratchDatabase()
  let storage: PostgresStorage
  try {
    storage = await PostgresStorage.open(db.url)
  } catch (error) {
    await db.drop()
    throw error
  }
  const close = storage.close.bind(storage)
  storage.close = async () => {
    await close()
    await db.drop()
  }
  return {
    storage,
    analyze: async () => {
      const client = new pg.Client({ connectionString: db.url })
      await client.connect()
      try {
        await client.query('ANALYZE')
      } finally {
        await client.end()
      }
    },
  }
}

/** Which processes a run's CPU is read from. */
export interface CpuTarget {
  /** The server processes (one per node). */
  nodePids: number[]
  /** Also every `postgres` process of the machine. */
  postgres: boolean
  /** Also the `nats-server` process. */
  nats: boolean
}

export interface BenchCluster {
  backend: Backend
  nodes: BenchServer[]
  cpuTarget: CpuTarget
  /** Where the i-th client connects: round-robin over the nodes. */
  urlFor(i: number): string
  /** Messages the nodes have published on NATS so far (their /metrics, im_bus_pushes_published_total). */
  busPublished(): Promise<number>
  /**
   * Stops the nodes (SIGKILL for one still busy after 5 s: a run stopped at its time limit may leave
   * a long queue), then drops the scratch database (PostgreSQL); resolves with the deadlocks
   * PostgreSQL detected in it, and the commits and rows written since the seeding (read once its
   * connections are closed, so every backend has reported its counts).
   */
  close(): Promise<{ deadlocks?: number; commits?: number; rowsWritten?: number }>
}

/** SIGTERM, then SIGKILL after `ms`. */
async function stopNode(node: BenchServer, ms: number): Promise<void> {
  const timer = setTimeout(() => node.child.kill('SIGKILL'), ms)
  try {
    await node.close()
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A fresh server of `backend` with `userIds` seeded (accounts and a session each), its nodes
 * started; `seedS` is the time to create, migrate and seed the database.
 */
export async function startCluster(
  backend: Backend,
  options: {
    dir: string
    userIds: readonly string[]
    groupReceipts?: Partial<GroupReceiptSettings>
  },
): Promise<{ cluster: BenchCluster; accounts: Account[]; seedS: number }> {
  const t0 = process.hrtime.bigint()
  let db: ScratchDatabase | undefined
  let accounts: Account[]
  let storage: Storage | undefined
  const nodes: BenchServer[] = []
  /** The counters once the seeding's connections have ended: the run's are the difference. */
  let seeded: DbCounters | undefined
  const close = async (): Promise<{ deadlocks?: number; commits?: number; rowsWritten?: number }> => {
    await Promise.all(nodes.map((n) => stopNode(n, 5_000)))
    if (!db) return {}
    const end = await db.counters().catch(() => undefined)
    await db.drop()
    return {
      deadlocks: end ? end.deadlocks - (seeded?.deadlocks ?? 0) : NaN,
      commits: end && seeded ? end.commits - seeded.commits : NaN,
      rowsWritten: end && seeded ? end.rowsWritten - seeded.rowsWritten : NaN,
    }
  }
  try {
    if (backend === 'sqlite') {
      storage = openServerStorage(join(options.dir, 'node-0'))
    } else {
      db = await createScratchDatabase()
      storage = await PostgresStorage.open(db.url)
    }
    accounts = await seedAccounts(storage, options.userIds)
    await storage.close()
    storage = undefined
    if (db) seeded = await db.counters()
    const seedS = Number(process.hrtime.bigint() - t0) / 1e9
    const count = NODES[backend]
    // In parallel (each node is a tsx process that takes a second or two to start).
    const started = await Promise.allSettled(
      Array.from({ length: count }, (_, i) =>
        spawnServer({
          dataDir: join(options.dir, `node-${i}`),
          ...(db ? { store: db.url } : {}),
          ...(count > 1 ? { bus: NATS_URL } : {}),
          ...(options.groupReceipts ? { groupReceipts: options.groupReceipts } : {}),
        }),
      ),
    )
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value)
    const failed = started.find((s) => s.status === 'rejected')
    if (failed) throw failed.reason
    return {
      cluster: {
        backend,
        nodes,
        cpuTarget: { nodePids: nodes.map((n) => n.pid), postgres: backend !== 'sqlite', nats: count > 1 },
        urlFor: (i) => (nodes[i % nodes.length] as BenchServer).url,
        busPublished: async () => {
          let total = 0
          for (const node of nodes) {
            const text = await (await fetch(`${node.httpUrl}/metrics`)).text()
            total += Number(/^im_bus_pushes_published_total (\d+)/m.exec(text)?.[1] ?? 0)
          }
          return total
        },
        close,
      },
      accounts,
      seedS,
    }
  } catch (error) {
    await storage?.close().catch(() => undefined)
    await close()
    throw error
  }
}

export interface ClusterCpu {
  /** Per node. */
  nodesS: number[]
  /** Sum of the nodes. */
  serverS: number
  /** Every `postgres` process (undefined when the target has no PostgreSQL). */
  postgresS?: number
  natsS?: number
  /** Nodes + PostgreSQL + NATS: the whole service. */
  allInS: number
}

/** CPU seconds of the target's processes over `work`, its wall time, and this process's CPU. */
export async function withClusterCpu<T>(
  target: CpuTarget,
  work: () => Promise<T>,
): Promise<{ result: T; wallS: number; selfCpuS: number; cpu: ClusterCpu }> {
  const take = () => ({
    nodes: cpuSnapshot(target.nodePids),
    postgres: target.postgres ? cpuSnapshot(pidsNamed('postgres')) : undefined,
    nats: target.nats ? cpuSnapshot(pidsNamed('nats-server')) : undefined,
  })
  const before = take()
  const self0 = selfCpuSeconds()
  const t0 = process.hrtime.bigint()
  const result = await work()
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9
  const selfCpuS = selfCpuSeconds() - self0
  const after = take()
  const nodesS = target.nodePids.map((pid) => (after.nodes.get(pid) ?? NaN) - (before.nodes.get(pid) ?? NaN))
  const serverS = nodesS.reduce((a, b) => a + b, 0)
  const postgresS = before.postgres && after.postgres ? cpuDelta(before.postgres, after.postgres) : undefined
  const natsS = before.nats && after.nats ? cpuDelta(before.nats, after.nats) : undefined
  return {
    result,
    wallS,
    selfCpuS,
    cpu: {
      nodesS,
      serverS,
      ...(postgresS === undefined ? {} : { postgresS }),
      ...(natsS === undefined ? {} : { natsS }),
      allInS: serverS + (postgresS ?? 0) + (natsS ?? 0),
    },
  }
}

/** RSS of the largest node (each node is a process of its own; PostgreSQL's memory is not in it). */
export function clusterMemory(cluster: BenchCluster): Memory {
  const each = cluster.nodes.map((n) => memory(n.pid))
  return {
    rssMiB: Math.max(...each.map((m) => m.rssMiB)),
    peakRssMiB: Math.max(...each.map((m) => m.peakRssMiB)),
  }
}
