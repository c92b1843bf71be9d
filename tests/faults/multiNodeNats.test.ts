/**
 * NATS SIGKILLed in the middle of a burst of messages and receipts among engines on three server
 * nodes, then started again on the same port (issue 10): the pushes lost between nodes meanwhile are
 * brought back by the resync the nodes push when their NATS connection returns. Afterwards every
 * engine has every acknowledged message exactly once, read marks and receipt state agree with the
 * server's tables, and every count equals its recount (multiNodeBurst.ts, burst.ts).
 * FAULT_BURST_MESSAGES raises the size (the soak runs 10,000).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { cleanup } from '../integration/harness'
import { BURST_MESSAGES, BURST_SCALE, natsRestartBurst, skipMultiNode } from './multiNodeBurst'

afterEach(cleanup)

describe.skipIf(skipMultiNode)('NATS SIGKILLed mid-burst under three nodes', () => {
  it(
    'once NATS is back, every engine has every stored message once, every receipt and read mark, true counts',
    async () => {
      const report = await natsRestartBurst({
        users: 6,
        messages: BURST_MESSAGES,
        killAt: 0.4,
        whileDown: 200,
        timeoutMs: 30_000 * BURST_SCALE,
      })
      expect(report.storedAtKill).toBeGreaterThan(0)
      expect(report.storedAtKill).toBeLessThan(BURST_MESSAGES)
      expect(report.receiptCalls).toBeGreaterThan(100)
    },
    150_000 * BURST_SCALE,
  )
})
