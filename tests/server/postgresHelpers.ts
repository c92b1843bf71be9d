/**
 * PostgreSQL for the tests: a scratch database per storage, created on the server named by
 * PG_TEST_URL (default postgres://postgres@127.0.0.1:5432/postgres, the `postgres` database of a
 * local Debian install) and dropped when the storage closes.
 *
 * `skipPostgres`: when PostgreSQL does not answer, the PostgreSQL tests are skipped with one line
 * saying what to start, except under CI=true, where they run (and fail): CI must test both stores.
 */
import { randomBytes } from 'node:crypto'
import { writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isMainThread } from 'node:worker_threads'
import pg from 'pg'
import { PostgresStorage, type PostgresStorageOptions } from '../../src/server/storage/postgres/storage'

const PG_ADMIN_URL = process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

async function postgresAnswers(): Promise<boolean> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('SELECT 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

/** Once per test run, not once per test file: a marker named after the run's main process. */
function warnOnce(line: string): void {
  const run = isMainThread ? process.ppid : process.pid
  try {
    writeFileSync(join(tmpdir(), `receipts-messenger-pg-skip-${run}`), '', { flag: 'wx' })
  } catch {
    return
  }
  console.warn(line)
}

export const skipPostgres = process.env.CI !== 'true' && !(await postgresAnswers())
if (skipPostgres)
  warnOnce(
    `PostgreSQL tests skipped: nothing answers at ${PG_ADMIN_URL}. Start it with ` +
      "'pg_ctlcluster 15 main start' (or 'service postgresql start'), or set PG_TEST_URL.",
  )

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL })
  await client.connect()
  try {
    return await fn(client)
  } finally {
    await client.end()
  }
}

export interface ScratchDatabase {
  url: string
  drop(): Promise<void>
}

/** A new, empty database with a random name. */
export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `im_test_${randomBytes(6).toString('hex')}`
  await admin((client) => client.query(`CREATE DATABASE ${name}`))
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  let dropped: Promise<void> | undefined
  return {
    url: url.toString(),
    drop: () =>
      (dropped ??= admin(async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      })),
  }
}

/** A PostgresStorage on a scratch database of its own, which close() drops. */
export async function openScratchStorage(options?: PostgresStorageOptions): Promise<PostgresStorage> {
  const db = await createScratchDatabase()
  let storage: PostgresStorage
  try {
    storage = await PostgresStorage.open(db.url, options)
  } catch (error) {
    await db.drop()
    throw error
  }
  const close = storage.close.bind(storage)
  storage.close = async () => {
    await close()
    await db.drop()
  }
  return storage
}
