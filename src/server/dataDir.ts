/**
 * The server's data folder: only its owner may read it (0700, files 0600), whatever the umask, and
 * it holds the server's secret, with which the server proves on /health that it is the server of
 * this folder (scripts/lib.mjs checks that before it trusts what answers on 127.0.0.1:7700 with a
 * password).
 */
import {
  chmodSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { createHmac, randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { Logger } from './log'

const DATABASE_FILE = 'server.sqlite'
const SECRET_FILE = 'server-secret'

/**
 * Creates the folder (0700) and an empty database file (0600) unless they exist; SQLite gives its
 * -wal and -shm files the database file's mode. A folder we did not make and that holds no database
 * (say `--data ~`) keeps its mode, with a warning if others may read it.
 */
export function prepareDataDir(dir: string, log?: Logger): { databaseFile: string; secret: Buffer } {
  const databaseFile = join(dir, DATABASE_FILE)
  const existed = existsSync(dir)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (!existed || existsSync(databaseFile)) chmodSync(dir, 0o700)
  else if ((statSync(dir).mode & 0o077) !== 0)
    log?.warn('the data folder can be read by other users of this machine', { dir })
  if (!existsSync(databaseFile)) closeSync(openSync(databaseFile, 'a', 0o600))
  for (const file of [databaseFile, `${databaseFile}-wal`, `${databaseFile}-shm`])
    if (existsSync(file)) chmodSync(file, 0o600)
  return { databaseFile, secret: readOrCreateSecret(join(dir, SECRET_FILE)) }
}

function readOrCreateSecret(file: string): Buffer {
  if (!existsSync(file)) {
    try {
      writeFileSync(file, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
    } catch (error) {
      // Another process made it first: use theirs.
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error
    }
  }
  chmodSync(file, 0o600)
  const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'hex')
  if (secret.length < 16)
    throw new Error(`${file} does not hold a server secret; delete it to make a new one`)
  return secret
}

/** A secret for a server without a data folder (in-memory database). */
export function ephemeralSecret(): Buffer {
  return randomBytes(32)
}

/** What /health?challenge=… answers: only the holder of the folder's secret can compute it. */
export function healthProof(secret: Buffer, challenge: string): string {
  return createHmac('sha256', secret).update(challenge).digest('hex')
}

/**
 * `server-<port>.pid` in the data folder (0600) while the CLI serves on that port, so that
 * `npm run server:stop` (scripts/lib.mjs stopLocalServers) stops exactly the servers of this folder and
 * nothing else that happens to run `cli.ts`. Returns the function that removes it at shutdown.
 */
export function writePidFile(dir: string, port: number): () => void {
  const file = join(dir, `server-${port}.pid`)
  writeFileSync(file, `${process.pid}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
  return () => rmSync(file, { force: true })
}
