/**
 * The engine's WebSocket link against a real server whose frame limit is small: a burst of requests
 * (a reconnection's outbox, resync and a person's call at once) is paced by the server's
 * retryAfterMs instead of failing with RATE_LIMITED; a request refused for good still says so.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../../src/shared/codes'
import { ServerConnection } from '../../../src/main/engine/link/connection'
import type { RunningServer } from '../../../src/server/server'
import { connectOne, registerAndLogin, startTestServer } from '../../server/helpers'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function linkTo(server: RunningServer): Promise<ServerConnection> {
  const session = await registerAndLogin(server)
  const link = new ServerConnection({ url: server.url, token: session.token, deviceId: session.deviceId })
  await link.connect()
  return link
}

describe('the engine link under the server frame limit', () => {
  it('sends refused frames again after retryAfterMs: a burst past the limit all succeeds', async () => {
    const server = await startTestServer({ rateLimit: { perSecond: 50, burst: 5 } })
    servers.push(server)
    // A plain protocol client sees the refusals, each saying when the frame would pass.
    const raw = await connectOne(server)
    const rawReplies = await Promise.all(Array.from({ length: 30 }, () => raw.request('syncState', {})))
    const refused = rawReplies.filter((r) => r.code === Code.RATE_LIMITED)
    expect(refused.length).toBeGreaterThan(0)
    for (const r of refused) {
      const wait = (r as { retryAfterMs?: number }).retryAfterMs
      expect(wait).toBeGreaterThan(0)
      expect(wait).toBeLessThanOrEqual(1000 / 50 + 1)
    }

    const link = await linkTo(server)
    try {
      const replies = await Promise.all(Array.from({ length: 30 }, () => link.request('syncState', {})))
      expect(replies.map((r) => r.code)).toEqual(Array.from({ length: 30 }, () => 0))
    } finally {
      link.close()
    }
  })

  it('gives RATE_LIMITED to the caller once the waits would be too long', async () => {
    // One frame a minute: the wait the server names is far past what the link waits for.
    const server = await startTestServer({ rateLimit: { perSecond: 1 / 60, burst: 1 } })
    servers.push(server)
    const link = await linkTo(server)
    try {
      const [first, second] = await Promise.all([
        link.request('syncState', {}),
        link.request('syncState', {}),
      ])
      expect(first.code).toBe(0)
      expect(second.code).toBe(Code.RATE_LIMITED)
    } finally {
      link.close()
    }
  })
})
