/**
 * An engine SIGKILLed with messages and receipts in its outbox, then started again on the same
 * profile: everything it had queued goes out, exactly once.
 *
 * The writer engine runs in a child process (fixtures/outboxWriter.ts). The server's rate limit
 * slows its outbox down so that the kill lands mid-outbox for certain: some messages stored, most
 * still queued, and the read receipts queued behind them.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { http } from '../../src/shared/protocol'
import { cleanup, data, reopen, signIn, tempDir, testServer } from '../integration/harness'
import { textOf } from '../textOf'

afterEach(cleanup)

const root = join(import.meta.dirname, '../..')
const COUNT = 150
const FROM_PEER = 12

describe('engine SIGKILLed mid-outbox', () => {
  it('sends its queued messages and receipts exactly once after a restart', async () => {
    const storage = new SqliteStorage(':memory:')
    const server = await testServer({ storage, rateLimit: { perSecond: 100, burst: 20 } })
    const register = await fetch(`${server.httpUrl}${http.register.path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 'writer', password: 'writer-password' }),
    })
    expect(((await register.json()) as { code: number }).code).toBe(0)
    const bob = await signIn(server, 'bob')
    data(await bob.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
    for (let i = 0; i < FROM_PEER; i++)
      data(
        await bob.dispatch('sendMessage', [
          { type: 'private', targetId: 'writer' },
          { type: 'text', text: `b${i}` },
        ]),
      )
    const chat = { type: 'private' as const, targetId: 'writer' }
    const bobRows = () => bob.engine.store?.history(chat, undefined, 1000).list ?? []
    await bob.until(
      'bob’s messages stored',
      () => bobRows().filter((r) => r.status === 'sent').length === FROM_PEER,
    )

    const profileDir = tempDir('writer')
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures/outboxWriter.ts'),
        profileDir,
        server.url,
        'writer',
        'writer-password',
        'bob',
        String(COUNT),
        String(FROM_PEER),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    )
    const queued = await new Promise<number>((resolve, reject) => {
      let out = ''
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString()
        const match = /queued (\d+)/.exec(out)
        if (match) resolve(Number(match[1]))
      })
      void exited.then((code) => reject(new Error(`writer exited (${code}) before queueing: ${stderr}`)))
    })
    expect(queued).toBeGreaterThanOrEqual(COUNT)

    // Kill it once some of its messages have reached bob: mid-outbox.
    const received = () => bobRows().filter((r) => r.messageDirection === 2).length
    await bob.until('the first messages at bob', () => received() >= 30)
    child.kill('SIGKILL')
    expect(await exited).toBe('SIGKILL')
    const storedAtKill = (
      storage.db.prepare("SELECT count(*) AS n FROM messages WHERE sender_id = 'writer'").get() as {
        n: number
      }
    ).n
    expect(storedAtKill).toBeGreaterThanOrEqual(30)
    expect(storedAtKill).toBeLessThan(COUNT)
    const readEventsAtKill = storage.db
      .prepare("SELECT data FROM user_events WHERE user_id = 'bob' AND event = 'messageRead'")
      .all()
    expect(readEventsAtKill).toEqual([])

    // Restarted on the same profile: the outbox drains, its conversation read mark included.
    let peerReadSeq = 0
    bob.engine.on('conversationRead', ({ from, seq }) => {
      if (from === 'writer') peerReadSeq = Math.max(peerReadSeq, seq)
    })
    const writer = await reopen(profileDir, server)
    await bob.until(
      'every message and every receipt at bob',
      () =>
        received() === COUNT &&
        bobRows().filter((r) => r.messageDirection === 1 && r.readTime !== null).length === FROM_PEER &&
        peerReadSeq >= FROM_PEER,
      15_000,
    )
    await writer.engine.flushOutbox()
    expect(writer.engine.store?.outboxSize()).toBe(0)

    // Messages: each exactly once on the server, at bob, and sent on the writer's side.
    const onServer = storage.db
      .prepare(
        "SELECT count(*) AS n, count(DISTINCT client_msg_id) AS ids FROM messages WHERE sender_id = 'writer'",
      )
      .get()
    expect(onServer).toEqual({ n: COUNT, ids: COUNT })
    const texts = bobRows()
      .filter((r) => r.messageDirection === 2)
      .map((r) => textOf(r))
    expect(new Set(texts).size).toBe(COUNT)
    const mine =
      writer.engine.store?.history({ type: 'private', targetId: 'bob' }, undefined, 1000).list ?? []
    expect(mine.filter((r) => r.messageDirection === 1).map((r) => r.status)).toEqual(
      Array(COUNT).fill('sent'),
    )

    // Receipts: every one of bob's messages read once in the server's event log, read marks forward only.
    const events = storage.db
      .prepare<[], { event: string; data: string }>(
        "SELECT event, data FROM user_events WHERE user_id = 'bob' ORDER BY event_seq",
      )
      .all()
    const readUids = events
      .filter((e) => e.event === 'messageRead')
      .flatMap((e) => (JSON.parse(e.data) as { messageUIds: string[] }).messageUIds)
    expect(readUids.length).toBe(FROM_PEER)
    expect(new Set(readUids).size).toBe(FROM_PEER)
    const marks = events
      .filter((e) => e.event === 'conversationRead')
      .map((e) => (JSON.parse(e.data) as { seq: number }).seq)
    expect(marks.length).toBeGreaterThan(0)
    expect(marks).toEqual([...new Set(marks)].sort((a, b) => a - b))
    await storage.close()
  }, 30_000)
})
