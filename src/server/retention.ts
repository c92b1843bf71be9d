/**
 * The periodic sweep (issue #11, "storage grows forever"): deletes expired and revoked sessions,
 * receipt events past their window, messages past the operator's retention with their receipts,
 * usage counters of past days, and the abuse limits' full buckets and forgotten failed logins. It
 * works in small transactions (at most SWEEP_CHUNK rows each) and yields to the event loop between
 * them, so the gateway's group commits go on meanwhile.
 */
import type { Logger } from './log'
import { DAY_MS, dayOf, type RetentionSettings } from './policy'
import type { SharedLimits } from './sharedLimits'
import type { Storage } from './storage/types'

/** Rows deleted per transaction. */
const SWEEP_CHUNK = 1000

export interface SweepReport {
  sessions: number
  events: number
  messages: number
  usageRows: number
  /** Full limit buckets and forgotten failed-login records (sharedLimits.ts). */
  limits: number
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** One full sweep at time `now`. */
async function sweep(storage: Storage, now: number, retention: RetentionSettings): Promise<SweepReport> {
  const report: SweepReport = { sessions: 0, events: 0, messages: 0, usageRows: 0, limits: 0 }
  report.sessions = await storage.transaction((tx) => tx.deleteDeadSessions(now))
  const eventsBefore = now - retention.eventsDays * DAY_MS
  let user: string | undefined = ''
  while (user !== undefined) {
    await nextTurn()
    const from: string = user
    const result = await storage.transaction((tx) => tx.pruneUserEvents(eventsBefore, from, SWEEP_CHUNK))
    report.events += result.deleted
    user = result.next
  }
  if (retention.messagesDays !== null) {
    const messagesBefore = now - retention.messagesDays * DAY_MS
    let conv: number | undefined = 0
    while (conv !== undefined) {
      await nextTurn()
      const from: number = conv
      const result = await storage.transaction((tx) => tx.pruneMessages(messagesBefore, from, SWEEP_CHUNK))
      report.messages += result.deleted
      conv = result.next
    }
  }
  // Quotas look at the current day; yesterday's row is kept for a day around midnight.
  report.usageRows = await storage.transaction((tx) => tx.deleteUsageBefore(dayOf(now) - 1))
  return report
}

/** Runs the sweep every `retention.sweepIntervalMs`, one at a time; `run` also runs one now. */
export class Sweeper {
  private readonly timer: NodeJS.Timeout
  private running: Promise<SweepReport> | undefined
  private stopped = false

  constructor(
    private readonly deps: {
      storage: Storage
      now: () => number
      log: Logger
      retention: RetentionSettings
      /** The abuse limits' counters (memory, or the shared database's tables). */
      limits: SharedLimits
    },
  ) {
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => deps.log.error('sweep failed', { error }))
    }, deps.retention.sweepIntervalMs)
    // A server that has nothing else to do may exit; the sweep never keeps it alive.
    this.timer.unref()
  }

  /** A sweep now (or the one running); resolves with what it deleted. */
  run(): Promise<SweepReport> {
    if (this.stopped) return Promise.resolve({ sessions: 0, events: 0, messages: 0, usageRows: 0, limits: 0 })
    this.running ??= (async () => {
      const now = this.deps.now()
      const report = await sweep(this.deps.storage, now, this.deps.retention)
      report.limits = await this.deps.limits.sweep(now)
      if (report.sessions + report.events + report.messages > 0) this.deps.log.info('swept', { ...report })
      return report
    })().finally(() => {
      this.running = undefined
    })
    return this.running
  }

  /** No more sweeps; waits for one that is running. */
  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running?.catch(() => undefined)
  }
}
