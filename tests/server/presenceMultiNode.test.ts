/**
 * Presence and typing across server nodes (issue 13, H4): one PostgreSQL, one NATS, three nodes.
 * A user is online while a device of theirs holds a socket on any node; typing crosses nodes like
 * any push; a node that dies without a word has its rows swept by another. Skipped with one line
 * where PostgreSQL or NATS does not answer, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, login, startTestServer, TestClient, text } from './helpers'
import { NATS_URL, skipNats } from './natsHelpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from './postgresHelpers'

const PASSWORD = 'correct horse battery'

describe.skipIf(skipPostgres || skipNats)('presence and typing on three nodes', () => {
  let db: ScratchDatabase
  let nodes: RunningServer[] = []
  beforeAll(async () => {
    db = await createScratchDatabase()
    for (let i = 0; i < 3; i++) nodes.push(await startTestServer({ store: db.url, bus: NATS_URL }))
  })
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()))
    nodes = []
    await db.drop()
  })

  it('online while any device is connected on any node; typing crosses nodes', async () => {
    const [a, b, c] = nodes as [RunningServer, RunningServer, RunningServer]
    const alice = await connectOne(a)
    const bob = await connectOne(b)
    // Bob's second device, on a third node, from the start (its socket is counted long before the
    // checks below).
    const bobOnC = await TestClient.connect(c, await login(c, bob.userId, PASSWORD))
    await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: text('hello across nodes'),
    })
    await bob.nextPush('message')
    await bob.call('typing', { conversation: { type: 'private', targetId: alice.userId }, typing: true })
    expect((await alice.nextPush('typing')).data).toMatchObject({ userId: bob.userId, typing: true })

    await bob.close()
    // Bob's socket on node c keeps him online, though node b saw his last socket there close.
    expect((await alice.call('getPresence', { userIds: [bob.userId] })).presence[0]?.state).toBe('online')
    await bobOnC.close()
    const gone = await alice.nextPush('presence', (p) => p.userId === bob.userId && p.state === 'offline')
    expect(gone.data.lastSeenAt).toEqual(expect.any(Number))
    await TestClient.connect(a, await login(a, bob.userId, PASSWORD))
    await alice.nextPush('presence', (p) => p.userId === bob.userId && p.state === 'online')
  })
})
