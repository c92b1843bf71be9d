/**
 * An Engine over a seeded profile, with no server behind it: the session points at a closed port
 * and the reconnect backoff is long, so the engine's operations run exactly as the IPC handlers
 * call them, with nothing else competing.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Engine } from '../../src/main/engine/engine'
import type Database from 'better-sqlite3'
import { Profile } from '../../src/main/engine/profile'
import { SqliteEngineStore } from '../../src/main/engine/store/sqliteStore'

const OFFLINE_SERVER = 'ws://127.0.0.1:9/ws'

/** The database file of `userId` in a profile; `signIn` also stores an offline session there. */
export function profileDatabase(
  profileDir: string,
  userId: string,
  serverUrl = OFFLINE_SERVER,
  signIn = true,
): string {
  mkdirSync(profileDir, { recursive: true })
  const profile = new Profile(profileDir)
  if (!signIn) return profile.databaseFile(serverUrl, userId)
  profile.setSession({
    serverUrl,
    userId,
    displayName: userId,
    token: 'offline-bench-token',
    expiresAt: Date.now() + 365 * 24 * 3600 * 1000,
  })
  return profile.databaseFile(serverUrl, userId)
}

export function openOfflineEngine(profileDir: string): Engine {
  const engine = new Engine({
    profileDir,
    host: 'headless',
    version: 'bench',
    defaultServerUrl: OFFLINE_SERVER,
    backoff: { minMs: 3_600_000, maxMs: 3_600_000 },
  })
  engine.start()
  return engine
}

/** A profile folder signed in as a seeded account (its device id must be the session's). */
export function writeSignedInProfile(
  profileDir: string,
  account: { userId: string; token: string; deviceId: string },
  serverUrl: string,
): void {
  mkdirSync(profileDir, { recursive: true })
  writeFileSync(
    join(profileDir, 'profile.json'),
    JSON.stringify({
      version: 1,
      deviceId: account.deviceId,
      session: {
        serverUrl,
        userId: account.userId,
        displayName: account.userId,
        token: account.token,
        expiresAt: Date.now() + 24 * 3600 * 1000,
      },
    }),
  )
}

/** The engine's SQLite connection: benchmarks seed and count in the database itself. */
export function engineDb(engine: Engine): Database.Database {
  const store = engine.store
  if (!(store instanceof SqliteEngineStore)) throw new Error('the engine has no SQLite store open')
  return store.db
}
