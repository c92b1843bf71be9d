import { connect } from 'node:net'
import { resolve } from 'node:path'
import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

/** Whether something listens where the PostgreSQL tests look (PG_TEST_URL, else the local default). */
function postgresListens(): Promise<boolean> {
  const url = new URL(process.env.PG_TEST_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres')
  return new Promise((done) => {
    const socket = connect({ host: url.hostname, port: Number(url.port || 5432) })
    const end = (answer: boolean) => {
      socket.destroy()
      done(answer)
    }
    socket.setTimeout(2000)
    socket.once('connect', () => end(true))
    socket.once('error', () => end(false))
    socket.once('timeout', () => end(false))
  })
}

/**
 * Two projects: `default`, every test (servers on SQLite, the embedded default); `postgres`, the
 * server and integration suites once more with every test server on its own scratch PostgreSQL
 * database (tests/testStore.ts). Without PostgreSQL the second is left out with one line, except
 * under CI=true, where it runs (and fails): CI tests both backends.
 */
const withPostgres = process.env.CI === 'true' || (await postgresListens())
if (!withPostgres)
  console.warn(
    'postgres project skipped: no PostgreSQL at PG_TEST_URL (start it, see tests/server/postgresHelpers.ts)',
  )

/** Server and integration tests that run on either backend; the others test one store on purpose. */
const onBothBackends = ['tests/server/**/*.test.ts', 'tests/integration/**/*.test.ts']
const oneBackend = [
  'tests/server/storage.test.ts',
  'tests/server/storageContract.test.ts',
  'tests/server/groupCommit.test.ts',
  'tests/server/postgresStorage.test.ts',
  'tests/server/postgresUnavailable.test.ts',
  'tests/server/multiNode.test.ts',
  'tests/server/storeConfig.test.ts',
  'tests/integration/failover.test.ts',
  'tests/server/sharedLimits.test.ts',
  'tests/server/bus.test.ts',
]

export default defineConfig({
  plugins: [vue()],
  resolve: { alias: { '@renderer': resolve('src/renderer/src') } },
  test: {
    // Integration tests start real servers and engines on real sockets; two cores, so keep it modest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    environment: 'node',
    projects: [
      { extends: true, test: { name: 'default', include: ['tests/**/*.test.ts'] } },
      ...(withPostgres
        ? [
            {
              extends: true as const,
              test: {
                name: 'postgres',
                include: onBothBackends,
                exclude: oneBackend,
                env: { IM_TEST_STORE: 'postgres' },
              },
            },
          ]
        : []),
    ],
  },
})
