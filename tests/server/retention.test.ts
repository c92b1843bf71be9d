/**
 * Storage does not grow forever (issue #11, gap 7): the sweep deletes dead sessions, receipt events
 * past their window (a client behind them is told to resync in full) and, when the operator asks,
 * messages past their retention with their receipts, leaving seqs and counts consistent; quotas
 * refuse what one user may add per day. A fake clock throughout: the server takes `now`.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { http } from '../../src/shared/protocol'
import type { RunningServer, ServerOptions } from '../../src/server/server'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { api, clientMsgId, connectOne, login, startTestServer, TestClient, text } from './helpers'

const DAY = 24 * 60 * 60 * 1000
const T0 = Date.UTC(2030, 0, 1, 12)

let running: { server: RunningServer; storage: SqliteStorage } | undefined
afterEach(async () => {
  await running?.server.close()
  await running?.storage.close()
  running = undefined
})

/** A server on a fake clock over a database the test can read. */
async function world(options: ServerOptions = {}) {
  const clock = { now: T0 }
  const storage = new SqliteStorage(':memory:')
  const server = await startTestServer({ storage, now: () => clock.now, ...options })
  running = { server, storage }
  const count = (sql: string, ...params: unknown[]) =>
    storage.db
      .prepare<unknown[], number>(sql)
      .pluck()
      .get(...params) as number
  return { clock, storage, server, count }
}

function send(from: TestClient, to: { type: 'private' | 'group'; targetId: string }, body: string) {
  return from.request('sendMessage', {
    clientMsgId: clientMsgId(),
    conversation: to,
    content: text(body),
    isNeedGroupAck: to.type === 'group',
  })
}

async function sent(from: TestClient, to: { type: 'private' | 'group'; targetId: string }, body: string) {
  const reply = await send(from, to, body)
  if (reply.code !== 0) throw new Error(`send: ${reply.code} ${reply.msg}`)
  return reply.data.message
}

describe('retention sweep', () => {
  it('deletes expired and revoked sessions, and only those', async () => {
    const { clock, server, count } = await world({ sessionTtlMs: 2 * DAY })
    const alice = await connectOne(server)
    const laptop = await login(server, alice.userId, alice.session.password)
    await api(server, http.logout.path, {}, { token: laptop.token })
    clock.now += DAY
    const fresh = await login(server, alice.userId, alice.session.password)
    expect(count('SELECT count(*) FROM sessions')).toBe(3)
    expect((await server.sweep()).sessions).toBe(1) // the revoked one
    clock.now += DAY + 1 // the first login has expired, the last not
    expect((await server.sweep()).sessions).toBe(1)
    expect(count('SELECT count(*) FROM sessions')).toBe(1)
    const again = await TestClient.connect(server, fresh)
    expect((await again.call('syncState', {})).user.userId).toBe(alice.userId)
  })

  it('prunes receipt events past their window and tells a client behind them to resync', async () => {
    const { clock, server, count } = await world({ retention: { eventsDays: 7 } })
    const [alice, bob] = [await connectOne(server), await connectOne(server)]
    await alice.call('updateSettings', { requireDeliveryAck: true, requireReadAck: true })
    const old = await sent(alice, { type: 'private', targetId: bob.userId }, 'old')
    await bob.call('ackDelivered', { messageUIds: [old.messageUId] })
    await bob.call('ackMessageRead', { messageUIds: [old.messageUId] })
    clock.now += 8 * DAY
    const recent = await sent(alice, { type: 'private', targetId: bob.userId }, 'recent')
    await bob.call('ackDelivered', { messageUIds: [recent.messageUId] })

    const report = await server.sweep()
    expect(report.events).toBe(2)
    expect(count('SELECT count(*) FROM user_events WHERE user_id = ?', alice.userId)).toBe(1)
    // Behind the pruned ones: no events, and where to go on once resynced.
    expect(await alice.call('syncEvents', { afterEventSeq: 0, limit: 10 })).toEqual({
      events: [],
      hasMore: false,
      prunedThrough: 2,
    })
    const rest = await alice.call('syncEvents', { afterEventSeq: 2, limit: 10 })
    expect(rest.events.map((e) => [e.event, e.eventSeq])).toEqual([['messageDelivered', 3]])
    // What the pruned events said rides on the pulled messages, for their sender only.
    const pulled = await alice.call('pullMessages', {
      conversation: { type: 'private', targetId: bob.userId },
      afterSeq: 0,
      limit: 10,
    })
    expect(pulled.messages[0]).toMatchObject({ deliveredAt: T0, readAt: T0 })
    expect(pulled.messages[1]).toMatchObject({ deliveredAt: T0 + 8 * DAY })
    expect(pulled.messages[1]).not.toHaveProperty('readAt')
    const bobsCopy = await bob.call('pullMessages', {
      conversation: { type: 'private', targetId: alice.userId },
      afterSeq: 0,
      limit: 10,
    })
    expect(bobsCopy.messages[0]).not.toHaveProperty('readAt')
    // A second sweep finds nothing more; the event seq goes on from where it was.
    expect((await server.sweep()).events).toBe(0)
    expect((await alice.call('syncState', {})).lastEventSeq).toBe(3)
  })

  it('deletes messages past their retention with their receipts, keeping seqs and counts right', async () => {
    // Sessions outlive the 31 days the clock moves here (an expired one closes its socket: 4002).
    const { clock, storage, server, count } = await world({
      retention: { messagesDays: 30 },
      sessionTtlMs: 365 * DAY,
    })
    const [owner, a, b] = [await connectOne(server), await connectOne(server), await connectOne(server)]
    const { group } = await owner.call('createGroup', { name: 'g', memberIds: [a.userId, b.userId] })
    const g = { type: 'group' as const, targetId: group.groupId }
    const olds = [await sent(owner, g, 'old 1'), await sent(owner, g, 'old 2'), await sent(a, g, 'old 3')]
    await a.call('ackGroupMessageRead', {
      groupId: group.groupId,
      acks: [{ messageUId: olds[0]!.messageUId }],
    })
    await owner.call('sendReadReceiptRequest', { groupId: group.groupId, messageUId: olds[1]!.messageUId })
    await b.call('sendReadReceiptResponse', {
      groupId: group.groupId,
      messageList: { [owner.userId]: [olds[1]!.messageUId] },
    })
    const chat = { type: 'private' as const, targetId: b.userId }
    await sent(a, chat, 'old private')
    clock.now += 31 * DAY
    const kept = await sent(owner, g, 'kept')
    await sent(a, chat, 'kept private')

    const report = await server.sweep()
    expect(report.messages).toBe(4)
    expect(count('SELECT count(*) FROM messages')).toBe(2)
    expect(count('SELECT count(*) FROM group_read_acks')).toBe(0)
    expect(count('SELECT count(*) FROM receipt_requests')).toBe(0)
    expect(storage.db.pragma('foreign_key_check')).toEqual([])

    // A client asks from the start: it gets what is kept and where the gap ends, once.
    const page = await b.call('pullMessages', { conversation: g, afterSeq: 0, limit: 10 })
    expect(page.messages.map((m) => [m.seq, m.content])).toEqual([[4, text('kept')]])
    expect(page.prunedSeq).toBe(3)
    const after = await b.call('pullMessages', { conversation: g, afterSeq: 3, limit: 10 })
    expect(after).not.toHaveProperty('prunedSeq')
    // Seqs are never reused; unread counts count what can still be read.
    expect((await sent(a, g, 'next')).seq).toBe(5)
    const state = await b.call('syncState', {})
    expect(state.conversations.find((c) => c.conversation.targetId === group.groupId)).toMatchObject({
      lastSeq: 5,
      unreadCount: 2,
    })
    expect(state.conversations.find((c) => c.conversation.targetId === a.userId)).toMatchObject({
      lastSeq: 2,
      unreadCount: 1,
    })
    // Acks of a deleted message: MESSAGE_NOT_FOUND ("no longer kept"), nothing written.
    const late = await b.call('ackGroupMessageRead', {
      groupId: group.groupId,
      acks: [{ messageUId: olds[0]!.messageUId }],
    })
    expect(late.rejected).toEqual([expect.objectContaining({ code: Code.MESSAGE_NOT_FOUND })])
    expect(kept.seq).toBe(4)
  })

  it('keeps messages forever unless the operator sets a retention', async () => {
    const { clock, server, count } = await world()
    const [a, b] = [await connectOne(server), await connectOne(server)]
    await sent(a, { type: 'private', targetId: b.userId }, 'forever')
    clock.now += 3650 * DAY
    expect((await server.sweep()).messages).toBe(0)
    expect(count('SELECT count(*) FROM messages')).toBe(1)
  })

  it('prunes in chunks that together delete everything due', async () => {
    const { clock, server, count } = await world({
      retention: { messagesDays: 1, eventsDays: 1 },
      rateLimit: { perSecond: 1e6, burst: 1e6 },
    })
    const [a, b] = [await connectOne(server), await connectOne(server)]
    await b.call('updateSettings', { requireDeliveryAck: true })
    const uids: string[] = []
    for (let i = 0; i < 1203; i++)
      uids.push((await sent(b, { type: 'private', targetId: a.userId }, `m${i}`)).messageUId)
    for (let i = 0; i < uids.length; i += 1000)
      await a.call('ackDelivered', { messageUIds: uids.slice(i, i + 1000) })
    clock.now += 2 * DAY
    const report = await server.sweep()
    expect([report.messages, report.events]).toEqual([1203, 2])
    expect(count('SELECT count(*) FROM messages') + count('SELECT count(*) FROM user_events')).toBe(0)
  })
})

describe('quotas', () => {
  it('refuse the message, bytes or group over the day, store nothing, and reset the next UTC day', async () => {
    const { clock, server, count } = await world({
      quotas: { messagesPerDay: 3, bytesPerDay: 200, groupsPerDay: 1 },
    })
    const [a, b] = [await connectOne(server), await connectOne(server)]
    const chat = { type: 'private' as const, targetId: b.userId }
    for (let i = 0; i < 3; i++) await sent(a, chat, `m${i}`)
    const over = await send(a, chat, 'one too many')
    expect(over.code).toBe(Code.QUOTA_EXCEEDED)
    expect(count('SELECT count(*) FROM messages')).toBe(3)
    expect(await b.barrier()).toHaveLength(3) // three message pushes, none for the refused one
    // Others are not affected.
    await sent(b, { type: 'private', targetId: a.userId }, 'b is fine')
    // Bytes: one large message passes the byte quota.
    const big = await send(b, { type: 'private', targetId: a.userId }, 'x'.repeat(300))
    expect(big.code).toBe(Code.QUOTA_EXCEEDED)
    // Groups.
    await b.call('createGroup', { name: 'one', memberIds: [] })
    await b.expectError('createGroup', { name: 'two', memberIds: [] }, Code.QUOTA_EXCEEDED)
    expect(count('SELECT count(*) FROM groups')).toBe(1)

    clock.now += DAY
    await sent(a, chat, 'a new day')
    await b.call('createGroup', { name: 'two', memberIds: [] })
    // Old days' counters go with the sweep.
    clock.now += 2 * DAY
    expect((await server.sweep()).usageRows).toBeGreaterThan(0)
    expect(count('SELECT count(*) FROM usage_daily')).toBe(0)
  })

  it('counts a message resent with the same client id once', async () => {
    const { server } = await world({ quotas: { messagesPerDay: 1 } })
    const [a, b] = [await connectOne(server), await connectOne(server)]
    const data = {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private' as const, targetId: b.userId },
      content: text('once'),
    }
    expect((await a.request('sendMessage', data)).code).toBe(0)
    const again = await a.request('sendMessage', data)
    expect([again.code, again.data.duplicate]).toEqual([0, true])
  })
})

describe('server --config: retention, quotas, lookups', () => {
  it('accepts them and refuses an unknown key with one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-retention-'))
    try {
      const cli = join(import.meta.dirname, '../../src/server/cli.ts')
      const run = (file: string) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(
            process.execPath,
            ['--import', 'tsx', cli, '--port', '0', '--data', join(dir, 'data'), '--config', file],
            { stdio: ['ignore', 'pipe', 'pipe'] },
          )
          let stdout = ''
          let stderr = ''
          let asked = false
          child.stdout.on('data', (chunk: Buffer) => {
            stdout += chunk.toString()
            const url = /ws:\/\/(\S+)\/ws/.exec(stdout)?.[1]
            if (!url || asked) return
            asked = true
            // It answers (so its signal handlers are installed), then it is stopped.
            void fetch(`http://${url}/health`).finally(() => child.kill('SIGTERM'))
          })
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
          child.on('exit', (code) => resolve({ code, stdout, stderr }))
        })
      const good = join(dir, 'good.json')
      writeFileSync(
        good,
        JSON.stringify({
          retention: { eventsDays: 14, messagesDays: 365, sweepIntervalMs: 600_000 },
          quotas: { messagesPerDay: 1000, bytesPerDay: null },
          lookups: { burst: 50, perHour: 50 },
        }),
      )
      const ok = await run(good)
      expect(ok.stdout).toMatch(/^IM server listening at ws:\/\/127\.0\.0\.1:\d+\/ws\n$/)
      expect(ok.code).toBe(0)
      const bad = join(dir, 'bad.json')
      writeFileSync(bad, JSON.stringify({ retention: { eventDays: 14 } }))
      const refused = await run(bad)
      expect(refused.code).toBe(2)
      expect(refused.stderr.trim().split('\n')).toEqual([expect.stringMatching(/bad\.json.*retention/)])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
