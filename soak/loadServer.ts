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

// Every message asks for its receipts and the soak counts them all: the per-pair budget against
// receipt probes (src/server/deliveryBudget.ts) is off here.
const server = await startServer({
  port: 0,
  dataDir,
  logLevel: 'warn',
  scrypt: { N: 1024, r: 8, p: 1 },
  deliveryReceiptBudget: { burst: 1e9, perMinute: 1e9 },
  // 2,000 clients from one address, registering 50 at a time: the limits per address are lifted.
  authLimits: {
    registrationsPerAddress: { perHour: 1e9, burst: 1e9 },
    hashQueue: 1e6,
    hashesPerAddress: 1e6,
  },
  connectionLimits: { socketsPerAddress: 1e6 },
})
process.stdout.write(`IM server listening at ${server.url}\n`)
const stop = (): void => {
  void server.close().then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
