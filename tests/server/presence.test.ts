/**
 * Typing, presence, privacy settings and profile on the server (issue 13, H4): who hears what, and
 * the hostile cases (typing where one is not a member, a plain member renaming a group, a wrong
 * current password), each a typed error that changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { http } from '../../src/shared/protocol'
import type { RunningServer } from '../../src/server/server'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import { RELATED_SQL } from '../../src/server/storage/presence'
import { api, clientMsgId, connectOne, login, startTestServer, TestClient, text } from './helpers'

const PASSWORD = 'correct horse battery'

let server: RunningServer
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.close())

/** A single chat exists from its first message on: the two are contacts from then on. */
async function chat(a: TestClient, b: TestClient): Promise<void> {
  await a.call('sendMessage', {
    clientMsgId: clientMsgId(),
    conversation: { type: 'private', targetId: b.userId },
    content: text('hi'),
  })
  await b.nextPush('message')
}

/** The typing pushes a client has received and not taken, once all sent before now have arrived. */
async function typingAfterBarrier(client: TestClient) {
  await client.barrier()
  return client.livePushes.filter((p) => p.event === 'typing')
}

const online = (userId: string) => (p: { userId: string; state: string }) =>
  p.userId === userId && p.state === 'online'

describe('typing', () => {
  it('reaches the peer of a single chat, named as they see it, and nobody else', async () => {
    const [alice, bob, carol] = [await connectOne(server), await connectOne(server), await connectOne(server)]
    await chat(alice, bob)
    await alice.call('typing', { conversation: { type: 'private', targetId: bob.userId }, typing: true })
    expect((await bob.nextPush('typing')).data).toEqual({
      conversation: { type: 'private', targetId: alice.userId },
      userId: alice.userId,
      typing: true,
    })
    await alice.call('typing', { conversation: { type: 'private', targetId: bob.userId }, typing: false })
    expect((await bob.nextPush('typing')).data.typing).toBe(false)
    expect(await typingAfterBarrier(carol)).toEqual([])
  })

  it('in a group follows the typer’s setting: everyone, contacts only, nobody', async () => {
    const [owner, contact, other] = [
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
    ]
    await chat(owner, contact)
    const { group } = await owner.call('createGroup', {
      name: 'g',
      memberIds: [contact.userId, other.userId],
    })
    const conversation = { type: 'group' as const, targetId: group.groupId }
    await owner.call('typing', { conversation, typing: true })
    for (const member of [contact, other])
      expect((await member.nextPush('typing')).data).toMatchObject({ conversation, userId: owner.userId })

    await owner.call('updatePrivacySettings', { typing: 'contacts' })
    await owner.call('typing', { conversation, typing: true })
    expect((await contact.nextPush('typing')).data.userId).toBe(owner.userId)
    expect(await typingAfterBarrier(other)).toEqual([])

    await owner.call('updatePrivacySettings', { typing: 'nobody' })
    await owner.call('typing', { conversation, typing: true })
    for (const member of [contact, other]) expect(await typingAfterBarrier(member)).toEqual([])
  })

  it('to a group one is not in is NOT_A_MEMBER, and nobody hears it', async () => {
    const [owner, member, outsider] = [
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
    ]
    const { group } = await owner.call('createGroup', { name: 'closed', memberIds: [member.userId] })
    await outsider.expectError(
      'typing',
      { conversation: { type: 'group', targetId: group.groupId }, typing: true },
      Code.NOT_A_MEMBER,
    )
    await outsider.expectError(
      'typing',
      { conversation: { type: 'group', targetId: 'g_doesnotexist' }, typing: true },
      Code.GROUP_NOT_FOUND,
    )
    for (const c of [owner, member]) expect(await typingAfterBarrier(c)).toEqual([])
  })

  it('to someone with no single chat yet tells nobody (no typing notices from strangers)', async () => {
    const [stranger, target] = [await connectOne(server), await connectOne(server)]
    await stranger.call('typing', {
      conversation: { type: 'private', targetId: target.userId },
      typing: true,
    })
    expect(await typingAfterBarrier(target)).toEqual([])
  })
})

describe('presence', () => {
  it('online while any device is connected, offline with a last seen when the last one closes', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    await chat(alice, bob)
    const bobTablet = await TestClient.connect(server, await login(server, bob.userId, PASSWORD))
    await bob.close()
    // The tablet still holds a socket: Bob stays online.
    expect((await alice.call('getPresence', { userIds: [bob.userId] })).presence).toEqual([
      { userId: bob.userId, state: 'online', lastSeenAt: null },
    ])
    const before = Date.now()
    await bobTablet.close()
    const offline = await alice.nextPush('presence', (p) => p.userId === bob.userId && p.state === 'offline')
    expect(offline.data.lastSeenAt).toBeGreaterThanOrEqual(before)
    const again = await TestClient.connect(server, await login(server, bob.userId, PASSWORD))
    await alice.nextPush('presence', online(bob.userId))
    await again.close()
  })

  it('a first message makes two contacts: each may then see the other online', async () => {
    const [alice, bob] = [await connectOne(server), await connectOne(server)]
    expect((await alice.call('getPresence', { userIds: [bob.userId] })).presence[0]?.state).toBe('hidden')
    await chat(alice, bob)
    expect((await alice.call('getPresence', { userIds: [bob.userId] })).presence[0]?.state).toBe('online')
    expect((await bob.call('getPresence', { userIds: [alice.userId] })).presence[0]?.state).toBe('online')
  })

  it('is hidden from strangers and unknown ids, whatever the setting', async () => {
    const [me, stranger] = [await connectOne(server), await connectOne(server)]
    await stranger.call('updatePrivacySettings', { presence: 'everyone' })
    const { presence } = await me.call('getPresence', { userIds: [stranger.userId, 'nobody-here'] })
    expect(presence).toEqual([
      { userId: stranger.userId, state: 'hidden', lastSeenAt: null },
      { userId: 'nobody-here', state: 'hidden', lastSeenAt: null },
    ])
  })

  it('contacts: a group co-member sees it hidden; everyone: they see it', async () => {
    const [owner, contact, member] = [
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
    ]
    await chat(owner, contact)
    await owner.call('createGroup', { name: 'g', memberIds: [contact.userId, member.userId] })
    const ask = async (viewer: TestClient) =>
      (await viewer.call('getPresence', { userIds: [owner.userId] })).presence[0]?.state
    expect([await ask(contact), await ask(member)]).toEqual(['online', 'hidden'])
    await owner.call('updatePrivacySettings', { presence: 'everyone' })
    expect((await member.nextPush('presence', (p) => p.userId === owner.userId)).data.state).toBe('online')
    expect(await ask(member)).toBe('online')
  })

  it('nobody: a contact hears "hidden" once, then never online or offline', async () => {
    const [alice, bob, carol] = [await connectOne(server), await connectOne(server), await connectOne(server)]
    await chat(alice, bob)
    await chat(alice, carol)
    await bob.call('updatePrivacySettings', { presence: 'nobody' })
    expect((await alice.nextPush('presence', (p) => p.userId === bob.userId)).data.state).toBe('hidden')
    const bobPhone = await TestClient.connect(server, await login(server, bob.userId, PASSWORD))
    await bob.close()
    await bobPhone.close()
    // Presence changes are announced in the order sockets open and close: once Carol's comes, Bob's
    // would have come before it.
    const carolPhone = await TestClient.connect(server, await login(server, carol.userId, PASSWORD))
    await carol.close()
    await carolPhone.close()
    await alice.nextPush('presence', (p) => p.userId === carol.userId && p.state === 'offline')
    expect(
      alice.livePushes.filter(
        (p) => p.event === 'presence' && (p.data as { userId: string }).userId === bob.userId,
      ),
    ).toEqual([])
    expect((await alice.call('getPresence', { userIds: [bob.userId] })).presence[0]?.state).toBe('hidden')
  })

  it('the rows of a node that died without a word are swept: its users go offline', async () => {
    const storage = new SqliteStorage(':memory:')
    const swept = await startTestServer({ storage, presence: { refreshMs: 200 } })
    try {
      const [alice, bob] = [await connectOne(swept), await connectOne(swept)]
      await chat(alice, bob)
      await bob.close()
      await alice.nextPush('presence', (p) => p.userId === bob.userId && p.state === 'offline')
      // Bob's phone on a node that then died: its row is never refreshed again.
      await storage.addPresenceSocket(bob.userId, 'dead-node', Date.now(), 0)
      expect((await alice.call('getPresence', { userIds: [bob.userId] })).presence[0]?.state).toBe('online')
      await alice.nextPush('presence', (p) => p.userId === bob.userId && p.state === 'offline')
      expect((await alice.call('getPresence', { userIds: [bob.userId] })).presence[0]?.state).toBe('offline')
    } finally {
      await swept.close()
      await storage.close()
    }
  })

  it('my privacy settings reach my other devices', async () => {
    const me = await connectOne(server)
    const other = await TestClient.connect(server, await login(server, me.userId, PASSWORD))
    expect((await me.call('getPrivacySettings', {})).privacy).toEqual({
      typing: 'everyone',
      presence: 'contacts',
    })
    await me.call('updatePrivacySettings', { typing: 'nobody' })
    expect((await other.nextPush('privacyChanged')).data.privacy).toEqual({
      typing: 'nobody',
      presence: 'contacts',
    })
  })
})

describe('presence storage (SQLite)', () => {
  it('finds contacts and everyone from indexes (EXPLAIN QUERY PLAN)', async () => {
    const storage = new SqliteStorage(':memory:')
    const plan = (sql: string, params: Record<string, unknown>) =>
      storage.db
        .prepare<[Record<string, unknown>], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(params)
        .map((row) => row.detail)
        .join('\n')
    const related = plan(RELATED_SQL, { userId: 'a', scope: 'contacts' })
    expect(related).toMatch(/SEARCH a USING INDEX members_by_user \(user_id=\?\)/)
    expect(related).toMatch(/SEARCH b USING PRIMARY KEY \(conv_id=\?\)/)
    // The DISTINCT's temporary tree holds the result only (a user's co-members), not history.
    expect(related).not.toMatch(/SCAN (a|b|c)\b/)
    await storage.close()
  })
})

describe('profile', () => {
  it('a new display name reaches my other devices and everyone who shares a conversation with me', async () => {
    const [me, peer, member, stranger] = [
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
    ]
    const myTablet = await TestClient.connect(server, await login(server, me.userId, PASSWORD))
    await chat(me, peer)
    const { group } = await me.call('createGroup', { name: 'g', memberIds: [member.userId] })
    const { user } = await me.call('updateProfile', { displayName: '  Zoë  ' })
    expect(user).toEqual({ userId: me.userId, displayName: 'Zoë' })
    for (const c of [myTablet, peer, member])
      expect((await c.nextPush('userChanged')).data.user).toEqual(user)
    expect((await stranger.barrier()).filter((p) => p.event === 'userChanged')).toEqual([])
    const { members } = await member.call('getGroupMembers', { groupId: group.groupId })
    expect(members.find((m) => m.userId === me.userId)?.displayName).toBe('Zoë')
    await me.expectError('updateProfile', { displayName: 'a\u202Eb' }, Code.INVALID_ARGUMENT)
  })

  it('the owner and admins rename a group, live for its members; a plain member cannot', async () => {
    const [owner, admin, member] = [
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
    ]
    const { group } = await owner.call('createGroup', {
      name: 'before',
      memberIds: [admin.userId, member.userId],
    })
    await owner.call('setGroupMemberRole', { groupId: group.groupId, userId: admin.userId, role: 'admin' })
    await member.expectError(
      'renameGroup',
      { groupId: group.groupId, name: 'mine now' },
      Code.PERMISSION_DENIED,
    )
    expect((await member.call('syncState', {})).groups.find((g) => g.groupId === group.groupId)?.name).toBe(
      'before',
    )
    const { group: renamed } = await admin.call('renameGroup', { groupId: group.groupId, name: 'after' })
    expect(renamed.name).toBe('after')
    for (const c of [owner, member])
      await c.nextPush('groupChanged', (d) => d.groupId === group.groupId && d.group?.name === 'after')
    const outsider = await connectOne(server)
    await outsider.expectError('renameGroup', { groupId: group.groupId, name: 'x' }, Code.NOT_A_MEMBER)
  })

  it('changing the password needs the current one and ends my other sessions, not this one', async () => {
    const me = await connectOne(server)
    const laptop = await TestClient.connect(server, await login(server, me.userId, PASSWORD))
    const change = (body: unknown, token = me.session.token) =>
      api(server, http.changePassword.path, body, { token })

    const wrong = await change({ currentPassword: 'not it at all', newPassword: 'brand new secret' })
    expect(wrong.body.code).toBe(Code.AUTH_FAILED)
    expect((await change({ currentPassword: PASSWORD, newPassword: PASSWORD })).body.code).toBe(
      Code.SAME_PASSWORD,
    )
    expect((await change({ currentPassword: PASSWORD, newPassword: 'x' })).body.code).toBe(
      Code.INVALID_ARGUMENT,
    )
    expect(
      (await change({ currentPassword: PASSWORD, newPassword: 'y'.repeat(9) }, 'forged')).body.code,
    ).toBe(Code.TOKEN_INVALID)
    // Nothing changed so far: the old password still signs in.
    await login(server, me.userId, PASSWORD)

    const done = await change({ currentPassword: PASSWORD, newPassword: 'brand new secret' })
    expect(done.body).toEqual({ code: 0, data: { sessionsEnded: 2 } })
    expect((await laptop.closed).code).toBe(4001)
    await me.call('getPrivacySettings', {})
    await login(server, me.userId, 'brand new secret')
    const old = await api(server, http.login.path, {
      userId: me.userId,
      password: PASSWORD,
      deviceId: 'device-old1',
    })
    expect(old.body.code).toBe(Code.AUTH_FAILED)
  })

  it('wrong current passwords are limited like failed logins', async () => {
    const limited = await startTestServer({ authLimits: { accountFreeFailures: 2 } })
    try {
      const me = await connectOne(limited)
      const codes: number[] = []
      for (let i = 0; i < 4; i++) {
        const { body } = await api(
          limited,
          http.changePassword.path,
          { currentPassword: `guess ${i}`, newPassword: 'whatever it is' },
          { token: me.session.token },
        )
        codes.push(body.code)
      }
      expect(codes.slice(0, 2)).toEqual([Code.AUTH_FAILED, Code.AUTH_FAILED])
      expect(codes.slice(3)).toEqual([Code.RATE_LIMITED])
    } finally {
      await limited.close()
    }
  })
})
