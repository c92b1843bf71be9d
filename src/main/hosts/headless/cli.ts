/**
 * npm run headless -- --profile <dir> --server <ws url>[,<ws url>…] [--port <q>]
 *                     [--login <user> [--password-file <file>|-]] [--allow-insecure]
 *
 * Runs the client engine in plain Node and serves the renderer build to a browser. Prints one line
 * with the URL to open (it carries the per-launch token). `--server` takes one URL, or the nodes of
 * one deployment separated by commas (`ws://127.0.0.1:7701/ws,ws://127.0.0.1:7702/ws`): the engine
 * connects to one and moves to another when its node goes away.
 *
 * `--login` signs in first. The password comes from `--password-file` (`-`: stdin) or the
 * IM_PASSWORD environment variable (removed from this process's environment once read), never from
 * the command line, which every user of the machine sees in `ps`. `--login <user>:<password>` still
 * works, with a warning. `--allow-insecure` lets the engine sign in over ws:// to another machine.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { describeServerListProblem, checkServerList } from '../../../shared/serverList'
import { Engine } from '../../engine/engine'
import { createDispatcher, createHandlerTable } from '../handlers'
import { startHeadlessHost } from './host'

const root = fileURLToPath(new URL('../../../../', import.meta.url))

function fatal(message: string): never {
  process.stderr.write(`headless: ${message}\n`)
  process.exit(2)
}

let values: {
  profile?: string
  server?: string
  port?: string
  login?: string
  'password-file'?: string
  'allow-insecure'?: boolean
  renderer?: string
  downloads?: string
}
try {
  values = parseArgs({
    options: {
      profile: { type: 'string' },
      server: { type: 'string', default: 'ws://127.0.0.1:7700/ws' },
      port: { type: 'string', default: '0' },
      login: { type: 'string' },
      'password-file': { type: 'string' },
      'allow-insecure': { type: 'boolean', default: false },
      renderer: { type: 'string', default: `${root}out/renderer` },
      // Where downloaded files go (H3): --downloads, else IM_DOWNLOADS_DIR, else ~/Downloads.
      downloads: { type: 'string' },
    },
  }).values
} catch (err) {
  fatal((err as Error).message)
}

if (!values.profile) fatal('--profile <dir> is required (one folder per account)')
const port = Number(values.port)
if (!Number.isInteger(port) || port < 0 || port > 65535)
  fatal(`--port must be 0..65535, got "${values.port}"`)
const servers = checkServerList(values.server as string)
if ('problem' in servers) fatal(`--server: ${describeServerListProblem(servers.problem)}`)
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
    allowInsecureTransport: values['allow-insecure'] === true,
    // The page is a browser tab: it hands its files over as staged copies, never as paths (H3).
    files: {
      acceptPaths: false,
      ...((values.downloads ?? process.env.IM_DOWNLOADS_DIR)
        ? { downloadsDir: values.downloads ?? process.env.IM_DOWNLOADS_DIR }
        : {}),
    },
  })
} catch (err) {
  fatal((err as Error).message)
}
const dispatch = createDispatcher(createHandlerTable(engine))
engine.start()

/** The password of `--login`: from a file, stdin or the environment; the command line only with a warning. */
function loginPassword(login: string): { userId: string; password: string } {
  const sep = login.indexOf(':')
  if (sep === 0) fatal('--login expects <user>')
  if (sep > 0) {
    process.stderr.write(
      'headless: warning: --login <user>:<password> shows the password to every user of this machine (ps); use --login <user> with --password-file <file> or IM_PASSWORD\n',
    )
    return { userId: login.slice(0, sep), password: login.slice(sep + 1) }
  }
  const file = values['password-file']
  let password: string | undefined
  if (file !== undefined) {
    try {
      password = readFileSync(file === '-' ? 0 : file, 'utf8').replace(/\r?\n$/, '')
    } catch (err) {
      fatal(`cannot read --password-file ${file}: ${(err as Error).message}`)
    }
  } else if (process.env.IM_PASSWORD !== undefined) {
    password = process.env.IM_PASSWORD
    delete process.env.IM_PASSWORD
  }
  if (!password)
    fatal('--login <user> needs its password: --password-file <file> (- for stdin) or IM_PASSWORD')
  return { userId: login, password }
}

if (values.login) {
  const { userId, password } = loginPassword(values.login)
  const res = await engine.login({ serverUrl: values.server as string, userId, password })
  if (res.code !== 0) fatal(`cannot sign in as ${userId}: ${res.msg}`)
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
