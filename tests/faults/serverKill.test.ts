import { afterEach, describe, expect, it } from 'vitest'
import { cleanup } from '../integration/harness'
import { serverKillBurst } from './burst'

afterEach(cleanup)

describe('server SIGKILLed mid-burst', () => {
  it('after restart and resync, every engine has every stored message once, every receipt, true unread counts', async () => {
    const report = await serverKillBurst({
      users: 4,
      messages: 1500,
      killAt: 0.4,
      whileDown: 100,
      timeoutMs: 15_000,
    })
    // The kill did land in the middle: part of the burst was stored, part was not.
    expect(report.storedAtKill).toBeGreaterThan(0)
    expect(report.storedAtKill).toBeLessThan(1500)
    expect(report.receiptCalls).toBeGreaterThan(100)
  }, 30_000)
})
