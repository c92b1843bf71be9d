/**
 * Clients moving between nodes (issue 10): three server nodes on one scratch PostgreSQL database and
 * NATS, real engines signed in with the list of the three URLs. When the node an engine is on stops,
 * the engine moves to another node, syncs what it missed there and sends what it wrote meanwhile:
 * every message exactly once, receipts as they should be. Skipped with one line where PostgreSQL or
 * NATS does not answer, except under CI=true (as tests/server/multiNode.test.ts).
 */
import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import type { ConversationSummary, Message } from '../../src/shared/model'
import type { HistoryPage } from '../../src/shared/ipc'
import type { RunningServer } from '../../src/server/server'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from '../server/postgresHelpers'
import { testBackend } from '../testStore'
import { cleanup, data, signIn, testServer, type Device } from './harness'
import { NATS_URL, skipNats } from '../server/natsHelpers'
import { textOf } from '../textOf'

if (skipNats && !skipPostgres)
  console.warn(`failover tests skipped: start NATS at ${NATS_URL} (nats-server -js)`)

/**
 * User ids of this run only, so that nothing of another run (or of a test that shares the scratch
 * server) can be mistaken for this one's.
 */
const run = randomBytes(3).toString('hex')
const user = (name: string): string => `${name}_${run}`

const text = (t: string) => ({ type: 'text', text: t }) as const
const history = async (d: Device, conversation: object): Promise<Message[]> =>
  data<HistoryPage>(await d.dispatch('getHistoryMessages', [conversation, { count: 200 }])).list.reverse()

// It brings its own PostgreSQL deployment: the `postgres` project (vitest.config.ts) would only run it twice.
describe.skipIf(skipPostgres || skipNats || testBackend === 'postgres')(
  'an engine signed in to a list of nodes',
  () => {
    let db: ScratchDatabase | undefined
    afterEach(async () => {
      await cleanup()
      await db?.drop()
      db = undefined
    })

    async function threeNodes(): Promise<RunningServer[]> {
      db = await createScratchDatabase()
      const nodes: RunningServer[] = []
      // One after another: the first migrates the database.
      for (let i = 0; i < 3; i++) nodes.push(await testServer({ store: db.url, bus: NATS_URL }))
      return nodes
    }

    /** The node an engine says it is connected to (the connection state names it). */
    function nodeOf(d: Device, nodes: RunningServer[]): RunningServer {
      const { state, detail } = d.engine.connectionState
      const node = nodes.find((n) => n.url === detail)
      if (state !== 'connected' || !node)
        throw new Error(`${d.userId} is ${state} (${detail ?? 'no detail'})`)
      return node
    }

    it('moves to another node when its node stops, with every message once and the right receipts', async () => {
      const nodes = await threeNodes()
      const list = nodes.map((n) => n.url).join(', ')
      const alice = await signIn({ url: list }, user('alice'))
      expect(alice.engine.connectionState).toMatchObject({ state: 'connected' })
      const first = nodeOf(alice, nodes)
      // bob stays on a node that keeps running.
      const bob = await signIn(nodes.find((n) => n !== first) as RunningServer, user('bob'))
      for (const d of [alice, bob])
        data(await d.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
      const toAlice = { type: 'private', targetId: alice.userId } as const
      const toBob = { type: 'private', targetId: bob.userId } as const

      const send = async (from: Device, to: object, bodies: string[]) => {
        for (const body of bodies) data(await from.dispatch('sendMessage', [to, text(body)]))
      }
      const before = ['before 1', 'before 2', 'before 3']
      await send(bob, toAlice, before)
      await alice.until('the first messages', async () => (await history(alice, toBob)).length === 3)

      // alice's node stops (its sockets close with 1001). The moment alice's engine is no longer
      // connected, she writes a message: it waits in her outbox while she moves.
      let stateWhenWritten = ''
      const written = alice
        .next('connectionState', (s) => s.state !== 'connected')
        .then(async (s) => {
          stateWhenWritten = s.state
          return data<Message>(await alice.dispatch('sendMessage', [toBob, text('written while moving')]))
        })
      const stopping = first.close()
      const during = Array.from({ length: 20 }, (_, i) => `during ${i + 1}`)
      await send(bob, toAlice, during)
      const mine = await written
      expect(stateWhenWritten).not.toBe('connected')
      expect(mine.status).toBe('sending')
      await stopping

      // She is connected again, to another node of the list.
      const moved = await alice.until('connected to another node', () => {
        const { state, detail } = alice.engine.connectionState
        return state === 'connected' && detail !== first.url && detail
      })
      expect(nodes.filter((n) => n !== first).map((n) => n.url)).toContain(moved)
      const after = ['after 1', 'after 2', 'after 3']
      await send(bob, toAlice, after)

      // Every message of bob's, once, in order, without gaps in the sequence.
      const all = [...before, ...during, ...after]
      await alice.until('every message', async () => (await history(alice, toBob)).length >= all.length + 1)
      const seen = await history(alice, toBob)
      const fromBob = seen.filter((m) => m.senderUserId === bob.userId)
      expect(fromBob.map((m) => textOf(m))).toEqual(all)
      expect(seen.map((m) => m.seq)).toEqual(seen.map((_, i) => i + 1))
      const summary = data<ConversationSummary[]>(await alice.dispatch('getConversationList', [])).find(
        (c) => c.conversation.targetId === bob.userId,
      )
      expect(summary?.unreadCount).toBe(all.length)

      // Her message written while moving reached bob once, and is sent on her side.
      await bob.until('alice’s message', async () =>
        (await history(bob, toAlice)).some((m) => textOf(m) === 'written while moving'),
      )
      await alice.until('her message sent', async () =>
        (await history(alice, toBob)).some((m) => m.messageId === mine.messageId && m.status === 'sent'),
      )
      expect((await history(bob, toAlice)).filter((m) => textOf(m) === 'written while moving')).toHaveLength(
        1,
      )
      const hers = (await history(alice, toBob)).filter((m) => m.senderUserId === alice.userId)
      expect(hers.map((m) => m.messageId)).toEqual([mine.messageId])

      // Receipts: alice's engine confirmed delivery of each of bob's messages (those it synced after the
      // move too), and her read mark, made on the new node, reaches bob for all of them.
      await bob.until('all delivered', async () =>
        (await history(bob, toAlice))
          .filter((m) => m.senderUserId === bob.userId)
          .every((m) => m.isDelivered),
      )
      data(await alice.dispatch('ackConversationRead', [toBob]))
      await bob.until('all read', async () =>
        (await history(bob, toAlice))
          .filter((m) => m.senderUserId === bob.userId)
          .every((m) => m.isReceiverRead),
      )
      // And bob's read of her message reaches her on the node she moved to.
      data(await bob.dispatch('ackConversationRead', [toAlice]))
      await alice.until('her message read', async () =>
        (await history(alice, toBob)).some((m) => m.messageId === mine.messageId && m.isReceiverRead),
      )
      const final = await history(alice, toBob)
      expect(final.filter((m) => m.senderUserId === bob.userId).every((m) => !m.isUnread)).toBe(true)
      expect(final.map((m) => textOf(m))).toEqual([...new Set(final.map((m) => textOf(m)))])
    })

    it('signs in and connects while a node of the list is down, and moves again when the next one stops', async () => {
      const nodes = await threeNodes()
      const down = nodes[0] as RunningServer
      await down.close()
      const list = nodes.map((n) => n.url).join(',')
      const carol = await signIn({ url: list }, user('carol'))
      const dave = await signIn({ url: list }, user('dave'))
      const on = nodeOf(carol, nodes)
      expect(on).not.toBe(down)

      // Her node stops too: one node is left, and she ends up there.
      const last = nodes.find((n) => n !== down && n !== on) as RunningServer
      await on.close()
      await carol.until('on the last node', () => {
        const { state, detail } = carol.engine.connectionState
        return state === 'connected' && detail === last.url
      })
      const toCarol = { type: 'private', targetId: carol.userId } as const
      await dave.until('dave connected', () => dave.engine.connectionState.state === 'connected')
      data(await dave.dispatch('sendMessage', [toCarol, text('found you')]))
      await carol.until('the message', async () =>
        (await history(carol, { type: 'private', targetId: dave.userId })).some(
          (m) => textOf(m) === 'found you',
        ),
      )
      // Signing out works through the node that is left.
      expect(await carol.dispatch('logout', [])).toMatchObject({ code: 0 })
    })
  },
)
