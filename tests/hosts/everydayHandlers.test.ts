/**
 * The IPC operations of drafts and notifications (issue 13) at the handler table: arguments checked
 * by the contract before any handler runs, typed errors, and showNotification per host.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Engine } from '../../src/main/engine/engine'
import { createDispatcher, createHandlerTable, type Dispatch } from '../../src/main/hosts/handlers'
import { Code } from '../../src/shared/codes'
import type { NotificationRequest } from '../../src/shared/ipc'
import { LIMITS } from '../../src/shared/model'

const BOB = { type: 'private', targetId: 'bob' }
const request: NotificationRequest = {
  conversation: { type: 'private', targetId: 'bob' },
  title: 'Bob',
  body: 'hi',
}

let dir: string
let engine: Engine
let dispatch: Dispatch

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'im-h5-handlers-'))
  engine = new Engine({
    profileDir: dir,
    host: 'headless',
    version: '0.0.0',
    defaultServerUrl: 'ws://127.0.0.1:1/ws',
  })
  dispatch = createDispatcher(createHandlerTable(engine), () => undefined)
})
afterEach(async () => {
  await engine.shutdown()
  rmSync(dir, { recursive: true, force: true })
})

describe('drafts and notification status over IPC', () => {
  it('checks arguments before anything runs', async () => {
    const tooLong = 'x'.repeat(LIMITS.textMax + 1)
    for (const [op, args] of [
      ['saveTextMessageDraft', [BOB, tooLong]],
      ['saveTextMessageDraft', [BOB]],
      ['getTextMessageDraft', [{ type: 'channel', targetId: 'bob' }]],
      ['setConversationNotificationStatus', [BOB, 'sometimes']],
      ['ackConversationRead', [BOB, -1]],
      ['ackConversationRead', [BOB, 1.5]],
      ['showNotification', [{ ...request, title: 'x'.repeat(201) }]],
    ] as const)
      expect(await dispatch(op, args), op).toMatchObject({ code: Code.INVALID_ARGUMENT })
  })

  it('needs a session', async () => {
    expect(await dispatch('saveTextMessageDraft', [BOB, 'hi'])).toMatchObject({ code: Code.NOT_LOGGED_IN })
    expect(await dispatch('setConversationNotificationStatus', [BOB, 'doNotDisturb'])).toMatchObject({
      code: Code.NOT_LOGGED_IN,
    })
  })
})

describe('showNotification', () => {
  it('is not shown by a host without notifications (headless: the page shows it)', async () => {
    expect(await dispatch('showNotification', [request])).toEqual({ code: 0, data: { shown: false } })
  })

  it('is handed to the host that has them (Electron), as validated', async () => {
    const shown: NotificationRequest[] = []
    const electron = createDispatcher(
      createHandlerTable(engine, {
        showNotification: (r) => {
          shown.push(r)
          return true
        },
      }),
    )
    expect(await electron('showNotification', [request])).toEqual({ code: 0, data: { shown: true } })
    expect(shown).toEqual([request])
  })
})
