/**
 * Which store the servers of a test run use: SQLite in memory (the default), or PostgreSQL when
 * IM_TEST_STORE=postgres, which is how vitest's `postgres` project runs the server and integration
 * suites a second time (vitest.config.ts). Each server then gets a scratch database of its own,
 * dropped when the server closes.
 *
 * A test that brings its own `store`, `storage` or `dataDir` keeps it: those test a data folder, a
 * restart on one SQLite file, or SQL of the SQLite schema.
 */
import type { RunningServer, ServerOptions } from '../src/server/server'

export const testBackend: 'sqlite' | 'postgres' =
  process.env.IM_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite'

/** Starts `start(options)` on this run's backend. */
export async function onTestBackend(
  options: ServerOptions,
  start: (options: ServerOptions) => Promise<RunningServer>,
): Promise<RunningServer> {
  if (testBackend === 'sqlite' || options.store || options.storage || options.dataDir) return start(options)
  const { createScratchDatabase } = await import('./server/postgresHelpers')
  const db = await createScratchDatabase()
  let server: RunningServer
  try {
    server = await start({ ...options, store: db.url })
  } catch (error) {
    await db.drop()
    throw error
  }
  let closing: Promise<void> | undefined
  return {
    ...server,
    close: () =>
      (closing ??= (async () => {
        await server.close()
        await db.drop()
      })()),
  }
}
