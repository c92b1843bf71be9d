// npm run server:stop [-- --data <dir>]: stops the local IM server(s) of that data folder (default
// .local-server/, the one npm start and npm run accounts start), and nothing else.
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { root, stopLocalServers } from './lib.mjs'

const { values } = parseArgs({ options: { data: { type: 'string', default: '.local-server' } } })
const dataDir = resolve(root, values.data)
const done = await stopLocalServers(dataDir)
if (done.length === 0) console.log(`server:stop: no server of ${dataDir} is running`)
for (const { port, pid, result } of done) {
  if (result === 'stopped') console.log(`server:stop: stopped the server on port ${port} (pid ${pid})`)
  else if (result === 'stale') console.log(`server:stop: the server on port ${port} had already stopped`)
  else console.log(`server:stop: the server on port ${port} (pid ${pid}) did not stop within 15 s`)
}
process.exit(done.some((d) => d.result === 'timeout') ? 1 : 0)
