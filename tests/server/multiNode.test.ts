/**
 * Several server nodes over one PostgreSQL database and one NATS (issue #10): a push reaches the
 * user's sockets on whichever node holds them, receipts and read marks cross nodes, and a session
 * ended on one node closes its sockets on the others. Skipped with one line where PostgreSQL or NATS
 * does not answer, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningServer } from '../../src/server/server'
import { api, clientMsgId, connectOne, login, startTestServer, TestClient, text } from './helpers'
import { NATS_URL, skipNats } from './natsHelpers'
import { createScratchDatabase, skipPostgres, type ScratchDatabase } from './postgresHelpers'

/** What tests/server/helpers.ts registers every user with. */
const PASSWORD = 'correct horse battery'

if (skipNats && !skipPostgres)
  console.warn(`multi-node tests skipped: start NATS at ${NATS_URL} (nats-server -js)`)

describe.skipIf(skipPostgres || skipNats)('three server nodes on one PostgreSQL and one NATS', () => {
  let db: ScratchDatabase
  let nodes: RunningServer[] = []
  beforeAll(async () => {
    db = await createScratchDatabase()
    // One after another: the first migrates the database (the others would wait on its lock anyway).
    for (let i = 0; i < 3; i++) nodes.push(await startTestServer({ store: db.url, bus: NATS_URL }))
  })
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()))
    nodes = []
    await db.drop()
  })

  it('a message and its receipts cross nodes, to every device of each side', async () => {
    const [a, b, c] = nodes as [RunningServer, RunningServer, RunningServer]
    const alice = await connectOne(a)
    await alice.call('updateSettings', { requireDeliveryAck: true, requireReadAck: true })
    const bob = await connectOne(b)
    const bobOnC = await TestClient.connect(c, await login(c, bob.userId, PASSWORD))

    const { message } = await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: text('across nodes'),
    })
    for (const device of [bob, bobOnC]) {
      expect((await device.nextPush('message')).data).toMatchObject({
        messageUId: message.messageUId,
        seq: 1,
      })
    }
    await bob.call('ackMessageRead', { messageUIds: [message.messageUId] })
    expect((await alice.nextPush('messageRead')).data.messageUIds).toEqual([message.messageUId])
    await bob.call('ackConversationRead', {
      conversation: { type: 'private', targetId: alice.userId },
      seq: 1,
    })
    expect((await bobOnC.nextPush('conversationRead')).data).toMatchObject({ from: bob.userId, seq: 1 })
  })

  it('group receipts count members on every node', async () => {
    const [a, b, c] = nodes as [RunningServer, RunningServer, RunningServer]
    const owner = await connectOne(a)
    const [m1, m2] = [await connectOne(b), await connectOne(c)]
    const { group } = await owner.call('createGroup', { name: 'g', memberIds: [m1.userId, m2.userId] })
    const { message } = await owner.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: group.groupId },
      content: text('who reads this?'),
      isNeedGroupAck: true,
    })
    for (const [i, member] of [m1, m2].entries()) {
      await member.nextPush('message')
      await member.call('ackGroupMessageRead', {
        groupId: group.groupId,
        acks: [{ messageUId: message.messageUId }],
      })
      const push = await owner.nextPush('groupMessageRead')
      expect(push.data.acks[0]).toMatchObject({ from: member.userId, count: i + 1 })
    }
  })

  it('a session ended on one node closes its socket on another', async () => {
    const [a, b] = nodes as [RunningServer, RunningServer]
    const carol = await connectOne(a)
    const session = await login(b, carol.userId, PASSWORD)
    const elsewhere = await TestClient.connect(b, session)
    const closed = new Promise<number>((resolve) => elsewhere.ws.once('close', (code) => resolve(code)))
    const res = await api(a, '/api/logout', {}, { token: session.token })
    expect(res.body).toMatchObject({ code: 0 })
    expect(await closed).toBe(4001)
  })
})
