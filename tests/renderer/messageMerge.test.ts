import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Message } from '../../src/shared/model'
import { applyReceipt, type ReceiptState } from '../../src/shared/receiptState'
import { compareMessages, mergeMessage, receiptState, upsertMessage } from '@renderer/lib/messages'
import { makeMessage, makeSent } from './fixtures'

const RANK = { sending: 0, failed: 0, sent: 1, delivered: 2, read: 3 } as const

/** Copies of one sent message as the engine might report it at different moments. */
const copyOf = (base: Message) =>
  fc
    .record({
      step: fc.constantFrom('sending', 'sent', 'delivered', 'read'),
      time: fc.integer({ min: 1, max: 1000 }),
    })
    .map(({ step, time }): Message => {
      if (step === 'sending') return { ...base, status: 'sending', seq: null, messageUId: null }
      return {
        ...base,
        isDelivered: step !== 'sent',
        deliveredTime: step !== 'sent' ? time : null,
        isReceiverRead: step === 'read',
        readTime: step === 'read' ? time + 1 : null,
      }
    })

describe('mergeMessage', () => {
  it('never moves a message backwards, whatever order its copies arrive in', () => {
    const base = makeSent({ seq: 5 })
    fc.assert(
      fc.property(fc.array(copyOf(base), { minLength: 1, maxLength: 8 }), (copies) => {
        let merged = copies[0]
        for (const copy of copies.slice(1)) {
          const next = mergeMessage(merged, copy)
          expect(RANK[receiptState(next)]).toBeGreaterThanOrEqual(RANK[receiptState(merged)])
          merged = next
        }
        const best = Math.max(...copies.map((c) => RANK[receiptState(c)]))
        expect(RANK[receiptState(merged)]).toBe(best)
        if (merged.isReceiverRead) expect(merged.isDelivered).toBe(true)
        // The same answer as the shared rule folded over every receipt the copies carry.
        let state: ReceiptState = { deliveredAt: null, readAt: null }
        for (const copy of copies) {
          if (copy.deliveredTime !== null)
            state = applyReceipt(state, { kind: 'delivered', at: copy.deliveredTime })
          if (copy.readTime !== null) state = applyReceipt(state, { kind: 'read', at: copy.readTime })
        }
        expect({ deliveredAt: merged.deliveredTime, readAt: merged.readTime }).toEqual(state)
        if (merged.readTime !== null) expect(merged.deliveredTime).toBeLessThanOrEqual(merged.readTime)
      }),
    )
  })

  it('reads imply delivery, at the read time when no earlier delivery is known', () => {
    const base = makeSent({ seq: 7 })
    const read = { ...base, isDelivered: true, deliveredTime: null, isReceiverRead: true, readTime: 30 }
    const delivered = { ...base, isDelivered: true, deliveredTime: 50 }
    expect(mergeMessage(base, read)).toMatchObject({ isDelivered: true, deliveredTime: 30, readTime: 30 })
    // A delivery reported later than the read cannot make delivery come after reading.
    expect(mergeMessage(read, delivered)).toMatchObject({
      deliveredTime: 30,
      readTime: 30,
      isReceiverRead: true,
    })
  })

  it('keeps the earliest receipt times and a message read once read', () => {
    const base = makeMessage({ isUnread: true })
    const merged = mergeMessage(
      { ...base, isUnread: false, isDelivered: true, deliveredTime: 20 },
      { ...base, isUnread: true, isDelivered: true, deliveredTime: 10 },
    )
    expect(merged).toMatchObject({ isUnread: false, deliveredTime: 10 })
  })
})

describe('upsertMessage', () => {
  it('keeps display order by sequence, pending messages last', () => {
    const list: Message[] = []
    const pending = makeSent({ seq: null, messageUId: null, status: 'sending', sentTime: 9e12 })
    for (const message of [
      makeMessage({ seq: 3 }),
      pending,
      makeMessage({ seq: 1 }),
      makeMessage({ seq: 2 }),
    ]) {
      upsertMessage(list, message)
    }
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3, null])
    upsertMessage(list, { ...pending, status: 'sent', seq: 4, messageUId: 'TEST-0000-0000-9999' })
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3, 4])
    expect([...list].sort(compareMessages)).toEqual(list)
  })
})
