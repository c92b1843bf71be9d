/**
 * Finding out which user ids exist (issue #11, gap 8): answers that do not depend on whether a user
 * exists where the caller has no business knowing, a cap on ids per lookup, and a budget for looking
 * up users the caller shares no conversation with, on the server's (fake) clock.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { LIMITS } from '../../src/shared/model'
import type { RunningServer, ServerOptions } from '../../src/server/server'
import { KNOWN_USERS_SQL } from '../../src/server/storage/lookups'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { clientMsgId, connectOne, startTestServer, text, uniqueId } from '../server/helpers'

const HOUR = 60 * 60 * 1000
let server: RunningServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(options: ServerOptions = {}) {
  const clock = { now: Date.UTC(2030, 0, 1) }
  server = await startTestServer({ now: () => clock.now, ...options })
  return { clock, server }
}

describe('user enumeration', () => {
  it('answers pullMessages of a chat that does not exist the same whether the user exists or not', async () => {
    const { server } = await start()
    const [prober, stranger] = [await connectOne(server), await connectOne(server)]
    const pull = (targetId: string) =>
      prober.request('pullMessages', { conversation: { type: 'private', targetId }, afterSeq: 0, limit: 10 })
    const answer = async (targetId: string) => {
      const { code, msg, data } = await pull(targetId)
      return { code, msg, data }
    }
    const existing = await answer(stranger.userId)
    expect(await answer(uniqueId('ghost'))).toEqual(existing)
    expect(existing).toEqual({ code: 0, msg: undefined, data: { messages: [], hasMore: false } })
  })

  it('looks up at most 100 ids per getUsers', async () => {
    const { server } = await start()
    const prober = await connectOne(server)
    const ids = Array.from({ length: 101 }, (_, i) => `probe${i}`)
    expect(LIMITS.userLookupMax).toBe(100)
    await prober.expectError('getUsers', { userIds: ids }, Code.INVALID_ARGUMENT)
    expect((await prober.call('getUsers', { userIds: ids.slice(0, 100) })).users).toEqual([])
  })

  it('limits lookups of strangers (getUsers, first messages, groups); people I know cost nothing', async () => {
    const { clock, server } = await start({ lookups: { burst: 5, perHour: 5 } })
    const prober = await connectOne(server)
    const friend = await connectOne(server)
    const strangers = await Promise.all(Array.from({ length: 4 }, () => connectOne(server!)))
    await prober.call('createGroup', { name: 'friends', memberIds: [friend.userId] }) // 1 lookup
    // 4 more strangers, one of them unknown: the budget of 5 is spent.
    const found = await prober.call('getUsers', {
      userIds: [strangers[0]!.userId, strangers[1]!.userId, strangers[2]!.userId, 'nobody-here'],
    })
    expect(found.users.map((u) => u.userId).sort()).toEqual(
      strangers
        .slice(0, 3)
        .map((s) => s.userId)
        .sort(),
    )
    // Any further stranger is refused, whether or not that user exists, and nothing is created.
    for (const id of [strangers[3]!.userId, 'nobody-either']) {
      await prober.expectError('getUsers', { userIds: [id] }, Code.RATE_LIMITED)
      await prober.expectError(
        'sendMessage',
        { clientMsgId: clientMsgId(), conversation: { type: 'private', targetId: id }, content: text('hi') },
        Code.RATE_LIMITED,
      )
      await prober.expectError('createGroup', { name: 'g', memberIds: [id] }, Code.RATE_LIMITED)
    }
    expect((await prober.call('syncState', {})).groups).toHaveLength(1)
    // Someone I share a group with is no stranger: always answered.
    expect((await prober.call('getUsers', { userIds: [friend.userId, prober.userId] })).users).toHaveLength(2)
    await prober.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: friend.userId },
      content: text('hi friend'),
    })
    // The budget refills with time.
    clock.now += HOUR
    expect((await prober.call('getUsers', { userIds: [strangers[3]!.userId] })).users).toHaveLength(1)
  })

  it('tells strangers from people I know by index lookups (EXPLAIN QUERY PLAN)', async () => {
    const storage = new SqliteStorage(':memory:')
    try {
      const plan = storage.db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${KNOWN_USERS_SQL}`)
        .all('["a"]', 'b')
        .map((r) => r.detail)
        .join('\n')
      expect(plan).toMatch(/SEARCH b USING COVERING INDEX members_by_user \(user_id=\?\)/)
      expect(plan).toMatch(/SEARCH a USING COVERING INDEX members_by_user \(user_id=\? AND conv_id=\?\)/)
      expect(plan).not.toMatch(/SCAN (a|b|members)/)
    } finally {
      await storage.close()
    }
  })
})
