import { DEFAULT_DELIVERY_BUDGET, DeliveryBudget, type DeliveryBudgetOptions } from './deliveryBudget'
import { NatsBus } from './bus'
import { createServer } from 'node:http'
import type { FileLimits } from '../shared/files'
import type { BlobStore } from './files/blobStore'
import { openBlobStore, resolveFileLimits } from './files/config'
import { FileApi } from './files/fileApi'
import type { AddressInfo } from 'node:net'
import type { GroupReceiptSettings } from '../shared/model'
import { WS_PATH } from '../shared/protocol'
import { Accounts } from './accounts'
import { resolveAccountDefaults, type AccountReceiptDefaults } from './accountDefaults'
import { AuthGuard } from './authGuard'
import { BrowserGuard } from './browserGuard'
import { Cors } from './cors'
import { ephemeralSecret, prepareDataDir } from './dataDir'
import { Gateway, rejectUpgrade } from './gateway'
import { createHttpHandler } from './httpApi'
import { Hub } from './hub'
import {
  resolveAuthLimits,
  resolveConnectionLimits,
  type AuthLimits,
  type ConnectionLimits,
  type RegistrationMode,
} from './limits'
import { createLogger, type LogLevel, type Logger } from './log'
import { ServerMetrics } from './metrics'
import type { ScryptParams } from './passwords'
import {
  LookupBudget,
  resolvePolicy,
  usageLimits,
  type LookupSettings,
  type QuotaSettings,
  type RetentionSettings,
  type GroupInvitesSetting,
} from './policy'
import { resolveReceiptDefaults } from './receiptSettings'
import { resolveMessageActions, type MessageActionSettings } from './messageActions'
import { resolveAckSettings, type AckRemindersConfig } from './ackSettings'
import { AckScheduler } from './ackScheduler'
import { MemoryLimits, type SharedLimits } from './sharedLimits'
import { Sweeper, type SweepReport } from './retention'
import { PresenceTracker, type PresenceOptions } from './presence'
import { SqliteStorage } from './storage/sqlite'
import { isPostgresUrl } from './storeConfig'
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
  /**
   * A PostgreSQL URL (`postgres://user@host:5432/database`): the data lives there instead of SQLite
   * (storage/postgres), migrated at start and closed by close(); several servers may share it.
   * Ignored when `storage` is given. Default: SQLite in dataDir, or in memory.
   */
  store?: string
  /**
   * A NATS URL (`nats://127.0.0.1:4222`, several comma-separated): this node joins the others on
   * that bus (bus.ts), so a push reaches the user's sockets on whichever node holds them. Meant with
   * a shared `store`. Default: none (one node).
   */
  bus?: string
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
  /**
   * The receipt options a new account starts with (accountDefaults.ts): requireDeliveryAck and
   * requireReadAck, both true unless set here. Existing accounts keep what they chose.
   */
  accountDefaults?: Partial<AccountReceiptDefaults>
  /**
   * Delivery receipts one sender may make one receiver's devices send (burst, then per minute);
   * past it a message does not ask for one. Default 30, then 20 a minute (deliveryBudget.ts).
   */
  deliveryReceiptBudget?: DeliveryBudgetOptions
  /**
   * 'direct' (default): whoever an owner or admin adds is a member at once. 'accept': they get an
   * invitation (push groupInvitation) and become a member only when they accept it.
   */
  groupInvites?: GroupInvitesSetting
  /**
   * How long data is kept (policy.ts): receipt events `eventsDays` (default 30; a device further
   * behind does a full resync), messages `messagesDays` (default null: forever), swept every
   * `sweepIntervalMs` (default 1 hour) together with expired and revoked sessions.
   */
  retention?: Partial<RetentionSettings>
  /** Per user and UTC day (default 50,000 messages, 50 MiB of content, 500 groups); null: none. */
  quotas?: Partial<QuotaSettings>
  /** Lookups of users the caller shares no conversation with (default 600 at once, 600 an hour). */
  lookups?: Partial<LookupSettings>
  /**
   * Who may register: 'open' (default), 'closed' (REGISTRATION_CLOSED), or 'invite' (a single-use
   * code made with `cli.ts invite`, else INVITE_INVALID).
   */
  registration?: RegistrationMode
  /**
   * Host names the server answers to besides loopback names and IP literals (its public names);
   * any other Host is refused with 403, which is what stops DNS rebinding (browserGuard.ts).
   */
  allowedHosts?: string[]
  /** Browser origins allowed besides the app's own (none, `null`, `file://`, the server's). */
  allowedOrigins?: string[]
  /**
   * Login and registration limits (limits.ts): failed logins per account (5 free, then 1 s doubling
   * to 15 min) and per address (20 free), 10 registrations per address and hour, 2 password hashes
   * at once with 16 waiting and 4 per address.
   */
  authLimits?: Partial<AuthLimits>
  /**
   * Socket limits (limits.ts): 16 sockets per user and 128 per address; inbound 256 KiB/s per socket
   * (burst 2 MiB) and 768 KiB/s per user (burst 6 MiB); a socket refused 1 MiB or 1,000 frames in a
   * row is closed (4008); past 2 MiB unsent on a socket or 8 MiB for a user, it is neither read
   * nor served until that drains.
   */
  connectionLimits?: Partial<ConnectionLimits>
  /** How often the sockets of expired sessions are closed (4002; default 1 s). */
  sessionSweepMs?: number
  /** H4: how often this node refreshes its presence rows and sweeps those of dead nodes (presence.ts). */
  presence?: PresenceOptions
  /**
   * Prometheus metrics at GET /metrics (metrics.ts; counts and durations only, no user ids or
   * content). Default true; false: no metrics are kept and /metrics is 404.
   */
  metrics?: boolean
  /**
   * When set, GET /metrics needs `Authorization: Bearer <metricsToken>` (401 otherwise). The browser
   * guard (Host, Origin) applies to /metrics as to every request.
   */
  metricsToken?: string
  /**
   * Where the abuse limits count (sharedLimits.ts: failed logins, registrations per address, lookups,
   * delivery receipts per pair). Default: tables of the database when `store` is PostgreSQL, shared
   * by every node on it; else this process's memory. A given one is the caller's (close() leaves it).
   */
  limits?: SharedLimits
  /**
   * Message actions (messageActions.ts): `recallWindowMs`, how long after sending its sender may
   * recall a message for everyone (default 24 hours; 0: never).
   */
  messageActions?: Partial<MessageActionSettings>
  /** Issue 15 (ackSettings.ts): how long an ack may be undone (default 5 minutes; 0: never). */
  ackUndoWindowMs?: number
  /**
   * Issue 15 (ackSettings.ts): reminders per member and message (default 5), the shortest pause
   * between two reminder runs of a message (default 60 s), and a schedule's minute (default 60 s).
   */
  ackReminders?: Partial<import('zod').infer<typeof AckRemindersConfig>>
  /**
   * Files and images (issue 13, H3; files/fileApi.ts): the largest file and the largest image an
   * upload may declare (default 200 MiB and 20 MiB; past them FILE_TOO_LARGE / IMAGE_TOO_LARGE),
   * and where the bytes live: default `<dataDir>/files`, or a temporary folder removed by close()
   * for a server without dataDir. A given BlobStore (an S3 one, say) is the caller's.
   */
  files?: Partial<FileLimits> & { blobs?: BlobStore }
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
  /** Runs the retention sweep now (it also runs every retention.sweepIntervalMs). */
  sweep(): Promise<SweepReport>
  /** What the gateway holds now: open sockets, their unsent bytes, frames waiting for a send budget. */
  stats(): { connections: number; bufferedBytes: number; heldFrames: number; holdingConnections: number }
}

export const DEFAULT_PORT = 7700

function openStorage(
  options: ServerOptions,
  log: Logger,
): { storage: Storage; owned: boolean; secret: Buffer } {
  if (options.dataDir) {
    // 0700 / 0600, and the secret /health proves this folder with (dataDir.ts).
    const { databaseFile, secret } = prepareDataDir(options.dataDir, log)
    if (options.storage) return { storage: options.storage, owned: false, secret }
    return { storage: new SqliteStorage(databaseFile), owned: true, secret }
  }
  if (options.storage) return { storage: options.storage, owned: false, secret: ephemeralSecret() }
  return { storage: new SqliteStorage(':memory:'), owned: true, secret: ephemeralSecret() }
}

/** The abuse limits' counters: given, the PostgreSQL store's (shared by its nodes), or memory. */
async function openLimits(
  options: ServerOptions,
  log: Logger,
): Promise<{ limits: SharedLimits; owned: boolean }> {
  if (options.limits) return { limits: options.limits, owned: false }
  if (options.store === undefined || options.storage || !isPostgresUrl(options.store))
    return { limits: new MemoryLimits(), owned: true }
  const { PostgresLimits } = await import('./storage/postgres/limits')
  const limits = await PostgresLimits.open(options.store, {
    onConnectionError: (error) => log.warn('PostgreSQL connection failed (limits)', { error }),
  })
  return { limits, owned: true }
}

/** `store`: PostgreSQL, opened here (pg is loaded only then) and owned; otherwise openStorage. */
async function openStore(
  options: ServerOptions,
  log: Logger,
): Promise<{ storage: Storage; owned: boolean; secret: Buffer; deployment?: string }> {
  if (options.store === undefined || options.storage) return openStorage(options, log)
  if (!isPostgresUrl(options.store)) throw new Error('store must be a postgres:// or postgresql:// URL')
  const { PostgresStorage } = await import('./storage/postgres/storage')
  const storage = await PostgresStorage.open(options.store, {
    onConnectionError: (error) => log.warn('PostgreSQL connection failed', { error }),
  })
  try {
    const deployment = await storage.deploymentId()
    return { ...openStorage({ ...options, storage }, log), owned: true, deployment }
  } catch (error) {
    await storage.close()
    throw error
  }
}

export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const log = options.logger ?? createLogger(options.logLevel ?? 'info')
  const now = options.now ?? Date.now
  const receiptDefaults = resolveReceiptDefaults(options.groupReceipts)
  const policy = resolvePolicy(options)
  const messageActions = resolveMessageActions(options.messageActions)
  const acks = resolveAckSettings({
    ackUndoWindowMs: options.ackUndoWindowMs,
    ackReminders: options.ackReminders,
  })
  const authLimits = resolveAuthLimits(options.authLimits)
  const connectionLimits = resolveConnectionLimits(options.connectionLimits)
  const metrics = options.metrics === false ? undefined : new ServerMetrics({ token: options.metricsToken })
  const { storage, owned, secret, deployment } = await openStore(options, log)
  const { limits, owned: ownsLimits } = await openLimits(options, log).catch(async (error: unknown) => {
    if (owned) await storage.close()
    throw error
  })
  const lookups = new LookupBudget(policy.lookups, limits)
  const accounts = new Accounts(storage, {
    accountDefaults: resolveAccountDefaults(options.accountDefaults),
    scrypt: options.scrypt,
    sessionTtlMs: options.sessionTtlMs,
    now,
    registration: options.registration,
  })
  const hub = new Hub(now, metrics)
  /** Sessions ended meanwhile, whose `im.s` may have been lost with the bus: closed now. */
  const recheckSessions = (): void => {
    void hub
      .recheckSessions(async (tokenHash) => {
        const session = await storage.getSession(tokenHash)
        return session !== undefined && !session.revoked
      })
      .catch((error: unknown) => log.warn('could not recheck sessions after a bus outage', { error }))
  }
  if (options.bus && !deployment)
    log.warn(
      '--bus without a PostgreSQL store: this node shares its database with no other, so it talks to none',
    )
  const bus = options.bus
    ? await NatsBus.connect(
        options.bus,
        {
          push: (userId, payload) => hub.deliverFromBus(userId, payload),
          sessionEnded: (tokenHash) => hub.endLocalSession(tokenHash),
          resync: (reason) => {
            hub.resyncAll(reason)
            if (reason !== 'down') recheckSessions()
          },
          lag: (ms) => metrics?.busLag(ms),
        },
        { deployment },
      ).catch(async (error: unknown) => {
        if (ownsLimits) await limits.close()
        if (owned) await storage.close()
        throw error
      })
    : undefined
  if (bus) hub.attachBus(bus)
  // Online while any device holds a socket on any node (presence.ts); an embedded store is ours alone.
  const presence = new PresenceTracker(
    { storage, hub, log, now, nodeId: bus?.nodeId, alone: !deployment && !options.storage },
    options.presence,
  )
  const ratePerSecond = options.rateLimit?.perSecond ?? 100
  const rateBurst = options.rateLimit?.burst ?? 300
  const gateway = new Gateway(
    {
      storage,
      accounts,
      hub,
      log,
      now,
      receiptDefaults,
      metrics,
      presence,
      deliveryBudget: new DeliveryBudget(options.deliveryReceiptBudget ?? DEFAULT_DELIVERY_BUDGET, limits),
      policy: {
        usageLimits: usageLimits(policy.quotas),
        recallWindowMs: messageActions.recallWindowMs,
        acks,
        lookups,
        groupInvites: options.groupInvites ?? 'direct',
      },
    },
    {
      maxPayload: options.maxPayload ?? 64 * 1024,
      heartbeatMs: options.heartbeatMs ?? 30_000,
      maxBufferedBytes: options.maxBufferedBytes ?? 8 * 1024 * 1024,
      ratePerSecond,
      rateBurst,
      userRatePerSecond: options.userRateLimit?.perSecond ?? ratePerSecond * 3,
      userRateBurst: options.userRateLimit?.burst ?? rateBurst * 3,
      limits: connectionLimits,
      sessionSweepMs: options.sessionSweepMs,
    },
  )
  const browserGuard = new BrowserGuard({
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
  })
  const cors = new Cors(options.allowedOrigins)
  const fileStore = await openBlobStore(options.files?.blobs, options.dataDir)
  const files = new FileApi({
    storage,
    accounts,
    blobs: fileStore.blobs,
    limits: resolveFileLimits(options.files),
    log,
    now,
    prunesMessages: policy.retention.messagesDays !== null,
  })
  const fileSweep = setInterval(() => {
    files.sweep().catch((error: unknown) => log.warn('stale upload sweep failed', { error }))
  }, 3_600_000)
  fileSweep.unref()
  const api = createHttpHandler({
    files,
    accounts,
    hub,
    log,
    maxBodyBytes: options.maxHttpBodyBytes ?? 16 * 1024,
    guard: new AuthGuard(authLimits, now, log, limits),
    secret,
    metrics,
    storage,
  })
  metrics?.sampleFrom({
    sockets: () => hub.sizes().sockets,
    users: () => hub.sizes().users,
    bufferedBytes: () => gateway.stats().bufferedBytes,
    heldFrames: () => gateway.stats().heldFrames,
  })
  const httpServer = createServer((req, res) => {
    if (metrics) res.once('finish', () => metrics.httpRequest(req.url, res.statusCode))
    const refusal = browserGuard.check(req)
    if (!refusal) return cors.handle(req, res) || api(req, res)
    const body = JSON.stringify({ code: refusal.code, msg: refusal.msg })
    res.writeHead(refusal.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'cache-control': 'no-store',
      connection: 'close',
    })
    res.end(body)
  })
  httpServer.on('upgrade', (req, socket, head) => {
    const refusal = browserGuard.check(req)
    if (!refusal) return gateway.handleUpgrade(req, socket, head)
    socket.on('error', () => socket.destroy())
    rejectUpgrade(socket, refusal.status, refusal.code, refusal.msg)
  })
  httpServer.on('clientError', (_error, socket) => socket.destroy())

  const sweeper = new Sweeper({ storage, now, log, retention: policy.retention, limits })
  // Issue 15: reminder schedules, run by whichever node claims each one (ackScheduler.ts).
  const ackScheduler = new AckScheduler({
    storage,
    hub,
    log,
    now,
    policy: { usageLimits: usageLimits(policy.quotas), lookups, acks },
    receiptDefaults,
  })
  let closing: Promise<void> | undefined
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await sweeper.stop()
      await ackScheduler.stop()
      clearInterval(fileSweep)
      await gateway.close()
      await presence.stop()
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve())
        httpServer.closeAllConnections()
      })
      await bus?.close()
      if (ownsLimits) await limits.close()
      if (owned) await storage.close()
      await fileStore.close()
      log.info('server stopped')
    })())

  const host = options.host ?? '127.0.0.1'
  try {
    await presence.start()
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject)
      httpServer.listen(options.port ?? 0, host, () => {
        httpServer.off('error', reject)
        resolve()
      })
    })
  } catch (error) {
    await sweeper.stop()
    await gateway.close()
    await presence.stop()
    await bus?.close()
    if (ownsLimits) await limits.close()
    if (owned) await storage.close()
    throw error
  }

  const { port } = httpServer.address() as AddressInfo
  browserGuard.listening(port)
  ackScheduler.start()
  const urlHost = host.includes(':') ? `[${host}]` : host
  log.info('server started', { host, port })
  return {
    url: `ws://${urlHost}:${port}${WS_PATH}`,
    httpUrl: `http://${urlHost}:${port}`,
    host,
    port,
    close,
    sweep: () => sweeper.run(),
    stats: () => gateway.stats(),
  }
}
