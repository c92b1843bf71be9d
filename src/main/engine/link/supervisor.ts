/**
 * Keeps one session connected: connect, run the session's start-up (sync, outbox), wait for the
 * close, reconnect with jittered exponential backoff. A refused token ends the loop for good.
 */
import { CodedError } from '../../../shared/codes'
import type { ConnectionStateName } from '../../../shared/ipc'
import type { Backoff } from '../outbox/outbox'
import { ServerConnection, UnauthorizedError, type ConnectionOptions } from './connection'

export interface SupervisorHooks {
  state(state: ConnectionStateName, extra?: { retryAt?: number; detail?: string }): void
  /** The link is up: sync, then start sending. A throw closes the link (retried on the next one). */
  connected(conn: ServerConnection): Promise<void>
  /** The server no longer accepts the token. */
  unauthorized(): void
}

export class Supervisor {
  private conn: ServerConnection | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private wake: (() => void) | undefined

  constructor(
    private readonly connection: ConnectionOptions,
    private readonly backoff: Backoff,
    private readonly hooks: SupervisorHooks,
  ) {}

  /** The current connection, open or not. */
  get link(): ServerConnection | undefined {
    return this.conn
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
    let attempt = 0
    while (!this.stopped) {
      this.hooks.state('connecting')
      const conn = new ServerConnection(this.connection)
      this.conn = conn
      const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()))
      try {
        await conn.connect()
      } catch (err) {
        if (err instanceof UnauthorizedError) {
          this.hooks.unauthorized()
          return
        }
        if (this.stopped) return
        const delay = Math.min(maxMs, minMs * 2 ** attempt) * (0.75 + Math.random() * 0.5)
        attempt++
        this.hooks.state('disconnected', { retryAt: Date.now() + delay, detail: (err as Error).message })
        await this.pause(delay)
        continue
      }
      attempt = 0
      try {
        await this.hooks.connected(conn)
      } catch (err) {
        // A failed start-up is retried from the last synced sequence on the next connection.
        conn.close()
        if (!(err instanceof CodedError)) console.error('sync failed:', err)
      }
      await closed
      if (this.stopped) return
      this.hooks.state('disconnected', { retryAt: Date.now() + minMs })
      await this.pause(minMs)
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
