/** Users, sessions, invite codes and the per-user receipt event log, on PostgreSQL. */
import type { AccountSettings, PushEvent } from '../../../shared/protocol'
import { DEFAULT_ACCOUNT_RECEIPTS } from '../../accountDefaults'
import type { NewUser, SessionRow, UserEventRow, UserRow } from '../types'
import type { Sql } from './sql'

interface UserRecord {
  id: string
  displayName: string
  passwordHash: string
  requireDeliveryAck: boolean
  requireReadAck: boolean
  shareReadReceipts: boolean
  lastEventSeq: number
  createdAt: number
}

const SETTINGS_COLUMNS = `require_delivery_ack AS "requireDeliveryAck", require_read_ack AS "requireReadAck",
  share_read_receipts AS "shareReadReceipts"`
const USER_COLUMNS = `id, display_name AS "displayName", password_hash AS "passwordHash", ${SETTINGS_COLUMNS},
  last_event_seq AS "lastEventSeq", created_at AS "createdAt"`

function toUser(r: UserRecord): UserRow {
  return {
    id: r.id,
    displayName: r.displayName,
    passwordHash: r.passwordHash,
    settings: {
      requireDeliveryAck: r.requireDeliveryAck,
      requireReadAck: r.requireReadAck,
      shareReadReceipts: r.shareReadReceipts,
    },
    lastEventSeq: r.lastEventSeq,
    createdAt: r.createdAt,
  }
}

/** A second insert of the same id (another node at the same moment) waits for the first, then writes nothing. */
export async function insertUser(sql: Sql, user: NewUser): Promise<boolean> {
  // Written, not left to the column defaults (as on SQLite): accountDefaults.ts decides.
  const receipts = user.receipts ?? DEFAULT_ACCOUNT_RECEIPTS
  const written = await sql.run(
    `INSERT INTO users (id, display_name, password_hash, created_at, require_delivery_ack, require_read_ack)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO NOTHING`,
    [
      user.id,
      user.displayName,
      user.passwordHash,
      user.createdAt,
      receipts.requireDeliveryAck,
      receipts.requireReadAck,
    ],
  )
  return written === 1
}

export async function getUser(sql: Sql, id: string): Promise<UserRow | undefined> {
  const row = await sql.first<UserRecord>(`SELECT ${USER_COLUMNS} FROM users WHERE id = $1`, [id])
  return row && toUser(row)
}

export async function getUsers(sql: Sql, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return []
  // One statement for any list length: an array parameter keeps the SQL text (and the prepared statement) fixed.
  const rows = await sql.rows<UserRecord>(
    `SELECT ${USER_COLUMNS} FROM users WHERE id = ANY($1::text[]) ORDER BY id`,
    [ids],
  )
  return rows.map(toUser)
}

/** One statement: the patch and the settings it leaves. */
export async function updateSettings(
  sql: Sql,
  userId: string,
  patch: Partial<AccountSettings>,
): Promise<AccountSettings> {
  const row = await sql.first<AccountSettings>(
    `UPDATE users SET
       require_delivery_ack = coalesce($2::boolean, require_delivery_ack),
       require_read_ack = coalesce($3::boolean, require_read_ack),
       share_read_receipts = coalesce($4::boolean, share_read_receipts)
     WHERE id = $1
     RETURNING ${SETTINGS_COLUMNS}`,
    [userId, patch.requireDeliveryAck ?? null, patch.requireReadAck ?? null, patch.shareReadReceipts ?? null],
  )
  if (!row) throw new Error(`updateSettings: no user ${userId}`)
  if (patch.shareReadReceipts !== undefined) {
    // Every membership's effective setting follows the account's unless overridden (hides_receipts).
    await sql.run(
      'UPDATE members SET hides_receipts = NOT coalesce(share_read_receipts, $2::boolean) WHERE user_id = $1',
      [userId, patch.shareReadReceipts],
    )
  }
  return row
}

export async function insertSession(sql: Sql, tokenHash: Buffer, s: SessionRow): Promise<void> {
  await sql.run(
    `INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at, revoked)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [tokenHash, s.userId, s.deviceId, s.createdAt, s.expiresAt, s.revoked],
  )
}

export async function getSession(sql: Sql, tokenHash: Buffer): Promise<SessionRow | undefined> {
  return sql.first<SessionRow>(
    `SELECT user_id AS "userId", device_id AS "deviceId", created_at AS "createdAt",
            expires_at AS "expiresAt", revoked
     FROM sessions WHERE token_hash = $1`,
    [tokenHash],
  )
}

export async function revokeSession(sql: Sql, tokenHash: Buffer): Promise<boolean> {
  return (
    (await sql.run('UPDATE sessions SET revoked = true WHERE token_hash = $1 AND NOT revoked', [
      tokenHash,
    ])) === 1
  )
}

export async function insertInvite(
  sql: Sql,
  codeHash: Buffer,
  createdAt: number,
  expiresAt: number,
): Promise<void> {
  await sql.run('INSERT INTO invites (code_hash, created_at, expires_at) VALUES ($1, $2, $3)', [
    codeHash,
    createdAt,
    expiresAt,
  ])
}

/** One statement: of two uses at once, the second finds used_by set (re-checked on the locked row). */
export async function useInvite(sql: Sql, codeHash: Buffer, userId: string, at: number): Promise<boolean> {
  const written = await sql.run(
    `UPDATE invites SET used_by = $2, used_at = $3
     WHERE code_hash = $1 AND used_by IS NULL AND expires_at > $3`,
    [codeHash, userId, at],
  )
  return written === 1
}

/**
 * One statement: the UPDATE takes the user row's lock and the next eventSeq, the INSERT writes the
 * event with it. Writers of one user's events queue on that lock until the holder commits, so
 * event_seqs commit in increasing order and a reader paging by eventSeq never skips one.
 */
export async function appendUserEvent(
  sql: Sql,
  userId: string,
  event: PushEvent,
  data: string,
  at: number,
): Promise<number> {
  const row = await sql.first<{ eventSeq: number }>(
    `WITH next AS (
       UPDATE users SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq
     )
     INSERT INTO user_events (user_id, event_seq, event, data, created_at)
     SELECT $1, last_event_seq, $2, $3, $4 FROM next
     RETURNING event_seq AS "eventSeq"`,
    [userId, event, data, at],
  )
  if (!row) throw new Error(`appendUserEvent: no user ${userId}`)
  return row.eventSeq
}

export async function listUserEvents(
  sql: Sql,
  userId: string,
  afterEventSeq: number,
  limit: number,
): Promise<UserEventRow[]> {
  return sql.rows<UserEventRow>(
    `SELECT event_seq AS "eventSeq", event, data, created_at AS "createdAt"
     FROM user_events WHERE user_id = $1 AND event_seq > $2 ORDER BY event_seq LIMIT $3`,
    [userId, afterEventSeq, limit],
  )
}
