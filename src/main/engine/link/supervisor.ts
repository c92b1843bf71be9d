/**
 * Keeps one session connected: connect, run the session's start-up (sync, outbox), wait for the
 * close, reconnect. A refused token ends the loop for good.
 *
 * The server may be several nodes of one deployment (serverList.ts). The supervisor connects to one,
 * starting from a random node so that engines spread over them, and stays there while it works.
 * When a connection attempt fails or the open link closes (node stopped, network gone), the next
 * attempt goes to the next node of the list at once; the jittered exponential backoff starts only
 * once a whole round of nodes has failed (a link lost within `minMs` of its start-up counts as a
 * failure of the round, a link that served longer starts a new round). The start-up that follows
 * every connection (sync by seq/eventSeq, then the outbox) is what makes a move between nodes
 * lossless. With one URL this is the loop it always was: backoff after each failed attempt, `minMs`
 * after a lost link.
 */
import { CodedError } from '../../../shared/codes'
import type { ConnectionStateName } from '../../../shared/ipc'
import type { Backoff } from '../outbox/outbox'
import { ServerConnection, UnauthorizedError, type ConnectionOptions } from './connection'

export interface SupervisorHooks {
  /** `node`: the URL this state is about (the node being tried, or the one that failed). */
  state(state: ConnectionStateName, extra?: { retryAt?: number; detail?: string; node?: string }): void
  /** The link is up: sync, then start sending. A throw closes the link (retried on the next one). */
  connected(conn: ServerConnection): Promise<void>
  /** The server no longer accepts the token. */
  unauthorized(): void
}

export interface SupervisorOptions extends Omit<ConnectionOptions, 'url'> {
  /** The nodes of one deployment (at least one), as parsed by parseServerList. */
  urls: readonly string[]
  /** Index of the node tried first (default: random, so engines spread over the nodes). */
  firstNode?: number
}

export class Supervisor {
  private conn: ServerConnection | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private wake: (() => void) | undefined
  private readonly urls: readonly string[]
  private node: number

  constructor(
    private readonly options: SupervisorOptions,
    private readonly backoff: Backoff,
    private readonly hooks: SupervisorHooks,
  ) {
    if (options.urls.length === 0) throw new Error('Supervisor needs at least one server URL')
    this.urls = options.urls
    const first = options.firstNode ?? Math.floor(Math.random() * this.urls.length)
    this.node = ((first % this.urls.length) + this.urls.length) % this.urls.length
  }

  /** The current connection, open or not. */
  get link(): ServerConnection | undefined {
    return this.conn
  }

  /** How many nodes the list has. */
  get nodeCount(): number {
    return this.urls.length
  }

  start(): void {
    this.running ??= this.loop()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake?.()
    this.conn?.close()
    await this.running
  }

  private async loop(): Promise<void> {
    const { minMs, maxMs } = this.backoff
    const count = this.urls.length
    const { urls: _urls, firstNode: _first, ...connection } = this.options
    /** Attempts in this round; a round ends (and a pause starts) once every node had one. */
    let attempts = 0
    /** Whole rounds in a row without a connection: the backoff exponent. */
    let rounds = 0
    while (!this.stopped) {
      const url = this.urls[this.node] as string
      this.hooks.state('connecting', { node: url })
      const conn = new ServerConnection({ ...connection, url })
      this.conn = conn
      const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()))
      let failure: string | undefined
      try {
        await conn.connect()
      } catch (err) {
        if (err instanceof UnauthorizedError) {
          this.hooks.unauthorized()
          return
        }
        failure = (err as Error).message
      }
      if (this.stopped) return
      if (failure === undefined) {
        rounds = 0
        let upSince: number | undefined
        try {
          await this.hooks.connected(conn)
          if (conn.isOpen) upSince = Date.now()
        } catch (err) {
          // A failed start-up is retried from the last synced sequence on the next connection.
          conn.close()
          if (!(err instanceof CodedError)) console.error('sync failed:', err)
        }
        await closed
        if (this.stopped) return
        // A link that served a while starts a new round when it goes: the other nodes are tried at
        // once. One that drops at once counts in the round, so nodes that accept and then close
        // cannot make a busy loop (never more than one connection per minMs, as with one node).
        if (upSince !== undefined && Date.now() - upSince >= minMs) attempts = 0
      }
      attempts++
      this.node = (this.node + 1) % count
      // A node of this round has not been tried yet: go there at once.
      if (attempts < count) continue
      attempts = 0
      if (failure === undefined) {
        this.hooks.state('disconnected', { retryAt: Date.now() + minMs, node: url })
        await this.pause(minMs)
        continue
      }
      const delay = Math.min(maxMs, minMs * 2 ** rounds) * (0.75 + Math.random() * 0.5)
      rounds++
      this.hooks.state('disconnected', {
        retryAt: Date.now() + delay,
        detail: count === 1 ? failure : `no server of the list answered (last: ${url}: ${failure})`,
        node: url,
      })
      await this.pause(delay)
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
}
