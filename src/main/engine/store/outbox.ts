/** The durable outbox table: jobs written in the same transaction as the change they announce. */
import { prepare, transact, type Db } from '../../../node/sqlite'
import type { NewOutboxJob, OutboxKind, OutboxRow } from './types'

export const OUTBOX_BY_KIND_SQL = `SELECT id, kind, ref, payload, created_at AS createdAt, attempts
  FROM outbox WHERE kind = ? ORDER BY id LIMIT ?`

export function enqueue(db: Db, job: NewOutboxJob, now: number): void {
  prepare<[string, string, string, number]>(
    db,
    'INSERT INTO outbox (kind, ref, payload, created_at) VALUES (?, ?, ?, ?)',
  ).run(job.kind, job.ref, JSON.stringify(job.payload), now)
}

export function outbox(db: Db, kind: OutboxKind, limit: number): OutboxRow[] {
  return prepare<[string, number], OutboxRow>(db, OUTBOX_BY_KIND_SQL).all(kind, limit)
}

export function outboxSize(db: Db): number {
  return prepare<[], { n: number }>(db, 'SELECT count(*) AS n FROM outbox').get()?.n ?? 0
}

export function removeFromOutbox(db: Db, ids: readonly number[]): void {
  const remove = prepare<[number]>(db, 'DELETE FROM outbox WHERE id = ?')
  transact(db, () => {
    for (const id of ids) remove.run(id)
  })
}

export function countAttempts(db: Db, ids: readonly number[]): void {
  const count = prepare<[number]>(db, 'UPDATE outbox SET attempts = attempts + 1 WHERE id = ?')
  transact(db, () => {
    for (const id of ids) count.run(id)
  })
}
