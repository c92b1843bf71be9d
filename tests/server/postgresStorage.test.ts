/**
 * PostgresStorage beyond the shared contract (storageContract.test.ts runs that one on PostgreSQL
 * too): two storages on one database are two server nodes, each with its own pool, writing at the
 * same moment; migrations when several nodes start at once; the query plans; a real server on it.
 * Skipped, with one line saying what to start, when PostgreSQL does not answer (never under CI=true).
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { SchemaTooNewError } from '../../src/node/migrate'
import { newMessageUId } from '../../src/server/ids'
import type { RunningServer } from '../../src/server/server'
import {
  PG_LIST_GROUP_READ_ACKS_SQL,
  PG_LIST_GROUP_UNREAD_MEMBERS_SQL,
} from '../../src/server/storage/postgres/groupReceipts'
import { PG_LIST_MESSAGES_SQL } from '../../src/server/storage/postgres/messages'
import { pgMigrations } from '../../src/server/storage/postgres/migrations'
import { PostgresStorage } from '../../src/server/storage/postgres/storage'
import type { NewMessage, Storage, StorageOps, Unit } from '../../src/server/storage/types'
import { clientMsgId, connectOne, login, startTestServer, TestClient, text } from './helpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from './postgresHelpers'

/** Runs one statement on the scratch database with a plain client (no storage in between). */
async function query<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<R>(sql, values)).rows
  } finally {
    await client.end()
  }
}

describe.skipIf(skipPostgres)('PostgresStorage', () => {
  describe('two nodes writing into one database at once', () => {
    let db: ScratchDatabase
    let a: PostgresStorage
    let b: PostgresStorage
    let convId: number
    const nodes = (): [PostgresStorage, PostgresStorage] => [a, b]

    beforeEach(async () => {
      db = await createScratchDatabase()
      ;[a, b] = await Promise.all([PostgresStorage.open(db.url), PostgresStorage.open(db.url)])
      for (const id of ['alice', 'bob'])
        await a.insertUser({ id, displayName: id, passwordHash: 'x', createdAt: 1 })
      const conv = await a.insertConversation({ key: 'p:alice:bob', type: 'private', createdAt: 1 })
      convId = conv.id
      for (const userId of ['alice', 'bob'])
        await b.upsertMember({ convId, userId, role: null, joinedSeq: 0, joinedAt: 1 })
    })
    afterEach(async () => {
      await Promise.all([a.close(), b.close()])
      await db.drop()
    })

    const message = (id: string, sender = 'alice'): NewMessage => ({
      uid: newMessageUId(Date.now()),
      convId,
      senderId: sender,
      clientMsgId: id,
      to: sender === 'alice' ? 'bob' : 'alice',
      convType: 'private',
      channelId: '',
      content: { type: 'text', text: id },
      sentAt: Date.now(),
      needDeliveryAck: false,
      needReadAck: false,
      isNeedGroupAck: false,
      memberCount: 1,
    })

    /** One insert on `node`, in one of the three ways the server writes: direct, transaction, batch. */
    async function insert(node: Storage, m: NewMessage, way: number) {
      if (way === 0) return node.insertMessage(m)
      if (way === 1)
        return node.transaction(async (tx) => {
          const result = await tx.insertMessage(m)
          // Hold the conversation's lock a little longer, as an operation with more work would.
          await tx.getConversationByKey('p:alice:bob')
          return result
        })
      const [first] = await node.batch([(tx) => tx.insertMessage(m)])
      if (!first?.ok) throw first?.error
      return first.value
    }

    it('hands out seqs 1..N with no gap and no duplicate', async () => {
      const n = 60
      const results = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          insert(nodes()[i % 2] as Storage, message(`seq-${i}`, i % 4 < 2 ? 'alice' : 'bob'), i % 3),
        ),
      )
      expect(results.every((r) => !r.duplicate)).toBe(true)
      const seqs = results.map((r) => r.message.seq).sort((x, y) => x - y)
      expect(seqs).toEqual(Array.from({ length: n }, (_, i) => i + 1))
      expect((await b.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(n)
      const stored = await a.listMessages(convId, 0, n, n + 10)
      expect(stored.map((m) => m.seq)).toEqual(seqs)
      // Each stored row is the one its send was told about.
      const bySeq = new Map(results.map((r) => [r.message.seq, r.message.clientMsgId]))
      expect(stored.every((m) => bySeq.get(m.seq) === m.clientMsgId)).toBe(true)
    })

    it('stores a message sent from both nodes at once under one client id exactly once, using one seq', async () => {
      await a.insertMessage(message('before-0001'))
      const copies = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          insert(nodes()[i % 2] as Storage, message('same-client-id'), i % 3),
        ),
      )
      expect(copies.filter((c) => !c.duplicate)).toHaveLength(1)
      expect(new Set(copies.map((c) => c.message.messageUId)).size).toBe(1)
      expect(new Set(copies.map((c) => c.message.seq))).toEqual(new Set([2]))
      expect((await a.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(2)
      expect((await b.insertMessage(message('after-00001'))).message.seq).toBe(3)
    })

    it('keeps one reader fact per member and message, and the count equal to the facts', async () => {
      const readers = Array.from({ length: 24 }, (_, i) => `reader${String(i).padStart(2, '0')}`)
      for (const id of readers) await a.insertUser({ id, displayName: id, passwordHash: 'x', createdAt: 1 })
      const { message: sent } = await a.insertMessage({ ...message('group-ish-1'), isNeedGroupAck: true })
      // Every reader acks twice (two devices), once through each node, all at once.
      const acks = await Promise.all(
        readers.flatMap((userId, i) =>
          nodes().map((node, j) => {
            const ack = { messageId: sent.id, userId, ext: null, at: 5 }
            return (i + j) % 2
              ? node.insertGroupReadAck(ack)
              : node.transaction((tx) => tx.insertGroupReadAck(ack))
          }),
        ),
      )
      const written = acks.filter((x) => x !== undefined)
      expect(written.map((x) => x.userId).sort()).toEqual(readers)
      expect(written.map((x) => x.countAfter).sort((x, y) => x - y)).toEqual(readers.map((_, i) => i + 1))
      const facts = await b.listGroupReadAcks(sent.id, 0, 100)
      expect(facts).toHaveLength(readers.length)
      expect((await a.getMessageByUId(sent.messageUId))?.groupAckCount).toBe(facts.length)
      // In ack_id order (the paging cursor) the counts only grow: facts of a message commit in order.
      expect(facts.map((f) => f.countAfter)).toEqual(readers.map((_, i) => i + 1))
    })

    it('never moves a watermark backwards, whichever node writes last', async () => {
      const values = Array.from({ length: 40 }, (_, i) => (i * 37) % 101)
      await Promise.all(
        values.map((v, i) => (nodes()[i % 2] as Storage).setMemberWatermarks(convId, 'bob', v, v - 1, v - 2)),
      )
      const bob = await a.getMember(convId, 'bob')
      const max = Math.max(...values)
      expect(bob).toMatchObject({ readSeq: max, deliveredSeq: max - 1, sharedReadSeq: max - 2 })
    })

    it('runs a transaction again when PostgreSQL picks it as a deadlock victim', async () => {
      let attempts = 0
      let arrived = 0
      let release: () => void = () => {}
      const bothLocked = new Promise<void>((resolve) => (release = resolve))
      /** Locks `first`'s member row, waits until the other transaction has locked its own, then the other row. */
      const crossing = (node: Storage, first: string, second: string) =>
        node.transaction(async (tx: StorageOps) => {
          attempts++
          await tx.setMemberWatermarks(convId, first, 1, 1)
          if (++arrived === 2) release()
          await bothLocked
          await tx.setMemberWatermarks(convId, second, 2, 2)
          return first
        })
      expect(await Promise.all([crossing(a, 'alice', 'bob'), crossing(b, 'bob', 'alice')])).toEqual([
        'alice',
        'bob',
      ])
      expect(attempts).toBe(3)
      expect((await a.getMember(convId, 'alice'))?.readSeq).toBe(2)
      expect((await a.getMember(convId, 'bob'))?.readSeq).toBe(2)
    }, 15_000)

    it('rolls back a unit whose statement failed alone, and the batch goes on', async () => {
      const results = await a.batch<string>([
        async (tx) => (await tx.insertMessage(message('batch-unit-1'))).message.clientMsgId,
        async (tx) => {
          await tx.insertMessage(message('batch-unit-2'))
          // A session of a user that does not exist: a foreign key violation fails the statement.
          await tx.insertSession(Buffer.alloc(32, 1), {
            userId: 'nobody',
            deviceId: 'd',
            createdAt: 1,
            expiresAt: 2,
            revoked: false,
          })
          return 'not reached'
        },
        async (tx) => (await tx.insertMessage(message('batch-unit-3'))).message.clientMsgId,
      ])
      expect(results.map((r) => r.ok)).toEqual([true, false, true])
      expect((results[1] as { error: { code?: string } }).error.code).toBe('23503')
      const stored = await b.listMessages(convId, 0, 10, 10)
      expect(stored.map((m) => [m.seq, m.clientMsgId])).toEqual([
        [1, 'batch-unit-1'],
        [2, 'batch-unit-3'],
      ])
    })

    it('runs batches of two nodes acking the same messages in opposite orders with no unit failing', async () => {
      const readers = Array.from({ length: 40 }, (_, i) => `acker${String(i).padStart(2, '0')}`)
      for (const id of readers) await a.insertUser({ id, displayName: id, passwordHash: 'x', createdAt: 1 })
      const sent = []
      for (let i = 0; i < 3; i++)
        sent.push((await a.insertMessage({ ...message(`hot-group-${i}`), isNeedGroupAck: true })).message)
      const ids = sent.map((m) => m.id)
      // Each node runs two batches at once; every batch has each reader ack every message, one ack per
      // unit, the messages in opposite orders on the two nodes. When a batch was one transaction
      // holding each message row's lock until its commit, these batches deadlocked on each other.
      const batches = [0, 1, 2, 3].map((k) => {
        const mine = readers.filter((_, i) => i % 4 === k)
        const order = k % 2 ? [...ids].reverse() : ids
        const units: Unit<unknown>[] = []
        const chains: string[] = []
        for (const messageId of order)
          for (const userId of mine) {
            units.push((tx) => tx.insertGroupReadAck({ messageId, userId, ext: null, at: 5 }))
            chains.push(userId)
          }
        return (nodes()[k % 2] as Storage).batch(units, chains)
      })
      const results = (await Promise.all(batches)).flat()
      expect(results).toHaveLength(readers.length * ids.length)
      expect(results.filter((r) => !r.ok)).toEqual([])
      for (const m of sent) {
        const facts = await b.listGroupReadAcks(m.id, 0, 100)
        expect(facts.map((f) => f.userId).sort()).toEqual(readers)
        expect((await a.getMessageByUId(m.messageUId))?.groupAckCount).toBe(facts.length)
        expect(facts.map((f) => f.countAfter)).toEqual(readers.map((_, i) => i + 1))
      }
    })

    it('runs a batch unit again when PostgreSQL picks it as a deadlock victim', async () => {
      const ids = []
      for (let i = 0; i < 2; i++)
        ids.push((await a.insertMessage({ ...message(`crossing-${i}`), isNeedGroupAck: true })).message.id)
      let attempts = 0
      let arrived = 0
      let release: () => void = () => {}
      const bothLocked = new Promise<void>((resolve) => (release = resolve))
      /** Acks `first`, waits until the other node's unit has acked its own, then acks `second`. */
      const crossing = (node: Storage, userId: string, first: number, second: number) =>
        node.batch<string>(
          [
            async (tx) => {
              attempts++
              await tx.insertGroupReadAck({ messageId: first, userId, ext: null, at: 5 })
              if (++arrived === 2) release()
              await bothLocked
              await tx.insertGroupReadAck({ messageId: second, userId, ext: null, at: 5 })
              return userId
            },
          ],
          [userId],
        )
      const [one, two] = ids as [number, number]
      const results = await Promise.all([crossing(a, 'alice', one, two), crossing(b, 'bob', two, one)])
      expect(results).toEqual([[{ ok: true, value: 'alice' }], [{ ok: true, value: 'bob' }]])
      expect(attempts).toBe(3)
      for (const id of ids)
        expect((await a.listGroupReadAcks(id, 0, 10)).map((f) => f.countAfter)).toEqual([1, 2])
    }, 15_000)

    it('runs the units of one chain in order and different chains at once', async () => {
      const order: string[] = []
      let started: (who: string) => void = () => {}
      const bothStarted = new Promise<void>((resolve) => {
        const seen = new Set<string>()
        started = (who) => {
          seen.add(who)
          if (seen.size === 2) resolve()
        }
      })
      const results = await a.batch<string | undefined>(
        [
          // Chain x writes, after waiting for chain y to be running at the same time…
          async (tx) => {
            started('x')
            await bothStarted
            await tx.insertUser({ id: 'chained', displayName: 'first', passwordHash: 'x', createdAt: 1 })
            order.push('x1')
            return 'x1'
          },
          async () => {
            started('y')
            await bothStarted
            order.push('y1')
            return 'y1'
          },
          // …and its next unit sees that write, committed before it began.
          async (tx) => {
            order.push('x2')
            return (await tx.getUser('chained'))?.displayName
          },
          async (tx) => {
            await tx.updateSettings('alice', { requireReadAck: false })
            order.push('y2')
            return 'y2'
          },
        ],
        ['x', 'y', 'x', 'y'],
      )
      expect(results).toEqual([
        { ok: true, value: 'x1' },
        { ok: true, value: 'y1' },
        { ok: true, value: 'first' },
        { ok: true, value: 'y2' },
      ])
      expect(order.indexOf('x1')).toBeLessThan(order.indexOf('x2'))
      expect(order.indexOf('y1')).toBeLessThan(order.indexOf('y2'))
      expect((await b.getUser('alice'))?.settings.requireReadAck).toBe(false)
    })

    it('refuses a call made on a transaction after it ended', async () => {
      let leaked: StorageOps | undefined
      await a.transaction(async (tx) => {
        leaked = tx
      })
      await expect(leaked?.getUser('alice')).rejects.toThrow(/after its transaction/)
    })
  })

  describe('migrations', () => {
    let db: ScratchDatabase
    beforeEach(async () => {
      db = await createScratchDatabase()
    })
    afterEach(() => db.drop())

    it('migrates a new database once when several nodes open it at the same moment', async () => {
      const opened = await Promise.all(Array.from({ length: 4 }, () => PostgresStorage.open(db.url)))
      await Promise.all(opened.map((s) => s.close()))
      const rows = await query<{ version: number }>(
        db.url,
        'SELECT version FROM schema_migrations ORDER BY version',
      )
      expect(rows.map((r) => r.version)).toEqual(pgMigrations.map((m) => m.version))
    })

    it('refuses a database written by a newer server, and leaves it alone', async () => {
      await (await PostgresStorage.open(db.url)).close()
      await query(db.url, `INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')`)
      await expect(PostgresStorage.open(db.url)).rejects.toBeInstanceOf(SchemaTooNewError)
      const rows = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM schema_migrations')
      expect(Number(rows[0]?.n)).toBe(pgMigrations.length + 1)
    })
  })

  describe('query plans on a populated database', () => {
    let db: ScratchDatabase
    let plans: pg.Client
    beforeAll(async () => {
      db = await createScratchDatabase()
      await (await PostgresStorage.open(db.url)).close()
      plans = new pg.Client({ connectionString: db.url })
      await plans.connect()
      // 50 groups of 300 members, 5,000 messages, each message of the first group read by half of them.
      await plans.query(`
        INSERT INTO users (id, display_name, password_hash, created_at)
          SELECT 'u' || lpad(i::text, 3, '0'), 'user ' || i, 'x', 1 FROM generate_series(0, 299) i;
        INSERT INTO conversations (key, type, created_at) SELECT 'g:' || i, 'group', 1 FROM generate_series(1, 50) i;
        INSERT INTO members (conv_id, user_id, role, joined_at)
          SELECT c.id, u.id, 'member', 1 FROM conversations c CROSS JOIN users u;
        INSERT INTO messages (uid, conv_id, seq, sender_id, client_msg_id, to_id, channel_id, content, sent_at,
                              need_delivery_ack, need_read_ack, need_group_ack, member_count)
          SELECT 'm' || i, 1 + i % 50, i, 'u' || lpad((i % 300)::text, 3, '0'), 'c' || i, 'g', '', '{}', i,
                 false, false, true, 299
          FROM generate_series(1, 5000) i;
        INSERT INTO group_read_acks (public_id, message_id, user_id, created_at, count_after)
          SELECT 'p' || m.id || u.id, m.id, u.id, 1, 1
          FROM messages m JOIN users u ON u.id < 'u150' WHERE m.conv_id = 1;
        ANALYZE;
      `)
    })
    afterAll(async () => {
      await plans.end()
      await db.drop()
    })

    /** What the plan reads: the indexes it uses, and the tables it reads whole. */
    async function plan(sql: string, values: unknown[]): Promise<{ indexes: string[]; seqScans: string[] }> {
      await plans.query('DEALLOCATE ALL')
      await plans.query(`PREPARE q AS ${sql}`)
      const literals = values.map((v) => (typeof v === 'number' ? String(v) : `'${String(v)}'`))
      const { rows } = await plans.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
        `EXPLAIN (FORMAT JSON) EXECUTE q(${literals.join(', ')})`,
      )
      const found = { indexes: [] as string[], seqScans: [] as string[] }
      const walk = (node: PlanNode): void => {
        if (node['Index Name']) found.indexes.push(node['Index Name'])
        if (node['Node Type'] === 'Seq Scan') found.seqScans.push(node['Relation Name'] ?? '?')
        for (const child of node.Plans ?? []) walk(child)
      }
      walk(rows[0]?.['QUERY PLAN'][0].Plan as PlanNode)
      return found
    }

    it('pulls messages on a range of the (conv_id, seq) index', async () => {
      const { indexes, seqScans } = await plan(PG_LIST_MESSAGES_SQL, [1, 1000, 4000, 50])
      expect(indexes).toContain('messages_conv_id_seq_key')
      expect(seqScans).not.toContain('messages')
    })

    it('pages reader facts on the (message_id, ack_id) index', async () => {
      const { indexes, seqScans } = await plan(PG_LIST_GROUP_READ_ACKS_SQL, [50, 0, 20])
      expect(indexes).toEqual(['group_read_acks_page'])
      expect(seqScans).toEqual([])
    })

    it('pages not-yet-readers on the members key, probing the reader facts by index', async () => {
      const { indexes, seqScans } = await plan(PG_LIST_GROUP_UNREAD_MEMBERS_SQL, [
        1,
        'u100',
        50,
        'u000',
        50,
        20,
      ])
      expect(indexes).toContain('members_pkey')
      expect(indexes.some((name) => name.startsWith('group_read_acks_'))).toBe(true)
      expect(seqScans).toEqual([])
    })
  })

  describe('a server on PostgreSQL', () => {
    let db: ScratchDatabase
    let storages: PostgresStorage[]
    let servers: RunningServer[]
    beforeAll(async () => {
      db = await createScratchDatabase()
      // Two nodes on one database, each with its own pool, as two server processes would be.
      storages = [await PostgresStorage.open(db.url), await PostgresStorage.open(db.url)]
      servers = await Promise.all(storages.map((storage) => startTestServer({ storage })))
    })
    afterAll(async () => {
      for (const server of servers) await server.close()
      for (const storage of storages) await storage.close()
      await db.drop()
    })

    it('registers, sends, pushes, pulls and reads receipts; another node sees the same data', async () => {
      const [one, two] = servers as [RunningServer, RunningServer]
      const alice = await connectOne(one, { displayName: 'Alice' })
      const bob = await connectOne(one, { displayName: 'Bob' })
      const { message, duplicate } = await alice.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: bob.userId },
        content: text('hello from PostgreSQL'),
      })
      expect(duplicate).toBe(false)
      expect(message.seq).toBe(1)
      expect((await bob.nextPush('message')).data).toEqual(message)
      const pulled = await bob.call('pullMessages', {
        conversation: { type: 'private', targetId: alice.userId },
        afterSeq: 0,
        limit: 10,
      })
      expect(pulled.messages.map((m) => m.content)).toEqual([text('hello from PostgreSQL')])
      await bob.call('ackConversationRead', {
        conversation: { type: 'private', targetId: alice.userId },
        seq: 1,
      })
      expect((await alice.nextPush('conversationRead')).data.seq).toBe(1)

      // Bob's account and session live in the database: he logs in on the other node and finds it all.
      const bobThere = await TestClient.connect(two, await login(two, bob.userId, bob.session.password))
      const state = await bobThere.call('syncState', {})
      expect(state.conversations.map((c) => [c.conversation.targetId, c.lastSeq, c.readSeq])).toEqual([
        [alice.userId, 1, 1],
      ])
      for (const client of [alice, bob, bobThere]) await client.close()
    })

    it('runs group read receipts end to end', async () => {
      const [one] = servers as [RunningServer]
      const owner = await connectOne(one)
      const readers = await Promise.all([connectOne(one), connectOne(one), connectOne(one)])
      const { group } = await owner.call('createGroup', {
        name: 'pg',
        memberIds: readers.map((r) => r.userId),
      })
      const { message } = await owner.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'group', targetId: group.groupId },
        content: text('who read this?'),
        isNeedGroupAck: true,
      })
      for (const reader of readers.slice(0, 2))
        await reader.call('ackGroupMessageRead', {
          groupId: group.groupId,
          acks: [{ messageUId: message.messageUId }],
        })
      const page = await owner.call('fetchGroupReadAcks', { messageUId: message.messageUId, pageSize: 10 })
      expect(page.acks.map((ack) => ack.from).sort()).toEqual(
        readers
          .slice(0, 2)
          .map((r) => r.userId)
          .sort(),
      )
      expect(page.count).toBe(2)
      const unread = await owner.call('fetchGroupUnreadMembers', {
        messageUId: message.messageUId,
        pageSize: 10,
      })
      expect(unread.members.map((m) => m.userId)).toEqual([readers[2]?.userId])
      for (const client of [owner, ...readers]) await client.close()
    })
  })

  describe('the command line with --store', () => {
    const cli = join(import.meta.dirname, '../../src/server/cli.ts')
    let db: ScratchDatabase
    let dir: string
    beforeAll(async () => {
      db = await createScratchDatabase()
      dir = mkdtempSync(join(tmpdir(), 'im-pg-cli-'))
    })
    afterAll(async () => {
      await db.drop()
      rmSync(dir, { recursive: true, force: true })
    })

    function run(args: string[]) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', cli, '--data', dir, '--log', 'warn', ...args],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      )
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
      const listening = new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const match = /ws:\/\/(\S+)\/ws/.exec(stdout)
          if (match) resolve(`http://${match[1]}`)
        })
        void exited.then((code) => reject(new Error(`exited with ${code}: ${stderr}`)))
      })
      listening.catch(() => {})
      return { child, exited, listening, output: () => ({ stdout, stderr }) }
    }

    async function post(httpUrl: string, path: string, body: unknown) {
      const response = await fetch(`${httpUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
      return (await response.json()) as { code: number }
    }

    it('serves from PostgreSQL given by --store, and by "store" in the config file', async () => {
      const account = { userId: `pgcli${process.pid}`, password: 'correct horse battery' }
      const first = run(['--port', '0', '--store', db.url])
      try {
        expect((await post(await first.listening, '/api/register', account)).code).toBe(0)
      } finally {
        first.child.kill('SIGTERM')
      }
      expect(await first.exited).toBe(0)

      const config = join(dir, 'server.json')
      writeFileSync(config, JSON.stringify({ store: db.url, groupReceipts: { maxGroupSize: 50 } }))
      const second = run(['--port', '0', '--config', config])
      try {
        // The account registered through the first process is in the database the second one uses.
        expect(
          (await post(await second.listening, '/api/login', { ...account, deviceId: 'pg-cli-device' })).code,
        ).toBe(0)
      } finally {
        second.child.kill('SIGTERM')
      }
      expect(await second.exited).toBe(0)
    })

    it('makes invite codes in the PostgreSQL database with --store', async () => {
      const proc = run(['invite', '--count', '2', '--store', db.url])
      expect(await proc.exited).toBe(0)
      expect(proc.output().stdout.trim().split('\n')).toHaveLength(2)
      const rows = await query<{ n: string }>(db.url, 'SELECT count(*) AS n FROM invites')
      expect(Number(rows[0]?.n)).toBe(2)
    })

    it('exits with 2 and one line for a --store that is not a PostgreSQL URL', async () => {
      const proc = run(['--store', 'mysql://root@127.0.0.1/im'])
      expect(await proc.exited).toBe(2)
      expect(proc.output().stderr.trim().split('\n')).toEqual([expect.stringMatching(/--store/)])
    })
  })
})

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  'Index Name'?: string
  Plans?: PlanNode[]
}
