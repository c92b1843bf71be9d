/**
 * searchUsers (issue 13, H2): people by id or display name, case-insensitive, best first; id and
 * display name only; strangers cost lookups (policy.ts), one-character queries find known people
 * only. Runs on both backends.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { LIMITS } from '../../src/shared/model'
import type { RunningServer, ServerOptions } from '../../src/server/server'
import { connectOne, startTestServer, uniqueId } from './helpers'

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

describe('searchUsers', () => {
  it('finds people by part of their id or display name, any case, and never the searcher', async () => {
    const { server } = await start()
    const tag = uniqueId('s').replace(/_/g, '')
    const me = await connectOne(server, { userId: `${tag}me`, displayName: 'Searcher Zed' })
    const alice = await connectOne(server, { userId: `${tag}alice`, displayName: 'Alice Wonder' })
    const bob = await connectOne(server, { userId: `${tag}bob`, displayName: '王小明 Bob' })
    await connectOne(server, { userId: uniqueId('other'), displayName: 'Somebody Else' })

    const find = async (query: string) =>
      (await me.call('searchUsers', { query, limit: 10 })).users.map((u) => u.userId)
    expect(await find('WONDER')).toEqual([alice.userId])
    expect(await find('小明')).toEqual([bob.userId])
    expect(await find(`${tag}`)).toEqual(expect.arrayContaining([alice.userId, bob.userId]))
    expect(await find(`${tag}`)).not.toContain(me.userId)
    // Only what getUsers says of a person: id and display name.
    const { users } = await me.call('searchUsers', { query: 'wonder', limit: 10 })
    expect(users).toEqual([{ userId: alice.userId, displayName: 'Alice Wonder' }])
    // LIKE wildcards are text.
    expect(await find('%%')).toEqual([])
    expect(await find('__')).toEqual([])
  })

  it('ranks people I share a conversation with first, then an exact id, then prefixes', async () => {
    const { server } = await start()
    const tag = uniqueId('r').replace(/_/g, '')
    const me = await connectOne(server, { userId: `${tag}me` })
    const exact = await connectOne(server, { userId: `${tag}ann`, displayName: 'Zz' })
    const prefix = await connectOne(server, { userId: `${tag}anna`, displayName: 'Aa' })
    const friend = await connectOne(server, { userId: `x${tag}annie`, displayName: 'Yy' })
    await me.call('createGroup', { name: 'friends', memberIds: [friend.userId] })
    const { users } = await me.call('searchUsers', { query: `${tag}ann`, limit: 10 })
    expect(users.map((u) => u.userId)).toEqual([friend.userId, exact.userId, prefix.userId])
  })

  it('charges a lookup per stranger listed; one character lists known people only', async () => {
    const { clock, server } = await start({ lookups: { burst: 3, perHour: 3 } })
    const tag = uniqueId('q').replace(/_/g, '')
    const me = await connectOne(server, { userId: `${tag}me` })
    const strangers = await Promise.all(
      ['one', 'two', 'three'].map((n) => connectOne(server, { userId: `${tag}${n}` })),
    )
    const friend = await connectOne(server, { userId: 'q' + uniqueId('f').replace(/_/g, '') })
    await me.call('createGroup', { name: 'f', memberIds: [friend.userId] }) // 1 lookup
    // Two strangers listed: the budget of 3 is spent.
    expect((await me.call('searchUsers', { query: `${tag}t`, limit: 10 })).users).toHaveLength(2)
    await me.expectError('searchUsers', { query: `${tag}one`, limit: 10 }, Code.RATE_LIMITED)
    // Known people are free, and a single character finds nobody else.
    expect((await me.call('searchUsers', { query: 'q', limit: 10 })).users.map((u) => u.userId)).toEqual([
      friend.userId,
    ])
    // A search that lists no stranger costs nothing either.
    expect((await me.call('searchUsers', { query: 'nobody-like-this', limit: 10 })).users).toEqual([])
    clock.now += HOUR
    expect(
      (await me.call('searchUsers', { query: `${tag}one`, limit: 10 })).users.map((u) => u.userId),
    ).toEqual([strangers[0]!.userId])
  })

  it('refuses an empty query or a page larger than the cap with INVALID_ARGUMENT', async () => {
    const { server } = await start()
    const me = await connectOne(server)
    await me.expectError('searchUsers', { query: '   ', limit: 10 }, Code.INVALID_ARGUMENT)
    await me.expectError(
      'searchUsers',
      { query: 'abc', limit: LIMITS.userSearchMax + 1 },
      Code.INVALID_ARGUMENT,
    )
    await me.expectError('searchUsers', { query: 'x'.repeat(65), limit: 5 }, Code.INVALID_ARGUMENT)
  })
})
