/**
 * The IM server for the load test, as its own process: the real server with a file-backed database,
 * but cheap password hashing (2,000 accounts are registered before the run; the cost of scrypt is
 * not what this measures). Prints the listening line like the CLI; SIGTERM stops it.
 *
 *   tsx soak/loadServer.ts <dataDir>
 */
import { startServer } from '../src/server/server'

const dataDir = process.argv[2]
if (!dataDir) {
  process.stderr.write('usage: loadServer.ts <dataDir>\n')
  process.exit(2)
}

const server = await startServer({ port: 0, dataDir, logLevel: 'warn', scrypt: { N: 1024, r: 8, p: 1 } })
process.stdout.write(`IM server listening at ${server.url}\n`)
const stop = (): void => {
  void server.close().then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
