/**
 * Spawning the IM server (bench/lib/serverChild.ts) and preparing its database before it starts:
 * accounts with sessions (no HTTP round trips or password hashing for 2,000 clients), and bulk
 * history through the server's own storage code.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { hashToken } from '../../src/server/ids'
import { hashPassword } from '../../src/server/passwords'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { Storage } from '../../src/server/storage/types'
import type { GroupReceiptSettings } from '../../src/shared/model'
import type { FrameCounts } from './serverChild'
import { withTimeout } from './stats'

export type { FrameCounts }

const root = resolve(import.meta.dirname, '../..')

/**
 * Node flags for the processes the bench starts: BENCH_CPU_PROF=<dir> writes a V8 CPU profile of
 * each (server, engine, host) into <dir> (open in Chrome DevTools or speedscope for a flame graph).
 */
export function childNodeArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []
}

export interface BenchServer {
  url: string
  httpUrl: string
  pid: number
  child: ChildProcess
  frames(): Promise<FrameCounts>
  resetFrames(): Promise<void>
  close(): Promise<void>
}

export async function spawnServer(options: {
  /** The node's folder (its /health secret; its SQLite database unless `store` is given). */
  dataDir: string
  /** A PostgreSQL URL: the data lives there (bench/lib/backends.ts seeds it before). */
  store?: string
  /** A NATS URL: the node joins the others on that bus. */
  bus?: string
  countFrames?: boolean
  groupReceipts?: Partial<GroupReceiptSettings>
  /** Files and images (s9): the size limits of uploads. */
  files?: { maxFileBytes: number; maxImageBytes: number }
}): Promise<BenchServer> {
  mkdirSync(options.dataDir, { recursive: true })
  const child = spawn(
    process.execPath,
    [...childNodeArgs(), '--import', 'tsx', join(root, 'bench/lib/serverChild.ts')],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: { ...process.env, BENCH_SERVER_CONFIG: JSON.stringify(options) },
    },
  )
  const { url, httpUrl } = await withTimeout(
    new Promise<{ url: string; httpUrl: string }>((res, rej) => {
      let out = ''
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString()
        const line = out.split('\n').find((l) => l.startsWith('{'))
        if (line) res(JSON.parse(line) as { url: string; httpUrl: string })
      })
      child.once('exit', (code) => rej(new Error(`bench server exited with ${code}`)))
    }),
    60_000,
    'the bench server to start',
  )
  const ask = <T>(type: string): Promise<T> =>
    new Promise((res) => {
      const on = (m: { type: string; counts?: FrameCounts }): void => {
        if (m.type !== type) return
        child.off('message', on)
        res(m.counts as T)
      }
      child.on('message', on)
      child.send({ type })
    })
  return {
    url,
    httpUrl,
    pid: child.pid as number,
    child,
    frames: () => ask<FrameCounts>('counts'),
    resetFrames: () => ask<void>('reset'),
    close: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null || child.signalCode !== null) return res()
        child.once('exit', () => res())
        child.kill('SIGTERM')
      }),
  }
}

export interface Account {
  userId: string
  token: string
  deviceId: string
}

const BENCH_PASSWORD = 'bench-password'
/** A cheap scrypt hash of BENCH_PASSWORD, so HTTP login works for the seeded accounts too. */
const passwordHash = hashPassword(BENCH_PASSWORD, { N: 1024, r: 8, p: 1 })

/** Opens (creating if needed) the server database of `dataDir` with the server's own storage code. */
export function openServerStorage(dataDir: string): SqliteStorage {
  mkdirSync(dataDir, { recursive: true })
  return new SqliteStorage(join(dataDir, 'server.sqlite'))
}

const SEED_CHUNK = 200
const SEED_PARALLEL = 4

/**
 * Accounts with a session each (one device), and the receipt settings of the workloads, through
 * the Storage interface. SQLite: one transaction. PostgreSQL (each call a round trip): transactions of
 * SEED_CHUNK accounts, SEED_PARALLEL at once on the pool, so 2,000 accounts take about a second.
 */
export async function seedAccounts(
  storage: Storage,
  userIds: readonly string[],
  settings: { requireDeliveryAck: boolean; requireReadAck: boolean } = {
    requireDeliveryAck: true,
    requireReadAck: true,
  },
): Promise<Account[]> {
  const now = Date.now()
  const hash = await passwordHash
  const accounts = userIds.map((userId) => ({
    userId,
    token: randomBytes(24).toString('base64url'),
    deviceId: `dev-${userId}`.replace(/[^A-Za-z0-9_-]/g, '_').padEnd(8, '_'),
  }))
  const seed = (chunk: readonly Account[]): Promise<void> =>
    storage.transaction(async (tx) => {
      for (const { userId, token, deviceId } of chunk) {
        await tx.insertUser({ id: userId, displayName: userId, passwordHash: hash, createdAt: now })
        await tx.updateSettings(userId, settings)
        await tx.insertSession(hashToken(token), {
          userId,
          deviceId,
          createdAt: now,
          expiresAt: now + 24 * 3600 * 1000,
          revoked: false,
        })
      }
    })
  if (storage instanceof SqliteStorage) await seed(accounts)
  else {
    const chunks: Account[][] = []
    for (let i = 0; i < accounts.length; i += SEED_CHUNK) chunks.push(accounts.slice(i, i + SEED_CHUNK))
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < chunks.length) await seed(chunks[next++] as Account[])
    }
    await Promise.all(Array.from({ length: SEED_PARALLEL }, worker))
  }
  return accounts
}
