/**
 * Faults across nodes at soak size (issue 10): NATS SIGKILLed, then a node SIGKILLed, each in the
 * middle of a burst of 10,000 messages and receipts among engines on three nodes over one
 * PostgreSQL database (tests/faults/multiNodeBurst.ts). Skipped where PostgreSQL or nats-server is
 * missing, except under CI=true.
 */
import { appendFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { BurstReport } from '../tests/faults/burst'
import { natsRestartBurst, nodeKillBurst, skipMultiNode } from '../tests/faults/multiNodeBurst'
import { cleanup } from '../tests/integration/harness'

afterEach(cleanup)

const messages = Number(process.env.SOAK_BURST_MESSAGES ?? 10_000)
const options = { users: 6, messages, killAt: 0.5, whileDown: 500, timeoutMs: 300_000 }

function report(scenario: string, r: BurstReport): void {
  const out = process.env.SOAK_REPORT
  if (out) {
    mkdirSync(join(out, '..'), { recursive: true })
    appendFileSync(out, `${JSON.stringify({ scenario, ...r })}\n`)
  }
  console.log(JSON.stringify({ scenario, ...r }))
}

describe.skipIf(skipMultiNode)('faults across three nodes, 10,000 messages', () => {
  it('converges after NATS is SIGKILLed and restarted mid-burst', async () => {
    const r = await natsRestartBurst(options)
    expect(r.storedAtKill).toBeLessThan(messages)
    report('natsRestart', r)
  })

  it('converges after a node is SIGKILLed mid-burst', async () => {
    const r = await nodeKillBurst(options)
    expect(r.moved).toBeGreaterThan(0)
    report('nodeKill', r)
  })
})
