/**
 * The group commit: the frames of one event-loop turn run as one `Storage.batch` (on SQLite every
 * operation in its own savepoint of one transaction, one commit for all; on PostgreSQL every
 * operation in a transaction of its own, those of different connections concurrently). Only after
 * the batch has committed do their replies and pushes go out, each connection's in one corked socket
 * write; an operation that fails is rolled back alone and answers with its own error. Frames of a
 * connection over its send budget are held (sendBudgets.ts) instead of run.
 */
import { Code, CodedError, type CodeValue } from '../../shared/codes'
import type { GroupReceiptSettings } from '../../shared/model'
import type { Connection } from '../connection'
import type { DeliveryBudget } from '../deliveryBudget'
import type { Hub } from '../hub'
import type { Logger } from '../log'
import type { ServerMetrics } from '../metrics'
import { PushBatch, type OpContext } from '../ops/context'
import { handlers } from '../ops/index'
import type { OpPolicy } from '../policy'
import { StorageUnavailableError, type Storage, type Unit, type UnitResult } from '../storage/types'
import { replyFrame, type Job, type OperationJob } from './frames'
import type { SendBudgets } from './sendBudgets'

/** What a request of a batch whose commit failed is told: the storage's own words stay in the log. */
const NOT_SAVED = 'nothing of this request was saved; retry'

export interface GroupCommitDeps {
  storage: Storage
  hub: Hub
  log: Logger
  now: () => number
  receiptDefaults: GroupReceiptSettings
  deliveryBudget: DeliveryBudget
  policy?: OpPolicy | undefined
  metrics?: ServerMetrics | undefined
}

export class GroupCommit {
  constructor(
    private readonly deps: GroupCommitDeps,
    private readonly budgets: SendBudgets,
    /** Replies count against the send budget as they are made (the server's limits are on). */
    private readonly countReplies: boolean,
    /** Closes the socket of a session that ended meanwhile (the gateway's). */
    private readonly expire: (connection: Connection) => void,
  ) {}

  async run(jobs: readonly Job[]): Promise<void> {
    this.budgets.batchStarted()
    try {
      await this.runBatch(jobs)
    } finally {
      this.budgets.batchEnded()
    }
  }

  private async runBatch(jobs: readonly Job[]): Promise<void> {
    const { storage, log, now, receiptDefaults, deliveryBudget, policy } = this.deps
    const at = now()
    const runs = jobs.filter((job) => job.reply === undefined)
    const contexts: OpContext[] = runs.map((job) => ({
      storage,
      userId: job.connection.userId,
      deviceId: job.connection.session.deviceId,
      connection: job.connection,
      pushes: new PushBatch(),
      now: at,
      receiptDefaults,
      deliveryBudget,
      ...(policy ? { policy } : {}),
    }))
    // Send budgets: a connection (or user) with too much unsent is not served; its frames wait, in
    // order, for its socket to drain. Replies are serialized here, so that those of this very batch
    // count too (else one batch could answer hundreds of 4 MB pulls at once).
    const heldHere = new Set<Connection>()
    const heldAt: boolean[] = []
    const replies: (string | undefined)[] = []
    // A unit may run more than once (PostgreSQL runs it again after a deadlock or a serialization
    // failure, its transaction rolled back): each run starts from nothing of the runs before it, so
    // only what the last run queued is routed and only its reply counts against the send budget.
    // Effects outside the transaction are not undone: a shared-limits take (the delivery-receipt
    // budget in sendMessage, the lookup budget) made by a run that is then run again is taken twice.
    const units: Unit<unknown>[] = runs.map((job, i) => async (tx) => {
      const { connection } = job
      const ctx = contexts[i] as OpContext
      const counted = replies[i]
      if (counted !== undefined) {
        this.budgets.countUnsent(connection, -counted.length)
        replies[i] = undefined
      }
      heldAt[i] = false
      if (ctx.pushes.queued.length > 0) ctx.pushes = new PushBatch()
      if (
        heldHere.has(connection) ||
        this.budgets.isHeld(connection) ||
        this.budgets.overBudget(connection)
      ) {
        heldHere.add(connection)
        heldAt[i] = true
        return undefined
      }
      ctx.storage = tx
      // job.data was parsed by requests[op].data, which is exactly what handlers[op] takes.
      const value = await (handlers[job.op] as (ctx: OpContext, data: unknown) => Promise<unknown>)(
        ctx,
        job.data,
      )
      if (this.countReplies) {
        const reply = replyFrame(job.id, Code.OK, undefined, value)
        replies[i] = reply
        this.budgets.countUnsent(connection, reply.length)
      }
      return value
    })
    const { metrics } = this.deps
    const committing = metrics ? performance.now() : 0
    let results: UnitResult<unknown>[] | undefined
    /** Nothing of the batch was committed because the database could not be reached. */
    let unavailable = false
    if (units.length > 0) {
      try {
        // Requests of one connection keep their order; those of different ones may run at once.
        results = await storage.batch(
          units,
          runs.map((job) => job.connection),
        )
      } catch (error) {
        if (error instanceof StorageUnavailableError) {
          unavailable = true
          log.warn('database unavailable: batch not saved', { operations: units.length, error: error.cause })
        } else log.error('group commit failed', { operations: units.length, error })
      }
    }
    if (metrics && units.length > 0) metrics.groupCommit(units.length, performance.now() - committing)
    /** The operations answered in this batch, with the code of their reply, for the metrics. */
    const answered: { op: string; readAt: number; code: CodeValue }[] | undefined = metrics ? [] : undefined

    // Replies in the order the frames came, each followed by the pushes its operation caused.
    const outgoing = new Map<Connection, string[]>()
    const send = (connection: Connection, payload: string): void => {
      const list = outgoing.get(connection)
      if (list) list.push(payload)
      else outgoing.set(connection, [payload])
    }
    const answer = (job: OperationJob, code: CodeValue, frame: string): void => {
      send(job.connection, frame)
      answered?.push({ op: job.op, readAt: job.readAt, code })
    }
    let r = 0
    for (const job of jobs) {
      const index = job.reply === undefined ? r++ : -1
      // From its first held frame on, everything of that connection waits (replies stay in order).
      if (this.budgets.isHeld(job.connection) || heldAt[index]) {
        this.budgets.hold(job.connection, job)
        continue
      }
      if (job.reply !== undefined) {
        send(job.connection, job.reply)
        continue
      }
      const ctx = contexts[index] as OpContext
      const result = results?.[index]
      if (!result) {
        // Nothing of this batch was committed: no operation of it may be reported as done. The socket
        // stays open; the client retries (sends are exactly-once by client id).
        if (unavailable) answer(job, Code.UNAVAILABLE, replyFrame(job.id, Code.UNAVAILABLE))
        else answer(job, Code.INTERNAL, replyFrame(job.id, Code.INTERNAL, NOT_SAVED))
        continue
      }
      if (result.ok) {
        answer(job, Code.OK, replies[index] ?? replyFrame(job.id, Code.OK, undefined, result.value))
        this.deps.hub.route(ctx.pushes.queued, send)
        continue
      }
      const { error } = result
      if (error instanceof CodedError) {
        answer(job, error.code, replyFrame(job.id, error.code, error.message))
      } else {
        log.error('operation failed', { op: job.op, userId: job.connection.userId, error })
        answer(job, Code.INTERNAL, replyFrame(job.id, Code.INTERNAL))
      }
    }
    const sentAt = now()
    for (const [connection, payloads] of outgoing) {
      // Nothing more for a socket whose session ended meanwhile, not even a push.
      if (connection.expired(sentAt)) this.expire(connection)
      else {
        connection.sendAll(payloads)
        metrics?.framesHandedOut(payloads.length)
      }
    }
    if (metrics && answered) {
      // Each from its frame's reading to its reply handed to the socket.
      const at = performance.now()
      for (const { op, readAt, code } of answered) metrics.operation(op, code, at - readAt)
    }
    this.budgets.written()
    // A socket that took everything at once emits no 'drain': release what it can take now.
    for (const connection of heldHere) this.budgets.releaseAfterBatch(connection.userId)
  }
}
