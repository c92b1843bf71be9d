/**
 * tsx src/server/cli.ts [--port 7700] [--data .local-server] [--host 127.0.0.1] [--log info]
 *                        [--config server.json]
 *
 * `--config` names a JSON file `{ "groupReceipts": { "enabled": true, "maxGroupSize": 500, … } }`
 * with the server defaults of the group receipt settings (see receiptSettings.ts).
 *
 * Prints exactly one line on stdout once listening: `IM server listening at ws://<host>:<port>/ws`.
 * Everything else (logs, errors) goes to stderr. Bad arguments exit with 2, start failures with 1.
 */
import { parseArgs } from 'node:util'
import type { GroupReceiptSettings } from '../shared/model'
import { logLevels, type LogLevel } from './log'
import { loadServerConfig } from './receiptSettings'
import { DEFAULT_PORT, startServer } from './server'

const USAGE =
  'usage: cli.ts [--port <0-65535>] [--data <dir>] [--host <address>] [--log debug|info|warn|error|silent]' +
  ' [--config <file.json>]'

function usageError(message: string): never {
  process.stderr.write(`${message} (see --help)\n`)
  process.exit(2)
}

interface CliOptions {
  port: number
  dataDir: string
  host: string
  logLevel: LogLevel
  groupReceipts?: Partial<GroupReceiptSettings>
}

function parseCli(argv: string[]): CliOptions {
  let values
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string' },
        data: { type: 'string' },
        host: { type: 'string' },
        log: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
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
  if (values.config === undefined) return { port, dataDir, host, logLevel }
  if (values.config.trim() === '') usageError('--config needs a file')
  try {
    return { port, dataDir, host, logLevel, groupReceipts: loadServerConfig(values.config).groupReceipts }
  } catch (error) {
    // One line: loadServerConfig's messages name the file and the first problems.
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`${message.replace(/\s*\n\s*/g, ' ')}\n`)
    process.exit(2)
  }
}

async function main(): Promise<void> {
  const options = parseCli(process.argv.slice(2))
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

  const running = server
  let stopping = false
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return
    stopping = true
    process.stderr.write(`received ${signal}, shutting down\n`)
    running.close().then(
      () => process.exit(0),
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
