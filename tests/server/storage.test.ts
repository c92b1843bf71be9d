import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ClientMsgId, GroupId, MessageUId } from '../../src/shared/model'
import { newClientMsgId } from '../../src/shared/clientMsgId'
import { hashToken, newGroupId, newMessageUId, newSessionToken } from '../../src/server/ids'
import { hashPassword, verifyPassword } from '../../src/server/passwords'
import { openDatabase, type Db } from '../../src/server/storage/db'
import {
  LIST_GROUP_READ_ACKS_SQL,
  COUNT_HIDDEN_READERS_SQL,
  LIST_GROUP_UNREAD_MEMBERS_SQL,
} from '../../src/server/storage/groupReceipts'
import {
  COUNT_IN_RANGE_SQL,
  COUNT_OWN_IN_RANGE_SQL,
  LIST_MESSAGES_SQL,
} from '../../src/server/storage/messages'
import {
  migrate,
  migrations,
  schemaVersion,
  SchemaTooNewError,
  type Migration,
} from '../../src/server/storage/migrations'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { NewMessage } from '../../src/server/storage/types'

function tableNames(db: Db): string[] {
  return db
    .prepare<[], string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
    .pluck()
    .all()
}

describe('migrations', () => {
  it('creates the schema on a fresh database and records user_version', () => {
    const db = openDatabase(':memory:')
    expect(migrate(db)).toEqual({ from: 0, to: migrations.length })
    expect(schemaVersion(db)).toBe(migrations.length)
    expect(tableNames(db)).toEqual(
      expect.arrayContaining([
        'users',
        'sessions',
        'conversations',
        'groups',
        'members',
        'messages',
        'group_read_acks',
        'receipt_requests',
        'group_receipt_settings',
        'user_events',
      ]),
    )
    const strict = db.prepare<[], { name: string; strict: number }>('PRAGMA table_list').all()
    for (const table of strict.filter((t) => !t.name.startsWith('sqlite_')))
      expect(table.strict, table.name).toBe(1)
    db.close()
  })

  it('is idempotent: a second run changes nothing', () => {
    const db = openDatabase(':memory:')
    migrate(db)
    db.prepare(
      "INSERT INTO users (id, display_name, password_hash, created_at) VALUES ('a', 'a', 'x', 1)",
    ).run()
    expect(migrate(db)).toEqual({ from: migrations.length, to: migrations.length })
    expect(db.prepare('SELECT count(*) FROM users').pluck().get()).toBe(1)
    db.close()
  })

  it('runs only the pending migrations, in order', () => {
    const applied: string[] = []
    const list: Migration[] = [
      {
        version: 1,
        name: 'one',
        up: (db) => (applied.push('one'), db.exec('CREATE TABLE a (x INTEGER) STRICT')),
      },
      {
        version: 2,
        name: 'two',
        up: (db) => (applied.push('two'), db.exec('CREATE TABLE b (x INTEGER) STRICT')),
      },
    ]
    const db = openDatabase(':memory:')
    migrate(db, list.slice(0, 1))
    expect(migrate(db, list)).toEqual({ from: 1, to: 2 })
    expect(applied).toEqual(['one', 'two'])
    db.close()
  })

  it('rolls back every pending migration when one fails', () => {
    const db = openDatabase(':memory:')
    const list: Migration[] = [
      { version: 1, name: 'ok', up: (d) => d.exec('CREATE TABLE a (x INTEGER) STRICT') },
      { version: 2, name: 'broken', up: (d) => d.exec('CREATE TABLE broken (') },
    ]
    expect(() => migrate(db, list)).toThrow()
    expect(schemaVersion(db)).toBe(0)
    expect(tableNames(db)).not.toContain('a')
    db.close()
  })

  it('rejects a list whose versions are not 1, 2, 3, …', () => {
    const db = openDatabase(':memory:')
    const list: Migration[] = [
      { version: 1, name: 'one', up: () => {} },
      { version: 3, name: 'three', up: () => {} },
    ]
    expect(() => migrate(db, list)).toThrow(/out of order/)
    db.close()
  })

  describe('a database newer than the code', () => {
    let dir: string
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'im-server-'))
    })
    afterEach(() => rmSync(dir, { recursive: true, force: true }))

    it('is refused with a clear error and left untouched', () => {
      const file = join(dir, 'server.sqlite')
      new SqliteStorage(file).close()
      const db = openDatabase(file)
      db.pragma(`user_version = ${migrations.length + 1}`)
      db.close()

      expect(() => new SqliteStorage(file)).toThrow(SchemaTooNewError)
      expect(() => new SqliteStorage(file)).toThrow(/newer than this server/)
      const after = openDatabase(file)
      expect(schemaVersion(after)).toBe(migrations.length + 1)
      after.close()
    })
  })
})

describe('SqliteStorage', () => {
  let storage: SqliteStorage
  beforeEach(async () => {
    storage = new SqliteStorage(':memory:')
    for (const id of ['alice', 'bob', 'carol']) {
      await storage.insertUser({ id, displayName: id.toUpperCase(), passwordHash: 'x', createdAt: 1 })
    }
  })
  afterEach(() => storage.close())

  async function conversation(key: string) {
    const conv = await storage.insertConversation({ key, type: 'private', createdAt: 1 })
    for (const userId of ['alice', 'bob']) {
      await storage.upsertMember({ convId: conv.id, userId, role: null, joinedSeq: 0, joinedAt: 1 })
    }
    return conv
  }

  let lastMessage = 0
  function newMessage(
    convId: number,
    senderId = 'alice',
    clientMsgId = `client-${++lastMessage}`,
  ): NewMessage {
    return {
      uid: newMessageUId(),
      convId,
      senderId,
      clientMsgId,
      to: senderId === 'alice' ? 'bob' : 'alice',
      convType: 'private',
      channelId: '',
      content: { type: 'text', text: 'hi' },
      sentAt: 1,
      needDeliveryAck: false,
      needReadAck: false,
      isNeedGroupAck: false,
      memberCount: 1,
    }
  }

  it('refuses a second user with the same id', async () => {
    expect(
      await storage.insertUser({ id: 'alice', displayName: 'again', passwordHash: 'y', createdAt: 2 }),
    ).toBe(false)
    expect((await storage.getUser('alice'))?.displayName).toBe('ALICE')
  })

  it('returns only existing users and merges partial settings', async () => {
    expect((await storage.getUsers(['bob', 'nobody', 'alice'])).map((u) => u.id)).toEqual(['alice', 'bob'])
    // A new account asks for both receipts (accountDefaults.ts).
    expect((await storage.getUser('alice'))?.settings).toEqual({
      requireDeliveryAck: true,
      requireReadAck: true,
      shareReadReceipts: true,
    })
    await storage.updateSettings('alice', { requireReadAck: false })
    await storage.updateSettings('alice', { shareReadReceipts: false })
    expect(await storage.updateSettings('alice', { requireDeliveryAck: false })).toEqual({
      requireDeliveryAck: false,
      requireReadAck: false,
      shareReadReceipts: false,
    })
  })

  it('keeps sessions only by token hash and revokes once', async () => {
    const token = newSessionToken()
    await storage.insertSession(hashToken(token), {
      userId: 'alice',
      deviceId: 'dev',
      createdAt: 1,
      expiresAt: 2,
      revoked: false,
    })
    const raw = storage.db.prepare<[], Buffer>('SELECT token_hash FROM sessions').pluck().get()
    expect(raw?.toString('utf8')).not.toContain(token)
    expect(await storage.revokeSession(hashToken(token))).toBe(true)
    expect(await storage.revokeSession(hashToken(token))).toBe(false)
    expect((await storage.getSession(hashToken(token)))?.revoked).toBe(true)
  })

  it('assigns seq 1, 2, 3, … per conversation without gaps, even across duplicate sends', async () => {
    const ab = await conversation('p:alice:bob')
    const other = await conversation('p:other')
    for (let i = 0; i < 20; i++) {
      await storage.insertMessage(newMessage(ab.id))
      if (i % 3 === 0) await storage.insertMessage(newMessage(other.id))
      if (i % 5 === 0) {
        // Same client id again: nothing is written and no seq is used.
        const again = await storage.insertMessage(newMessage(ab.id, 'alice', `client-${lastMessage}`))
        expect(again.duplicate).toBe(true)
      }
    }
    const seqs = (await storage.listMessages(ab.id, 0, 1000, 1000)).map((m) => m.seq)
    expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
    expect((await storage.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(20)
    expect((await storage.listMessages(other.id, 0, 1000, 1000)).map((m) => m.seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7,
    ])
  })

  it('finds a message by (sender, clientMsgId) and refuses a duplicate of it', async () => {
    const ab = await conversation('p:alice:bob')
    const { message: stored, duplicate } = await storage.insertMessage(
      newMessage(ab.id, 'alice', 'same-id-1'),
    )
    expect(duplicate).toBe(false)
    expect((await storage.findMessageByClientId('alice', 'same-id-1'))?.messageUId).toBe(stored.messageUId)
    expect(await storage.findMessageByClientId('bob', 'same-id-1')).toBeUndefined()
    // Another sender may use the same client id.
    expect((await storage.insertMessage(newMessage(ab.id, 'bob', 'same-id-1'))).message.seq).toBe(2)
    const again = await storage.insertMessage(newMessage(ab.id, 'alice', 'same-id-1'))
    expect(again).toEqual({ message: stored, duplicate: true })
    expect((await storage.getConversationByKey('p:alice:bob'))?.lastSeq).toBe(2)
  })

  it('draws another messageUId when the drawn one is taken', async () => {
    const ab = await conversation('p:alice:bob')
    const first = await storage.insertMessage(newMessage(ab.id))
    const second = await storage.insertMessage({ ...newMessage(ab.id), uid: first.message.messageUId })
    expect(second.duplicate).toBe(false)
    expect(second.message.messageUId).not.toBe(first.message.messageUId)
    expect((await storage.getMessageByUId(second.message.messageUId))?.seq).toBe(2)
  })

  it('lists a seq window and counts unread messages without the reader’s own', async () => {
    const ab = await conversation('p:alice:bob')
    const senders = ['alice', 'bob', 'bob', 'alice', 'bob', 'bob']
    for (const sender of senders) await storage.insertMessage(newMessage(ab.id, sender))
    expect((await storage.listMessages(ab.id, 2, 5, 10)).map((m) => m.seq)).toEqual([3, 4, 5])
    expect((await storage.listMessages(ab.id, 2, 5, 2)).map((m) => m.seq)).toEqual([3, 4])
    expect(await storage.countUnread(ab.id, 'alice', 0, 6)).toBe(4)
    expect(await storage.countUnread(ab.id, 'bob', 0, 6)).toBe(2)
    expect(await storage.countUnread(ab.id, 'alice', 3, 6)).toBe(2)
    expect(await storage.countUnread(ab.id, 'alice', 6, 6)).toBe(0)
  })

  it('records the first delivery and read only, by the receiver only; read implies delivered', async () => {
    const ab = await conversation('p:alice:bob')
    const { message } = await storage.insertMessage(newMessage(ab.id))
    const uid = message.messageUId
    expect(await storage.markReceived('read', uid, 'alice', 5)).toBeUndefined()
    expect(await storage.markReceived('read', 'NONE-NONE-NONE-NONE', 'bob', 5)).toBeUndefined()
    expect(await storage.markReceived('read', uid, 'bob', 10)).toBe('alice')
    expect(await storage.markReceived('read', uid, 'bob', 20)).toBeUndefined()
    expect(await storage.markReceived('delivered', uid, 'bob', 30)).toBeUndefined()
    const after = await storage.getMessageByUId(uid)
    expect([after?.deliveredAt, after?.readAt]).toEqual([10, 10])
  })

  it('does not take a group message for a single-chat one', async () => {
    const conv = await storage.insertConversation({ key: 'g:g_x', type: 'group', createdAt: 1 })
    const { message } = await storage.insertMessage({ ...newMessage(conv.id), to: 'bob', convType: 'group' })
    expect(await storage.markReceived('delivered', message.messageUId, 'bob', 10)).toBeUndefined()
    expect((await storage.getMessageByUId(message.messageUId))?.deliveredAt).toBeNull()
  })

  it('never moves a read watermark backwards', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(1000), { minLength: 1, maxLength: 30 }), async (updates) => {
        const conv = await conversation(`p:${newMessageUId()}`)
        for (const seq of updates) await storage.setMemberWatermarks(conv.id, 'alice', seq, seq)
        const member = await storage.getMember(conv.id, 'alice')
        expect(member?.readSeq).toBe(Math.max(...updates))
        expect(member?.deliveredSeq).toBe(Math.max(...updates))
      }),
      { numRuns: 50 },
    )
  })

  it('numbers each user’s events from 1', async () => {
    expect(await storage.appendUserEvent('alice', 'messageRead', '{}', 1)).toBe(1)
    expect(await storage.appendUserEvent('alice', 'messageRead', '{}', 1)).toBe(2)
    expect(await storage.appendUserEvent('bob', 'messageRead', '{}', 1)).toBe(1)
    expect((await storage.listUserEvents('alice', 1, 10)).map((e) => e.eventSeq)).toEqual([2])
    expect((await storage.getUser('alice'))?.lastEventSeq).toBe(2)
  })

  it('serves the hot queries from indexes (EXPLAIN QUERY PLAN)', async () => {
    const plan = (sql: string, ...params: unknown[]) =>
      storage.db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((row) => row.detail)
        .join('\n')

    const pull = plan(LIST_MESSAGES_SQL, 1, 0, 100, 10)
    expect(pull).toMatch(
      /SEARCH m USING INDEX sqlite_autoindex_messages_\d+ \(conv_id=\? AND seq>\? AND seq<\?\)/,
    )
    expect(pull).not.toMatch(/SCAN|TEMP B-TREE/)

    const countAll = plan(COUNT_IN_RANGE_SQL, 1, 0, 100)
    expect(countAll).toMatch(/SEARCH messages USING COVERING INDEX \S+ \(conv_id=\? AND seq>\? AND seq<\?\)/)
    const countOwn = plan(COUNT_OWN_IN_RANGE_SQL, 1, 'alice', 0, 100)
    expect(countOwn).toMatch(
      /SEARCH messages USING COVERING INDEX messages_by_conv_sender_seq \(conv_id=\? AND sender_id=\? AND seq>\? AND seq<\?\)/,
    )

    const events = plan(
      'SELECT * FROM user_events WHERE user_id = ? AND event_seq > ? ORDER BY event_seq LIMIT 10',
      'a',
      0,
    )
    expect(events).toMatch(/SEARCH user_events USING PRIMARY KEY \(user_id=\? AND event_seq>\?\)/)
    expect(events).not.toMatch(/SCAN|TEMP B-TREE/)
  })
})

describe('group receipt storage', () => {
  let storage: SqliteStorage
  const users = ['owner', 'ann', 'bob', 'cat', 'dan']
  beforeEach(async () => {
    storage = new SqliteStorage(':memory:')
    for (const id of users)
      await storage.insertUser({ id, displayName: id.toUpperCase(), passwordHash: 'x', createdAt: 1 })
  })
  afterEach(() => storage.close())

  async function groupWithMessage() {
    const conv = await storage.insertConversation({ key: 'g:g_test', type: 'group', createdAt: 1 })
    await storage.insertGroup({ id: 'g_test', convId: conv.id, name: 'T', ownerId: 'owner', createdAt: 1 })
    for (const userId of users.slice(0, 4)) {
      await storage.upsertMember({
        convId: conv.id,
        userId,
        role: userId === 'owner' ? 'owner' : 'member',
        joinedSeq: 0,
        joinedAt: 1,
      })
    }
    const { message } = await storage.insertMessage({
      uid: newMessageUId(),
      convId: conv.id,
      senderId: 'owner',
      clientMsgId: 'client-g1',
      to: 'g_test',
      convType: 'group',
      channelId: '',
      content: { type: 'text', text: 'hi' },
      sentAt: 1,
      needDeliveryAck: false,
      needReadAck: false,
      isNeedGroupAck: true,
      memberCount: 3,
    })
    return {
      conv,
      message,
      query: { convId: conv.id, messageId: message.id, seq: message.seq, senderId: 'owner' },
    }
  }

  it('writes one reader fact per (message, member) and counts it on the message', async () => {
    const { message } = await groupWithMessage()
    const first = await storage.insertGroupReadAck({ messageId: message.id, userId: 'bob', ext: 'x', at: 5 })
    expect(first).toMatchObject({ userId: 'bob', ext: 'x', createdAt: 5, countAfter: 1 })
    expect(
      await storage.insertGroupReadAck({ messageId: message.id, userId: 'bob', ext: null, at: 6 }),
    ).toBeUndefined()
    const second = await storage.insertGroupReadAck({
      messageId: message.id,
      userId: 'ann',
      ext: null,
      at: 7,
    })
    expect(second?.countAfter).toBe(2)
    expect(second!.ackId).toBeGreaterThan(first!.ackId)
    expect((await storage.getMessageByUId(message.messageUId))?.groupAckCount).toBe(2)
    expect(await storage.getGroupReadAck(message.id, 'bob')).toEqual(first)
    expect(await storage.listGroupReadAcks(message.id, first!.ackId, 10)).toEqual([second])
  })

  it('lists eligible unread members: window contains the seq, sender excluded, readers excluded', async () => {
    const { conv, message, query } = await groupWithMessage()
    await storage.insertGroupReadAck({ messageId: message.id, userId: 'bob', ext: null, at: 5 })
    await storage.markMemberLeft(conv.id, 'cat', message.seq) // left after it: still eligible
    await storage.upsertMember({
      convId: conv.id,
      userId: 'dan',
      role: 'member',
      joinedSeq: message.seq,
      joinedAt: 9,
    })
    expect(await storage.listGroupUnreadMembers(query, '', 10)).toEqual([
      { userId: 'ann', displayName: 'ANN' },
      { userId: 'cat', displayName: 'CAT' },
    ])
    expect((await storage.listGroupUnreadMembers(query, 'ann', 10)).map((m) => m.userId)).toEqual(['cat'])
    expect(await storage.listCurrentEligibleReaders(query)).toEqual(['ann', 'bob'])
  })

  it('merges per-group setting overrides field by field', async () => {
    groupWithMessage()
    expect(await storage.getGroupReceiptOverrides('g_test')).toEqual({})
    await storage.setGroupReceiptOverrides('g_test', { enabled: false, maxGroupSize: 9 })
    await storage.setGroupReceiptOverrides('g_test', { countVisibility: 'all' })
    expect(await storage.getGroupReceiptOverrides('g_test')).toEqual({
      enabled: false,
      maxGroupSize: 9,
      countVisibility: 'all',
    })
    expect((await storage.listGroupsOfUser('ann'))[0]?.receiptOverrides).toEqual({
      enabled: false,
      maxGroupSize: 9,
      countVisibility: 'all',
    })
  })

  it('pages reader facts and unread members from indexes (EXPLAIN QUERY PLAN)', async () => {
    const plan = (sql: string, ...params: unknown[]) =>
      storage.db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((row) => row.detail)
        .join('\n')

    const acks = plan(LIST_GROUP_READ_ACKS_SQL, 1, 0, 10)
    expect(acks).toMatch(
      /SEARCH group_read_acks USING INDEX group_read_acks_page \(message_id=\? AND ack_id>\?\)/,
    )
    expect(acks).not.toMatch(/SCAN|TEMP B-TREE/)

    const unread = plan(LIST_GROUP_UNREAD_MEMBERS_SQL, {
      convId: 1,
      messageId: 1,
      seq: 1,
      senderId: 'owner',
      afterUserId: '',
      limit: 10,
    })
    expect(unread).toMatch(/SEARCH m USING PRIMARY KEY \(conv_id=\? AND user_id>\?\)/)
    expect(unread).toMatch(
      /SEARCH a USING COVERING INDEX sqlite_autoindex_group_read_acks_1 \(message_id=\? AND user_id=\?\)/,
    )
    expect(unread).not.toMatch(/SCAN|TEMP B-TREE/)
    // The hidden readers of receiptPrivacy.ts: a range of the index of hiders only, never the members.
    const hidden = plan(COUNT_HIDDEN_READERS_SQL, { convId: 1, messageId: 1, seq: 1, senderId: 'owner' })
    expect(hidden).toMatch(/SEARCH m USING INDEX members_hiding_receipts \(conv_id=\?\)/)
    expect(hidden).not.toMatch(/SCAN|TEMP B-TREE/)
  })
})

describe('passwords and ids', () => {
  const cheap = { N: 1024, r: 8, p: 1 }

  it('hashes with a per-user salt and verifies', async () => {
    const a = await hashPassword('hunter2hunter2', cheap)
    const b = await hashPassword('hunter2hunter2', cheap)
    expect(a).toMatch(/^scrypt\$1024\$8\$1\$[\w-]{22}\$[\w-]{43}$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('hunter2hunter2', a)).toBe(true)
    expect(await verifyPassword('hunter2hunter3', a)).toBe(false)
    expect(await verifyPassword('hunter2hunter2', 'garbage')).toBe(false)
    expect(await verifyPassword('hunter2hunter2', a.replace('$1024$', '$0$'))).toBe(false)
  })

  it('puts time first in message and client ids, so their indexes grow at the end', () => {
    const times = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_060_000, 1_800_000_000_000]
    const uids = times.map((t) => newMessageUId(t))
    expect([...uids].sort()).toEqual(uids)
    for (const uid of uids) expect(MessageUId.safeParse(uid).success).toBe(true)
    // Same millisecond: still unique (8 random characters).
    expect(new Set(Array.from({ length: 1000 }, () => newMessageUId(times[0]))).size).toBe(1000)
    const clientIds = times.map((t) => newClientMsgId(t))
    expect([...clientIds].sort()).toEqual(clientIds)
    for (const id of clientIds) {
      expect(id).toMatch(/^[0-9a-z]{8}[0-9A-Za-z]{8}$/)
      expect(ClientMsgId.safeParse(id).success).toBe(true)
    }
    expect(clientIds[0]?.slice(0, 8)).toBe('loyw3v28')
    expect(new Set(Array.from({ length: 1000 }, () => newClientMsgId(times[0]))).size).toBe(1000)
  })

  it('makes messageUIds in the RongCloud shape and group ids in ours', () => {
    const uids = new Set(Array.from({ length: 2000 }, newMessageUId))
    expect(uids.size).toBe(2000)
    for (const uid of uids) expect(MessageUId.safeParse(uid).success).toBe(true)
    expect(GroupId.safeParse(newGroupId()).success).toBe(true)
    expect(newSessionToken()).toMatch(/^[\w-]{43}$/)
  })
})
