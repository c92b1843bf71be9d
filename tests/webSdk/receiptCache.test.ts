/**
 * The R7 cache of the web SDK (SPEC R7): the latest 30 requests per group by request time, each
 * valid 24 h, kept in the page's store, answered in one response grouped by sender. A fake clock.
 */
import { describe, expect, it } from 'vitest'
import { groupBySender, ReceiptRequestCache, type CachedReceiptRequest } from '../../src/sdk/web/receiptCache'
import { MemoryStore } from '../../src/sdk/web/storage'

const HOUR = 3_600_000
const G = 'g_team'

function clock(start = 1_700_000_000_000) {
  const c = { t: start, now: () => c.t }
  return c
}

const uid = (n: number) => `AAAA-BBBB-CCCC-${String(n).padStart(4, '0')}`

function request(
  n: number,
  at: number,
  sender = 'alice',
  channelId = '',
): Omit<CachedReceiptRequest, 'answeredAt'> {
  return { groupId: G, channelId, messageUId: uid(n), senderUserId: sender, requestedAt: at }
}

describe('the R7 receipt-request cache', () => {
  it('keeps the latest 30 of a group by request time: the 31st evicts the oldest', async () => {
    const t = clock()
    const cache = new ReceiptRequestCache(new MemoryStore(), 'bob', { now: t.now })
    for (let n = 1; n <= 30; n++) expect(await cache.add(request(n, t.t + n))).toBe(true)
    expect(await cache.list(G)).toHaveLength(30)
    expect(await cache.add(request(31, t.t + 31))).toBe(true)
    const uids = (await cache.list(G)).map((r) => r.messageUId)
    expect(uids).toHaveLength(30)
    expect(uids).not.toContain(uid(1))
    expect(uids[0]).toBe(uid(31))
    // A request older than the 30 kept (a late replay) is not kept either.
    expect(await cache.add(request(0, t.t))).toBe(false)
    expect((await cache.list(G)).map((r) => r.messageUId)).not.toContain(uid(0))
  })

  it('orders by the request time, not by arrival', async () => {
    const t = clock()
    const cache = new ReceiptRequestCache(new MemoryStore(), 'bob', { now: t.now, maxPerConversation: 2 })
    await cache.add(request(1, t.t + 30))
    await cache.add(request(2, t.t + 10))
    await cache.add(request(3, t.t + 20))
    expect((await cache.list(G)).map((r) => r.messageUId)).toEqual([uid(1), uid(3)])
  })

  it('forgets a request 24 h after it was made, answered or not', async () => {
    const t = clock()
    const cache = new ReceiptRequestCache(new MemoryStore(), 'bob', { now: t.now })
    await cache.add(request(1, t.t))
    t.t += 2 * HOUR
    await cache.add(request(2, t.t))
    await cache.markAnswered(G, [uid(2)])
    t.t += 22 * HOUR - 1
    expect(await cache.list(G)).toHaveLength(2)
    t.t += 1
    expect((await cache.list(G)).map((r) => r.messageUId)).toEqual([uid(2)])
    expect(await cache.unanswered(G, '')).toEqual([])
    t.t += 2 * HOUR
    expect(await cache.list(G)).toEqual([])
    // A request that arrives already expired (replayed late) is not kept.
    expect(await cache.add(request(3, t.t - 25 * HOUR))).toBe(false)
  })

  it('takes its limits as options', async () => {
    const t = clock()
    const cache = new ReceiptRequestCache(new MemoryStore(), 'bob', {
      now: t.now,
      maxPerConversation: 3,
      ttlMs: HOUR,
    })
    for (let n = 1; n <= 5; n++) await cache.add(request(n, t.t + n))
    expect((await cache.list(G)).map((r) => r.messageUId)).toEqual([uid(5), uid(4), uid(3)])
    t.t += HOUR + 3
    expect((await cache.list(G)).map((r) => r.messageUId)).toEqual([uid(5), uid(4)])
  })

  it('survives a reload: a new cache over the same store knows the requests and what was answered', async () => {
    const t = clock()
    const store = new MemoryStore()
    const before = new ReceiptRequestCache(store, 'bob', { now: t.now })
    await before.add(request(1, t.t + 1))
    await before.add(request(2, t.t + 2, 'carol'))
    await before.markAnswered(G, [uid(1)], t.t + 5)
    const after = new ReceiptRequestCache(store, 'bob', { now: t.now })
    expect(await after.list(G)).toEqual([
      { ...request(2, t.t + 2, 'carol') },
      { ...request(1, t.t + 1), answeredAt: t.t + 5 },
    ])
    expect((await after.unanswered(G, '')).map((r) => r.messageUId)).toEqual([uid(2)])
    // Another account in the same browser has a cache of its own.
    expect(await new ReceiptRequestCache(store, 'dave', { now: t.now }).list(G)).toEqual([])
  })

  it('counts a request once, and marks it answered once', async () => {
    const t = clock()
    const cache = new ReceiptRequestCache(new MemoryStore(), 'bob', { now: t.now })
    await cache.add(request(1, t.t))
    await cache.add(request(1, t.t))
    await cache.markAnswered(G, [uid(1)], t.t + 1)
    await cache.markAnswered(G, [uid(1)], t.t + 9)
    expect(await cache.list(G)).toEqual([{ ...request(1, t.t), answeredAt: t.t + 1 }])
    // Adding it again (a replayed event) does not make it unanswered.
    await cache.add(request(1, t.t))
    expect(await cache.unanswered(G, '')).toEqual([])
  })

  it('answers per channel and groups one response by sender', async () => {
    const t = clock()
    const cache = new ReceiptRequestCache(new MemoryStore(), 'bob', { now: t.now })
    await cache.add(request(1, t.t + 1, 'alice'))
    await cache.add(request(2, t.t + 2, 'carol'))
    await cache.add(request(3, t.t + 3, 'alice'))
    await cache.add(request(4, t.t + 4, 'alice', 'design'))
    const open = await cache.unanswered(G, '')
    expect(groupBySender(open)).toEqual({ alice: [uid(3), uid(1)], carol: [uid(2)] })
    expect(groupBySender(await cache.unanswered(G, 'design'))).toEqual({ alice: [uid(4)] })
  })

  it('does not lose a request added while another group write is going on', async () => {
    const t = clock()
    const cache = new ReceiptRequestCache(new MemoryStore(), 'bob', { now: t.now })
    await Promise.all(Array.from({ length: 10 }, (_, n) => cache.add(request(n + 1, t.t + n))))
    expect(await cache.list(G)).toHaveLength(10)
  })
})
