/**
 * The one way the PostgreSQL storage talks to the database: `Sql`, over the pool (each call on any
 * free connection, in autocommit) or over one connection inside an open transaction.
 *
 * Every statement is sent as a named prepared statement (parsed and planned once per connection;
 * bench/pgDriver.ts measured that as the fastest way through `pg`), and BIGINT columns come back as
 * JavaScript numbers: ids, seqs and epoch milliseconds all stay below 2^53.
 */
import pg from 'pg'
import { StorageUnavailableError } from '../types'

const INT8_OID = 20

function parseInt8(text: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value)) throw new RangeError(`BIGINT ${text} does not fit a JavaScript number`)
  return value
}

/** This pool's own parsers (pg's global ones, which other code in the process may use, are left alone). */
export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
}

/** SQL text → statement name; the same text always gets the same name, on every connection. */
const statementNames = new Map<string, string>()
function statementName(text: string): string {
  let name = statementNames.get(text)
  if (!name) {
    name = `im_${statementNames.size + 1}`
    statementNames.set(text, name)
  }
  return name
}

type Queryable = pg.Pool | pg.PoolClient

export interface Sql {
  rows<R>(text: string, values?: readonly unknown[]): Promise<R[]>
  first<R>(text: string, values?: readonly unknown[]): Promise<R | undefined>
  /** The number of rows the statement wrote. */
  run(text: string, values?: readonly unknown[]): Promise<number>
  /**
   * Runs `fn` atomically. Inside a transaction it simply runs there (the owner of the transaction
   * rolls it back on a throw, as `transact` does for SQLite); on the pool it gets a transaction of
   * its own on one connection (`inTransaction`).
   */
  atomic<T>(fn: (sql: Sql) => Promise<T>): Promise<T>
}

class QuerySql implements Sql {
  constructor(
    private readonly on: Queryable,
    private readonly pool: pg.Pool | undefined,
  ) {}

  private async query<R>(
    text: string,
    values: readonly unknown[],
  ): Promise<pg.QueryResult<R & pg.QueryResultRow>> {
    try {
      return await this.on.query<R & pg.QueryResultRow>({
        name: statementName(text),
        text,
        values: [...values],
      })
    } catch (error) {
      throw unavailableOr(error)
    }
  }

  async rows<R>(text: string, values: readonly unknown[] = []): Promise<R[]> {
    return (await this.query<R>(text, values)).rows
  }

  async first<R>(text: string, values: readonly unknown[] = []): Promise<R | undefined> {
    return (await this.query<R>(text, values)).rows[0]
  }

  async run(text: string, values: readonly unknown[] = []): Promise<number> {
    return (await this.query(text, values)).rowCount ?? 0
  }

  atomic<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    if (!this.pool) return fn(this)
    return inTransaction(this.pool, (client) => fn(transactionSql(client)))
  }
}

/** Autocommit calls: each statement on whichever pooled connection is free. */
export function poolSql(pool: pg.Pool): Sql {
  return new QuerySql(pool, pool)
}

/** Calls inside the transaction open on `client`. */
export function transactionSql(client: pg.PoolClient): Sql {
  return new QuerySql(client, undefined)
}

/** Socket errors of a database that is gone or cannot be reached. */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
])

/**
 * Whether `error` says the database is unavailable rather than that the statement was wrong: a
 * socket error, SQLSTATE class 08 (connection exception), 57P01–57P03 (shut down, crashed, starting
 * up), 53300 (too many connections), or pg's own messages for a connection that ended or could not
 * be opened in time.
 */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof StorageUnavailableError) return true
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') {
    if (UNREACHABLE.has(code) || code.startsWith('08') || code === '53300') return true
    if (code === '57P01' || code === '57P02' || code === '57P03') return true
  }
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
    error.message,
  )
}

/** `error` as StorageUnavailableError when it means the database is unavailable, else as it is. */
function unavailableOr(error: unknown): unknown {
  return isUnavailable(error) && !(error instanceof StorageUnavailableError)
    ? new StorageUnavailableError(error)
    : error
}

/** SQLSTATEs after which the whole transaction may simply run again. */
const RETRYABLE = new Set(['40001' /* serialization_failure */, '40P01' /* deadlock_detected */])

function isRetryable(error: unknown): boolean {
  return error instanceof Error && RETRYABLE.has((error as { code?: unknown }).code as string)
}

/** Attempts of `inTransaction` in all, the first included. */
const TRANSACTION_ATTEMPTS = 4

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * BEGIN, `fn` on that connection, COMMIT; ROLLBACK when `fn` or the commit rejects. After a
 * serialization failure or a deadlock (PostgreSQL rolled this transaction back to let another one
 * through) the whole of `fn` runs again, up to TRANSACTION_ATTEMPTS times, after a short random pause:
 * `fn` must keep its effects inside the transaction until it resolves.
 *
 * A COMMIT that PostgreSQL answers with ROLLBACK (the transaction had failed and `fn` caught the
 * error) rejects: nothing was written, so it must not be reported as done.
 */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await connectPooled(pool)
    let broken: Error | undefined
    try {
      await client.query('BEGIN')
      const value = await fn(client)
      const commit = await client.query('COMMIT')
      if (commit.command !== 'COMMIT') throw new TransactionAbortedError()
      return value
    } catch (error) {
      broken = await rollback(client)
      if (!broken && attempt < TRANSACTION_ATTEMPTS && isRetryable(error)) {
        await pause(Math.random() * 20 * attempt)
        continue
      }
      throw unavailableOr(error)
    } finally {
      // A connection whose ROLLBACK failed is in an unknown state: the pool closes it.
      client.release(broken)
    }
  }
}

const guarded = new WeakSet<pg.PoolClient>()
const ignore = (): void => {}

/**
 * A pooled connection, or StorageUnavailableError when none can be opened. The pool listens for the
 * errors of idle connections only: a checked-out connection that dies between two statements (the
 * database stopped) emits 'error' with nobody listening, which would end the process. The listener
 * added here swallows that event; the failure reaches the caller through its next statement.
 */
export async function connectPooled(pool: pg.Pool): Promise<pg.PoolClient> {
  let client: pg.PoolClient
  try {
    client = await pool.connect()
  } catch (error) {
    throw unavailableOr(error)
  }
  if (!guarded.has(client)) {
    guarded.add(client)
    client.on('error', ignore)
  }
  return client
}

/** Rolls back what is open on `client`; the error when even that failed (the connection is unusable). */
export async function rollback(client: pg.PoolClient): Promise<Error | undefined> {
  try {
    await client.query('ROLLBACK')
    return undefined
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error))
  }
}

class TransactionAbortedError extends Error {
  constructor() {
    super('the transaction had failed and was rolled back at COMMIT: nothing of it was saved')
    this.name = 'TransactionAbortedError'
  }
}
