import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { createDispatcher, createHandlerTable, type Dispatch } from '../../src/main/hosts/handlers'
import { ProfileConfigError } from '../../src/main/engine/profile'
import { Code, codeName } from '../../src/shared/codes'
import { operationNames } from '../../src/shared/ipc'
import { fuzzRuns, fuzzTimeout } from '../fuzz/runs'

let dir: string
let engine: Engine
let dispatch: Dispatch
const logged: unknown[] = []

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-handlers-'))
  engine = new Engine({
    profileDir: dir,
    host: 'headless',
    version: '0.0.0',
    defaultServerUrl: 'ws://127.0.0.1:1/ws',
  })
  dispatch = createDispatcher(createHandlerTable(engine), (...args) => logged.push(args))
})
afterEach(async () => {
  await engine.shutdown()
  rmSync(dir, { recursive: true, force: true })
})

describe('IPC dispatcher', () => {
  it('answers an unknown operation with a typed error', async () => {
    expect(await dispatch('dropTables', [])).toMatchObject({ code: Code.UNKNOWN_OPERATION })
    expect(await dispatch('__proto__', [])).toMatchObject({ code: Code.UNKNOWN_OPERATION })
    expect(await dispatch('toString', [])).toMatchObject({ code: Code.UNKNOWN_OPERATION })
  })

  it('validates arguments before any handler runs, naming the argument', async () => {
    const res = await dispatch('sendMessage', [
      { type: 'private', targetId: 'bob' },
      { type: 'text', text: '' },
    ])
    expect(res.code).toBe(Code.INVALID_ARGUMENT)
    expect(res.msg).toMatch(/argument 2/)
    expect(await dispatch('getHistoryMessages', 'not an array')).toMatchObject({
      code: Code.INVALID_ARGUMENT,
    })
    expect(await dispatch('ackMessageRead', ['not-a-uid'])).toMatchObject({ code: Code.INVALID_ARGUMENT })
    expect(await dispatch('login', [{ serverUrl: 'http://x', userId: 'a', password: 'p' }])).toMatchObject({
      code: Code.INVALID_ARGUMENT,
    })
  })

  it('answers calls that need a session with NOT_LOGGED_IN', async () => {
    expect(await dispatch('getConversationList', [])).toMatchObject({ code: Code.NOT_LOGGED_IN })
    expect(await dispatch('getCurrentUser', [])).toEqual({ code: 0, data: null })
    expect(await dispatch('getConnectionState', [])).toEqual({ code: 0, data: { state: 'signedOut' } })
  })

  it('reports an unreachable server as a coded result, not a throw', async () => {
    const res = await dispatch('login', [
      { serverUrl: 'ws://127.0.0.1:1/ws', userId: 'alice', password: 'secret-pass' },
    ])
    expect(res.code).toBe(Code.SERVER_UNREACHABLE)
  })

  const runs = fuzzRuns(3000)
  it(
    `never throws, whatever the renderer sends (fuzzed, ${runs} calls)`,
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...operationNames, 'nope'),
          fc.oneof(fc.anything(), fc.array(fc.anything(), { maxLength: 4 })),
          async (op, args) => {
            const res = await dispatch(op, args)
            expect(typeof res.code).toBe('number')
            expect(codeName(res.code)).toBeDefined()
          },
        ),
        { numRuns: runs },
      )
      expect(logged).toEqual([])
    },
    fuzzTimeout(runs, 2),
  )
})

describe('profile file', () => {
  it('refuses a damaged profile file with a clear message and does not overwrite it', () => {
    const bad = mkdtempSync(join(tmpdir(), 'im-profile-'))
    writeFileSync(join(bad, 'profile.json'), '{"version": 1, "deviceId": 42}')
    expect(
      () => new Engine({ profileDir: bad, host: 'headless', version: '0', defaultServerUrl: '' }),
    ).toThrow(ProfileConfigError)
    rmSync(bad, { recursive: true, force: true })
  })
})
