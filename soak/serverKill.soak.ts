/** The server SIGKILLed in the middle of a burst of 10,000 messages and receipts between 8 engines. */
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { cleanup } from '../tests/integration/harness'
import { serverKillBurst } from '../tests/faults/burst'

afterEach(cleanup)

it('converges after a SIGKILL in the middle of 10,000 messages', async () => {
  const messages = Number(process.env.SOAK_BURST_MESSAGES ?? 10_000)
  const report = await serverKillBurst({
    users: 8,
    messages,
    killAt: 0.5,
    whileDown: 500,
    timeoutMs: 120_000,
  })
  expect(report.storedAtKill).toBeLessThan(messages)
  const out = process.env.SOAK_REPORT
  if (out) {
    mkdirSync(join(out, '..'), { recursive: true })
    appendFileSync(out, `${JSON.stringify({ scenario: 'serverKill', ...report })}\n`)
  }
  console.log(JSON.stringify(report))
})
