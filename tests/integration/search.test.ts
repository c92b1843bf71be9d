/**
 * Search end to end (issue 13, H2): a real server and real engines. People found by part of their
 * name through the engine's IPC and a chat started with one; messages that arrived over the wire
 * found in the receiver's SQLite (English, and Chinese of two characters), and the history window
 * around a result far back, paged on to the newest.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { HistoryPage, MessageSearchPage } from '../../src/shared/ipc'
import type { ConversationSummary, UserProfile } from '../../src/shared/model'
import { cleanup, data, openDevice, signIn, tempDir, testServer } from './harness'

afterEach(cleanup)

const text = (t: string) => ({ type: 'text', text: t }) as const

describe('search', () => {
  it('finds people by part of their name and starts a chat with one', async () => {
    const server = await testServer()
    const named = openDevice(tempDir('bob'), server.url)
    const reg = await named.dispatch('register', [
      { serverUrl: server.url, userId: 'bob', password: 'bob-password', displayName: 'Bob Builder' },
    ])
    expect(reg.code).toBe(0)
    const alice = await signIn(server, 'alice')
    const found = data<UserProfile[]>(await alice.dispatch('searchUsers', ['BUILD', 5]))
    expect(found).toEqual([{ userId: 'bob', displayName: 'Bob Builder' }])
    const chat = data<ConversationSummary>(await alice.dispatch('startPrivateChat', ['bob']))
    expect(chat.title).toBe('Bob Builder')
    // Bad input is refused by the contract before the engine or the server see it.
    expect((await alice.dispatch('searchUsers', ['  ', 5])).code).toBe(Code.INVALID_ARGUMENT)
    expect((await alice.dispatch('searchUsers', ['bob', 500])).code).toBe(Code.INVALID_ARGUMENT)
  })

  it('finds received messages in local history and opens the page around one far back', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const toAlice = { type: 'private', targetId: 'alice' }
    const fromBob = { type: 'private', targetId: 'bob' } as const
    await bob.dispatch('sendMessage', [toAlice, text('the launch plan: 火箭 on Friday')])
    for (let i = 1; i < 60; i++) await bob.dispatch('sendMessage', [toAlice, text(`filler ${i}`)])
    await alice.until('all 60 stored', () => alice.engine.store?.conversation(fromBob)?.syncedSeq === 60)

    const english = data<MessageSearchPage>(await alice.dispatch('searchMessages', ['LAUNCH plan', {}]))
    expect(english.hits).toHaveLength(1)
    const [hit] = english.hits
    expect(hit?.message).toMatchObject({ seq: 1, senderUserId: 'bob', conversation: fromBob })
    expect(hit?.snippet.filter((p) => p.match).map((p) => p.text)).toEqual(['launch', 'plan'])
    const chinese = data<MessageSearchPage>(
      await alice.dispatch('searchMessages', ['火箭', { conversation: fromBob }]),
    )
    expect(chinese.hits.map((h) => h.message.messageId)).toEqual([hit?.message.messageId])
    const paged = data<MessageSearchPage>(await alice.dispatch('searchMessages', ['filler', { count: 50 }]))
    expect(paged.hits).toHaveLength(50)
    expect(paged.cursor).toBeDefined()
    const rest = data<MessageSearchPage>(
      await alice.dispatch('searchMessages', ['filler', { count: 50, cursor: paged.cursor }]),
    )
    expect(rest.hits).toHaveLength(9)

    const around = data<HistoryPage>(
      await alice.dispatch('getMessagesAround', [fromBob, hit?.message.messageId, 20]),
    )
    expect(around.list.at(-1)?.seq).toBe(1)
    expect(around).toMatchObject({ hasMore: false, hasNewer: true })
    const newest = around.list[0]?.seq ?? 0
    const newer = data<HistoryPage>(await alice.dispatch('getNewerMessages', [fromBob, newest, 100]))
    expect(newer.list.map((m) => m.seq)).toEqual(Array.from({ length: 60 - newest }, (_, i) => 60 - i))
    expect(newer.hasNewer).toBe(false)

    // A message of another chat, or no message at all, is refused in words.
    const group = { type: 'private', targetId: 'carol' }
    expect((await alice.dispatch('getMessagesAround', [group, hit?.message.messageId, 20])).code).toBe(
      Code.MESSAGE_NOT_FOUND,
    )
    expect((await alice.dispatch('getMessagesAround', [fromBob, 'not-an-id', 20])).code).toBe(
      Code.INVALID_ARGUMENT,
    )
    expect((await alice.dispatch('searchMessages', ['', {}])).code).toBe(Code.INVALID_ARGUMENT)
  })
})
