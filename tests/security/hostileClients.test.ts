/**
 * The hostile-client suite: real server, real sockets, clients that try what they must not. Every
 * attempt gets a typed error (or a typed per-item rejection) and changes nothing: the whole server
 * database is compared before and after, and the victims receive no push.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { DEVICE_HEADER, http } from '../../src/shared/protocol'
import { newSessionToken } from '../../src/server/ids'
import { createLogger } from '../../src/server/log'
import { UserRateLimits } from '../../src/server/rateLimit'
import type { RunningServer } from '../../src/server/server'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import {
  api,
  clientMsgId,
  connectOne,
  connectUser,
  login,
  openSocket,
  registerAndLogin,
  startTestServer,
  text,
  TestClient,
} from '../server/helpers'

/** Every row of every table, in a stable order: "nothing changed" means this is equal. */
function snapshot(storage: SqliteStorage): Record<string, unknown[]> {
  const tables = storage.db
    .prepare<[], { name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all()
    // Which sockets are open (presence, H4) is the connections' state, not data a request changes:
    // a socket the server closes for abuse is one socket less there.
    .filter(({ name }) => name !== 'presence')
  return Object.fromEntries(
    tables.map(({ name }) => [
      name,
      storage.db
        .prepare<[], Record<string, unknown>>(`SELECT * FROM "${name}" ORDER BY 1, 2`)
        .all()
        .map(({ last_seen_at: _seen, ...row }) => row),
    ]),
  )
}

const UNKNOWN_UID = 'ZZZZ-ZZZZ-ZZZZ-ZZZZ'

describe('hostile clients', () => {
  let storage: SqliteStorage
  let server: RunningServer
  let clock = Date.now()
  let alice: TestClient
  let aliceOther: TestClient
  let bob: TestClient
  let mallory: TestClient
  /** alice (owner) and bob; mallory is not in it. */
  let groupId: string
  /** mallory (owner) and bob. */
  let mallorysGroup: string
  /** alice → bob, asking for delivery and read receipts. */
  let privateUId: string
  /** alice → groupId, asking for group read acks. */
  let groupUId: string
  /** alice → groupId, not asking. */
  let quietGroupUId: string
  /** mallory → mallorysGroup, asking. */
  let mallorysGroupUId: string

  beforeAll(async () => {
    storage = new SqliteStorage(':memory:')
    server = await startTestServer({ storage, now: () => clock, sessionTtlMs: 60 * 60 * 1000 })
    ;[alice, aliceOther] = await connectUser(server, { devices: 2 })
    ;[bob, mallory] = await Promise.all([connectOne(server), connectOne(server)])
    await alice.call('updateSettings', { requireDeliveryAck: true, requireReadAck: true })
    ;({
      group: { groupId },
    } = await alice.call('createGroup', { name: 'alice and bob', memberIds: [bob.userId] }))
    ;({
      group: { groupId: mallorysGroup },
    } = await mallory.call('createGroup', { name: 'mallory and bob', memberIds: [bob.userId] }))
    const send = async (
      from: TestClient,
      conversation: { type: 'private' | 'group'; targetId: string },
      ack = false,
    ) =>
      (
        await from.call('sendMessage', {
          clientMsgId: clientMsgId(),
          conversation,
          content: text('for members only'),
          isNeedGroupAck: ack,
        })
      ).message.messageUId
    privateUId = await send(alice, { type: 'private', targetId: bob.userId })
    groupUId = await send(alice, { type: 'group', targetId: groupId }, true)
    quietGroupUId = await send(alice, { type: 'group', targetId: groupId })
    mallorysGroupUId = await send(mallory, { type: 'group', targetId: mallorysGroup }, true)
  })
  afterAll(async () => {
    for (const client of [alice, aliceOther, bob, mallory]) expect(client.protocolErrors).toEqual([])
    await server.close()
    await storage.close()
  })
  beforeEach(async () => {
    for (const client of [alice, aliceOther, bob, mallory]) {
      await client.barrier()
      client.pushes.length = 0
    }
  })

  /** Runs the attempts, then checks that the database is exactly as before and no victim heard a thing. */
  async function changesNothing(attempts: () => Promise<void>): Promise<void> {
    const before = snapshot(storage)
    await attempts()
    for (const victim of [alice, aliceOther, bob]) expect(await victim.barrier()).toEqual([])
    expect(snapshot(storage)).toEqual(before)
  }

  it('(control) the check notices a legitimate change and a push to a victim', async () => {
    const { message } = await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: text('control'),
    })
    await bob.nextPush('message', (m) => m.messageUId === message.messageUId)
    await aliceOther.nextPush('message', (m) => m.messageUId === message.messageUId)
    await expect(
      changesNothing(async () => {
        await bob.call('ackDelivered', { messageUIds: [message.messageUId] })
      }),
    ).rejects.toThrow()
  })

  describe('a non-member of a group', () => {
    it('cannot read its history, send to it, or see its members', async () => {
      await changesNothing(async () => {
        const group = { type: 'group' as const, targetId: groupId }
        await mallory.expectError(
          'pullMessages',
          { conversation: group, afterSeq: 0, limit: 100 },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'sendMessage',
          { clientMsgId: clientMsgId(), conversation: group, content: text('let me in') },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError('getGroupMembers', { groupId }, Code.NOT_A_MEMBER)
        await mallory.expectError(
          'ackConversationRead',
          { conversation: group, seq: 1000 },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'addGroupMembers',
          { groupId, userIds: [mallory.userId] },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError('removeGroupMembers', { groupId, userIds: [bob.userId] }, Code.NOT_A_MEMBER)
        await mallory.expectError('leaveGroup', { groupId }, Code.NOT_A_MEMBER)
        // H8: nor mute it, or a chat of others, for anyone (the mark is only ever the caller's).
        await mallory.expectError(
          'setConversationNotificationStatus',
          { conversation: group, status: 'doNotDisturb' },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'setConversationNotificationStatus',
          { conversation: { type: 'private', targetId: alice.userId }, status: 'doNotDisturb' },
          Code.NOT_A_MEMBER,
        )
      })
    })

    it('cannot ack, request, respond or fetch reader lists', async () => {
      await changesNothing(async () => {
        await mallory.expectError(
          'ackGroupMessageRead',
          { groupId, acks: [{ messageUId: groupUId }] },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'sendReadReceiptResponse',
          { groupId, messageList: { [alice.userId]: [groupUId] } },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'sendReadReceiptRequest',
          { groupId, messageUId: quietGroupUId },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'fetchGroupReadAcks',
          { messageUId: groupUId, pageSize: 50 },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'fetchGroupUnreadMembers',
          { messageUId: groupUId, pageSize: 50 },
          Code.NOT_A_MEMBER,
        )
        await mallory.expectError(
          'setGroupReceiptSettings',
          { groupId, settings: { countVisibility: 'all' } },
          Code.NOT_A_MEMBER,
        )
      })
    })

    it('cannot smuggle another group’s message through a group it belongs to', async () => {
      await changesNothing(async () => {
        const ack = await mallory.call('ackGroupMessageRead', {
          groupId: mallorysGroup,
          acks: [{ messageUId: groupUId }],
        })
        expect(ack).toEqual({
          accepted: [],
          rejected: [expect.objectContaining({ code: Code.MESSAGE_NOT_FOUND })],
        })
        const response = await mallory.call('sendReadReceiptResponse', {
          groupId: mallorysGroup,
          messageList: { [alice.userId]: [groupUId] },
        })
        expect(response.accepted).toEqual([])
        expect(response.rejected).toEqual([expect.objectContaining({ messageUId: groupUId })])
        await mallory.expectError(
          'sendReadReceiptRequest',
          { groupId: mallorysGroup, messageUId: groupUId },
          Code.MESSAGE_NOT_FOUND,
        )
        // bob is in both groups: a message of one is not found through the other.
        const crossed = await bob.call('ackGroupMessageRead', {
          groupId,
          acks: [{ messageUId: mallorysGroupUId }],
        })
        expect(crossed.rejected).toEqual([expect.objectContaining({ code: Code.MESSAGE_NOT_FOUND })])
        await alice.expectError(
          'fetchGroupUnreadMembers',
          { messageUId: mallorysGroupUId, pageSize: 10 },
          Code.NOT_A_MEMBER,
        )
      })
    })
  })

  describe('a member without the rights', () => {
    it('cannot ask for receipts on, or answer for, someone else’s message; nor change roles or settings', async () => {
      await changesNothing(async () => {
        await bob.expectError(
          'sendReadReceiptRequest',
          { groupId, messageUId: quietGroupUId },
          Code.NOT_MESSAGE_SENDER,
        )
        await bob.expectError(
          'setGroupMemberRole',
          { groupId, userId: bob.userId, role: 'admin' },
          Code.PERMISSION_DENIED,
        )
        await bob.expectError(
          'setGroupReceiptSettings',
          { groupId, settings: { enabled: false } },
          Code.PERMISSION_DENIED,
        )
        // Ownership: only the owner hands it over, only to a current member, never to themself.
        await bob.expectError(
          'transferGroupOwnership',
          { groupId, newOwnerId: bob.userId },
          Code.PERMISSION_DENIED,
        )
        await mallory.expectError(
          'transferGroupOwnership',
          { groupId, newOwnerId: mallory.userId },
          Code.NOT_A_MEMBER,
        )
        await alice.expectError(
          'transferGroupOwnership',
          { groupId, newOwnerId: mallory.userId },
          Code.NEW_OWNER_NOT_A_MEMBER,
        )
        await alice.expectError(
          'transferGroupOwnership',
          { groupId, newOwnerId: alice.userId },
          Code.ALREADY_OWNER,
        )
        await bob.expectError(
          'removeGroupMembers',
          { groupId, userIds: [alice.userId] },
          Code.PERMISSION_DENIED,
        )
        await bob.expectError(
          'fetchGroupReadAcks',
          { messageUId: groupUId, pageSize: 50 },
          Code.GROUP_ACK_COUNT_HIDDEN,
        )
        // A response that names the wrong sender, and one for a message that did not ask.
        const wrongSender = await bob.call('sendReadReceiptResponse', {
          groupId,
          messageList: { [mallory.userId]: [groupUId] },
        })
        expect(wrongSender.rejected).toEqual([expect.objectContaining({ code: Code.MESSAGE_NOT_FOUND })])
        const notAsked = await bob.call('ackGroupMessageRead', {
          groupId,
          acks: [{ messageUId: quietGroupUId }],
        })
        expect(notAsked.rejected).toEqual([expect.objectContaining({ code: Code.RECEIPT_NOT_APPLICABLE })])
        // The sender acking its own message is not a reader.
        const own = await alice.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: groupUId }] })
        expect(own.rejected).toEqual([expect.objectContaining({ code: Code.NOT_MESSAGE_RECEIVER })])
      })
    })
  })

  describe('forgery', () => {
    it('ignores a sender id in sendMessage: the message is always the caller’s', async () => {
      const forged = await mallory.request('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: bob.userId },
        content: text('this is alice, honest'),
        ...{ senderId: alice.userId, from: alice.userId, messageUId: privateUId, seq: 1 },
      })
      expect(forged.code).toBe(0)
      expect(forged.data.message.senderId).toBe(mallory.userId)
      expect(forged.data.message.messageUId).not.toBe(privateUId)
      const pushed = await bob.nextPush('message', (m) => m.messageUId === forged.data.message.messageUId)
      expect(pushed.data.senderId).toBe(mallory.userId)
      expect((await storage.getMessageByUId(forged.data.message.messageUId))?.senderId).toBe(mallory.userId)
      // Nothing reached alice's conversations.
      expect(await alice.barrier()).toEqual([])
    })

    it('cannot ack someone else’s message, one it did not receive, or one that does not exist', async () => {
      await changesNothing(async () => {
        for (const op of ['ackDelivered', 'ackMessageRead'] as const) {
          const reply = await mallory.call(op, {
            messageUIds: [privateUId, UNKNOWN_UID],
            ...{ by: bob.userId },
          })
          expect(reply.accepted).toEqual([])
          expect(reply.rejected).toEqual([
            expect.objectContaining({ messageUId: privateUId, code: Code.NOT_MESSAGE_RECEIVER }),
            expect.objectContaining({ messageUId: UNKNOWN_UID, code: Code.MESSAGE_NOT_FOUND }),
          ])
        }
        // The sender cannot mark its own message delivered or read either.
        const own = await aliceOther.call('ackMessageRead', { messageUIds: [privateUId] })
        expect(own.rejected).toEqual([expect.objectContaining({ code: Code.NOT_MESSAGE_RECEIVER })])
        // A single-chat ack for a group message is not applicable.
        const group = await bob.call('ackDelivered', { messageUIds: [groupUId] })
        expect(group.rejected).toEqual([expect.objectContaining({ code: Code.RECEIPT_NOT_APPLICABLE })])
      })
    })

    it('cannot move another user’s read mark: a conversation read names no one but the caller', async () => {
      await changesNothing(async () => {
        // mallory has no single chat with alice, whatever she claims about who is reading.
        await mallory.expectError(
          'ackConversationRead',
          { conversation: { type: 'private', targetId: alice.userId }, seq: 1, ...{ from: bob.userId } },
          Code.NOT_A_MEMBER,
        )
      })
    })

    it('replays a captured frame of someone else on its own socket: it acts as itself and is refused', async () => {
      const captured = JSON.stringify({ id: 9001, op: 'ackMessageRead', data: { messageUIds: [privateUId] } })
      await changesNothing(async () => {
        const reply = await mallory.sendFrame(captured, 9001, 'ackMessageRead')
        expect(reply.code).toBe(0)
        expect(reply.data).toEqual({
          accepted: [],
          rejected: [expect.objectContaining({ code: Code.NOT_MESSAGE_RECEIVER })],
        })
      })
    })
  })

  describe('replay', () => {
    it('a resent sendMessage is stored once and pushed once', async () => {
      const frame = {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private' as const, targetId: bob.userId },
        content: text('only once'),
      }
      const first = await alice.call('sendMessage', frame)
      await bob.nextPush('message', (m) => m.messageUId === first.message.messageUId)
      await aliceOther.nextPush('message', (m) => m.messageUId === first.message.messageUId)
      await changesNothing(async () => {
        for (const client of [alice, aliceOther]) {
          const again = await client.call('sendMessage', frame)
          expect(again).toEqual({ message: first.message, duplicate: true })
        }
      })
    })

    it('replayed acks are accepted again and change nothing: no second event', async () => {
      await bob.call('ackDelivered', { messageUIds: [privateUId] })
      await bob.call('ackMessageRead', { messageUIds: [privateUId] })
      await alice.nextPush('messageRead', (d) => d.messageUIds.includes(privateUId))
      const group = await bob.call('ackGroupMessageRead', {
        groupId,
        acks: [{ messageUId: groupUId, ext: 'seen' }],
      })
      expect(group.accepted).toHaveLength(1)
      await alice.nextPush('groupMessageRead')
      const read = await bob.call('ackConversationRead', {
        conversation: { type: 'private', targetId: alice.userId },
        seq: 1000,
      })
      await alice.nextPush('conversationRead')
      for (const client of [alice, aliceOther, bob]) {
        await client.barrier()
        client.pushes.length = 0
      }
      await changesNothing(async () => {
        for (let i = 0; i < 3; i++) {
          expect(await bob.call('ackDelivered', { messageUIds: [privateUId] })).toEqual({
            accepted: [privateUId],
            rejected: [],
          })
          expect((await bob.call('ackMessageRead', { messageUIds: [privateUId] })).accepted).toEqual([
            privateUId,
          ])
          const again = await bob.call('ackGroupMessageRead', { groupId, acks: [{ messageUId: groupUId }] })
          expect(again.accepted).toEqual(group.accepted)
          const response = await bob.call('sendReadReceiptResponse', {
            groupId,
            messageList: { [alice.userId]: [groupUId] },
          })
          expect(response.accepted).toEqual([groupUId])
          expect(
            await bob.call('ackConversationRead', {
              conversation: { type: 'private', targetId: alice.userId },
              seq: 1,
            }),
          ).toEqual(read)
        }
      })
    })

    it('a repeated receipt request succeeds and pushes nothing again', async () => {
      await alice.call('sendReadReceiptRequest', { groupId, messageUId: quietGroupUId })
      await bob.nextPush('receiptRequest', (d) => d.messageUId === quietGroupUId)
      await changesNothing(async () => {
        await alice.call('sendReadReceiptRequest', { groupId, messageUId: quietGroupUId })
        await aliceOther.call('sendReadReceiptRequest', { groupId, messageUId: quietGroupUId })
      })
    })
  })

  describe('tokens at the upgrade', () => {
    const upgrade = (token: string, deviceId?: string) =>
      openSocket(server.url, {
        authorization: `Bearer ${token}`,
        ...(deviceId ? { [DEVICE_HEADER]: deviceId } : {}),
      })

    it('refuses a well-formed token the server never issued, and garbage', async () => {
      await changesNothing(async () => {
        for (const token of [
          newSessionToken(),
          'x',
          `${bob.session.token}x`,
          bob.session.token.slice(0, -1),
        ]) {
          const result = await upgrade(token)
          expect(result.status).toBe(401)
          expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: Code.TOKEN_INVALID })
        }
        const query = await openSocket(`${server.url}?token=${newSessionToken()}`, {})
        expect(query.status).toBe(401)
      })
    })

    it('refuses a token presented with another device id', async () => {
      const result = await upgrade(bob.session.token, alice.session.deviceId)
      expect(result.status).toBe(401)
      expect(JSON.parse(result.body ?? '{}')).toMatchObject({ code: Code.TOKEN_INVALID })
    })

    it('refuses an expired token, and a revoked one', async () => {
      const expiring = await registerAndLogin(server)
      const socket = await upgrade(expiring.token, expiring.deviceId)
      expect(socket.ws).toBeDefined()
      socket.ws?.close()
      clock += 60 * 60 * 1000 + 1
      try {
        const expired = await upgrade(expiring.token, expiring.deviceId)
        expect(expired.status).toBe(401)
        expect(JSON.parse(expired.body ?? '{}')).toMatchObject({ code: Code.TOKEN_INVALID })
        // Logging out with an expired token is refused too: it names no live session.
        expect((await api(server, http.logout.path, {}, { token: expiring.token })).body.code).toBe(
          Code.TOKEN_INVALID,
        )
      } finally {
        clock -= 60 * 60 * 1000 + 1
      }
      const revoked = await login(server, expiring.userId, expiring.password)
      expect((await api(server, http.logout.path, {}, { token: revoked.token })).body.code).toBe(0)
      expect((await upgrade(revoked.token, revoked.deviceId)).status).toBe(401)
    })
  })

  describe('flooding', () => {
    it('limits a user across all of its connections with RATE_LIMITED; every connection stays open', async () => {
      const limited = await startTestServer({
        rateLimit: { perSecond: 1000, burst: 1000 },
        userRateLimit: { perSecond: 100, burst: 10 },
      })
      try {
        const flooder = await connectUser(limited, { devices: 4 })
        const calm = await connectOne(limited)
        const replies = await Promise.all(
          flooder.flatMap((client) => Array.from({ length: 10 }, () => client.request('syncState', {}))),
        )
        const refused = replies.filter((r) => r.code === Code.RATE_LIMITED)
        expect(refused.length).toBeGreaterThan(0)
        expect(refused[0]?.msg).toMatch(/account/)
        expect(replies.filter((r) => r.code === 0).length).toBeGreaterThanOrEqual(10)
        expect(replies.every((r) => r.code === 0 || r.code === Code.RATE_LIMITED)).toBe(true)
        // Another user has a bucket of its own.
        await calm.call('syncState', {})
        for (const client of flooder) {
          expect(client.ws.readyState).toBe(client.ws.OPEN)
          // The bucket refills: a bounded number of retries gets through on every connection.
          let code: number = Code.RATE_LIMITED
          for (let attempt = 0; attempt < 500 && code !== 0; attempt++)
            code = (await client.request('getUsers', { userIds: [client.userId] })).code
          expect(code).toBe(0)
        }
      } finally {
        await limited.close()
      }
    })

    it('keeps a user’s bucket across reconnects until it has refilled', () => {
      let now = 0
      const limits = new UserRateLimits(10, 2, () => now)
      expect([limits.take('u'), limits.take('u'), limits.take('u')]).toEqual([true, true, false])
      // No connection left, but the bucket is not full: a reconnect must not reset it.
      limits.sweep(() => false)
      expect(limits.take('u')).toBe(false)
      now += 1000
      limits.sweep(() => true)
      expect(limits.size).toBe(1)
      limits.sweep(() => false)
      expect(limits.size).toBe(0)
    })

    it('closes a socket that sends an oversized frame (1009) and changes nothing', async () => {
      const session = await login(server, mallory.userId, mallory.session.password)
      const victim = await TestClient.connect(server, session)
      await changesNothing(async () => {
        victim.ws.send(
          JSON.stringify({
            id: 1,
            op: 'sendMessage',
            data: {
              clientMsgId: clientMsgId(),
              conversation: { type: 'private', targetId: bob.userId },
              content: text('x'.repeat(70_000)),
            },
          }),
        )
        expect((await victim.closed).code).toBe(1009)
      })
      await mallory.call('syncState', {})
    })
  })

  describe('deeply nested JSON', () => {
    const depth = 100_000
    const arrays = `${'['.repeat(depth)}${']'.repeat(depth)}`
    const objects = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`

    it('over maxPayload: the socket is closed (1009), the others keep working', async () => {
      const session = await login(server, mallory.userId, mallory.session.password)
      const victim = await TestClient.connect(server, session)
      await changesNothing(async () => {
        victim.ws.send(arrays)
        expect((await victim.closed).code).toBe(1009)
        await bob.call('syncState', {})
      })
    })

    it('under a larger maxPayload: typed errors, other clients served, stored data intact', async () => {
      const deepStorage = new SqliteStorage(':memory:')
      const roomy = await startTestServer({ storage: deepStorage, maxPayload: 4 * 1024 * 1024 })
      try {
        const [attacker, peer, bystander] = await Promise.all([
          connectOne(roomy),
          connectOne(roomy),
          connectOne(roomy),
        ])
        const kept = await peer.call('sendMessage', {
          clientMsgId: clientMsgId(),
          conversation: { type: 'private', targetId: bystander.userId },
          content: text('kept'),
        })
        await bystander.nextPush('message')
        const before = snapshot(deepStorage)
        expect((await attacker.sendUnattributable(arrays)).code).toBe(Code.BAD_FRAME)
        expect((await attacker.sendUnattributable(objects)).code).toBe(Code.BAD_FRAME)
        const asData = await attacker.sendFrame(
          `{"id":7,"op":"sendMessage","data":${arrays}}`,
          7,
          'sendMessage',
        )
        expect(asData.code).toBe(Code.INVALID_ARGUMENT)
        const inside = await attacker.sendFrame(
          `{"id":8,"op":"sendReadReceiptResponse","data":{"groupId":"g_x","messageList":${objects}}}`,
          8,
          'sendReadReceiptResponse',
        )
        expect(inside.code).toBe(Code.INVALID_ARGUMENT)
        const content = await attacker.sendFrame(
          `{"id":9,"op":"sendMessage","data":{"clientMsgId":"${clientMsgId()}",` +
            `"conversation":{"type":"private","targetId":"${peer.userId}"},"content":${objects}}}`,
          9,
          'sendMessage',
        )
        expect(content.code).toBe(Code.INVALID_ARGUMENT)
        expect(snapshot(deepStorage)).toEqual(before)
        // The attacker's socket and everyone else's keep working.
        await attacker.call('syncState', {})
        const history = await bystander.call('pullMessages', {
          conversation: { type: 'private', targetId: peer.userId },
          afterSeq: 0,
          limit: 10,
        })
        expect(history.messages).toEqual([kept.message])
      } finally {
        await roomy.close()
        deepStorage.close()
      }
    })
  })
})

describe('secrets', () => {
  it('no password or token ever appears in the server log, even at debug level', async () => {
    const lines: string[] = []
    const storage = new SqliteStorage(':memory:')
    const server = await startTestServer({
      storage,
      logger: createLogger('debug', (line) => lines.push(line)),
    })
    try {
      const password = 'p4ssw0rd-that-must-not-leak'
      const session = await registerAndLogin(server, { password })
      expect(
        (
          await api(server, http.login.path, {
            userId: session.userId,
            password: `${password}-wrong`,
            deviceId: 'device-12345',
          })
        ).body.code,
      ).toBe(Code.AUTH_FAILED)
      expect(
        (await api(server, http.login.path, { userId: 'nobody-here', password, deviceId: 'device-12345' }))
          .body.code,
      ).toBe(Code.AUTH_FAILED)
      const client = await TestClient.connect(server, session)
      await client.call('syncState', {})
      await client.requestRaw('sendMessage', { clientMsgId: 'bad', password, token: session.token })
      expect((await openSocket(`${server.url}?token=${session.token}x`, {})).status).toBe(401)
      expect(
        (
          await openSocket(server.url, {
            authorization: `Bearer ${session.token}`,
            [DEVICE_HEADER]: 'other-device-1',
          })
        ).status,
      ).toBe(401)
      expect((await api(server, http.logout.path, {}, { token: session.token })).body.code).toBe(0)
      await client.closed
      expect((await api(server, http.logout.path, {}, { token: session.token })).body.code).toBe(
        Code.TOKEN_INVALID,
      )

      const log = lines.join('')
      expect(log).toMatch(/logged in/)
      expect(log).toMatch(/logged out/)
      expect(log).not.toContain(password)
      expect(log).not.toContain(session.token)

      // At rest: the password is a salted scrypt hash, the token only its sha256.
      const dump = JSON.stringify(snapshot(storage), (_k, v: unknown) =>
        Buffer.isBuffer(v) ? v.toString('hex') : v,
      )
      expect(dump).not.toContain(password)
      expect(dump).not.toContain(session.token)
      expect((await storage.getUser(session.userId))?.passwordHash).toMatch(
        /^scrypt\$\d+\$\d+\$\d+\$[^$]+\$[^$]+$/,
      )
      const twin = await registerAndLogin(server, { password })
      expect((await storage.getUser(twin.userId))?.passwordHash).not.toBe(
        (await storage.getUser(session.userId))?.passwordHash,
      )
    } finally {
      await server.close()
      await storage.close()
    }
  })
})
