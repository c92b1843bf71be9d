// npm start [-- --profile <name>]: the app, with a local server started when none answers.
// Where no Electron binary exists (our build machines), says so and runs the headless host instead.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildElectronSqlite } from './native.mjs'
import { buildApp, electronBinary, ensureLocalServer, root, startHeadless } from './lib.mjs'

const { values } = parseArgs({
  options: { profile: { type: 'string', default: 'default' }, port: { type: 'string', default: '7700' } },
})
const profile = join(root, '.profiles', values.profile)

buildApp()
// Refuses (with a message) when what answers on the port cannot prove it is our server.
const server = await ensureLocalServer(Number(values.port)).catch((err) => {
  console.error(`start: ${err.message}`)
  process.exit(1)
})
const electron = electronBinary()
// The server is its own process: closing the app (or stopping the headless host) leaves it serving
// the other accounts until `npm run server:stop`.
const afterwards = electron ? 'after this window closes' : 'after this command ends'
console.log(
  `IM server: ${server.url}${server.started ? ` (started; it runs on ${afterwards}: npm run server:stop stops it)` : ' (already running; npm run server:stop stops it)'}`,
)

if (electron) {
  await buildElectronSqlite()
  const child = spawn(electron, [root, '--profile', profile, '--server', server.url], { stdio: 'inherit' })
  child.on('exit', (code) => process.exit(code ?? 0))
} else {
  console.log(
    'No Electron binary on this machine (its download is not reachable here): running the headless host instead; open the URL below in Chromium.',
  )
  const { child, url } = await startHeadless({ profile, serverUrl: server.url })
  console.log(`Open ${url}`)
  child.on('exit', (code) => process.exit(code ?? 0))
  process.on('SIGINT', () => child.kill('SIGINT'))
}
