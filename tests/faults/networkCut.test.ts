/**
 * The network between an engine and the server cut without any close (a dead link), then restored;
 * and every connection reset mid-burst. A TCP proxy in between does it. Small heartbeat and
 * watchdog values make both sides notice within a second.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { ConnectionState } from '../../src/shared/ipc'
import type { Conversation } from '../../src/shared/model'
import { cleanup, data, engineDb, signIn, testServer, type Device } from '../integration/harness'
import { TcpProxy } from './tcpProxy'
import { textOf } from '../textOf'

afterEach(cleanup)

const proxies: TcpProxy[] = []
afterEach(async () => {
  for (const proxy of proxies.splice(0)) await proxy.close()
})

async function setup() {
  // Delivery receipts for every message of a 200-message burst: above the per-pair budget that
  // keeps receipts from being used as a probe (deliveryBudget.ts), which is another test's subject.
  const server = await testServer({ heartbeatMs: 100, deliveryReceiptBudget: { burst: 1e6, perMinute: 1e6 } })
  const proxy = await TcpProxy.start(server.port)
  proxies.push(proxy)
  // alice goes through the proxy and drops a link that has been silent for 400 ms; bob is direct.
  const alice = await signIn({ url: proxy.urlFor(server.url) }, 'alice', undefined, { silenceTimeoutMs: 400 })
  const bob = await signIn(server, 'bob')
  const states: ConnectionState['state'][] = []
  alice.engine.on('connectionState', (s) => states.push(s.state))
  return { server, proxy, alice, bob, states }
}

function texts(device: Device, c: Conversation, direction: 1 | 2): string[] {
  return (device.engine.store?.history(c, undefined, 1000).list ?? [])
    .filter((r) => r.messageDirection === direction && r.status === 'sent')
    .map((r) => textOf(r) ?? '')
    .sort()
}

const toAlice: Conversation = { type: 'private', targetId: 'alice' }
const toBob: Conversation = { type: 'private', targetId: 'bob' }

describe('network cut without a close', () => {
  it('is noticed on both sides; after it comes back nothing is lost or doubled', async () => {
    const { proxy, alice, bob, states } = await setup()
    data(await bob.dispatch('sendMessage', [toAlice, { type: 'text', text: 'before' }]))
    await alice.until('first message', () => texts(alice, toBob, 2).length === 1)

    proxy.cut()
    const ghostClosed = new Promise<void>((resolve) => proxy.once('upstreamClosedWhileCut', resolve))
    for (let i = 0; i < 5; i++) {
      data(await bob.dispatch('sendMessage', [toAlice, { type: 'text', text: `b${i}` }]))
      data(await alice.dispatch('sendMessage', [toBob, { type: 'text', text: `a${i}` }]))
    }
    // alice's watchdog drops the silent link; the server's heartbeat drops its side of it.
    await alice.until('alice notices', () => alice.engine.connectionState.state === 'disconnected')
    await ghostClosed
    // Meanwhile the server keeps serving bob.
    await bob.until('bob’s messages stored', () => texts(bob, toAlice, 1).length === 6)
    expect(texts(alice, toBob, 2)).toEqual(['before'])

    proxy.restore()
    await alice.until(
      'alice resynced',
      () => texts(alice, toBob, 2).length === 6 && texts(alice, toBob, 1).length === 5,
    )
    await bob.until('bob has alice’s messages', () => texts(bob, toAlice, 2).length === 5)
    expect(texts(alice, toBob, 2)).toEqual(['b0', 'b1', 'b2', 'b3', 'b4', 'before'])
    expect(texts(bob, toAlice, 2)).toEqual(['a0', 'a1', 'a2', 'a3', 'a4'])
    expect(states).toContain('disconnected')
    expect(states.at(-1)).toBe('connected')
    // Every message has one server id: nothing stored twice.
    for (const device of [alice, bob]) {
      const rows = engineDb(device)
        .prepare('SELECT count(*) AS n, count(DISTINCT message_uid) AS u FROM messages')
        .get()
      expect(rows).toEqual({ n: 6 + 5, u: 6 + 5 })
    }
  }, 20_000)

  it('every connection reset in the middle of a burst: the outbox resends, the server keeps one of each', async () => {
    const { proxy, alice, bob } = await setup()
    data(await bob.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
    data(await alice.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
    for (let i = 0; i < 200; i++)
      data(await alice.dispatch('sendMessage', [toBob, { type: 'text', text: `a${i}` }]))
    await bob.until('the burst under way', () => texts(bob, toAlice, 2).length >= 20)
    proxy.reset()
    await alice.until('every message sent', () => texts(alice, toBob, 1).length === 200)
    await bob.until('every message at bob once', () => texts(bob, toAlice, 2).length === 200)
    expect(new Set(texts(bob, toAlice, 2)).size).toBe(200)
    // Delivery receipts follow: each of alice's messages delivered.
    await alice.until('all delivered', () =>
      (alice.engine.store?.history(toBob, undefined, 1000).list ?? []).every((r) => r.deliveredTime !== null),
    )
  }, 20_000)
})
