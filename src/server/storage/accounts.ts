import type { AccountSettings } from '../../shared/protocol'
import { DEFAULT_ACCOUNT_RECEIPTS } from '../accountDefaults'
import { fromBool, prepare, toBool, type Db } from './db'
import type { NewUser, SessionRow, UserRow } from './types'

interface UserRecord {
  id: string
  displayName: string
  passwordHash: string
  requireDeliveryAck: number
  requireReadAck: number
  shareReadReceipts: number
  lastEventSeq: number
  createdAt: number
}

const USER_COLUMNS = `id, display_name AS displayName, password_hash AS passwordHash,
  require_delivery_ack AS requireDeliveryAck, require_read_ack AS requireReadAck,
  share_read_receipts AS shareReadReceipts, last_event_seq AS lastEventSeq, created_at AS createdAt`

function toUser(r: UserRecord): UserRow {
  return {
    id: r.id,
    displayName: r.displayName,
    passwordHash: r.passwordHash,
    settings: {
      requireDeliveryAck: toBool(r.requireDeliveryAck),
      requireReadAck: toBool(r.requireReadAck),
      shareReadReceipts: toBool(r.shareReadReceipts),
    },
    lastEventSeq: r.lastEventSeq,
    createdAt: r.createdAt,
  }
}

/**
 * The receipt options are written, not left to the columns' defaults: SQLite cannot change a column
 * default without rebuilding `users` (which other tables reference), and the schema of migration 1
 * says off. New accounts start with `user.receipts` (accountDefaults.ts: both on).
 */
export function insertUser(db: Db, user: NewUser): boolean {
  const receipts = user.receipts ?? DEFAULT_ACCOUNT_RECEIPTS
  const result = prepare<
    [
      {
        id: string
        displayName: string
        passwordHash: string
        createdAt: number
        delivery: number
        read: number
      },
    ]
  >(
    db,
    `INSERT INTO users (id, display_name, password_hash, created_at, require_delivery_ack, require_read_ack)
     VALUES (@id, @displayName, @passwordHash, @createdAt, @delivery, @read)
     ON CONFLICT (id) DO NOTHING`,
  ).run({
    id: user.id,
    displayName: user.displayName,
    passwordHash: user.passwordHash,
    createdAt: user.createdAt,
    delivery: fromBool(receipts.requireDeliveryAck),
    read: fromBool(receipts.requireReadAck),
  })
  return result.changes === 1
}

export function getUser(db: Db, id: string): UserRow | undefined {
  const row = prepare<[string], UserRecord>(db, `SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id)
  return row && toUser(row)
}

export function getUsers(db: Db, ids: readonly string[]): UserRow[] {
  if (ids.length === 0) return []
  // One statement for any list length: json_each keeps the SQL text (and the cached statement) fixed.
  return prepare<[string], UserRecord>(
    db,
    `SELECT ${USER_COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`,
  )
    .all(JSON.stringify(ids))
    .map(toUser)
}

export function updateSettings(db: Db, userId: string, patch: Partial<AccountSettings>): AccountSettings {
  const flag = (v: boolean | undefined): number | null => (v === undefined ? null : fromBool(v))
  prepare<[{ userId: string; delivery: number | null; read: number | null; share: number | null }]>(
    db,
    `UPDATE users SET
       require_delivery_ack = coalesce(@delivery, require_delivery_ack),
       require_read_ack = coalesce(@read, require_read_ack),
       share_read_receipts = coalesce(@share, share_read_receipts)
     WHERE id = @userId`,
  ).run({
    userId,
    delivery: flag(patch.requireDeliveryAck),
    read: flag(patch.requireReadAck),
    share: flag(patch.shareReadReceipts),
  })
  if (patch.shareReadReceipts !== undefined) {
    // Every membership's effective setting follows the account's unless overridden (members.hides_receipts).
    prepare<[number, string]>(
      db,
      'UPDATE members SET hides_receipts = (coalesce(share_read_receipts, ?) = 0) WHERE user_id = ?',
    ).run(fromBool(patch.shareReadReceipts), userId)
  }
  const user = getUser(db, userId)
  if (!user) throw new Error(`updateSettings: no user ${userId}`)
  return user.settings
}

/** Allocates the next per-user event sequence number. */
export function nextEventSeq(db: Db, userId: string): number {
  const row = prepare<[string], { lastEventSeq: number }>(
    db,
    'UPDATE users SET last_event_seq = last_event_seq + 1 WHERE id = ? RETURNING last_event_seq AS lastEventSeq',
  ).get(userId)
  if (!row) throw new Error(`nextEventSeq: no user ${userId}`)
  return row.lastEventSeq
}

export function insertSession(db: Db, tokenHash: Buffer, s: SessionRow): void {
  prepare<
    [
      {
        tokenHash: Buffer
        userId: string
        deviceId: string
        createdAt: number
        expiresAt: number
        revoked: number
      },
    ]
  >(
    db,
    `INSERT INTO sessions (token_hash, user_id, device_id, created_at, expires_at, revoked)
     VALUES (@tokenHash, @userId, @deviceId, @createdAt, @expiresAt, @revoked)`,
  ).run({ tokenHash, ...s, revoked: fromBool(s.revoked) })
}

export function getSession(db: Db, tokenHash: Buffer): SessionRow | undefined {
  const row = prepare<
    [Buffer],
    { userId: string; deviceId: string; createdAt: number; expiresAt: number; revoked: number }
  >(
    db,
    `SELECT user_id AS userId, device_id AS deviceId, created_at AS createdAt, expires_at AS expiresAt, revoked
     FROM sessions WHERE token_hash = ?`,
  ).get(tokenHash)
  return row && { ...row, revoked: toBool(row.revoked) }
}

export function revokeSession(db: Db, tokenHash: Buffer): boolean {
  return (
    prepare<[Buffer]>(db, 'UPDATE sessions SET revoked = 1 WHERE token_hash = ? AND revoked = 0').run(
      tokenHash,
    ).changes === 1
  )
}
