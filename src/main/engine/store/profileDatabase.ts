/**
 * Opening a profile's SQLite file safely. Before the store touches the file, a read-only probe reads
 * its schema version and its schema:
 * - written by a newer app (schema version above ours): refused with PROFILE_DATABASE_TOO_NEW, the
 *   file left exactly as it is (nothing is written to it);
 * - not a database, or its header or schema damaged: the file (with its -wal and -shm) is renamed
 *   aside with a timestamp, never overwritten or deleted, and a fresh store is started, which the
 *   engine fills again from the server. The caller gets a notice to show the user.
 * Damage deeper in the data pages is not looked for here (that would read the whole file at every
 * start); it surfaces as errors of the calls that read those pages.
 */
import { closeSync, existsSync, openSync, readSync, renameSync } from 'node:fs'
import { basename } from 'node:path'
import Database from 'better-sqlite3'
import { Code, CodedError } from '../../../shared/codes'
import { SchemaTooNewError } from '../../../node/migrate'
import { engineMigrations } from './migrations'
import { SqliteEngineStore } from './sqliteStore'

export interface ProfileNotice {
  code: number
  msg: string
}

export interface OpenedProfileStore {
  store: SqliteEngineStore
  /** Set when the old file was set aside: tell the user. */
  notice?: ProfileNotice
}

const CORRUPT_CODES = /^SQLITE_(CORRUPT|NOTADB)/

function isCorruption(error: unknown): error is Error {
  return (
    error instanceof NotADatabaseError ||
    (error instanceof Database.SqliteError && CORRUPT_CODES.test(error.code))
  )
}

const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1')

/** Neither an SQLite database nor empty (SQLite starts an empty file afresh). */
class NotADatabaseError extends Error {}

function tooNew(file: string, version: number): CodedError {
  return new CodedError(
    Code.PROFILE_DATABASE_TOO_NEW,
    `This profile's history (${basename(file)}) was written by a newer version of the app ` +
      `(schema ${version}; this version knows up to ${engineMigrations.length}). Update the app to ` +
      'open it; the file was left untouched.',
  )
}

/**
 * The schema version comes from the file header (bytes 60-63, user_version), so a database from a
 * newer app is refused without SQLite ever opening it: not even a -wal or -shm file appears. Then
 * the schema is read, which finds a damaged first page or schema.
 */
function probe(file: string, nativeBinding: string | undefined): void {
  const header = Buffer.alloc(100)
  const fd = openSync(file, 'r')
  let length: number
  try {
    length = readSync(fd, header, 0, header.length, 0)
  } finally {
    closeSync(fd)
  }
  if (length === 0) return
  if (length < header.length || !header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC))
    throw new NotADatabaseError('the file is not an SQLite database')
  const version = header.readUInt32BE(60)
  if (version > engineMigrations.length) throw tooNew(file, version)
  const db = new Database(file, { fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) })
  try {
    db.prepare('SELECT type, name, sql FROM sqlite_master').all()
  } finally {
    db.close()
  }
}

/** `<file>.corrupt-<UTC time>[-n]`: a name that no earlier set-aside file has. */
function asideName(file: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-')
  let name = `${file}.corrupt-${stamp}`
  for (let n = 2; existsSync(name); n++) name = `${file}.corrupt-${stamp}-${n}`
  return name
}

function setAside(file: string, now: number): string {
  const aside = asideName(file, now)
  renameSync(file, aside)
  // A write-ahead log left beside a fresh file would be replayed into it: it goes with its database.
  for (const suffix of ['-wal', '-shm']) {
    if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix)
  }
  return aside
}

export function openProfileStore(
  file: string,
  options: { nativeBinding?: string; now?: () => number } = {},
): OpenedProfileStore {
  const binding = options.nativeBinding
  let notice: ProfileNotice | undefined
  if (existsSync(file)) {
    try {
      probe(file, binding)
    } catch (error) {
      if (!isCorruption(error)) throw error
      const aside = setAside(file, (options.now ?? Date.now)())
      notice = {
        code: Code.PROFILE_DATABASE_CORRUPT,
        msg:
          `The local history of this profile could not be read (${error.message}). It was set aside as ` +
          `${basename(aside)} and is being downloaded again from the server.`,
      }
    }
  }
  let store: SqliteEngineStore
  try {
    store = new SqliteEngineStore(file, binding ? { nativeBinding: binding } : {})
  } catch (error) {
    // The header said otherwise, but a write-ahead log left by a newer app may say newer.
    if (error instanceof SchemaTooNewError) throw tooNew(file, error.databaseVersion)
    throw error
  }
  return notice ? { store, notice } : { store }
}
