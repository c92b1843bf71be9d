/**
 * SQLite helpers shared by the IM server's storage and the client engine's store (Node code used by
 * both processes): statements prepared once per database, and transactions that nest by joining.
 */
import type Database from 'better-sqlite3'

export type Db = Database.Database

const statementCache = new WeakMap<Db, Map<string, Database.Statement<unknown[], unknown>>>()

/**
 * A prepared statement, compiled once per database and reused: the domain modules call this on
 * every query, so SQL lives next to the code that uses it without paying for re-preparation.
 */
export function prepare<Params extends unknown[] = unknown[], Row = unknown>(
  db: Db,
  sql: string,
): Database.Statement<Params, Row> {
  let cache = statementCache.get(db)
  if (!cache) {
    cache = new Map()
    statementCache.set(db, cache)
  }
  let statement = cache.get(sql)
  if (!statement) {
    statement = db.prepare<unknown[], unknown>(sql)
    cache.set(sql, statement)
  }
  // Shared by SQL text, so every caller starts from rows as objects: a caller's `.pluck()` changes
  // the statement itself, and would otherwise change what the same SQL returns to every other caller
  // (it did: the account settings read as all off once the recall window was read with pluck).
  if (statement.reader) statement.pluck(false)
  // The cache is keyed by SQL text, so the caller's declared types are the ones this SQL was written for.
  return statement as unknown as Database.Statement<Params, Row>
}

export function toBool(value: number | null | undefined): boolean {
  return value === 1
}

export function fromBool(value: boolean): number {
  return value ? 1 : 0
}

const transactionRunners = new WeakMap<Db, (fn: () => unknown) => unknown>()

/**
 * Runs `fn` atomically. Outside a transaction it opens one, committing when `fn` returns and rolling
 * back when it throws. Inside one (an operation of the gateway's group commit runs in its own
 * savepoint) it simply runs: a throw propagates to the owner of that transaction, whose rollback
 * takes `fn`'s writes with it. A nested savepoint per call would be two more statements for every
 * message and receipt (bench scenario s6). better-sqlite3's `db.transaction(fn)` builds a new
 * wrapper on every call (~9% of the server's CPU in s6 once), so the wrapper is built once per
 * database.
 */
export function transact<T>(db: Db, fn: () => T): T {
  if (db.inTransaction) return fn()
  let run = transactionRunners.get(db)
  if (!run) {
    run = db.transaction((work: () => unknown) => work())
    transactionRunners.set(db, run)
  }
  return run(fn) as T
}
