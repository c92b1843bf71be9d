/**
 * npm run headless -- --profile <dir> --server <ws url> [--port <q>] [--login <user>:<password>]
 *
 * Runs the client engine in plain Node and serves the renderer build to a browser. Prints one line
 * with the URL to open (it carries the per-launch token).
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { Engine } from '../../engine/engine'
import { createDispatcher, createHandlerTable } from '../handlers'
import { startHeadlessHost } from './host'

const root = fileURLToPath(new URL('../../../../', import.meta.url))

function fatal(message: string): never {
  process.stderr.write(`headless: ${message}\n`)
  process.exit(2)
}

let values: { profile?: string; server?: string; port?: string; login?: string; renderer?: string }
try {
  values = parseArgs({
    options: {
      profile: { type: 'string' },
      server: { type: 'string', default: 'ws://127.0.0.1:7700/ws' },
      port: { type: 'string', default: '0' },
      login: { type: 'string' },
      renderer: { type: 'string', default: `${root}out/renderer` },
    },
  }).values
} catch (err) {
  fatal((err as Error).message)
}

if (!values.profile) fatal('--profile <dir> is required (one folder per account)')
const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fatal(`--port must be 0..65535, got "${values.port}"`)
const rendererDir = values.renderer as string
if (!existsSync(`${rendererDir}/index.html`))
  fatal(`no renderer build in ${rendererDir}: run "npm run build" first`)

const version = (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version
let engine: Engine
try {
  engine = new Engine({
    profileDir: values.profile,
    host: 'headless',
    version,
    defaultServerUrl: values.server as string,
  })
} catch (err) {
  fatal((err as Error).message)
}
const dispatch = createDispatcher(createHandlerTable(engine))
engine.start()

if (values.login) {
  const sep = values.login.indexOf(':')
  if (sep < 1) fatal('--login expects <user>:<password>')
  const res = await engine.login({
    serverUrl: values.server as string,
    userId: values.login.slice(0, sep),
    password: values.login.slice(sep + 1),
  })
  if (res.code !== 0) fatal(`cannot sign in as ${values.login.slice(0, sep)}: ${res.msg}`)
}

const host = await startHeadlessHost({ engine, dispatch, rendererDir, port })
process.stdout.write(`Headless host for profile "${engine.profile.name}": open ${host.url}\n`)

const stop = async (): Promise<void> => {
  await host.close()
  await engine.shutdown()
  process.exit(0)
}
process.on('SIGINT', () => void stop())
process.on('SIGTERM', () => void stop())
