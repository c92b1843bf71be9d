/**
 * Where the server keeps its data, as the command line and the config file say it: `--store
 * postgres://…` or `"store": "postgres://…"` in the `--config` file (the flag wins). Without either,
 * the embedded SQLite database in `--data` (server.ts).
 */
import { readFileSync } from 'node:fs'
import { loadServerConfig, ServerConfigFile } from './receiptSettings'

export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\/\S+$/.test(value)
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * loadServerConfig (receiptSettings.ts), plus the optional `"store"` key. A file without that key is
 * loadServerConfig's alone, with its messages; so is one that cannot be read or parsed.
 */
export function loadConfigWithStore(file: string): ServerConfigFile & { store?: string } {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return loadServerConfig(file)
  }
  if (!isRecord(value) || !('store' in value)) return loadServerConfig(file)
  const { store, ...rest } = value
  if (typeof store !== 'string' || !isPostgresUrl(store))
    throw new Error(`invalid config file ${file}: store: expected a postgres:// or postgresql:// URL`)
  const parsed = ServerConfigFile.safeParse(rest)
  if (!parsed.success) {
    const problems = parsed.error.issues
      .slice(0, 3)
      .map(
        (issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)'}: ${issue.message}`,
      )
    throw new Error(`invalid config file ${file}: ${problems.join('; ')}`)
  }
  return { ...parsed.data, store }
}
