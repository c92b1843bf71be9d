import type Database from 'better-sqlite3'

export interface Migration {
  version: number
  name: string
  up(db: Database.Database): void
}

export class DatabaseTooNewError extends Error {
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(
      `This profile's database is at schema version ${found}, but this app only knows up to ${supported}. ` +
        'It was written by a newer version of the app: update the app instead of opening it with this one.',
    )
    this.name = 'DatabaseTooNewError'
  }
}

/**
 * Runs pending numbered migrations in one transaction. Migrations are append-only: the list must be
 * 1, 2, 3, … with no gaps, and a database newer than the code is refused rather than touched.
 */
export function migrate(
  db: Database.Database,
  migrations: readonly Migration[],
): { from: number; to: number } {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration #${i} has version ${m.version}, expected ${i + 1}`)
  })
  const latest = migrations.length
  const current = db.pragma('user_version', { simple: true }) as number
  if (current > latest) throw new DatabaseTooNewError(current, latest)
  if (current === latest) return { from: current, to: current }
  db.transaction(() => {
    for (const m of migrations.slice(current)) m.up(db)
    db.pragma(`user_version = ${latest}`)
  })()
  return { from: current, to: latest }
}
