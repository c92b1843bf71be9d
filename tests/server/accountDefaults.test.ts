/**
 * A new account asks for delivery and read receipts (accountDefaults.ts), on SQLite and PostgreSQL;
 * an operator may start accounts otherwise (`accountDefaults` in the config file); accounts made
 * before keep what they had, through PostgreSQL migration 6 and on an existing SQLite database.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { resolveAccountDefaults } from '../../src/server/accountDefaults'
import { loadServerConfig } from '../../src/server/receiptSettings'
import type { RunningServer } from '../../src/server/server'
import { openDatabase } from '../../src/server/storage/db'
import { migrate } from '../../src/server/storage/migrations'
import { pgMigrations } from '../../src/server/storage/postgres/migrations'
import { PostgresStorage } from '../../src/server/storage/postgres/storage'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { clientMsgId, connectOne, startTestServer, text } from './helpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from './postgresHelpers'

describe('a new account', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  it('asks for delivery and read receipts without touching its settings', async () => {
    const [alice, bob] = await Promise.all([connectOne(server), connectOne(server)])
    expect((await alice.call('syncState', {})).settings).toEqual({
      requireDeliveryAck: true,
      requireReadAck: true,
      shareReadReceipts: true,
    })
    const { message } = await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: text('receipts, please'),
    })
    expect(message).toMatchObject({ needDeliveryAck: true, needReadAck: true })
  })
})

describe('the operator’s accountDefaults', () => {
  let server: RunningServer | undefined
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'account-defaults-'))
  })
  afterEach(async () => {
    await server?.close()
    server = undefined
    rmSync(dir, { recursive: true, force: true })
  })

  it('start new accounts with what the config file says', async () => {
    const file = join(dir, 'server.json')
    writeFileSync(file, JSON.stringify({ accountDefaults: { requireReadAck: false } }))
    server = await startTestServer(loadServerConfig(file))
    const alice = await connectOne(server)
    expect((await alice.call('syncState', {})).settings).toMatchObject({
      requireDeliveryAck: true,
      requireReadAck: false,
    })
  })

  it('are checked: an unknown key or a value that is not a boolean is refused', () => {
    const file = join(dir, 'bad.json')
    writeFileSync(file, JSON.stringify({ accountDefaults: { requireReadAcks: false } }))
    expect(() => loadServerConfig(file)).toThrow(/accountDefaults/)
    writeFileSync(file, JSON.stringify({ accountDefaults: { requireReadAck: 'no' } }))
    expect(() => loadServerConfig(file)).toThrow(/accountDefaults\.requireReadAck/)
    expect(() => resolveAccountDefaults({ requireDeliveryAck: 1 as unknown as boolean })).toThrow(
      /accountDefaults/,
    )
    expect(resolveAccountDefaults()).toEqual({ requireDeliveryAck: true, requireReadAck: true })
  })
})

describe('accounts made before: SQLite', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'account-defaults-sqlite-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('keep what they had; accounts made now ask for both', async () => {
    const file = join(dir, 'server.db')
    // A database of the previous version: accounts written without the receipt columns got the
    // schema's default (off), and one turned read receipts on.
    const old = openDatabase(file)
    migrate(old)
    old.exec(`INSERT INTO users (id, display_name, password_hash, created_at) VALUES
      ('quiet', 'quiet', 'x', 1), ('reader', 'reader', 'x', 1);
      UPDATE users SET require_read_ack = 1 WHERE id = 'reader';`)
    old.close()

    const storage = new SqliteStorage(file)
    try {
      expect((await storage.getUser('quiet'))?.settings).toMatchObject({
        requireDeliveryAck: false,
        requireReadAck: false,
      })
      expect((await storage.getUser('reader'))?.settings).toMatchObject({
        requireDeliveryAck: false,
        requireReadAck: true,
      })
      await storage.insertUser({ id: 'fresh', displayName: 'fresh', passwordHash: 'x', createdAt: 2 })
      expect((await storage.getUser('fresh'))?.settings).toMatchObject({
        requireDeliveryAck: true,
        requireReadAck: true,
      })
      await storage.insertUser({
        id: 'chosen',
        displayName: 'chosen',
        passwordHash: 'x',
        createdAt: 2,
        receipts: { requireDeliveryAck: false, requireReadAck: true },
      })
      expect((await storage.getUser('chosen'))?.settings).toMatchObject({
        requireDeliveryAck: false,
        requireReadAck: true,
      })
    } finally {
      await storage.close()
    }
  })
})

describe.skipIf(skipPostgres)('accounts made before: PostgreSQL migration 6', () => {
  let db: ScratchDatabase
  beforeEach(async () => {
    db = await createScratchDatabase()
  })
  afterEach(() => db.drop())

  it('keeps every existing account’s choice, and new rows default to asking for both', async () => {
    const version = pgMigrations.findIndex((m) => m.name.startsWith('new accounts ask')) + 1
    expect(version).toBeGreaterThan(1)
    // The database as the version before left it, with accounts in it.
    const client = new pg.Client({ connectionString: db.url })
    await client.connect()
    try {
      await client.query(`CREATE TABLE schema_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`)
      for (const m of pgMigrations.slice(0, version - 1)) {
        await client.query(m.sql)
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          m.version,
          m.name,
        ])
      }
      await client.query(`INSERT INTO users (id, display_name, password_hash, created_at) VALUES
        ('quiet', 'quiet', 'x', 1), ('reader', 'reader', 'x', 1)`)
      await client.query(`UPDATE users SET require_read_ack = true WHERE id = 'reader'`)
    } finally {
      await client.end()
    }

    const storage = await PostgresStorage.open(db.url)
    try {
      expect((await storage.getUser('quiet'))?.settings).toMatchObject({
        requireDeliveryAck: false,
        requireReadAck: false,
      })
      expect((await storage.getUser('reader'))?.settings).toMatchObject({
        requireDeliveryAck: false,
        requireReadAck: true,
      })
      await storage.insertUser({ id: 'fresh', displayName: 'fresh', passwordHash: 'x', createdAt: 2 })
      expect((await storage.getUser('fresh'))?.settings).toMatchObject({
        requireDeliveryAck: true,
        requireReadAck: true,
      })
    } finally {
      await storage.close()
    }

    // The schema's own default changed too: a row written without the columns asks for both.
    const after = new pg.Client({ connectionString: db.url })
    await after.connect()
    try {
      await after.query(
        `INSERT INTO users (id, display_name, password_hash, created_at) VALUES ('raw', 'raw', 'x', 3)`,
      )
      const { rows } = await after.query<{ d: boolean; r: boolean }>(
        `SELECT require_delivery_ack AS d, require_read_ack AS r FROM users WHERE id = 'raw'`,
      )
      expect(rows[0]).toEqual({ d: true, r: true })
    } finally {
      await after.end()
    }
  })
})
