/**
 * My ack of one message, property-tested (issue 15): whatever this device, my other device and the
 * network do, in any order (acks and undos here and there, offline spells that lose pushes, syncs),
 * this device's `myAckTime` never goes from set to unset except by an undo, and once online and
 * synced it agrees with the server's (acked or not). The server is a small model: one ack row, the first time
 * kept, an undo removes it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ackMessage, undoAckMessage } from '../../src/main/engine/ops/acks'
import { Outbox } from '../../src/main/engine/outbox/outbox'
import { Sync } from '../../src/main/engine/sync/sync'
import { ok } from '../../src/shared/codes'
import type { PushFrame } from '../../src/shared/protocol'
import { fuzzRuns, fuzzTimeout } from '../fuzz/runs'
import { ME, testContext, wire } from './fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const

type Step =
  | { kind: 'ackHere' }
  | { kind: 'undoHere' }
  | { kind: 'ackElsewhere' }
  | { kind: 'undoElsewhere' }
  | { kind: 'flush' }
  | { kind: 'offline' }
  | { kind: 'online' }

const step: fc.Arbitrary<Step> = fc.constantFrom<Step>(
  { kind: 'ackHere' },
  { kind: 'undoHere' },
  { kind: 'ackElsewhere' },
  { kind: 'undoElsewhere' },
  { kind: 'flush' },
  { kind: 'offline' },
  { kind: 'online' },
)

async function play(steps: readonly Step[]): Promise<void> {
  const ctx = testContext()
  const sync = new Sync(ctx, { onRevoked: () => undefined })
  const outbox = new Outbox(ctx, { backoff: { minMs: 60_000, maxMs: 60_000 } })
  const m = wire(1, { needAck: true, sentAt: 100 })
  // The message is read already, so an ack queues nothing but itself.
  ctx.store.storeServerMessages(ME, [m], 1)
  ctx.store.readConversation(BOB, 1, 2, false)
  const localId = String(ctx.store.messageByUid(m.messageUId)?.localId)

  // The server: my ack of the message (null: none), its clock, and its answers.
  let serverAck: number | null = null
  let clock = 5_000_000
  const push = (data: { at: number; undone?: true }): void => {
    if (!ctx.fake.isOpen) return // lost while offline (and its event pruned: only the sync can tell)
    sync.onPush({
      type: 'push',
      event: 'messageAcked',
      data: { conversation: BOB, messageUId: m.messageUId, by: ME, ...data },
    } as PushFrame)
  }
  ctx.fake.answer('ackMessage', ({ messageUIds }) => {
    serverAck ??= ++clock
    const at = serverAck
    return ok({ accepted: messageUIds.map((messageUId) => ({ messageUId, at })), rejected: [] })
  })
  ctx.fake.answer('undoAckMessage', ({ messageUId }) => {
    if (serverAck === null) return { code: 4303, msg: 'no ack' }
    serverAck = null
    return ok({ messageUId, undoneAt: ++clock })
  })
  ctx.fake.answer('syncState', () =>
    ok({
      user: { userId: ME, displayName: ME },
      settings: { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: true },
      conversations: [],
      groups: [],
      lastEventSeq: 0,
      serverTime: ++clock,
      pendingAcks: serverAck === null ? 1 : 0,
    }),
  )
  ctx.fake.answer('syncEvents', () => ok({ events: [], hasMore: false }))
  ctx.fake.answer('listGroupInvites', () => ok({ invites: [] }))
  ctx.fake.answer('listPendingAcks', () =>
    ok({ messages: serverAck === null ? [m] : [], total: serverAck === null ? 1 : 0 }),
  )

  const mine = (): number | null => ctx.store.view(Number(localId))?.myAckTime ?? null
  for (const s of steps) {
    const before = mine()
    let undo = false
    switch (s.kind) {
      case 'ackHere':
        if (before === null) ackMessage(ctx, localId)
        break
      case 'undoHere':
        undo = true
        if (before !== null) await undoAckMessage(ctx, localId).catch(() => undefined)
        break
      case 'ackElsewhere':
        if (serverAck === null) {
          serverAck = ++clock
          push({ at: serverAck })
        }
        break
      case 'undoElsewhere':
        undo = true
        if (serverAck !== null) {
          serverAck = null
          push({ at: ++clock, undone: true })
        }
        break
      case 'flush':
        await outbox.flush()
        break
      case 'offline':
        ctx.fake.isOpen = false
        break
      case 'online':
        // A connection: the sync run first, then the outbox (as the engine does).
        ctx.fake.isOpen = true
        await sync.run()
        undo = true // a sync may tell of an undo whose push was lost
        await outbox.flush()
        break
    }
    // Set never becomes unset but by an undo (here, elsewhere, or learnt at a sync).
    if (before !== null && mine() === null) expect(undo).toBe(true)
  }
  // Back online and settled: this device agrees with the server.
  ctx.fake.isOpen = true
  await sync.run()
  await outbox.flush()
  // (An ack learnt only from the sync's list has the sync's time: its own was in a lost push.)
  expect(mine() === null).toBe(serverAck === null)
  expect(ctx.store.acks.pendingCount()).toBe(serverAck === null ? 1 : 0)
  await outbox.close()
  ctx.store.close()
}

const RUNS = fuzzRuns(300)

describe('my ack of a message, whatever happens', () => {
  it(
    'goes back only by an undo, and ends where the server is',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { maxLength: 25 }), (steps) => play(steps)),
        { numRuns: RUNS },
      )
    },
    fuzzTimeout(RUNS, 40),
  )
})
