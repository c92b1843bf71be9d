// @vitest-environment happy-dom
import { createTestingPinia } from '@pinia/testing'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import { useConnectionStore } from '@renderer/stores/connection'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useGroupsStore } from '@renderer/stores/groups'
import { useMessagesStore } from '@renderer/stores/messages'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import {
  groupChat,
  makeGroupInfo,
  makeMessage,
  makeSent,
  makeSummary,
  ME,
  PEER,
  privateChat,
} from './fixtures'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  // Real actions against the fake API: these tests are about what the actions do to the state.
  createTestingPinia({ stubActions: false, createSpy: vi.fn })
})

const session = {
  user: { userId: ME, displayName: 'Alice' },
  serverUrl: 'ws://127.0.0.1:7700/ws',
  deviceId: 'd1',
}

async function signedIn() {
  im.respond('getCurrentUser', () => ok(session))
  const store = useSessionStore()
  await store.init()
  return store
}

describe('session store', () => {
  it('loads the app info, the current user and the settings once', async () => {
    const store = await signedIn()
    expect(store.appInfo?.defaultServerUrl).toBe('ws://127.0.0.1:7700/ws')
    expect(store.userId).toBe(ME)
    expect(store.settings).toEqual({
      requireDeliveryAck: false,
      requireReadAck: false,
      shareReadReceipts: true,
    })
    expect(store.ready).toBe(true)
  })

  it('signs in automatically after signing up', async () => {
    im.respond('register', ({ userId }) => ok({ userId, displayName: 'Alice' }))
    im.respond('login', () => ok(session))
    const store = useSessionStore()
    const result = await store.register({ serverUrl: session.serverUrl, userId: ME, password: 'secret-pw' })
    expect(result.code).toBe(0)
    expect(im.callsOf('login')).toEqual([
      [{ serverUrl: session.serverUrl, userId: ME, password: 'secret-pw' }],
    ])
    expect(store.session).toEqual(session)
  })

  it('keeps a failed sign-up as a value and does not sign in', async () => {
    im.respond('register', () => ({ code: Code.USER_EXISTS, msg: 'taken' }))
    const store = useSessionStore()
    const result = await store.register({ serverUrl: session.serverUrl, userId: ME, password: 'secret-pw' })
    expect(result).toEqual({ code: Code.USER_EXISTS, msg: 'taken' })
    expect(im.callsOf('login')).toHaveLength(0)
  })

  it('turns a rejected transport call into a result', async () => {
    im.respond('login', () => Promise.reject(new Error('socket closed')))
    const result = await useSessionStore().login({ serverUrl: session.serverUrl, userId: ME, password: 'x' })
    expect(result).toEqual({ code: Code.INTERNAL, msg: 'socket closed' })
  })

  it('applies pushed settings and the end of the session', async () => {
    const store = await signedIn()
    im.emit('settingsChanged', { requireDeliveryAck: true, requireReadAck: false, shareReadReceipts: true })
    expect(store.settings?.requireDeliveryAck).toBe(true)
    im.emit('sessionEnded', { reason: 'revoked' })
    expect(store.session).toBeNull()
    expect(store.endedReason).toBe('revoked')
  })
})

describe('connection store', () => {
  it('loads the state, then follows pushed states and sync progress', async () => {
    im.respond('getConnectionState', () => ok({ state: 'connecting' }))
    const store = useConnectionStore()
    await store.start()
    expect(store.state).toBe('connecting')
    im.emit('connectionState', { state: 'syncing' })
    im.emit('syncProgress', { done: 10, total: 500 })
    expect(store.backlogProgress).toEqual({ done: 10, total: 500 })
    im.emit('connectionState', { state: 'connected' })
    expect(store.backlogProgress).toBeNull()
  })

  it('does not let a slow initial load overwrite a newer pushed state', async () => {
    let answer: (value: ReturnType<typeof ok<{ state: 'connecting' }>>) => void = () => {}
    im.respond('getConnectionState', () => new Promise((resolve) => (answer = resolve)))
    const store = useConnectionStore()
    const started = store.start()
    im.emit('connectionState', { state: 'connected' })
    answer(ok({ state: 'connecting' }))
    await started
    expect(store.state).toBe('connected')
  })

  it('removes its event handlers when stopped', async () => {
    const store = useConnectionStore()
    await store.start()
    expect(im.listenerCount('connectionState')).toBe(1)
    store.stop()
    expect(im.listenerCount('connectionState')).toBe(0)
    expect(im.listenerCount('syncProgress')).toBe(0)
  })
})

describe('conversations store', () => {
  it('loads the list, applies pushed changes and sums the unread counts', async () => {
    const group = makeSummary({ conversation: groupChat, title: 'Team', unreadCount: 2, updatedAt: 2 })
    im.respond('getConversationList', () => ok([makeSummary({ unreadCount: 1, updatedAt: 1 }), group]))
    const store = useConversationsStore()
    await store.start()
    expect(store.list.map((c) => c.title)).toEqual(['Team', 'Bob'])
    expect(store.unreadTotal).toBe(3)

    im.emit('conversationChanged', [makeSummary({ unreadCount: 4, updatedAt: 3 })])
    expect(store.list.map((c) => c.title)).toEqual(['Bob', 'Team'])
    expect(store.unreadTotal).toBe(6)
  })

  it('keeps a summary pushed while the list was loading', async () => {
    let answer: (value: ReturnType<typeof ok<ReturnType<typeof makeSummary>[]>>) => void = () => {}
    im.respond('getConversationList', () => new Promise((resolve) => (answer = resolve)))
    const store = useConversationsStore()
    const started = store.start()
    im.emit('conversationChanged', [makeSummary({ unreadCount: 5 })])
    answer(ok([makeSummary({ unreadCount: 0 })]))
    await started
    expect(store.unreadTotal).toBe(5)
  })

  it('opens a private chat, or keeps the error as a value', async () => {
    const store = useConversationsStore()
    im.respond('startPrivateChat', () => ({ code: Code.USER_NOT_FOUND, msg: 'No user with that id.' }))
    expect((await store.startPrivateChat('nobody')).code).toBe(Code.USER_NOT_FOUND)
    expect(store.activeKey).toBeNull()

    im.respond('startPrivateChat', (userId) =>
      ok(makeSummary({ conversation: { type: 'private', targetId: userId } })),
    )
    await store.startPrivateChat(PEER)
    expect(store.activeKey).toBe(`private:${PEER}`)
    expect(store.active?.title).toBe('Bob')
  })
})

describe('messages store', () => {
  it('shows a history page oldest first and pages back with beforeSeq', async () => {
    const newest = [makeMessage({ seq: 30 }), makeMessage({ seq: 29 })]
    im.respond('getHistoryMessages', (_conversation, options) =>
      ok(
        options?.beforeSeq === 29
          ? { list: [makeMessage({ seq: 28 })], hasMore: false }
          : { list: newest, hasMore: true },
      ),
    )
    const store = useMessagesStore()
    await store.open(privateChat)
    expect(store.get(privateChat)?.list.map((m) => m.seq)).toEqual([29, 30])
    expect(store.get(privateChat)?.hasMore).toBe(true)

    await store.loadOlder(privateChat)
    expect(im.callsOf('getHistoryMessages')[1]).toEqual([privateChat, { beforeSeq: 29, count: 30 }])
    expect(store.get(privateChat)?.list.map((m) => m.seq)).toEqual([28, 29, 30])
    expect(store.get(privateChat)?.hasMore).toBe(false)
  })

  it('inserts pushed messages and replaces them by messageId', async () => {
    const history = makeSent({ seq: 1 })
    im.respond('getHistoryMessages', () => ok({ list: [history], hasMore: false }))
    const store = useMessagesStore()
    store.start()
    await store.open(privateChat)

    const received = makeMessage({ seq: 2 })
    im.emit('messageReceived', [received])
    const delivered = im.change(history, { isDelivered: true, deliveredTime: 5 })
    im.change(delivered, { isReceiverRead: true, readTime: 6 })

    const list = store.get(privateChat)?.list ?? []
    expect(list.map((m) => m.messageId)).toEqual([history.messageId, received.messageId])
    expect(list[0]).toMatchObject({ isDelivered: true, deliveredTime: 5, isReceiverRead: true, readTime: 6 })
  })

  it('never moves a message backwards when copies arrive out of order', async () => {
    im.respond('getHistoryMessages', () => ok({ list: [], hasMore: true }))
    const store = useMessagesStore()
    store.start()
    await store.open(privateChat)
    const sending = makeSent({ seq: null, messageUId: null, status: 'sending', revision: 1 })
    im.respond('sendMessage', () => ok(sending))
    // The engine's "sent" (and a receipt) get here before its answer to sendMessage.
    im.emit('messagesChanged', [
      { ...sending, revision: 3, status: 'sent', seq: 7, messageUId: 'TEST-0000-0000-0007' },
    ])
    await store.send(privateChat, 'hi')
    expect(store.get(privateChat)?.list).toEqual([
      expect.objectContaining({ messageId: sending.messageId, status: 'sent', seq: 7, revision: 3 }),
    ])
    // A history page holding an older copy does not undo it either.
    im.respond('getHistoryMessages', () => ok({ list: [sending], hasMore: false }))
    await store.loadOlder(privateChat)
    expect(store.get(privateChat)?.list[0]).toMatchObject({ status: 'sent', revision: 3 })
  })

  it('takes message state from messagesChanged, not from the SDK-named receipt events', async () => {
    const mine = makeSent({ seq: 1 })
    im.respond('getHistoryMessages', () => ok({ list: [mine], hasMore: false }))
    const store = useMessagesStore()
    store.start()
    await store.open(privateChat)
    for (const event of [
      'messageDelivered',
      'messageRead',
      'conversationRead',
      'groupMessageRead',
    ] as const) {
      expect(im.listenerCount(event), event).toBe(0)
    }
    im.emit('messageRead', [{ ...mine, revision: 9, isDelivered: true, isReceiverRead: true, readTime: 6 }])
    expect(store.get(privateChat)?.list[0].isReceiverRead).toBe(false)

    im.change(mine, { isDelivered: true, deliveredTime: 5, isReceiverRead: true, readTime: 6 })
    expect(store.get(privateChat)?.list[0]).toMatchObject({ isReceiverRead: true, readTime: 6 })
  })

  it('ignores events for conversations that were never opened', () => {
    const store = useMessagesStore()
    store.start()
    im.emit('messageReceived', [makeMessage({ conversation: groupChat })])
    expect(store.get(groupChat)).toBeUndefined()
  })

  it('clears unread after a read mark from my other device when the engine says so', async () => {
    const mine = [makeSent({ seq: 1 }), makeSent({ seq: 3 })]
    const theirs = makeMessage({ seq: 2, isUnread: true })
    im.respond('getCurrentUser', () => ok(session))
    await useSessionStore().init()
    im.respond('getHistoryMessages', () => ok({ list: [mine[1], theirs, mine[0]], hasMore: false }))
    const store = useMessagesStore()
    store.start()
    await store.open(privateChat)

    // Read marks are notifications: the engine says which messages turned read.
    im.emit('conversationRead', { conversation: privateChat, from: PEER, to: ME, seq: 1 })
    im.emit('conversationRead', { conversation: privateChat, from: ME, to: PEER, seq: 3 })
    expect(store.get(privateChat)?.list.map((m) => m.isReceiverRead)).toEqual([false, false, false])
    expect(store.get(privateChat)?.list[1].isUnread).toBe(true)

    im.change(theirs, { isUnread: false })
    expect(store.get(privateChat)?.list[1].isUnread).toBe(false)
  })
})

describe('groups store', () => {
  const members = [
    { userId: ME, displayName: 'Alice', role: 'owner' as const, joinedAt: 1 },
    { userId: PEER, displayName: 'Bob', role: 'member' as const, joinedAt: 2 },
  ]

  it('loads members and knows my role', async () => {
    await signedIn()
    im.respond('getGroupMembers', () => ok(members))
    const store = useGroupsStore()
    await store.loadMembers('g_team')
    expect(store.myRole('g_team')).toBe('owner')
    expect(store.displayName('g_team', PEER)).toBe('Bob')
    expect(store.hasLeft('g_team')).toBe(false)
  })

  it('knows when I left or was removed', async () => {
    await signedIn()
    const store = useGroupsStore()
    store.start()
    im.respond('getGroupMembers', () => ({ code: Code.NOT_A_MEMBER, msg: 'not a member' }))
    await store.loadMembers('g_old')
    expect(store.hasLeft('g_old')).toBe(true)

    const info = makeGroupInfo({ ownerId: PEER })
    im.emit('groupChanged', { groupId: 'g_team', group: { ...info, myRole: 'member' } })
    expect(store.hasLeft('g_team')).toBe(false)
    im.emit('groupChanged', { groupId: 'g_team', group: info })
    expect(store.hasLeft('g_team')).toBe(true)
  })

  it('refreshes members after a change and keeps errors as values', async () => {
    await signedIn()
    const store = useGroupsStore()
    const info = makeGroupInfo({ myRole: 'owner' })
    im.respond('addGroupMembers', () => ok(info))
    im.respond('getGroupMembers', () => ok(members))
    await store.addMembers('g_team', [PEER])
    expect(store.members('g_team')).toEqual(members)

    im.respond('removeGroupMembers', () => ({ code: Code.PERMISSION_DENIED, msg: 'denied' }))
    expect((await store.removeMembers('g_team', [PEER])).code).toBe(Code.PERMISSION_DENIED)
  })

  it('loads the group info, and keeps a groupChanged that arrives while it loads', async () => {
    await signedIn()
    const store = useGroupsStore()
    store.start()
    const info = makeGroupInfo({ myRole: 'owner' })
    im.respond('getGroupInfo', () => ok(info))
    await store.loadInfo('g_team')
    expect(store.info('g_team')).toEqual(info)

    const newer = { ...info, receiptSettings: { ...info.receiptSettings, enabled: false } }
    let answer: (value: ReturnType<typeof ok<typeof info>>) => void = () => undefined
    im.respond('getGroupInfo', () => new Promise((resolve) => (answer = resolve)))
    const loading = store.loadInfo('g_team')
    im.emit('groupChanged', { groupId: 'g_team', group: newer })
    answer(ok(info))
    await loading
    expect(store.info('g_team')?.receiptSettings.enabled).toBe(false)
  })

  it('saves receipt settings and keeps the answer as the group info', async () => {
    await signedIn()
    const store = useGroupsStore()
    const info = makeGroupInfo({ myRole: 'owner' })
    const saved = { ...info, receiptSettings: { ...info.receiptSettings, maxGroupSize: 20 } }
    im.respond('setGroupReceiptSettings', () => ok(saved))
    expect((await store.setReceiptSettings('g_team', { maxGroupSize: 20 })).code).toBe(0)
    expect(im.callsOf('setGroupReceiptSettings')).toEqual([['g_team', { maxGroupSize: 20 }]])
    expect(store.info('g_team')).toEqual(saved)
  })
})
