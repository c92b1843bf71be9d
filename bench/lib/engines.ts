/**
 * Many real engines in this process, each with its own profile folder and SQLite file, signed in with
 * seeded sessions (bench/lib/server.ts), for scenarios that need the engine's own receipt logic.
 */
import { join } from 'node:path'
import { Engine } from '../../src/main/engine/engine'
import { writeSignedInProfile } from './engineProfile'
import type { Account } from './server'
import { sleep } from './stats'
import { pool } from './wire'

export async function startEngines(
  dir: string,
  serverUrl: string,
  accounts: readonly Account[],
): Promise<Engine[]> {
  return pool(accounts, 16, async (account) => {
    const profileDir = join(dir, account.userId)
    writeSignedInProfile(profileDir, account, serverUrl)
    const engine = new Engine({
      profileDir,
      host: 'headless',
      version: 'bench',
      defaultServerUrl: serverUrl,
      requestTimeoutMs: 60_000,
      backoff: { minMs: 200, maxMs: 2000 },
    })
    const connected = new Promise<void>((resolve, reject) => {
      const on = (s: { state: string; detail?: string }): void => {
        if (s.state === 'connected') {
          engine.off('connectionState', on)
          resolve()
        }
        if (s.state === 'unauthorized') reject(new Error(`${account.userId}: ${s.detail ?? 'unauthorized'}`))
      }
      engine.on('connectionState', on)
    })
    engine.start()
    await connected
    return engine
  })
}

/** Polls `check` every 20 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now()
  while (!check()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

export async function stopEngines(engines: readonly Engine[]): Promise<void> {
  await Promise.all(engines.map((e) => e.shutdown()))
}
