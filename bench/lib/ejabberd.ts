/**
 * ejabberd from Debian's packages, started by the bench on loopback with a generated config: one
 * virtual host, c2s without TLS on 127.0.0.1, no traffic shaper, a large listen backlog, no offline
 * storage, and no archive unless `archive` (mod_mam, every message stored in Mnesia), and mod_http_api on loopback so accounts can be registered quickly (the same
 * command ejabberdctl register runs, without an Erlang VM start per account).
 */
import { execFileSync, spawnSync } from 'node:child_process'
import {
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { pidsWithCmdline } from './proc'
import { sleep } from './stats'
import { pool } from './wire'

const CTL = '/usr/sbin/ejabberdctl'
export const XMPP_DOMAIN = 'bench.localhost'

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** Finds ejabberdctl, installing Debian's package (as root) when it is missing. Returns why not, or null. */
export function ensureEjabberd(log: (m: string) => void): string | null {
  if (existsSync(CTL)) return null
  if (process.getuid?.() !== 0)
    return 'ejabberd is not installed and the bench is not root (apt-get install -y ejabberd)'
  log('installing ejabberd from Debian packages (apt-get install -y ejabberd)')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  let r = spawnSync('apt-get', ['install', '-y', '-qq', 'ejabberd'], {
    env,
    stdio: 'ignore',
    timeout: 300_000,
  })
  if (r.status !== 0) {
    spawnSync('apt-get', ['update', '-qq'], { env, stdio: 'ignore', timeout: 300_000 })
    r = spawnSync('apt-get', ['install', '-y', '-qq', 'ejabberd'], { env, stdio: 'ignore', timeout: 300_000 })
  }
  return existsSync(CTL) ? null : `apt-get install ejabberd failed (exit ${r.status ?? 'none'})`
}

export function ejabberdVersion(): string {
  try {
    const dirs = readdirSync('/usr/lib/x86_64-linux-gnu').filter((d) => /^ejabberd-\d/.test(d))
    return dirs.sort().at(-1)?.replace('ejabberd-', '') ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

function chownTree(path: string, uid: number, gid: number): void {
  chownSync(path, uid, gid)
  if (statSync(path).isDirectory()) for (const f of readdirSync(path)) chownTree(join(path, f), uid, gid)
}

export interface RunningEjabberd {
  c2sPort: number
  pid: number
  node: string
  register(users: readonly string[], password: string): Promise<void>
  stop(): Promise<void>
}

/** `dir` is created under the system temp folder (ejabberd runs as its own user and must reach it). */
export async function startEjabberd(
  backlog: number,
  options: { archive?: boolean } = {},
): Promise<RunningEjabberd> {
  const dir = mkdtempSync(join(tmpdir(), 'im-bench-ejabberd-'))
  const c2sPort = await freePort()
  const httpPort = await freePort()
  const node = `benchej${process.pid}${options.archive ? 'mam' : ''}@localhost`
  const cfg = join(dir, 'cfg')
  for (const d of [cfg, join(dir, 'spool'), join(dir, 'logs')]) mkdirSync(d, { recursive: true })
  writeFileSync(
    join(cfg, 'ejabberd.yml'),
    `hosts: ["${XMPP_DOMAIN}"]
loglevel: warning
log_rotate_count: 0
certfiles: []
listen:
  - port: ${c2sPort}
    ip: "127.0.0.1"
    module: ejabberd_c2s
    max_stanza_size: 262144
    shaper: none
    access: c2s
    starttls: false
    backlog: ${backlog}
  - port: ${httpPort}
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /api: mod_http_api
auth_method: internal
auth_password_format: scram
acl:
  local:
    user_regexp: ""
  loopback:
    ip: [127.0.0.0/8]
access_rules:
  local:
    allow: local
  c2s:
    allow: all
api_permissions:
  "bench on loopback":
    from: [ejabberd_ctl, mod_http_api]
    who:
      ip: 127.0.0.1/8
    what: "*"
shaper: {}
shaper_rules:
  max_user_sessions: 10
  c2s_shaper: none
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
${options.archive ? '  mod_mam:\n    default: always\n    db_type: mnesia\n' : ''}`,
  )
  writeFileSync(
    join(cfg, 'ejabberdctl.cfg'),
    'ERL_OPTIONS="-env ERL_CRASH_DUMP_BYTES 0"\nERL_MAX_PORTS=65536\n',
  )
  const owner = statSync('/var/lib/ejabberd')
  chownTree(dir, owner.uid, owner.gid)
  const args = [
    '--config-dir',
    cfg,
    '--config',
    join(cfg, 'ejabberd.yml'),
    '--ctl-config',
    join(cfg, 'ejabberdctl.cfg'),
    '--spool',
    join(dir, 'spool'),
    '--logs',
    join(dir, 'logs'),
    '--node',
    node,
  ]
  const ctl = (...cmd: string[]): string =>
    execFileSync(CTL, [...args, ...cmd], {
      encoding: 'utf8',
      timeout: 120_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
  try {
    ctl('start')
    ctl('started')
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  let pid: number | undefined
  for (let i = 0; i < 50 && pid === undefined; i++) {
    pid = pidsWithCmdline(node).find((p) => {
      try {
        return execFileSync('cat', [`/proc/${p}/comm`], { encoding: 'utf8' }).startsWith('beam')
      } catch {
        return false
      }
    })
    if (pid === undefined) await sleep(100)
  }
  if (pid === undefined) throw new Error('ejabberd started but its beam process was not found')
  return {
    c2sPort,
    pid,
    node,
    async register(users, password) {
      await pool(users, 8, async (user) => {
        const res = await fetch(`http://127.0.0.1:${httpPort}/api/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user, host: XMPP_DOMAIN, password }),
        })
        const text = await res.text()
        if (!res.ok && !/already registered|conflict/i.test(text))
          throw new Error(`ejabberd register ${user}: HTTP ${res.status} ${text}`)
      })
    },
    async stop() {
      try {
        ctl('stop')
        ctl('stopped')
      } catch {
        // already gone
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
