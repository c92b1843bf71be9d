/** Search operations of the engine (issue 13, H2), without sockets. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { indexInBackground, messagesAround, searchUsers } from '../../../src/main/engine/ops/search'
import { Code, CodedError, fail, ok } from '../../../src/shared/codes'
import { testContext, TEAM, wire, ME, type TestContext } from '../fakeContext'

const codeOf = (code: number) => expect.objectContaining({ code }) as CodedError

describe('search operations (engine)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
  })
  afterEach(() => ctx.store.close())

  it('asks the server for people and keeps their names, so a chat with one is titled at once', async () => {
    ctx.fake.answer('searchUsers', () => ok({ users: [{ userId: 'dora', displayName: 'Dora Explorer' }] }))
    expect(await searchUsers(ctx, 'dor', 5)).toEqual([{ userId: 'dora', displayName: 'Dora Explorer' }])
    expect(ctx.fake.sent).toEqual([{ op: 'searchUsers', data: { query: 'dor', limit: 5 } }])
    expect(ctx.store.displayName('dora')).toBe('Dora Explorer')
  })

  it('passes the server refusal on (lookup budget spent) and stores nothing', async () => {
    ctx.fake.answer('searchUsers', () => fail(Code.RATE_LIMITED))
    await expect(searchUsers(ctx, 'dor', 5)).rejects.toThrow(codeOf(Code.RATE_LIMITED))
    expect(ctx.store.displayName('dora')).toBeUndefined()
  })

  it('offline: people cannot be searched, in words', async () => {
    const offline = testContext({ connected: false })
    await expect(searchUsers(offline, 'dor', 5)).rejects.toThrow(codeOf(Code.SERVER_UNREACHABLE))
    offline.store.close()
  })

  it('indexes what a sync stored in the background, with nothing to do for a search afterwards', async () => {
    ctx.store.storeServerMessages(
      ME,
      Array.from({ length: 12 }, (_, i) => wire(i + 1)),
      1000,
    )
    const indexed = () =>
      (ctx.store.db.prepare('SELECT count(*) AS n FROM message_search').get() as { n: number }).n
    expect(indexed()).toBe(0)
    indexInBackground(ctx)
    indexInBackground(ctx) // one run at a time
    await vi.waitFor(() => expect(indexed()).toBe(12))
    expect(ctx.store.indexForSearch(100)).toBe(0)
  })

  it('refuses the page around a message of another chat as MESSAGE_NOT_FOUND', () => {
    ctx.store.storeServerMessages(ME, [wire(1)], 1000)
    const [stored] = ctx.store.history({ type: 'private', targetId: 'bob' }, undefined, 5).list
    expect(
      messagesAround(ctx, { type: 'private', targetId: 'bob' }, stored!.messageId, 10).list,
    ).toHaveLength(1)
    expect(() => messagesAround(ctx, TEAM, stored!.messageId, 10)).toThrow(codeOf(Code.MESSAGE_NOT_FOUND))
  })
})
