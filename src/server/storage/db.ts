import Database from 'better-sqlite3'
import type { Db } from '../../node/sqlite'

export { fromBool, prepare, toBool, transact, type Db } from '../../node/sqlite'

/** Opens (or creates) a database file, or `:memory:`, with the pragmas the server relies on. */
export function openDatabase(file: string): Db {
  const db = new Database(file)
  // WAL lets readers run beside the single writer; NORMAL is durable across process crashes in WAL mode.
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  return db
}
