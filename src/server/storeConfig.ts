/**
 * Where the server keeps its data and which bus joins it to the other nodes, as the command line and
 * the config file say it: `--store postgres://…` / `"store": "postgres://…"` and `--bus nats://…` /
 * `"bus": "nats://…"` in the `--config` file (the flags win). Without a store, the embedded SQLite
 * database in `--data` (server.ts); without a bus, one node.
 */
import { readFileSync } from 'node:fs'
import { loadServerConfig, ServerConfigFile } from './receiptSettings'

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\/\S+$/.test(value)
}

/** `nats://host:port` (or `tls://`), several comma-separated. */
export function isNatsUrl(value: string): boolean {
  return /^(nats|tls):\/\/[^\s,]+(\s*,\s*(nats|tls):\/\/[^\s,]+)*$/.test(value)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * loadServerConfig (receiptSettings.ts), plus the optional `"store"` and `"bus"` keys. A file without
 * them is loadServerConfig's alone, with its messages; so is one that cannot be read or parsed.
 */
export function loadConfigWithStore(file: string): ServerConfigFile & { store?: string; bus?: string } {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return loadServerConfig(file)
  }
  if (!isRecord(value) || !('store' in value || 'bus' in value)) return loadServerConfig(file)
  const { store, bus, ...rest } = value
  if (store !== undefined && (typeof store !== 'string' || !isPostgresUrl(store)))
    throw new Error(`invalid config file ${file}: store: expected a postgres:// or postgresql:// URL`)
  if (bus !== undefined && (typeof bus !== 'string' || !isNatsUrl(bus)))
    throw new Error(`invalid config file ${file}: bus: expected a nats:// URL (several comma-separated)`)
  const parsed = ServerConfigFile.safeParse(rest)
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map(
        (issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
      )
    throw new Error(`invalid config file ${file}: ${problems.join('; ')}`)
  }
  return {
    ...parsed.data,
    ...(store === undefined ? {} : { store: store as string }),
    ...(bus === undefined ? {} : { bus: bus as string }),
  }
}
