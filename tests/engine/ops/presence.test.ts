/**
 * The engine's side of typing and presence (issue 13, H4), without sockets: coalescing of what goes
 * out, expiry of what came in, presence kept in memory, names into the store.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ok } from '../../../src/shared/codes'
import { TYPING_EXPIRE_MS, TYPING_REFRESH_MS } from '../../../src/shared/presence'
import * as presence from '../../../src/main/engine/ops/presence'
import { testContext, type TestContext } from '../fakeContext'

const withBob = { type: 'private', targetId: 'bob' } as const
const group = { type: 'group', targetId: 'g_1' } as const

/** A context whose clock the test moves. */
function clocked(): TestContext & { advance(ms: number): void } {
  const ctx = testContext()
  let now = 1_000_000
  ctx.fake.answer('typing', () => ok({}))
  return Object.assign(ctx, {
    now: () => now,
    advance(ms: number) {
      now += ms
    },
  })
}

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

describe('typing, out', () => {
  it('sends one frame per refresh interval however often the person types, and one stop', () => {
    const ctx = clocked()
    // A minute of steady typing, a keystroke every 150 ms.
    for (let t = 0; t < 60_000; t += 150) {
      presence.setTyping(ctx, withBob, true)
      ctx.advance(150)
    }
    presence.setTyping(ctx, withBob, false)
    presence.setTyping(ctx, withBob, false)
    const sent = ctx.fake.sent.filter((s) => s.op === 'typing')
    expect(sent).toHaveLength(Math.ceil(60_000 / TYPING_REFRESH_MS) + 1)
    expect(sent.at(-1)?.data).toEqual({ conversation: withBob, typing: false })
    expect(presence.typingFramesSent(ctx)).toBe(sent.length)
  })

  it('sends nothing for a stop when no start went out, and nothing without a link', () => {
    const ctx = clocked()
    presence.setTyping(ctx, withBob, false)
    ctx.fake.isOpen = false
    presence.setTyping(ctx, group, true)
    expect(ctx.fake.sent).toEqual([])
  })
})

describe('typing, in', () => {
  it('shows who types per conversation, and drops an indicator whose stop never came', () => {
    const ctx = clocked()
    presence.onTyping(ctx, { conversation: group, userId: 'bob', typing: true })
    presence.onTyping(ctx, { conversation: group, userId: 'carol', typing: true })
    expect(ctx.events('typingChanged').at(-1)).toEqual({ conversation: group, userIds: ['bob', 'carol'] })
    presence.onTyping(ctx, { conversation: group, userId: 'carol', typing: false })
    expect(ctx.events('typingChanged').at(-1)?.userIds).toEqual(['bob'])
    vi.advanceTimersByTime(TYPING_EXPIRE_MS - 1)
    expect(ctx.events('typingChanged').at(-1)?.userIds).toEqual(['bob'])
    // A refresh keeps it up; without another one it goes.
    presence.onTyping(ctx, { conversation: group, userId: 'bob', typing: true })
    vi.advanceTimersByTime(TYPING_EXPIRE_MS - 1)
    expect(ctx.events('typingChanged').at(-1)?.userIds).toEqual(['bob'])
    vi.advanceTimersByTime(1)
    expect(ctx.events('typingChanged').at(-1)).toEqual({ conversation: group, userIds: [] })
  })

  it('their message ends their indicator; a lost link ends them all', () => {
    const ctx = clocked()
    presence.onTyping(ctx, { conversation: withBob, userId: 'bob', typing: true })
    presence.messageArrived(ctx, withBob, 'bob')
    expect(ctx.events('typingChanged').at(-1)).toEqual({ conversation: withBob, userIds: [] })
    presence.onTyping(ctx, { conversation: group, userId: 'carol', typing: true })
    const before = ctx.events('typingChanged').length
    presence.disconnected(ctx)
    expect(ctx.events('typingChanged').slice(before)).toEqual([{ conversation: group, userIds: [] }])
  })
})

describe('presence and profile', () => {
  it('answers from memory while not connected, what was last heard', async () => {
    const ctx = clocked()
    ctx.fake.answer('getPresence', () =>
      ok({ presence: [{ userId: 'bob', state: 'offline' as const, lastSeenAt: 5 }] }),
    )
    expect(await presence.getPresence(ctx, ['bob'])).toEqual([
      { userId: 'bob', state: 'offline', lastSeenAt: 5 },
    ])
    presence.onPresence(ctx, { userId: 'bob', state: 'online', lastSeenAt: null })
    ctx.fake.isOpen = false
    expect(await presence.getPresence(ctx, ['bob', 'dave'])).toEqual([
      { userId: 'bob', state: 'online', lastSeenAt: null },
    ])
    expect(ctx.events('presenceChanged')).toEqual([[{ userId: 'bob', state: 'online', lastSeenAt: null }]])
  })

  it('a new name titles the single chat and is told to the renderer', () => {
    const ctx = clocked()
    ctx.store.ensureConversation(withBob, '', 1)
    presence.onUserChanged(ctx, { userId: 'bob', displayName: 'Robert' })
    expect(ctx.store.displayName('bob')).toBe('Robert')
    expect(ctx.events('conversationChanged').at(-1)?.[0]?.title).toBe('Robert')
    expect(ctx.events('userChanged')).toEqual([{ userId: 'bob', displayName: 'Robert' }])
  })
})
