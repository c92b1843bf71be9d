/**
 * npm run bench:pg-driver [-- postgres://postgres@127.0.0.1:5432/postgres] [-- --rounds 3]
 *
 * How the PostgreSQL storage's driver was chosen (issue #10): the same workload on `pg`
 * (node-postgres) and `postgres` (porsager), each in a scratch database created here and dropped
 * after. Only `pg` is a dependency; install the other one for a run without saving it:
 *
 *   npm install --no-save postgres@3.4.9 && npm run bench:pg-driver
 *
 * Workloads, each on a fresh table, rounds alternating which driver goes first (medians printed):
 * - insert: 10,000 single-row `INSERT … RETURNING id`, in transactions of 50, on one connection
 *   (the shape of a group commit);
 * - select: 10,000 point `SELECT … WHERE id = $1`, one after another on one connection (latency);
 * - select ×8: the same 10,000, eight in flight on a pool of eight (many requests at once).
 * Wall time and this process's CPU time (the driver's own cost; the server's is not in it).
 * Never part of the test suite: nothing here asserts a time.
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'

const ROWS = 10_000
const TX_SIZE = 50
const PARALLEL = 8

/** What one driver offers to the workloads, over one connection or a pool of them. */
interface Client {
  query(sql: string, params: unknown[], name: string): Promise<Record<string, unknown>[]>
  /** Runs `fn` in a transaction on one connection. */
  tx(fn: (q: Client['query']) => Promise<void>): Promise<void>
  end(): Promise<void>
}

type Open = (url: string, max: number) => Promise<Client>

// The drivers are loaded by name at run time, so the one that is not a dependency need not be
// installed for the type check.
async function load<T>(name: string): Promise<T> {
  try {
    return ((await import(name)) as { default: T }).default
  } catch {
    throw new Error(
      `${name} is not installed: npm install --no-save ${name === 'postgres' ? 'postgres@3.4.9' : name}`,
    )
  }
}

interface PgPool {
  query(config: {
    text: string
    values: unknown[]
    name?: string
  }): Promise<{ rows: Record<string, unknown>[] }>
  connect(): Promise<PgPool & { release(): void }>
  end(): Promise<void>
}

/** node-postgres; `named`: each statement prepared once per connection (`name`), else parsed every time. */
const openPg =
  (named: boolean): Open =>
  async (url, max) => {
    const pg = await load<{ Pool: new (config: object) => PgPool }>('pg')
    const pool = new pg.Pool({ connectionString: url, max })
    const run =
      (on: PgPool): Client['query'] =>
      async (text, values, name) =>
        (await on.query(named ? { text, values, name } : { text, values })).rows
    return {
      query: run(pool),
      async tx(fn) {
        const client = await pool.connect()
        try {
          await client.query({ text: 'BEGIN', values: [] })
          await fn(run(client))
          await client.query({ text: 'COMMIT', values: [] })
        } finally {
          client.release()
        }
      },
      end: () => pool.end(),
    }
  }

interface PostgresSql {
  (strings: TemplateStringsArray, ...params: unknown[]): Promise<Record<string, unknown>[]>
  unsafe(sql: string, params: unknown[], options?: { prepare: boolean }): Promise<Record<string, unknown>[]>
  begin(fn: (sql: PostgresSql) => Promise<void>): Promise<unknown>
  end(): Promise<void>
}

/**
 * The workloads' SQL as tagged templates, postgres' own API (`$1`… split at the placeholders once,
 * so the same TemplateStringsArray comes back for the same text, as a literal template's would).
 */
const templates = new Map<string, TemplateStringsArray>()
function template(text: string): TemplateStringsArray {
  let strings = templates.get(text)
  if (!strings) {
    const parts = text.split(/\$\d+/)
    strings = Object.assign([...parts], { raw: parts }) as TemplateStringsArray
    templates.set(text, strings)
  }
  return strings
}

/** porsager's postgres: prepares every statement by default; `unsafe` or its tagged templates. */
const openPostgres =
  (tagged: boolean): Open =>
  async (url, max) => {
    const postgres = await load<(url: string, options: object) => PostgresSql>('postgres')
    const sql = postgres(url, { max, onnotice: () => {} })
    const run =
      (on: PostgresSql): Client['query'] =>
      (text, values) =>
        tagged && values.length > 0
          ? on(template(text), ...values)
          : on.unsafe(text, values, { prepare: true })
    return {
      query: run(sql),
      async tx(fn) {
        await sql.begin((inner) => fn(run(inner)))
      },
      end: () => sql.end(),
    }
  }

const drivers: Record<string, Open> = {
  'pg 8.23.1 (named statements)': openPg(true),
  'pg 8.23.1 (unnamed)': openPg(false),
  'postgres 3.4.9 (unsafe)': openPostgres(false),
  'postgres 3.4.9 (tagged templates)': openPostgres(true),
}

interface Figures {
  wallMs: number
  cpuMs: number
}

async function timed(fn: () => Promise<void>): Promise<Figures> {
  const cpu = process.cpuUsage()
  const start = process.hrtime.bigint()
  await fn()
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6
  const used = process.cpuUsage(cpu)
  return { wallMs, cpuMs: (used.user + used.system) / 1000 }
}

async function workloads(open: Open, url: string): Promise<Record<string, Figures>> {
  const one = await open(url, 1)
  const many = await open(url, PARALLEL)
  try {
    await one.query('DROP TABLE IF EXISTS bench_rows', [], 'drop')
    await one.query(
      `CREATE TABLE bench_rows (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
         conv_id BIGINT NOT NULL, body TEXT NOT NULL, sent_at BIGINT NOT NULL)`,
      [],
      'create',
    )
    const insertSql = 'INSERT INTO bench_rows (conv_id, body, sent_at) VALUES ($1, $2, $3) RETURNING id'
    const selectSql = 'SELECT id, conv_id, body, sent_at FROM bench_rows WHERE id = $1'
    const ids: number[] = []
    const insert = await timed(async () => {
      for (let t = 0; t < ROWS / TX_SIZE; t++)
        await one.tx(async (q) => {
          for (let i = 0; i < TX_SIZE; i++) {
            const [row] = await q(insertSql, [t, `message ${t}.${i}`, Date.now()], 'insert')
            ids.push(Number(row?.id))
          }
        })
    })
    if (ids.length !== ROWS) throw new Error(`inserted ${ids.length} rows`)
    const order = ids.map((id, i) => ids[(i * 7919) % ids.length] ?? id)
    const select = await timed(async () => {
      for (const id of order) {
        const [row] = await one.query(selectSql, [id], 'select')
        if (!row) throw new Error(`no row ${id}`)
      }
    })
    const parallel = await timed(async () => {
      let next = 0
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < order.length) {
            const id = order[next++]
            const [row] = await many.query(selectSql, [id], 'select')
            if (!row) throw new Error(`no row ${id}`)
          }
        }),
      )
    })
    return { insert, select, [`select ×${PARALLEL}`]: parallel }
  } finally {
    await one.end()
    await many.end()
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? NaN
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    options: { rounds: { type: 'string', default: '3' } },
    allowPositionals: true,
  })
  const admin = positionals[0] ?? process.env.PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
  const rounds = Number(values.rounds)
  // Both drivers load before anything runs: a missing one is said at once, not after minutes.
  for (const name of ['pg', 'postgres']) await load(name)
  const dbName = `bench_pgdriver_${randomBytes(4).toString('hex')}`
  const adminClient = await openPg(false)(admin, 1)
  await adminClient.query(`CREATE DATABASE ${dbName}`, [], '')
  const url = new URL(admin)
  url.pathname = `/${dbName}`
  const results: Record<string, Record<string, Figures[]>> = {}
  try {
    const names = Object.keys(drivers)
    for (let round = 0; round < rounds; round++) {
      // Alternate the order, so neither driver always runs on a warmer server.
      const order = round % 2 === 0 ? names : [...names].reverse()
      for (const name of order) {
        const open = drivers[name]
        if (!open) continue
        const figures = await workloads(open, url.toString())
        for (const [workload, f] of Object.entries(figures)) ((results[name] ??= {})[workload] ??= []).push(f)
        process.stderr.write(`round ${round + 1}/${rounds}: ${name} done\n`)
      }
    }
  } finally {
    await adminClient.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`, [], '')
    await adminClient.end()
  }
  console.log(`median of ${rounds} rounds, ${ROWS} rows; wall ms (client CPU ms)`)
  console.log(`| driver | insert, tx of ${TX_SIZE} | select, 1 at a time | select, ${PARALLEL} in flight |`)
  console.log('| --- | --- | --- | --- |')
  for (const [name, byWorkload] of Object.entries(results)) {
    const cells = Object.values(byWorkload).map(
      (runs) =>
        `${median(runs.map((r) => r.wallMs)).toFixed(0)} (${median(runs.map((r) => r.cpuMs)).toFixed(0)})`,
    )
    console.log(`| ${name} | ${cells.join(' | ')} |`)
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
