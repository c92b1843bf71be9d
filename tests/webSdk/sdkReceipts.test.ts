/**
 * The web SDK against a real server (issue 16): the receipt scenarios of the engine's integration
 * tests (tests/integration/groupReceipts.test.ts), with desktop engines and web SDK clients in the
 * same group. Two independent clients of the wire protocol: where they disagree, the protocol doc
 * is wrong. Node has no global WebSocket, so the SDK gets the `ws` package's; its store is memory
 * (a MemoryStore shared by two clients stands for a page reloaded over the same IndexedDB).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import {
  Events,
  IMClient,
  MemoryStore,
  type EventName,
  type EventPayloads,
  type ReceiptCacheOptions,
} from '../../src/sdk/web'
import type { WebSocketConstructor } from '../../src/sdk/web/socket'
import { Code } from '../../src/shared/codes'
import type { GroupInfo, Message } from '../../src/shared/model'
import { cleanup, data, signIn, testServer, type Device } from '../integration/harness'

const clients: IMClient[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect()
  await cleanup()
})

const text = (t: string) => ({ type: 'text', text: t }) as const

/** A web client of `userId` (registered if new), connected. */
async function webClient(
  serverUrl: string,
  userId: string,
  options: { store?: MemoryStore; WebSocket?: WebSocketConstructor; receiptCache?: ReceiptCacheOptions } = {},
): Promise<IMClient> {
  const client = new IMClient({
    serverUrl,
    WebSocket: options.WebSocket ?? (WebSocket as unknown as WebSocketConstructor),
    storage: options.store ?? new MemoryStore(),
    reconnect: { minDelayMs: 20, maxDelayMs: 200 },
    ...(options.receiptCache ? { receiptCache: options.receiptCache } : {}),
  })
  clients.push(client)
  const password = `${userId}-password`
  const registered = await client.register(userId, password)
  if (registered.code !== 0 && registered.code !== Code.USER_EXISTS) throw new Error(registered.msg)
  const session = data<{ token: string; deviceId: string }>(await client.login(userId, password))
  expect(await client.connect(session.token, session.deviceId)).toEqual({ code: 0, data: { userId } })
  return client
}

/** The next `event` of a web client whose payload matches (fails the test after 10 s). */
function nextEvent<E extends EventName>(
  client: IMClient,
  event: E,
  match: (p: EventPayloads[E]) => boolean = () => true,
): Promise<EventPayloads[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), 10_000)
    const listener = (p: EventPayloads[E]) => {
      if (!match(p)) return
      clearTimeout(timer)
      client.removeEventListener(event, listener)
      resolve(p)
    }
    client.addEventListener(event, listener)
  })
}

async function sendFromDesktop(from: Device, conv: object, body: string): Promise<string> {
  const sent = data<Message>(await from.dispatch('sendMessage', [conv, text(body), {}]))
  return from.until(
    `"${body}" sent`,
    () => from.engine.store?.messageByLocalId(Number(sent.messageId))?.messageUId,
  )
}

describe('web SDK, RongCloud model: request and response (R1–R5, R7)', () => {
  it('asks, answers in one response built from the cache, grouped by sender, and updates the sender live', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const [bob, carol] = [await webClient(server.url, 'bob'), await webClient(server.url, 'carol')]
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', ['bob', 'carol']]))
    const conv = { type: 'group', targetId: group.groupId } as const

    const bobHears = nextEvent(bob, Events.MESSAGES, (p) =>
      p.messages.some((m) => m.content.type === 'text' && m.content.text === 'second'),
    )
    const m1 = await sendFromDesktop(alice, conv, 'first')
    const m2 = await sendFromDesktop(alice, conv, 'second')
    await bobHears
    const fromCarol = data<{ messageUId: string }>(await carol.sendMessage(conv, text('carol speaks')))

    for (const uid of [m1, m2]) {
      const asked = nextEvent(bob, Events.MESSAGE_RECEIPT_REQUEST, (e) => e.messageUId === uid)
      expect(await alice.dispatch('sendReadReceiptRequest', [group.groupId, uid])).toEqual({
        code: 0,
        data: null,
      })
      expect(await asked).toEqual({
        conversation: conv,
        messageUId: uid,
        senderUserId: 'alice',
        channelId: '',
      })
    }
    // The web client asks too, by the RongCloud name.
    const carolAsked = nextEvent(bob, Events.MESSAGE_RECEIPT_REQUEST, (e) => e.senderUserId === 'carol')
    expect(await carol.sendReadReceiptRequest(group.groupId, fromCarol.messageUId)).toEqual({
      code: 0,
      data: null,
    })
    await carolAsked

    const history = data<{ list: { messageUId: string; readReceiptInfo: object }[] }>(
      await bob.getHistoryMessages(conv, { count: 10 }),
    )
    expect(history.list.map((m) => m.messageUId)).toEqual([m1, m2, fromCarol.messageUId])
    expect(history.list[0]?.readReceiptInfo).toEqual({ isReceiptRequestMessage: true, hasRespond: false })

    const toAlice = alice.next('MESSAGE_RECEIPT_RESPONSE')
    const toCarol = nextEvent(carol, Events.MESSAGE_RECEIPT_RESPONSE)
    const sent = data<{ messageList: Record<string, string[]> }>(
      await bob.sendReadReceiptResponseV2(group.groupId),
    )
    expect(Object.keys(sent.messageList).sort()).toEqual(['alice', 'carol'])
    expect(sent.messageList.alice?.sort()).toEqual([m1, m2].sort())
    expect(sent.messageList.carol).toEqual([fromCarol.messageUId])
    const r = await toAlice
    expect(r).toMatchObject({ conversation: conv, receivedUserId: 'bob', channelId: '' })
    expect(r.messageUIdList.sort()).toEqual([m1, m2].sort())
    expect(await toCarol).toEqual({
      conversation: conv,
      receivedUserId: 'bob',
      messageUIdList: [fromCarol.messageUId],
      channelId: '',
    })
    await alice.until('read by bob', () => {
      const row = alice.engine.store?.messageByUid(m2)
      return row && alice.engine.store?.view(row.localId)?.groupAckCount === 1
    })
    // The web sender's history counts the reader, the answering member's says it answered.
    const carolHistory = data<{ list: { messageUId: string; readReceiptInfo: object }[] }>(
      await carol.getHistoryMessages(conv),
    )
    expect(carolHistory.list.find((m) => m.messageUId === fromCarol.messageUId)?.readReceiptInfo).toEqual({
      isReceiptRequestMessage: true,
      readCount: 1,
      totalCount: 2,
    })
    const after = data<{ list: { readReceiptInfo: { hasRespond?: boolean } }[] }>(
      await bob.getHistoryMessages(conv),
    )
    expect(after.list.map((m) => m.readReceiptInfo.hasRespond)).toEqual([true, true, true])
    // A second call finds nothing left to answer and sends nothing.
    expect(data(await bob.sendReadReceiptResponseV2(group.groupId))).toEqual({
      messageList: {},
      rejected: [],
    })
  })

  it('keeps requests across a reload: a member who was away answers after signing in again', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const store = new MemoryStore()
    const carol = await webClient(server.url, 'carol', { store })
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', ['carol']]))
    const conv = { type: 'group', targetId: group.groupId } as const
    const arrived = nextEvent(carol, Events.MESSAGES)
    const uid = await sendFromDesktop(alice, conv, 'answer later')
    await arrived
    carol.disconnect()
    await alice.dispatch('sendReadReceiptRequest', [group.groupId, uid])

    // The page comes back over the same store: the catch-up replays the request into the cache.
    const back = await webClient(server.url, 'carol', { store })
    expect(data(await back.getReceiptRequests(group.groupId))).toEqual([
      expect.objectContaining({ messageUId: uid, senderUserId: 'alice' }),
    ])
    back.disconnect()
    const again = await webClient(server.url, 'carol', { store })
    const response = alice.next('MESSAGE_RECEIPT_RESPONSE')
    expect(data(await again.sendReadReceiptResponseV2(group.groupId))).toEqual({
      messageList: { alice: [uid] },
      rejected: [],
    })
    expect(await response).toMatchObject({ receivedUserId: 'carol', messageUIdList: [uid] })
    // And a later reload still knows it answered.
    again.disconnect()
    const later = await webClient(server.url, 'carol', { store })
    expect(data(await later.getReceiptRequests(group.groupId))).toEqual([
      expect.objectContaining({ messageUId: uid, answeredAt: expect.any(Number) }),
    ])
    expect(data(await later.sendReadReceiptResponseV2(group.groupId))).toEqual({
      messageList: {},
      rejected: [],
    })
  })

  it('does not answer requests that fell out of the cache (its limit is an option)', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await webClient(server.url, 'bob', { receiptCache: { maxPerConversation: 2 } })
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', ['bob']]))
    const conv = { type: 'group', targetId: group.groupId } as const
    const uids: string[] = []
    for (const body of ['one', 'two', 'three']) {
      const arrived = nextEvent(bob, Events.MESSAGES)
      uids.push(await sendFromDesktop(alice, conv, body))
      await arrived
    }
    for (const uid of uids) {
      const asked = nextEvent(bob, Events.MESSAGE_RECEIPT_REQUEST, (e) => e.messageUId === uid)
      await alice.dispatch('sendReadReceiptRequest', [group.groupId, uid])
      await asked
    }
    const [oldest, ...newest] = uids as [string, ...string[]]
    const response = alice.next('MESSAGE_RECEIPT_RESPONSE')
    const sent = data<{ messageList: Record<string, string[]> }>(
      await bob.sendReadReceiptResponseV2(group.groupId),
    )
    expect(sent.messageList.alice?.sort()).toEqual([...newest].sort())
    expect((await response).messageUIdList.sort()).toEqual([...newest].sort())
    const ackCount = (uid: string) => {
      const row = alice.engine.store?.messageByUid(uid)
      return row ? alice.engine.store?.view(row.localId)?.groupAckCount : undefined
    }
    await alice.until('the newest two read', () => newest.every((uid) => ackCount(uid) === 1))
    expect(ackCount(oldest)).toBe(0)
    // The history still says the oldest asked, and that this browser did not answer it.
    const history = data<{ list: { messageUId: string; readReceiptInfo: object }[] }>(
      await bob.getHistoryMessages(conv),
    )
    expect(history.list.find((m) => m.messageUId === oldest)?.readReceiptInfo).toEqual({
      isReceiptRequestMessage: true,
      hasRespond: false,
    })
  })

  it('refuses a request on someone else’s message, and bad arguments, with typed codes', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await webClient(server.url, 'bob')
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', ['bob']]))
    const conv = { type: 'group', targetId: group.groupId } as const
    const arrived = nextEvent(bob, Events.MESSAGES)
    const uid = await sendFromDesktop(alice, conv, 'mine')
    await arrived
    expect(await bob.sendReadReceiptRequest(group.groupId, uid)).toMatchObject({
      code: Code.NOT_MESSAGE_SENDER,
    })
    expect(await bob.sendReadReceiptRequest('not-a-group', uid)).toMatchObject({
      code: Code.INVALID_ARGUMENT,
    })
    expect(await bob.sendReadReceiptResponseV2(group.groupId, { alice: ['nope'] })).toMatchObject({
      code: Code.INVALID_ARGUMENT,
    })
  })
})

describe('web SDK, messages', () => {
  it('sends and receives in a single chat with a desktop account, and pages the history back', async () => {
    const server = await testServer()
    const bob = await signIn(server, 'bob')
    const alice = await webClient(server.url, 'alice')
    const conv = { type: 'private', targetId: 'bob' } as const
    const sent = data<{ messageUId: string; messageDirection: number; seq: number }>(
      await alice.sendMessage(conv, text('hello from the web')),
    )
    expect(sent.messageDirection).toBe(1)
    await bob.until('the web message', () => bob.engine.store?.messageByUid(sent.messageUId))
    const reply = nextEvent(alice, Events.MESSAGES)
    await bob.dispatch('sendMessage', [
      { type: 'private', targetId: 'alice' },
      text('hello from the desktop'),
      {},
    ])
    const [got] = (await reply).messages
    expect(got).toMatchObject({
      senderId: 'bob',
      messageDirection: 2,
      content: text('hello from the desktop'),
    })

    const last = data<{ list: { seq: number }[]; hasMore: boolean }>(
      await alice.getHistoryMessages(conv, { count: 1 }),
    )
    expect(last.list.map((m) => m.seq)).toEqual([got?.seq])
    expect(last.hasMore).toBe(true)
    const before = data<{ list: { messageUId: string }[]; hasMore: boolean }>(
      await alice.getHistoryMessages(conv, { count: 5, beforeSeq: got?.seq }),
    )
    expect(before).toEqual({
      list: [expect.objectContaining({ messageUId: sent.messageUId })],
      hasMore: false,
    })
    expect(await alice.getHistoryMessages(conv, { count: 0 })).toMatchObject({ code: Code.INVALID_ARGUMENT })
  })
})

describe('web SDK, the link', () => {
  it('reconnects with backoff after the link drops and catches up by sequence numbers', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    // A WebSocket whose sockets the test can cut, and whose new ones it can hold back (a network outage).
    const sockets: WebSocket[] = []
    const outage = { on: false }
    class CuttableWebSocket extends WebSocket {
      constructor(url: string, protocols: string[]) {
        super(outage.on ? url.replace(/:\d+\//, ':1/') : url, protocols)
        sockets.push(this)
      }
    }
    const bob = await webClient(server.url, 'bob', {
      WebSocket: CuttableWebSocket as unknown as WebSocketConstructor,
    })
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', ['bob']]))
    const conv = { type: 'group', targetId: group.groupId } as const
    const first = nextEvent(bob, Events.MESSAGES)
    await sendFromDesktop(alice, conv, 'before')
    await first

    outage.on = true
    const suspended = nextEvent(bob, Events.SUSPEND)
    sockets.at(-1)?.terminate()
    expect(await suspended).toMatchObject({ retryInMs: expect.any(Number) })
    expect(bob.getConnectionStatus()).not.toBe('connected')
    const missed = await sendFromDesktop(alice, conv, 'while you were away')
    expect(await alice.dispatch('sendReadReceiptRequest', [group.groupId, missed])).toMatchObject({ code: 0 })

    const caughtUp = nextEvent(bob, Events.MESSAGES, (p) => p.messages.some((m) => m.messageUId === missed))
    const request = nextEvent(bob, Events.MESSAGE_RECEIPT_REQUEST, (e) => e.messageUId === missed)
    const connected = nextEvent(bob, Events.CONNECTED)
    outage.on = false
    await connected
    await caughtUp
    await request
    expect(bob.getConnectionStatus()).toBe('connected')
    expect(data(await bob.sendReadReceiptResponseV2(group.groupId))).toEqual({
      messageList: { alice: [missed] },
      rejected: [],
    })
  })

  it('says a refused socket is refused: a bad token gets no connection and a typed code', async () => {
    const server = await testServer()
    const client = new IMClient({
      serverUrl: server.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      storage: new MemoryStore(),
    })
    clients.push(client)
    expect(await client.connect('not-a-token', 'some-device-1')).toMatchObject({
      code: Code.SERVER_UNREACHABLE,
    })
    expect(client.getConnectionStatus()).toBe('disconnected')
    expect(await client.sendReadReceiptResponseV2('g_x1')).toMatchObject({ code: Code.NOT_LOGGED_IN })
    // Without a WebSocket (Node 20 has no global one) connect says so instead of throwing.
    vi.stubGlobal('WebSocket', undefined)
    try {
      const bare = new IMClient({ serverUrl: server.url, storage: new MemoryStore() })
      clients.push(bare)
      expect(await bare.connect('token', 'some-device-1')).toMatchObject({ code: Code.INVALID_ARGUMENT })
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('ends for good when the session is revoked (logout elsewhere), without reconnecting', async () => {
    const server = await testServer()
    const bob = await webClient(server.url, 'bob')
    const ended = nextEvent(bob, Events.DISCONNECT)
    const other = new IMClient({
      serverUrl: server.url,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      storage: new MemoryStore(),
    })
    clients.push(other)
    // A password change ends every other session of the account.
    const session = data<{ token: string }>(await other.login('bob', 'bob-password'))
    const changed = await fetch(`${server.url.replace('ws://', 'http://').replace('/ws', '')}/api/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${session.token}` },
      body: JSON.stringify({ currentPassword: 'bob-password', newPassword: 'bob-new-password' }),
    })
    expect(await changed.json()).toMatchObject({ code: 0 })
    expect(await ended).toEqual({ reason: 'sessionEnded' })
    expect(bob.getConnectionStatus()).toBe('disconnected')
  })
})
