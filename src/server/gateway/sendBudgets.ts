/**
 * The send budgets: a connection (or user) with too much unsent is not served. Its frames are held,
 * in order, and its socket may stop being read, until what the server wrote to it drains; the group
 * commit (gateway.ts) counts the replies it makes as it makes them.
 */
import type { Connection } from '../connection'
import type { Hub } from '../hub'
import type { ConnectionLimits } from '../limits'
import type { Logger } from '../log'
import type { Job } from './frames'

export class SendBudgets {
  /**
   * Frames of connections over their send budget, in arrival order: neither read nor run until what
   * the server already wrote to them drains (see overBudget).
   */
  private readonly held = new Map<Connection, Job[]>()
  /**
   * Held connections the server stopped reading (their own socket does not drain), with the unsent
   * bytes seen at the last heartbeat: their pongs wait unread, so draining is their sign of life.
   */
  private readonly paused = new Map<Connection, number>()
  /** Reply bytes of the batch being committed, per connection, not yet handed to its socket. */
  private readonly unsent = new Map<Connection, number>()
  /** True while a batch runs: releasing held frames then could reorder a connection's requests. */
  private committing = false
  /** Users to release once the batch is over. */
  private readonly releaseLater = new Set<string>()

  constructor(
    private readonly options: { limits?: ConnectionLimits | undefined },
    private readonly deps: { hub: Hub; log: Logger },
    /** Where released frames go: the gateway's queue for the next group commit. */
    private readonly enqueue: (job: Job) => void,
  ) {}

  /** Frames held, and the connections holding them (Gateway.stats). */
  stats(): { heldFrames: number; holdingConnections: number } {
    let heldFrames = 0
    for (const jobs of this.held.values()) heldFrames += jobs.length
    return { heldFrames, holdingConnections: this.held.size }
  }

  /** True when the connection has frames held: its next ones must wait behind them. */
  isHeld(connection: Connection): boolean {
    return this.held.has(connection)
  }

  /** Queues a job behind the frames held for its connection, in order. False when none are. */
  queueBehind(job: Job): boolean {
    const held = this.held.get(job.connection)
    if (!held) return false
    held.push(job)
    return true
  }

  /** A socket closed: its held frames are dropped. */
  closed(connection: Connection): void {
    this.held.delete(connection)
    this.paused.delete(connection)
    // Its unsent bytes are gone: the user's other sockets may be under budget again.
    this.release(connection.userId)
  }

  /** Unsent bytes of a connection: in its socket's buffers, and replies of this batch not yet written. */
  private outstanding(connection: Connection): number {
    return connection.ws.bufferedAmount + (this.unsent.get(connection) ?? 0)
  }

  /** True when the connection or its user is over the send budget: its next frame must wait. */
  overBudget(connection: Connection): boolean {
    const { limits } = this.options
    if (!limits) return false
    if (this.outstanding(connection) > limits.sendBudgetBytes) return true
    let total = 0
    for (const c of this.deps.hub.connectionsOf(connection.userId)) total += this.outstanding(c)
    return total > limits.userSendBudgetBytes
  }

  /**
   * Holds a frame: it runs once what was sent before has drained. A connection whose own socket is
   * over its budget is not read meanwhile either (TCP pushes back on the client); one held for its
   * user's budget is still read, its frames queued (what it may send is bounded by its inbound budget).
   */
  hold(connection: Connection, job: Job): void {
    let jobs = this.held.get(connection)
    if (!jobs) {
      jobs = []
      this.held.set(connection, jobs)
      const { limits } = this.options
      if (limits && this.outstanding(connection) > limits.sendBudgetBytes) {
        connection.ws.pause()
        this.paused.set(connection, Number.POSITIVE_INFINITY)
      }
      this.deps.log.debug('send budget reached: holding', {
        connection: connection.id,
        userId: connection.userId,
      })
    }
    jobs.push(job)
  }

  /** Lets the held frames of a user's connections run again, those now under budget. */
  release(userId: string): void {
    if (this.committing) return void this.releaseLater.add(userId)
    for (const connection of this.deps.hub.connectionsOf(userId)) {
      const jobs = this.held.get(connection)
      if (!jobs || this.overBudget(connection)) continue
      this.held.delete(connection)
      if (this.paused.delete(connection)) {
        // Its pongs were not read while it was paused: they are read now.
        connection.alive = true
        connection.ws.resume()
      }
      for (const job of jobs) this.enqueue(job)
    }
  }

  /** Releases every user with held frames (a socket that never filled up emits no 'drain'). */
  releaseAll(): void {
    for (const userId of new Set([...this.held.keys()].map((c) => c.userId))) this.release(userId)
  }

  /** A batch starts: releases wait for its end. */
  batchStarted(): void {
    this.committing = true
  }

  /** A reply of this batch, serialized but not yet written to the connection's socket. */
  countUnsent(connection: Connection, bytes: number): void {
    this.unsent.set(connection, (this.unsent.get(connection) ?? 0) + bytes)
  }

  /** The replies of this batch were handed to their sockets. */
  written(): void {
    this.unsent.clear()
  }

  /** Releases this user once the batch is over. */
  releaseAfterBatch(userId: string): void {
    this.releaseLater.add(userId)
  }

  /** The batch is over: the releases it put off run now. */
  batchEnded(): void {
    this.committing = false
    this.unsent.clear()
    const users = [...this.releaseLater]
    this.releaseLater.clear()
    for (const userId of users) this.release(userId)
  }

  /**
   * The heartbeat of a paused connection: terminated if its socket did not drain since the last
   * one. False when the connection is not paused (its pongs are its sign of life).
   */
  checkPaused(connection: Connection): boolean {
    const seen = this.paused.get(connection)
    if (seen === undefined) return false
    const buffered = connection.ws.bufferedAmount
    if (buffered > 0 && buffered >= seen) {
      this.deps.log.debug('held socket does not drain', {
        connection: connection.id,
        userId: connection.userId,
      })
      connection.ws.terminate()
    } else this.paused.set(connection, buffered)
    return true
  }
}
