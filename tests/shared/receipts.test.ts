import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  advanceWatermark,
  applyReceipt,
  compareLevels,
  receiptLevel,
  type Receipt,
  type ReceiptState,
} from '../../src/shared/receipts'
import { fuzzRuns } from '../fuzz/runs'

const receipt = fc.record({
  kind: fc.constantFrom('delivered' as const, 'read' as const),
  at: fc.integer({ min: 1, max: 1e6 }),
})
const RUNS = fuzzRuns(3000)
const SENT: ReceiptState = { deliveredAt: null, readAt: null }
const fold = (rs: readonly Receipt[]): ReceiptState => rs.reduce(applyReceipt, SENT)

describe('receipt state machine', () => {
  it('never goes backwards, whatever arrives', () => {
    fc.assert(
      fc.property(fc.array(receipt, { maxLength: 30 }), (rs) => {
        let state = SENT
        for (const r of rs) {
          const next = applyReceipt(state, r)
          expect(compareLevels(receiptLevel(next), receiptLevel(state))).toBeGreaterThanOrEqual(0)
          state = next
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('does not depend on arrival order, and duplicates change nothing', () => {
    fc.assert(
      fc.property(fc.array(receipt, { maxLength: 20 }), fc.integer(), (rs, seed) => {
        const shuffled = [...rs, ...rs].sort((a, b) => ((a.at * 31 + seed) % 7) - ((b.at * 31 + seed) % 7))
        expect(fold(shuffled)).toEqual(fold(rs))
      }),
      { numRuns: RUNS },
    )
  })

  it('read implies delivered, and delivery is never later than reading', () => {
    fc.assert(
      fc.property(fc.array(receipt, { minLength: 1, maxLength: 20 }), (rs) => {
        const s = fold(rs)
        if (s.readAt !== null) {
          expect(s.deliveredAt).not.toBeNull()
          expect(s.deliveredAt as number).toBeLessThanOrEqual(s.readAt)
        }
      }),
      { numRuns: RUNS },
    )
  })

  it('returns the same object when nothing changes', () => {
    const read = applyReceipt(SENT, { kind: 'read', at: 10 })
    expect(applyReceipt(read, { kind: 'delivered', at: 20 })).toBe(read)
    expect(applyReceipt(read, { kind: 'read', at: 10 })).toBe(read)
    expect(receiptLevel(read)).toBe('read')
  })

  it('keeps watermarks monotonic', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 30 }), (marks) => {
        let w = 0
        for (const m of marks) {
          const next = advanceWatermark(w, m)
          expect(next).toBeGreaterThanOrEqual(w)
          expect(next).toBe(Math.max(w, m))
          w = next
        }
      }),
      { numRuns: RUNS },
    )
  })
})
