/**
 * A deliberately small logger: one JSON line per entry on stderr (stdout carries the CLI's
 * "listening" line, which scripts parse). Callers pass ids and codes, never passwords or tokens.
 */
export const logLevels = ['debug', 'info', 'warn', 'error', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

type LogFields = Record<string, unknown>

export interface Logger {
  debug(msg: string, fields?: LogFields): void
  info(msg: string, fields?: LogFields): void
  warn(msg: string, fields?: LogFields): void
  error(msg: string, fields?: LogFields): void
}

function serialize(value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack }
  return value
}

export function createLogger(
  level: LogLevel,
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = logLevels.indexOf(level)
  const emit = (entryLevel: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (logLevels.indexOf(entryLevel) < threshold) return
    const entry: LogFields = { time: new Date().toISOString(), level: entryLevel, msg }
    for (const [key, value] of Object.entries(fields ?? {})) entry[key] = serialize(value)
    write(`${JSON.stringify(entry)}\n`)
  }
  return {
    debug: (msg, fields) => emit('debug', msg, fields),
    info: (msg, fields) => emit('info', msg, fields),
    warn: (msg, fields) => emit('warn', msg, fields),
    error: (msg, fields) => emit('error', msg, fields),
  }
}
