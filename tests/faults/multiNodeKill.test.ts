/**
 * A server node SIGKILLed in the middle of a burst of messages and receipts among engines on all
 * three nodes (issue 10): its engines move to the other nodes, and afterwards every engine has every
 * acknowledged message exactly once and every count equals its recount (multiNodeBurst.ts, burst.ts).
 * FAULT_BURST_MESSAGES raises the size (the soak runs 10,000).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { cleanup } from '../integration/harness'
import { BURST_MESSAGES, BURST_SCALE, nodeKillBurst, skipMultiNode } from './multiNodeBurst'

afterEach(cleanup)

describe.skipIf(skipMultiNode)('a node SIGKILLed mid-burst among three', () => {
  it(
    'its engines move to the other nodes; every engine has every stored message once, every receipt, true counts',
    async () => {
      const report = await nodeKillBurst({
        users: 6,
        messages: BURST_MESSAGES,
        killAt: 0.4,
        whileDown: 200,
        timeoutMs: 30_000 * BURST_SCALE,
      })
      // The kill did land in the middle, on a node that held engines.
      expect(report.storedAtKill).toBeGreaterThan(0)
      expect(report.storedAtKill).toBeLessThan(BURST_MESSAGES)
      expect(report.moved).toBeGreaterThan(0)
      expect(report.receiptCalls).toBeGreaterThan(100)
    },
    150_000 * BURST_SCALE,
  )
})
