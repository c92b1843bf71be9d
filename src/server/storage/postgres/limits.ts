/**
 * `PostgresLimits`: the shared abuse limits (../../sharedLimits.ts) in the database every node uses,
 * tables `limit_buckets` and `login_failures` (migration 4). Each call is ONE statement, atomic on
 * its row: a take is `INSERT … ON CONFLICT DO UPDATE … RETURNING`, the refill computed from the stored
 * tokens and time under the row lock, so of two nodes taking at once the second sees the first's
 * result, and the last token goes to one of them only. The arithmetic is MemoryLimits' (double
 * precision, same operations, same order), so both answer alike.
 *
 * It has a small pool of its own: a take made inside a group commit (the delivery budget, in
 * sendMessage) runs beside the batch's open transaction, in autocommit, and holds its row lock for
 * that one statement only, so it never waits on, or makes wait, another node's batch.
 */
import pg from 'pg'
import type { BucketRule, FailureRule, SharedLimits, TakeResult } from '../../sharedLimits'
import { waitFor } from '../../sharedLimits'
import { openMigratedPool } from './migrations'
import { poolSql, type Sql } from './sql'

/** Rows deleted per statement by the sweep. */
const SWEEP_CHUNK = 1000

/**
 * A missing row is a full bucket; an existing one is refilled to `now`, then `n` tokens are taken if
 * there are that many (`taken`), else none. `full_at` (NULL: never refills) is when it is full
 * again, for the sweep. `at` never moves back (a node whose clock lags gets no refill from it).
 */
const TAKE = `
  WITH p AS (
    SELECT $1::text AS space, $2::text AS key, $3::float8 AS n, $4::float8 AS burst,
      $5::float8 AS refill, $6::float8 AS span, $7::float8 AS now
  )
  INSERT INTO limit_buckets AS b (space, key, tokens, at, taken, full_at)
  SELECT p.space, p.key, CASE WHEN p.burst >= p.n THEN p.burst - p.n ELSE p.burst END, p.now,
    p.burst >= p.n, p.now + (CASE WHEN p.burst >= p.n THEN p.n ELSE 0 END) * p.span / NULLIF(p.refill, 0)
  FROM p
  ON CONFLICT (space, key) DO UPDATE SET (tokens, at, taken, full_at) = (
    SELECT CASE WHEN r.t >= p.n THEN r.t - p.n ELSE r.t END, r.a, r.t >= p.n,
      r.a + (p.burst - CASE WHEN r.t >= p.n THEN r.t - p.n ELSE r.t END) * p.span / NULLIF(p.refill, 0)
    FROM p, LATERAL (
      SELECT LEAST(p.burst, b.tokens + GREATEST(0, p.now - b.at) * p.refill / p.span) AS t,
        GREATEST(b.at, p.now) AS a
    ) r
  )
  RETURNING taken, tokens`

/** The wait of a record not yet forgotten. */
const FAILURE_WAIT = `
  SELECT GREATEST(0, locked_until - $3::float8) AS wait FROM login_failures
  WHERE space = $1 AND key = $2 AND forget_at >= $3::float8`

/**
 * One more failure: a forgotten record starts again at 1. Past the free ones the key waits
 * `delay · 2^(over − 1)` (at most `max_delay`) from now; a wait never gets shorter.
 */
const RECORD_FAILURE = `
  WITH p AS (
    SELECT $1::text AS space, $2::text AS key, $3::integer AS free, $4::float8 AS delay,
      $5::float8 AS max_delay, $6::float8 AS forget, $7::float8 AS now
  )
  INSERT INTO login_failures AS f (space, key, failures, last_failure_at, locked_until, forget_at)
  SELECT p.space, p.key, 1, p.now,
    CASE WHEN 1 > p.free
      THEN p.now + LEAST(p.max_delay, p.delay * power(2::float8, LEAST(0 - p.free, 40))) ELSE 0 END,
    p.now + p.forget
  FROM p
  ON CONFLICT (space, key) DO UPDATE SET (failures, last_failure_at, locked_until, forget_at) = (
    SELECT r.n, r.last,
      CASE WHEN r.n > p.free
        THEN GREATEST(r.locked, p.now + LEAST(p.max_delay, p.delay * power(2::float8, LEAST(r.n - p.free - 1, 40))))
        ELSE r.locked END,
      r.last + p.forget
    FROM p, LATERAL (
      SELECT CASE WHEN p.now > f.forget_at THEN 1 ELSE f.failures + 1 END AS n,
        CASE WHEN p.now > f.forget_at THEN 0 ELSE f.locked_until END AS locked,
        CASE WHEN p.now > f.forget_at THEN p.now ELSE GREATEST(f.last_failure_at, p.now) END AS last
    ) r
  )
  RETURNING GREATEST(0, locked_until - $7::float8) AS wait`

/**
 * The sweep: a chunk at a time. The condition is repeated outside the subquery so that a row a take
 * changed meanwhile is checked again on its new version (READ COMMITTED) and kept.
 */
const SWEEP_BUCKETS = `
  DELETE FROM limit_buckets WHERE full_at <= $1 AND (space, key) IN (
    SELECT space, key FROM limit_buckets WHERE full_at <= $1 LIMIT ${SWEEP_CHUNK})`
const SWEEP_FAILURES = `
  DELETE FROM login_failures WHERE forget_at < $1 AND (space, key) IN (
    SELECT space, key FROM login_failures WHERE forget_at < $1 LIMIT ${SWEEP_CHUNK})`

export interface PostgresLimitsOptions {
  /** Connections of this pool (default 4); the storage has its own. */
  maxConnections?: number
  /** An idle pooled connection failed; reported only (as PostgresStorageOptions). */
  onConnectionError?: (error: Error) => void
}

export class PostgresLimits implements SharedLimits {
  readonly shared = true
  private readonly sql: Sql
  private closing: Promise<void> | undefined

  private constructor(private readonly pool: pg.Pool) {
    this.sql = poolSql(pool)
  }

  /** Connects and makes sure the schema is there (migrations run under their lock; usually a no-op). */
  static async open(url: string, options: PostgresLimitsOptions = {}): Promise<PostgresLimits> {
    const pool = await openMigratedPool(
      { connectionString: url },
      {
        name: 'receipts-messenger-server limits',
        max: options.maxConnections ?? 4,
        onError: options.onConnectionError,
      },
    )
    return new PostgresLimits(pool)
  }

  async take(space: string, key: string, count: number, rule: BucketRule, now: number): Promise<TakeResult> {
    const row = await this.sql.first<{ taken: boolean; tokens: number }>(TAKE, [
      space,
      key,
      count,
      rule.burst,
      rule.refill,
      rule.intervalMs,
      now,
    ])
    if (!row) throw new Error('limit_buckets: the take returned no row')
    return { ok: row.taken, retryAfterMs: row.taken ? 0 : waitFor(row.tokens, count, rule) }
  }

  async failureWait(space: string, key: string, now: number): Promise<number> {
    const row = await this.sql.first<{ wait: number }>(FAILURE_WAIT, [space, key, now])
    return row?.wait ?? 0
  }

  async recordFailure(space: string, key: string, rule: FailureRule, now: number): Promise<number> {
    const row = await this.sql.first<{ wait: number }>(RECORD_FAILURE, [
      space,
      key,
      rule.free,
      rule.delayMs,
      rule.maxDelayMs,
      rule.forgetAfterMs,
      now,
    ])
    return row?.wait ?? 0
  }

  async clearFailures(space: string, key: string): Promise<void> {
    await this.sql.run('DELETE FROM login_failures WHERE space = $1 AND key = $2', [space, key])
  }

  async sweep(now: number): Promise<number> {
    let deleted = 0
    for (const statement of [SWEEP_BUCKETS, SWEEP_FAILURES]) {
      for (;;) {
        const n = await this.sql.run(statement, [now])
        deleted += n
        if (n < SWEEP_CHUNK) break
        // Between chunks the event loop runs (the gateway's group commits go on meanwhile).
        await new Promise((resolve) => setImmediate(resolve))
      }
    }
    return deleted
  }

  /** Ends the pool once the calls in flight are done. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.pool.end())
  }
}
