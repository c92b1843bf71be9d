/**
 * The numbered-migration runner shared by the IM server's database and every profile's database
 * (Node code used by both processes; nothing here runs in the renderer).
 *
 * Migrations are append-only: the list must be 1, 2, 3, … with no gaps. Pending ones and the new
 * `user_version` are written in one transaction, so a failure leaves the database as it was, and a
 * database newer than the code is refused rather than touched.
 */
import type Database from 'better-sqlite3'

export interface Migration {
  /** 1, 2, 3, … in order; recorded in `PRAGMA user_version` once applied. */
  version: number
  name: string
  up(db: Database.Database): void
}

export class SchemaTooNewError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly codeVersion: number,
    owner: string,
  ) {
    super(
      `The database is at schema version ${databaseVersion}, newer than this ${owner} understands ` +
        `(${codeVersion}): it was written by a newer version. Run that version instead.`,
    )
    this.name = 'SchemaTooNewError'
  }
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number
}

/** `owner` names the program in the refusal message ("server", "app"). */
export function runMigrations(
  db: Database.Database,
  list: readonly Migration[],
  owner: string,
): { from: number; to: number } {
  list.forEach((migration, index) => {
    if (migration.version !== index + 1) {
      throw new Error(
        `migration list out of order: position ${index + 1} holds version ${migration.version} (${migration.name})`,
      )
    }
  })
  const latest = list.length
  const current = schemaVersion(db)
  if (current > latest) throw new SchemaTooNewError(current, latest, owner)
  if (current === latest) return { from: current, to: current }
  db.transaction(() => {
    for (const migration of list.slice(current)) migration.up(db)
    // PRAGMA takes no bound parameters; latest is an integer computed here.
    db.pragma(`user_version = ${latest}`)
  })()
  return { from: current, to: latest }
}
