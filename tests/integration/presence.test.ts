/**
 * Typing, presence and profile through real engines and a real server (issue 13, H4): what each
 * engine is told, and that what a privacy setting hides never reaches another engine.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { IpcEvents } from '../../src/shared/ipc'
import type { ConversationSummary, GroupInfo } from '../../src/shared/model'
import type { PresenceInfo } from '../../src/shared/presence'
import { cleanup, data, signIn, testServer, type Device } from './harness'

afterEach(cleanup)

const chatWith = (targetId: string) => ({ type: 'private', targetId }) as const

async function summaryOf(d: Device, targetId: string): Promise<ConversationSummary | undefined> {
  return data<ConversationSummary[]>(await d.dispatch('getConversationList', [])).find(
    (c) => c.conversation.targetId === targetId,
  )
}

/** Every payload of `event` the device emits from now on. */
function record<E extends keyof IpcEvents>(d: Device, event: E): IpcEvents[E][] {
  const seen: IpcEvents[E][] = []
  ;(d.engine as unknown as NodeJS.EventEmitter).on(event, (p: IpcEvents[E]) => seen.push(p))
  return seen
}

/** A first message makes the two contacts. */
async function meet(a: Device, b: Device): Promise<void> {
  data(await a.dispatch('sendMessage', [chatWith(b.userId), { type: 'text', text: 'hello' }]))
  await b.until('the chat arrives', async () => (await summaryOf(b, a.userId)) !== undefined || undefined)
}

describe('typing and presence between engines', () => {
  it('typing is coalesced and shown; presence follows the devices of a user', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await meet(alice, bob)
    const typing = record(bob, 'typingChanged')
    for (let i = 0; i < 20; i++) data(await alice.dispatch('setTyping', [chatWith('bob'), true]))
    await bob.until('alice types', () => typing.some((t) => t.userIds.includes('alice')) || undefined)
    data(await alice.dispatch('setTyping', [chatWith('bob'), false]))
    await bob.until('alice stopped', () => typing.at(-1)?.userIds.length === 0 || undefined)
    // Twenty calls, one start and one stop on the wire.
    expect(typing).toEqual([
      { conversation: chatWith('alice'), userIds: ['alice'] },
      { conversation: chatWith('alice'), userIds: [] },
    ])

    expect(data<PresenceInfo[]>(await alice.dispatch('getPresence', [['bob']]))).toEqual([
      { userId: 'bob', state: 'online', lastSeenAt: null },
    ])
    const offline = alice.next('presenceChanged', (p) =>
      p.some((i) => i.userId === 'bob' && i.state === 'offline'),
    )
    await bob.stop()
    expect((await offline)[0]?.lastSeenAt).toEqual(expect.any(Number))
  })

  it('what a privacy setting hides never reaches the other engine', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const carol = await signIn(server, 'carol')
    await meet(bob, alice)
    await meet(carol, alice)
    const hidden = alice.next('presenceChanged', (p) =>
      p.some((i) => i.userId === 'bob' && i.state === 'hidden'),
    )
    data(await bob.dispatch('updatePrivacySettings', [{ typing: 'nobody', presence: 'nobody' }]))
    await hidden
    const presence = record(alice, 'presenceChanged')
    const typing = record(alice, 'typingChanged')

    data(await bob.dispatch('setTyping', [chatWith('alice'), true]))
    await bob.stop()
    // Carol's typing and going offline come after Bob's would have (one socket, one announcer).
    data(await carol.dispatch('setTyping', [chatWith('alice'), true]))
    await alice.until('carol types', () => typing.some((t) => t.userIds.includes('carol')) || undefined)
    await carol.stop()
    await alice.until(
      'carol offline',
      () => presence.some((p) => p.some((i) => i.userId === 'carol' && i.state === 'offline')) || undefined,
    )
    expect(typing.filter((t) => t.userIds.includes('bob'))).toEqual([])
    expect(presence.flat().filter((i) => i.userId === 'bob')).toEqual([])
    expect(data<PresenceInfo[]>(await alice.dispatch('getPresence', [['bob']]))).toEqual([
      { userId: 'bob', state: 'hidden', lastSeenAt: null },
    ])
  })
})

describe('profile between engines', () => {
  it('a new display name titles the chat on the other side, live', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await meet(alice, bob)
    const renamed = data(await bob.dispatch('updateProfile', ['Robert']))
    expect(renamed).toEqual({ userId: 'bob', displayName: 'Robert' })
    await alice.until(
      'the chat is titled Robert',
      async () => (await summaryOf(alice, 'bob'))?.title === 'Robert' || undefined,
    )
    expect(data(await bob.dispatch('getCurrentUser', []))).toMatchObject({ user: { displayName: 'Robert' } })
  })

  it('a plain member cannot rename the group; the owner can, and members see it', async () => {
    const server = await testServer()
    const owner = await signIn(server, 'owner')
    const member = await signIn(server, 'member')
    const group = data<GroupInfo>(await owner.dispatch('createGroup', ['Before', ['member']]))
    await member.until(
      'in the group',
      async () => (await summaryOf(member, group.groupId)) !== undefined || undefined,
    )
    const refused = await member.dispatch('renameGroup', [group.groupId, 'Mine now'])
    expect(refused.code).toBe(Code.PERMISSION_DENIED)
    expect(data<GroupInfo>(await owner.dispatch('renameGroup', [group.groupId, 'After'])).name).toBe('After')
    await member.until(
      'renamed',
      async () => (await summaryOf(member, group.groupId))?.title === 'After' || undefined,
    )
    expect((await member.dispatch('renameGroup', [group.groupId, ''])).code).toBe(Code.INVALID_ARGUMENT)
  })

  it('a password change needs the current one and signs my other device out', async () => {
    const server = await testServer()
    const laptop = await signIn(server, 'dana')
    const phone = await signIn(server, 'dana')
    const wrong = await laptop.dispatch('changePassword', ['not my password', 'a new password'])
    expect(wrong.code).toBe(Code.AUTH_FAILED)
    const ended = phone.next('sessionEnded')
    expect(data(await laptop.dispatch('changePassword', ['dana-password', 'a new password']))).toEqual({
      sessionsEnded: 1,
    })
    expect(await ended).toEqual({ reason: 'revoked' })
    expect(laptop.engine.connectionState.state).toBe('connected')
  })
})
