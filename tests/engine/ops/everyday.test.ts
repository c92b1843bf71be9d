/**
 * Drafts, per-chat notification status and a conversation read receipt that covers only what was
 * shown (issue 13), on an in-memory store: the engine's ops, the store behind them, migration 7.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  clearTextMessageDraft,
  getConversationNotificationStatus,
  getTextMessageDraft,
  saveTextMessageDraft,
  setConversationNotificationStatus,
} from '../../../src/main/engine/ops/everyday'
import { ackConversationRead } from '../../../src/main/engine/ops/receipts'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'
import { Code, CodedError } from '../../../src/shared/codes'
import { ME, testContext, wire, type TestContext } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const
const NOBODY = { type: 'private', targetId: 'nobody' } as const

describe('drafts (RongCloud saveTextMessageDraft, getTextMessageDraft, clearTextMessageDraft)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
    ctx.store.storeServerMessages(ME, [wire(1)], 1)
  })
  afterEach(() => ctx.store.close())

  it('keeps a draft, shows it in the summary without moving the chat, and clears it', () => {
    const before = ctx.store.summary(BOB)
    expect(before).toMatchObject({ draft: '' })
    saveTextMessageDraft(ctx, BOB, 'half a thought')
    expect(getTextMessageDraft(ctx, BOB)).toBe('half a thought')
    const [summary] = ctx.events('conversationChanged').at(-1) ?? []
    expect(summary).toMatchObject({ conversation: BOB, draft: 'half a thought' })
    // Typing does not reorder the chat list.
    expect(summary?.updatedAt).toBe(before?.updatedAt)
    expect(ctx.store.listConversations()[0]).toMatchObject({ draft: 'half a thought' })

    clearTextMessageDraft(ctx, BOB)
    expect(getTextMessageDraft(ctx, BOB)).toBe('')
    expect(ctx.events('conversationChanged').at(-1)?.[0]).toMatchObject({ draft: '' })
  })

  it('tells the renderer only about changes, and takes whitespace as no draft', () => {
    saveTextMessageDraft(ctx, BOB, 'same')
    saveTextMessageDraft(ctx, BOB, 'same')
    expect(ctx.events('conversationChanged')).toHaveLength(1)
    saveTextMessageDraft(ctx, BOB, '  \n ')
    expect(getTextMessageDraft(ctx, BOB)).toBe('')
  })

  it('refuses a conversation this device does not have, with a typed error', () => {
    for (const call of [
      () => saveTextMessageDraft(ctx, NOBODY, 'x'),
      () => getTextMessageDraft(ctx, NOBODY),
      () => clearTextMessageDraft(ctx, NOBODY),
    ])
      expect(call).toThrow(expect.objectContaining({ code: Code.NOT_A_MEMBER }) as CodedError)
  })
})

describe('drafts and mute survive a restart (engine migration 7)', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'h5-drafts-'))
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('reads back what was written before closing', () => {
    const file = join(dir, 'profile.db')
    const first = new SqliteEngineStore(file)
    first.storeServerMessages(ME, [wire(1)], 1)
    first.saveDraft(BOB, 'see you at 5', 10)
    first.setNotificationStatus(BOB, 'doNotDisturb')
    first.close()

    const again = new SqliteEngineStore(file)
    expect(again.summary(BOB)).toMatchObject({ draft: 'see you at 5', notificationStatus: 'doNotDisturb' })
    again.close()
  })
})

describe('setConversationNotificationStatus (RongCloud), Easemob "do not disturb"', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
    ctx.store.storeServerMessages(ME, [wire(1)], 1)
  })
  afterEach(() => ctx.store.close())

  it('notifies by default, mutes and unmutes, and answers with the summary', () => {
    expect(getConversationNotificationStatus(ctx, BOB)).toBe('notify')
    const muted = setConversationNotificationStatus(ctx, BOB, 'doNotDisturb')
    expect(muted).toMatchObject({ conversation: BOB, notificationStatus: 'doNotDisturb', unreadCount: 1 })
    expect(ctx.events('conversationChanged').at(-1)).toEqual([muted])
    expect(getConversationNotificationStatus(ctx, BOB)).toBe('doNotDisturb')
    expect(setConversationNotificationStatus(ctx, BOB, 'notify').notificationStatus).toBe('notify')
  })

  it('refuses an unknown conversation, writing nothing', () => {
    expect(() => setConversationNotificationStatus(ctx, NOBODY, 'doNotDisturb')).toThrow(
      expect.objectContaining({ code: Code.NOT_A_MEMBER }) as CodedError,
    )
    expect(() => getConversationNotificationStatus(ctx, NOBODY)).toThrow(
      expect.objectContaining({ code: Code.NOT_A_MEMBER }) as CodedError,
    )
    expect(ctx.emitted).toEqual([])
  })
})

describe('ackConversationRead up to what was shown (issue 13)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
  })
  afterEach(() => ctx.store.close())

  it('reads only up to upToSeq: the rest stays unread and counted, and the receipt says that far', () => {
    const backlog = Array.from({ length: 50 }, (_, i) => wire(i + 1, { needReadAck: true }))
    ctx.store.storeServerMessages(ME, backlog, 1)
    ackConversationRead(ctx, BOB, 12)
    expect(ctx.store.conversation(BOB)).toMatchObject({ readSeq: 12, unreadCount: 38 })
    expect(ctx.store.outbox('ackConversationRead', 10).map((j) => JSON.parse(j.payload) as unknown)).toEqual([
      { conversation: BOB, seq: 12 },
    ])
    expect(ctx.events('conversationChanged').at(-1)?.[0]).toMatchObject({ unreadCount: 38 })

    // Scrolling further moves it on; without upToSeq, everything (the old call still works).
    ackConversationRead(ctx, BOB, 30)
    expect(ctx.store.conversation(BOB)).toMatchObject({ readSeq: 30, unreadCount: 20 })
    ackConversationRead(ctx, BOB)
    expect(ctx.store.conversation(BOB)).toMatchObject({ readSeq: 50, unreadCount: 0 })
  })

  it('never moves the read mark back', () => {
    ctx.store.storeServerMessages(ME, [wire(1), wire(2), wire(3)], 1)
    ackConversationRead(ctx, BOB, 3)
    ackConversationRead(ctx, BOB, 1)
    expect(ctx.store.conversation(BOB)).toMatchObject({ readSeq: 3, unreadCount: 0 })
  })
})
