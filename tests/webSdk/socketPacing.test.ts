/**
 * The web SDK's socket under a server frame limit, as the engine's link (tests/engine/link/
 * connection.test.ts): a burst past the limit is paced by the server's retryAfterMs, not failed.
 */
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { SocketLink, type WebSocketConstructor } from '../../src/sdk/web/socket'
import { Code } from '../../src/shared/codes'
import type { RunningServer } from '../../src/server/server'
import { registerAndLogin, startTestServer } from '../server/helpers'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function linkTo(server: RunningServer): Promise<SocketLink> {
  const session = await registerAndLogin(server)
  const link = new SocketLink({
    url: server.url,
    token: session.token,
    deviceId: session.deviceId,
    WebSocket: WebSocket as unknown as WebSocketConstructor,
    requestTimeoutMs: 15_000,
    onPush: () => {},
    onClose: () => {},
  })
  expect(await link.open()).toBe(true)
  return link
}

describe('the web SDK socket under the server frame limit', () => {
  it('sends refused frames again at the server pace: a burst of 30 all succeeds', async () => {
    const server = await startTestServer({ rateLimit: { perSecond: 50, burst: 5 } })
    servers.push(server)
    const link = await linkTo(server)
    try {
      const replies = await Promise.all(Array.from({ length: 30 }, () => link.request('syncState', {})))
      expect(replies.map((r) => r.code)).toEqual(Array.from({ length: 30 }, () => 0))
    } finally {
      link.close()
    }
  })

  it('gives RATE_LIMITED to the caller when the wait would be too long', async () => {
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
