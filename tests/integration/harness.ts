/**
 * Real server on port 0 + real engines, each with its own profile folder and SQLite file, over real
 * sockets. Tests wait for engine events (never sleep): `until` resolves when a condition holds,
 * re-checking it each time the engine emits anything.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type Database from 'better-sqlite3'
import { Engine, type EngineOptions } from '../../src/main/engine/engine'
import { SqliteEngineStore } from '../../src/main/engine/store/sqliteStore'
import { createDispatcher, createHandlerTable, type Dispatch } from '../../src/main/hosts/handlers'
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server'
import { eventNames, type IpcEvents } from '../../src/shared/ipc'
import { onTestBackend } from '../testStore'

const FAST_SCRYPT = { N: 1024, r: 8, p: 1 }
const cleanups: (() => Promise<void> | void)[] = []

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `im-${prefix}-`))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export async function cleanup(): Promise<void> {
  for (const fn of cleanups.splice(0).reverse()) await fn()
}

export async function testServer(options: ServerOptions = {}): Promise<RunningServer> {
  const lifted = 1e12
  const server = await onTestBackend(options, (options) =>
    startServer({
      port: 0,
      scrypt: FAST_SCRYPT,
      logLevel: 'error',
      // Many engines on one address, and bursts of traffic: those limits have tests of their own (tests/security).
      authLimits: {
        registrationsPerAddress: { perHour: lifted, burst: lifted },
        hashQueue: lifted,
        hashesPerAddress: lifted,
      },
      connectionLimits: {
        inboundBytesPerSecond: lifted,
        inboundBurstBytes: lifted,
        userInboundBytesPerSecond: lifted,
        userInboundBurstBytes: lifted,
      },
      ...options,
    }),
  )
  cleanups.push(() => server.close())
  return server
}

export interface Device {
  engine: Engine
  dispatch: Dispatch
  profileDir: string
  userId: string
  /** Resolves when `check` returns a truthy value, re-checked after every engine event. */
  until<T>(
    what: string,
    check: () => T | undefined | false | null | Promise<T | undefined | false | null>,
    timeoutMs?: number,
  ): Promise<T>
  /** Resolves with the payload of the next `event` whose payload satisfies `match`. */
  next<E extends keyof IpcEvents>(
    event: E,
    match?: (p: IpcEvents[E]) => boolean,
    timeoutMs?: number,
  ): Promise<IpcEvents[E]>
  stop(): Promise<void>
}

/**
 * The engine's SQLite connection, for tests that check the database itself (no duplicates, state
 * never moving backwards). The engine reaches it only through its EngineStore interface.
 */
export function engineDb(device: Device): Database.Database {
  const store = device.engine.store
  if (!(store instanceof SqliteEngineStore)) throw new Error(`${device.userId} has no SQLite store open`)
  return store.db
}

export function openDevice(
  profileDir: string,
  serverUrl: string,
  options: Partial<EngineOptions> = {},
): Device {
  const engine = new Engine({
    profileDir,
    host: 'headless',
    // Delivery receipts at once (the random hold against timing probes has tests of its own).
    deliveryReceiptDelay: { minMs: 0, maxMs: 0 },
    version: 'test',
    defaultServerUrl: serverUrl,
    backoff: { minMs: 20, maxMs: 200 },
    requestTimeoutMs: 5000,
    ...options,
  })
  const dispatch = createDispatcher(createHandlerTable(engine))
  let stopped = false
  const device: Device = {
    engine,
    dispatch,
    profileDir,
    get userId() {
      return engine.userId ?? ''
    },
    until(what, check, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        let done = false
        const finish = (fn: () => void): void => {
          if (done) return
          done = true
          clearTimeout(timer)
          offs.forEach((f) => f())
          fn()
        }
        const evaluate = (): void => {
          Promise.resolve(check()).then(
            (v) => v && finish(() => resolve(v)),
            (err: unknown) => finish(() => reject(err)),
          )
        }
        const timer = setTimeout(
          () => finish(() => reject(new Error(`timed out waiting for ${what}`))),
          timeoutMs,
        )
        const offs = eventNames.map((e) => {
          engine.on(e, evaluate)
          return () => engine.off(e, evaluate)
        })
        evaluate()
      })
    },
    next(event, match = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        // EventEmitter's generic overloads cannot narrow a handler over a generic event name.
        const emitter = engine as unknown as NodeJS.EventEmitter
        const timer = setTimeout(() => {
          emitter.off(event, handler)
          reject(new Error(`timed out waiting for ${event}`))
        }, timeoutMs)
        const handler = (payload: IpcEvents[typeof event]): void => {
          if (!match(payload)) return
          clearTimeout(timer)
          emitter.off(event, handler)
          resolve(payload)
        }
        emitter.on(event, handler)
      })
    },
    async stop() {
      if (stopped) return
      stopped = true
      await engine.shutdown()
    },
  }
  cleanups.push(() => device.stop())
  return device
}

/** Registers (if needed) and signs in `userId` on a fresh profile; resolves once synced and connected. */
export async function signIn(
  server: Pick<RunningServer, 'url'>,
  userId: string,
  profileDir = tempDir(userId),
  options: Partial<EngineOptions> = {},
): Promise<Device> {
  const device = openDevice(profileDir, server.url, options)
  const password = `${userId}-password`
  const reg = await device.dispatch('register', [{ serverUrl: server.url, userId, password }])
  if (reg.code !== 0 && reg.code !== 2003) throw new Error(`register ${userId}: ${reg.msg}`)
  const connected = device.until('connected', () => device.engine.connectionState.state === 'connected')
  const res = await device.dispatch('login', [{ serverUrl: server.url, userId, password }])
  if (res.code !== 0) throw new Error(`login ${userId}: ${res.msg}`)
  await connected
  return device
}

/** Reopens an existing profile (an app restart); resolves once synced and connected. */
export async function reopen(
  profileDir: string,
  server: { url: string },
  options: Partial<EngineOptions> = {},
): Promise<Device> {
  const device = openDevice(profileDir, server.url, options)
  const connected = device.until('connected', () => device.engine.connectionState.state === 'connected')
  device.engine.start()
  await connected
  return device
}

export function data<T>(res: { code: number; msg?: string; data?: unknown }): T {
  if (res.code !== 0) throw new Error(`call failed with ${res.code}: ${res.msg}`)
  return res.data as T
}
