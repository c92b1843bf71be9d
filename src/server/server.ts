import { mkdirSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import type { GroupReceiptSettings } from '../shared/model'
import { WS_PATH } from '../shared/protocol'
import { Accounts } from './accounts'
import { Gateway } from './gateway'
import { createHttpHandler } from './httpApi'
import { Hub } from './hub'
import { createLogger, type LogLevel, type Logger } from './log'
import type { ScryptParams } from './passwords'
import { resolveReceiptDefaults } from './receiptSettings'
import { SqliteStorage } from './storage/sqlite'
import type { Storage } from './storage/types'

export interface ServerOptions {
  /** 0 (the default) picks a free port; the CLI defaults to 7700. */
  port?: number
  /** Default 127.0.0.1: a local server is not reachable from the network unless asked. */
  host?: string
  /** Directory of `server.sqlite`, created if missing. */
  dataDir?: string
  /** Takes precedence over dataDir; the caller keeps ownership (close() does not close it). */
  storage?: Storage
  /** Largest accepted WebSocket frame in bytes (default 64 KiB); a larger one closes the socket with 1009. */
  maxPayload?: number
  /** Ping interval (default 30 s); a socket that has not answered the previous ping is terminated. */
  heartbeatMs?: number
  /** Unsent bytes after which a slow socket is dropped (default 8 MiB). */
  maxBufferedBytes?: number
  /** Per-connection token bucket (default 100 frames/s, burst 300). */
  rateLimit?: { perSecond: number; burst: number }
  /**
   * Per-user token bucket shared by all of a user's connections (default three times the
   * per-connection limit), so that opening more sockets does not multiply a user's rate.
   */
  userRateLimit?: { perSecond: number; burst: number }
  /** Largest HTTP request body (default 16 KiB). */
  maxHttpBodyBytes?: number
  /** Password hashing cost; lower it only in tests. */
  scrypt?: ScryptParams
  /** Session lifetime (default 30 days). */
  sessionTtlMs?: number
  now?: () => number
  /** Default 'info'; ignored when `logger` is given. */
  logLevel?: LogLevel
  logger?: Logger
  /**
   * Server defaults of the group receipt limits (SPEC E8); each group's owner may override them.
   * Missing fields: enabled true, whoMayRequest 'all', validityMs 3 days, maxGroupSize 200,
   * countVisibility 'sender'. An out-of-range value makes startServer reject.
   */
  groupReceipts?: Partial<GroupReceiptSettings>
}

export interface RunningServer {
  /** ws://host:port/ws */
  url: string
  /** http://host:port */
  httpUrl: string
  host: string
  port: number
  /** Closes every socket (1001), stops listening, closes the database it opened. Idempotent. */
  close(): Promise<void>
}

export const DEFAULT_PORT = 7700

function openStorage(options: ServerOptions): { storage: Storage; owned: boolean } {
  if (options.storage) return { storage: options.storage, owned: false }
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true })
    return { storage: new SqliteStorage(join(options.dataDir, 'server.sqlite')), owned: true }
  }
  return { storage: new SqliteStorage(':memory:'), owned: true }
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'info')
  const now = options.now ?? Date.now
  const receiptDefaults = resolveReceiptDefaults(options.groupReceipts)
  const { storage, owned } = openStorage(options)
  const accounts = new Accounts(storage, { scrypt: options.scrypt, sessionTtlMs: options.sessionTtlMs, now })
  const hub = new Hub()
  const ratePerSecond = options.rateLimit?.perSecond ?? 100
  const rateBurst = options.rateLimit?.burst ?? 300
  const gateway = new Gateway(
    { storage, accounts, hub, log, now, receiptDefaults },
    {
      maxPayload: options.maxPayload ?? 64 * 1024,
      heartbeatMs: options.heartbeatMs ?? 30_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
      ratePerSecond,
      rateBurst,
      userRatePerSecond: options.userRateLimit?.perSecond ?? ratePerSecond * 3,
      userRateBurst: options.userRateLimit?.burst ?? rateBurst * 3,
    },
  )
  const httpServer = createServer(
    createHttpHandler({ accounts, hub, log, maxBodyBytes: options.maxHttpBodyBytes ?? 16 * 1024 }),
  )
  httpServer.on('upgrade', (req, socket, head) => gateway.handleUpgrade(req, socket, head))
  httpServer.on('clientError', (_error, socket) => socket.destroy())

  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await gateway.close()
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeAllConnections()
      })
      if (owned) await storage.close()
      log.info('server stopped')
    })())

  const host = options.host ?? '127.0.0.1'
  try {
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject)
      httpServer.listen(options.port ?? 0, host, () => {
        httpServer.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await gateway.close()
    if (owned) await storage.close()
    throw error
  }

  const { port } = httpServer.address() as AddressInfo
  const urlHost = host.includes(':') ? `[${host}]` : host
  log.info('server started', { host, port })
  return { url: `ws://${urlHost}:${port}${WS_PATH}`, httpUrl: `http://${urlHost}:${port}`, host, port, close }
}
