/**
 * What the engine does when pushes may have been lost between server nodes (issue 10): the server's
 * `resync` push runs the catch-up of a connection (syncState, pulls by seq, events by eventSeq),
 * once for every resync push that arrives before it starts; a pushed message past a gap pulls the gap.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Sync } from '../../../src/main/engine/sync/sync'
import { Code } from '../../../src/shared/codes'
import type { ConversationState, PushFrame, WireMessage } from '../../../src/shared/protocol'
import { ME, testContext, wire, type TestContext } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const
const settings = { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: true }

function state(lastSeq: number): ConversationState {
  return {
    conversation: BOB,
    title: '',
    lastSeq,
    readSeq: 0,
    shareReadReceipts: null,
    readReceiptsShared: true,
    peerReadSeq: 0,
    peerDeliveredSeq: 0,
    joinedSeq: 0,
    leftSeq: null,
    unreadCount: lastSeq,
  }
}

/** A promise and its resolver: a server answer held back until the test lets it go. */
function gate(): { promise: Promise<void>; open(): void } {
  let open = (): void => undefined
  const promise = new Promise<void>((resolve) => (open = resolve))
  return { promise, open }
}

describe('resync and gaps', () => {
  let ctx: TestContext
  let sync: Sync
  /** The server's messages with bob. */
  let onServer: WireMessage[]
  beforeEach(() => {
    ctx = testContext()
    sync = new Sync(ctx, { onRevoked: () => undefined })
    onServer = []
    ctx.fake.answer('syncState', () => ({
      code: 0,
      data: {
        user: { userId: ME, displayName: ME },
        settings,
        conversations: onServer.length > 0 ? [state(onServer.length)] : [],
        groups: [],
        lastEventSeq: 0,
        serverTime: 1,
      },
    }))
    ctx.fake.answer('pullMessages', ({ afterSeq, limit }) => {
      const messages = onServer.filter((m) => m.seq > afterSeq).slice(0, limit)
      return { code: 0, data: { messages, hasMore: false } }
    })
    ctx.fake.answer('syncEvents', () => ({ code: 0, data: { events: [], hasMore: false } }))
    ctx.fake.answer('listGroupInvites', () => ({ code: 0, data: { invites: [] } }))
    ctx.fake.answer('getUsers', () => ({ code: 0, data: { users: [{ userId: 'bob', displayName: 'Bob' }] } }))
  })
  afterEach(() => ctx.store.close())

  const push = (frame: { event: PushFrame['event']; data: unknown; eventSeq?: number }): void =>
    sync.onPush({ type: 'push', ...frame } as PushFrame)
  const count = (op: string): number => ctx.fake.ops().filter((o) => o === op).length
  const stored = (): number[] =>
    ctx.store
      .history(BOB, undefined, 100)
      .list.map((m) => m.seq ?? 0)
      .sort((a, b) => a - b)

  it('a resync push catches up like a connection: state, missing messages, events', async () => {
    onServer = [1, 2, 3].map((s) => wire(s))
    push({ event: 'resync', data: { reason: 'reconnected' } })
    await sync.idle()
    expect(ctx.fake.ops()).toEqual([
      'syncState',
      'getUsers',
      'pullMessages',
      'syncEvents',
      'listGroupInvites',
    ])
    expect(stored()).toEqual([1, 2, 3])
    expect(ctx.store.conversation(BOB)?.syncedSeq).toBe(3)
  })

  it('resync pushes during a run queue one more run, however many they are', async () => {
    const held = gate()
    ctx.fake.answer('syncEvents', async () => {
      await held.promise
      return { code: 0, data: { events: [], hasMore: false } }
    })
    const first = sync.run()
    for (let i = 0; i < 5; i++) push({ event: 'resync', data: {} })
    held.open()
    await first
    await sync.idle()
    // The connection's run, then one run for the five pushes.
    expect(count('syncState')).toBe(2)
    expect(count('syncEvents')).toBe(2)
  })

  it('a pushed message past a gap pulls the gap', async () => {
    onServer = [1, 2, 3, 4].map((s) => wire(s))
    ctx.store.storeServerMessages(ME, [onServer[0] as WireMessage], 1)
    push({ event: 'message', data: onServer[3] })
    await sync.idle()
    expect(ctx.fake.sent.filter((s) => s.op === 'pullMessages').map((s) => s.data)).toEqual([
      { conversation: BOB, afterSeq: 1, limit: 500 },
    ])
    expect(stored()).toEqual([1, 2, 3, 4])
    expect(ctx.store.conversation(BOB)?.syncedSeq).toBe(4)
  })

  it('the first message of a single chat new here pulls the ones before it', async () => {
    onServer = [1, 2, 3].map((s) => wire(s))
    push({ event: 'message', data: onServer[2] })
    await sync.idle()
    expect(stored()).toEqual([1, 2, 3])
    expect(ctx.store.conversation(BOB)?.syncedSeq).toBe(3)
  })

  it("a peer's read mark past what is here pulls my messages it covers, then marks them read", async () => {
    // 1 and 2 are mine, sent from my other device; only 1 arrived here before bob read both.
    onServer = [1, 2].map((s) => wire(s, { senderId: ME, to: 'bob', needReadAck: true }))
    ctx.store.storeServerMessages(ME, [onServer[0] as WireMessage], 1)
    push({
      event: 'conversationRead',
      data: { conversation: BOB, from: 'bob', to: ME, seq: 2, at: 77 },
      eventSeq: 1,
    })
    await sync.idle()
    const mine = ctx.store.history(BOB, undefined, 10).list
    expect(mine.map((m) => [m.seq, m.isReceiverRead])).toEqual([
      [2, true],
      [1, true],
    ])
  })

  it('an event past a gap while the replay is out makes the replay ask once more', async () => {
    const event = (eventSeq: number): PushFrame =>
      ({
        type: 'push',
        event: 'settingsChanged',
        data: { settings: { ...settings, requireReadAck: eventSeq % 2 === 0 } },
        eventSeq,
      }) as PushFrame
    let log = [1, 2].map(event)
    const asked = gate()
    const held = gate()
    let calls = 0
    ctx.fake.answer('syncEvents', async ({ afterEventSeq }) => {
      // The first answer is read before events 3 and 4 exist, and held back.
      const events = log.filter((e) => (e.eventSeq ?? 0) > afterEventSeq)
      if (calls++ === 0) {
        asked.open()
        await held.promise
      }
      return { code: 0, data: { events, hasMore: false } }
    })
    const replay = sync.catchUpEvents()
    await asked.promise
    log = [1, 2, 3, 4].map(event)
    sync.onPush(log[3] as PushFrame) // 3 was lost, while that replay is out
    held.open()
    await replay
    expect(ctx.store.lastEventSeq()).toBe(4)
  })

  it('catch-up refused by a live server (RATE_LIMITED) is retried by a resync run after a pause', async () => {
    vi.useFakeTimers()
    try {
      const frame = {
        type: 'push',
        event: 'settingsChanged',
        data: { settings },
        eventSeq: 2,
      } as PushFrame
      let refuse = true
      ctx.fake.answer('syncEvents', () =>
        refuse
          ? { code: Code.RATE_LIMITED, msg: 'slow down' }
          : { code: 0, data: { events: [{ ...frame, eventSeq: 1 }, frame], hasMore: false } },
      )
      sync.onPush(frame) // event 1 was lost: the replay is refused
      await vi.advanceTimersByTimeAsync(0)
      expect(ctx.store.lastEventSeq()).toBe(0)
      refuse = false
      await vi.advanceTimersByTimeAsync(500)
      await sync.idle()
      expect(ctx.store.lastEventSeq()).toBe(2)
      expect(count('syncState')).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('a gap shown while the pull is already answering is pulled by that pull going on', async () => {
    const all = [1, 2, 3, 4, 5].map((s) => wire(s))
    onServer = all.slice(0, 3)
    ctx.store.storeServerMessages(ME, [all[0] as WireMessage], 1)
    const held = gate()
    let pulls = 0
    ctx.fake.answer('pullMessages', async ({ afterSeq }) => {
      // The first answer is read before messages 4 and 5 exist, and held back.
      const messages = onServer.filter((m) => m.seq > afterSeq)
      if (pulls++ === 0) await held.promise
      return { code: 0, data: { messages, hasMore: false } }
    })
    push({ event: 'message', data: all[2] }) // 2 was lost: a pull starts
    onServer = all
    push({ event: 'message', data: all[4] }) // 4 was lost too, while that pull is out
    held.open()
    await sync.idle()
    expect(stored()).toEqual([1, 2, 3, 4, 5])
    expect(ctx.store.conversation(BOB)?.syncedSeq).toBe(5)
  })
})
