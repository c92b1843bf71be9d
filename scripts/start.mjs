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
console.log(
  `IM server: ${server.url}${server.started ? ' (started, runs on after this window closes)' : ' (already running)'}`,
)

const electron = electronBinary()
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
