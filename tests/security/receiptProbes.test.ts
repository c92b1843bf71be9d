/**
 * Delivery receipts as a tracking side channel (the 2024 "Careless Whisper" study: a stranger sends
 * silent probes and times the victim's automatic delivery receipts to tell when a phone is in use).
 * An attacker replays 1,000 probes at a victim whose engine runs; the test states what the attacker
 * can still learn: a bounded number of receipts (the server's per-pair budget), arriving together in
 * a few frames (the engine's coalescing), each frame at least the engine's random hold after the
 * first probe it answers was stored, so no receipt times a probe.
 */
import { afterAll, describe, expect, it } from 'vitest'
import type { WireMessage } from '../../src/shared/protocol'
import { cleanup, signIn, testServer } from '../integration/harness'
import { clientMsgId, connectOne, text } from '../server/helpers'

const PROBES = 1000
const BUDGET = { burst: 10, perMinute: 10 }
const HOLD = { minMs: 150, maxMs: 600 }

afterAll(cleanup)

describe('delivery receipts cannot be used to probe a device', () => {
  it('1,000 probes: a bounded number of receipts, coalesced, no frame sooner than the random hold', async () => {
    const server = await testServer({
      // Rate limits are another test's subject; here they would only slow the probes down.
      rateLimit: { perSecond: 1e6, burst: 1e6 },
      deliveryReceiptBudget: BUDGET,
    })
    const victim = await signIn(server, 'victim', undefined, { deliveryReceiptDelay: HOLD })
    const attacker = await connectOne(server)
    await attacker.call('updateSettings', { requireDeliveryAck: true })

    const storedAt = new Map<string, number>()
    victim.engine.on('messageReceived', (ms) => {
      for (const m of ms) if (m.messageUId) storedAt.set(m.messageUId, Date.now())
    })
    const started = Date.now()
    const sent: WireMessage[] = []
    for (let i = 0; i < PROBES; i++) {
      const { message } = await attacker.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: victim.userId },
        content: text(`probe ${i}`),
      })
      sent.push(message)
    }
    const chat = { type: 'private' as const, targetId: attacker.userId }
    await victim.until(
      'every probe stored',
      () => victim.engine.store?.conversation(chat)?.syncedSeq === PROBES,
      30_000,
    )
    await victim.engine.flushOutbox()
    await victim.until('the receipts sent', () => victim.engine.store?.outboxSize() === 0, 10_000)
    const pushes = (await attacker.barrier()).filter((p) => p.event === 'messageDelivered')
    const receipts = pushes.flatMap((p) => (p.data as { messageUIds: string[] }).messageUIds)
    const minutes = (Date.now() - started) / 60_000

    // Only messages within the pair's budget asked for a receipt at all.
    const asked = sent.filter((m) => m.needDeliveryAck).length
    expect(asked).toBeLessThanOrEqual(BUDGET.burst + Math.ceil(BUDGET.perMinute * minutes))
    expect(receipts.length).toBe(asked)
    // Coalesced: a frame answers every probe stored while its hold ran, so there are fewer frames
    // than receipts whenever probes come faster than the hold (the outbox test pins this down with
    // a fake clock); and no frame left sooner than the shortest hold after the first probe it
    // answers was stored, so its time says when the hold ended, not when a probe arrived (probes
    // pushed live; those pulled in a sync are not timed here).
    for (const push of pushes) {
      const { at, messageUIds } = push.data as { at: number; messageUIds: string[] }
      const stored = messageUIds.map((uid) => storedAt.get(uid)).filter((t) => t !== undefined)
      if (stored.length > 0) expect(at - Math.min(...stored)).toBeGreaterThanOrEqual(HOLD.minMs - 5)
    }
  }, 60_000)
})
