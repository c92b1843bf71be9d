/**
 * tsx src/server/cli.ts [--port 7700] [--data .local-server] [--host 127.0.0.1] [--log info]
 *                        [--config server.json] [--registration open|closed|invite] [--store postgres://…]
 * tsx src/server/cli.ts invite [--data .local-server] [--count 1] [--days 7] [--store postgres://…]
 *
 * `invite` makes single-use invite codes for `registration: 'invite'` in the data folder's database
 * (the server may be running), prints them one per line, and exits; only their hashes are kept.
 *
 * `--config` names a JSON file `{ "groupReceipts": { "enabled": true, "maxGroupSize": 500, … } }`
 * with the server defaults of the group receipt settings (see receiptSettings.ts), and optionally
 * `"retention"`, `"quotas"` and `"lookups"` (see policy.ts), `"registration"`, `"allowedHosts"`,
 * `"allowedOrigins"`, `"authLimits"` and `"connectionLimits"` (see limits.ts; `--registration` wins).
 *
 * `--store postgres://user@host:5432/database` (or `"store"` in the config file; the flag wins) keeps
 * the data in PostgreSQL instead of the SQLite database in `--data` (storeConfig.ts); `--bus
 * nats://host:4222` (or `"bus"`) joins this node to the others over NATS (bus.ts).
 *
 * `GET /metrics` serves Prometheus metrics (metrics.ts) unless `--no-metrics`. `--metrics-token <t>`,
 * or the environment variable IM_METRICS_TOKEN (not visible in `ps`; the flag wins), makes it need
 * `Authorization: Bearer <t>`.
 *
 * Prints exactly one line on stdout once listening: `IM server listening at ws://<host>:<port>/ws`.
 * Everything else (logs, errors) goes to stderr. Bad arguments exit with 2, start failures with 1.
 */
import { parseArgs } from 'node:util'
import { prepareDataDir, writePidFile } from './dataDir'
import { createInvites, DEFAULT_INVITE_DAYS } from './invites'
import { RegistrationMode } from './limits'
import { logLevels, type LogLevel } from './log'
import type { ServerConfigFile } from './receiptSettings'
import { DEFAULT_PORT, startServer } from './server'
import { SqliteStorage } from './storage/sqlite'
import { isNatsUrl, isPostgresUrl, loadConfigWithStore } from './storeConfig'

const USAGE =
  'usage: cli.ts [--port <0-65535>] [--data <dir>] [--host <address>] [--log debug|info|warn|error|silent]' +
  ' [--config <file.json>] [--registration open|closed|invite] [--store <postgres://…>] [--bus <nats://…>]\n' +
  '       [--metrics-token <token>] [--no-metrics]\n' +
  '       cli.ts invite [--data <dir>] [--count <n>] [--days <d>] [--store <postgres://…>]'

function usageError(message: string): never {
  process.stderr.write(`${message} (see --help)\n`)
  process.exit(2)
}

interface CliOptions extends ServerConfigFile {
  port: number
  dataDir: string
  host: string
  logLevel: LogLevel
  /** A PostgreSQL URL: the data lives there, not in dataDir's SQLite database. */
  store?: string
  /** A NATS URL: this node joins the others on that bus (bus.ts). */
  bus?: string
  /** false: no GET /metrics. */
  metrics?: boolean
  /** GET /metrics needs `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string
  /** Set for `cli.ts invite`: how many codes, valid how many days. */
  invite?: { count: number; days: number }
}

function parseCli(argv: string[]): CliOptions {
  let values
  let positionals: string[] = []
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        data: { type: 'string' },
        host: { type: 'string' },
        log: { type: 'string' },
        config: { type: 'string' },
        registration: { type: 'string' },
        store: { type: 'string' },
        bus: { type: 'string' },
        'metrics-token': { type: 'string' },
        'no-metrics': { type: 'boolean' },
        count: { type: 'string' },
        days: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    }))
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error))
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`)
    process.exit(0)
  }
  const portText = values.port ?? String(DEFAULT_PORT)
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65535)
    usageError(`invalid --port ${JSON.stringify(portText)}: expected 0-65535`)
  const logLevel = (values.log ?? 'info') as LogLevel
  if (!logLevels.includes(logLevel)) usageError(`invalid --log ${JSON.stringify(values.log)}`)
  const dataDir = values.data ?? '.local-server'
  if (dataDir.trim() === '') usageError('--data needs a directory')
  const host = values.host ?? '127.0.0.1'
  if (host.trim() === '') usageError('--host needs an address')
  if (values.store !== undefined && !isPostgresUrl(values.store))
    usageError('invalid --store: expected a postgres:// or postgresql:// URL')
  if (values.bus !== undefined && !isNatsUrl(values.bus)) usageError('invalid --bus: expected a nats:// URL')
  const store = {
    ...(values.store === undefined ? {} : { store: values.store }),
    ...(values.bus === undefined ? {} : { bus: values.bus }),
  }
  if (positionals.length > 1 || (positionals[0] !== undefined && positionals[0] !== 'invite'))
    usageError(`unknown command ${JSON.stringify(positionals.join(' '))}: the only one is invite`)
  if (positionals[0] === 'invite') {
    const count = Number(values.count ?? '1')
    const days = Number(values.days ?? String(DEFAULT_INVITE_DAYS))
    if (!Number.isInteger(count) || count < 1 || count > 1000) usageError('--count must be 1-1000')
    if (!(days > 0)) usageError('--days must be a positive number')
    return { port, dataDir, host, logLevel, ...store, invite: { count, days } }
  }
  let registration: RegistrationMode | undefined
  if (values.registration !== undefined) {
    const parsed = RegistrationMode.safeParse(values.registration)
    if (!parsed.success)
      usageError(`invalid --registration ${JSON.stringify(values.registration)}: open, closed or invite`)
    registration = parsed.data
  }
  const metricsToken = values['metrics-token'] ?? process.env.IM_METRICS_TOKEN
  if (metricsToken !== undefined && !/^\S{1,4096}$/.test(metricsToken))
    usageError('invalid --metrics-token (or IM_METRICS_TOKEN): 1 to 4096 characters without spaces')
  const flags = {
    ...(registration ? { registration } : {}),
    ...store,
    ...(values['no-metrics'] ? { metrics: false } : {}),
    ...(metricsToken === undefined ? {} : { metricsToken }),
  }
  if (values.config === undefined) return { port, dataDir, host, logLevel, ...flags }
  if (values.config.trim() === '') usageError('--config needs a file')
  try {
    return { port, dataDir, host, logLevel, ...loadConfigWithStore(values.config), ...flags }
  } catch (error) {
    // One line: loadServerConfig's messages name the file and the first problems.
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${message.replace(/\s*\n\s*/g, ' ')}\n`)
    process.exit(2)
  }
}

/** `cli.ts invite`: codes into the data folder's database, one per line on stdout. */
async function invite(dataDir: string, count: number, days: number, store?: string): Promise<void> {
  const storage = store
    ? await (await import('./storage/postgres/storage')).PostgresStorage.open(store)
    : new SqliteStorage(prepareDataDir(dataDir).databaseFile)
  try {
    const codes = await createInvites(storage, count, { days })
    process.stdout.write(`${codes.join('\n')}\n`)
    process.stderr.write(
      `${count} invite code${count === 1 ? '' : 's'}, each good for one registration within ${days} days; only their hashes are kept\n`,
    )
  } finally {
    await storage.close()
  }
}

async function main(): Promise<void> {
  const options = parseCli(process.argv.slice(2))
  if (options.invite) {
    try {
      await invite(options.dataDir, options.invite.count, options.invite.days, options.store)
    } catch (error) {
      process.stderr.write(`invite failed: ${error instanceof Error ? error.message : String(error)}\n`)
      process.exit(1)
    }
    return
  }
  let server
  try {
    server = await startServer(options)
  } catch (error) {
    process.stderr.write(
      `IM server failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
    )
    process.exit(1)
  }
  process.stdout.write(`IM server listening at ${server.url}\n`)
  const removePidFile = writePidFile(options.dataDir, server.port)

  const running = server
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`received ${signal}, shutting down\n`)
    running.close().then(
      () => {
        removePidFile()
        process.exit(0)
      },
      (error: unknown) => {
        process.stderr.write(`shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`)
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

void main()
