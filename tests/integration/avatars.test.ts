/**
 * Profile and group pictures through real engines and a real server (issue 13, H7): bob sees
 * alice's new picture live and after being offline; the engine keeps pictures by file id in the
 * profile's cache and drops the ones nobody has any more.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { AvatarDirectory } from '../../src/shared/avatars'
import { Code } from '../../src/shared/codes'
import type { ConversationSummary, GroupInfo, UserProfile } from '../../src/shared/model'
import { cleanup, data, reopen, signIn, testServer, type Device } from './harness'

afterEach(cleanup)

/** A small WebP data URL (RIFF … WEBP, then `fill`): the engine and server check the type, not pixels. */
function picture(fill: number): string {
  const b = Buffer.alloc(600, fill)
  b.write('RIFF', 0, 'ascii')
  b.write('WEBP', 8, 'ascii')
  return `data:image/webp;base64,${b.toString('base64')}`
}

async function directory(d: Device): Promise<AvatarDirectory> {
  return data<AvatarDirectory>(await d.dispatch('getAvatars', []))
}

async function meet(a: Device, b: Device): Promise<void> {
  data(
    await a.dispatch('sendMessage', [
      { type: 'private', targetId: b.userId },
      { type: 'text', text: 'hi' },
    ]),
  )
  await b.until(
    'the chat arrives',
    async () =>
      data<ConversationSummary[]>(await b.dispatch('getConversationList', [])).some(
        (c) => c.conversation.targetId === a.userId,
      ) || undefined,
  )
}

const cacheOf = (d: Device) => join(d.profileDir, 'avatars', `u-${d.userId}`)

describe('pictures between engines', () => {
  it("bob sees alice's picture live, and her new one after being offline; the old one leaves his cache", async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    await meet(alice, bob)

    const first = data<UserProfile>(await alice.dispatch('setAvatar', [picture(1)]))
    expect(first.avatarFileId).toMatch(/^f_/)
    await bob.until(
      'the picture is known',
      async () => (await directory(bob)).users.alice === first.avatarFileId || undefined,
    )
    expect(data(await bob.dispatch('getAvatarImage', [first.avatarFileId]))).toBe(picture(1))
    expect(existsSync(join(cacheOf(bob), first.avatarFileId!))).toBe(true)

    const profile = bob.profileDir
    await bob.stop()
    const second = data<UserProfile>(await alice.dispatch('setAvatar', [picture(2)]))
    const back = await reopen(profile, server)
    await back.until(
      'the new picture came with the sync',
      async () => (await directory(back)).users.alice === second.avatarFileId || undefined,
    )
    expect(data(await back.dispatch('getAvatarImage', [second.avatarFileId]))).toBe(picture(2))
    await back.until(
      'the old picture left the cache',
      () => !readdirSync(cacheOf(back)).includes(first.avatarFileId!),
    )
    // The engine hands out only pictures someone has now: the old one is no longer to be had.
    expect((await back.dispatch('getAvatarImage', [first.avatarFileId])).code).toBe(Code.FILE_NOT_FOUND)

    data(await alice.dispatch('setAvatar', []))
    await back.until(
      'the picture was removed',
      async () => (await directory(back)).users.alice === undefined || undefined,
    )
  })

  it('refuses a picture that is not what it says, and one too large for the contract', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const fake = `data:image/png;base64,${Buffer.from('not a png at all').toString('base64')}`
    expect((await alice.dispatch('setAvatar', [fake])).code).toBe(Code.AVATAR_NOT_IMAGE)
    const huge = `data:image/webp;base64,${'A'.repeat(400 * 1024)}`
    expect((await alice.dispatch('setAvatar', [huge])).code).toBe(Code.INVALID_ARGUMENT)
    expect((await directory(alice)).users.alice).toBeUndefined()
  })

  it("the owner sets the group's picture; a member sees it, and cannot set one", async () => {
    const server = await testServer()
    const owner = await signIn(server, 'owner')
    const member = await signIn(server, 'member')
    const group = data<GroupInfo>(await owner.dispatch('createGroup', ['Team', ['member']]))
    const refused = await member.dispatch('setGroupAvatar', [group.groupId, picture(3)])
    expect(refused.code).toBe(Code.PERMISSION_DENIED)
    const set = data<GroupInfo>(await owner.dispatch('setGroupAvatar', [group.groupId, picture(4)]))
    await member.until(
      'the group picture is known',
      async () => (await directory(member)).groups[group.groupId] === set.avatarFileId || undefined,
    )
    expect(data(await member.dispatch('getAvatarImage', [set.avatarFileId]))).toBe(picture(4))
  })

  // The screenshot run's bug: a group picture went back to initials after a reload / restart.
  it("the group's picture is still known after the engines restart and sync again", async () => {
    const server = await testServer()
    const owner = await signIn(server, 'owner')
    const member = await signIn(server, 'member')
    const group = data<GroupInfo>(await owner.dispatch('createGroup', ['Team', ['member']]))
    data(
      await owner.dispatch('sendMessage', [
        { type: 'group', targetId: group.groupId },
        { type: 'text', text: 'hi' },
      ]),
    )
    const set = data<GroupInfo>(await owner.dispatch('setGroupAvatar', [group.groupId, picture(5)]))
    await member.until(
      'the group picture is known',
      async () => (await directory(member)).groups[group.groupId] === set.avatarFileId || undefined,
    )
    for (const device of [owner, member]) {
      const profile = device.profileDir
      await device.stop()
      const back = await reopen(profile, server)
      await back.until(
        'the sync is done',
        async () =>
          data<ConversationSummary[]>(await back.dispatch('getConversationList', [])).length > 0 || undefined,
      )
      expect((await directory(back)).groups[group.groupId]).toBe(set.avatarFileId)
      expect(data(await back.dispatch('getAvatarImage', [set.avatarFileId]))).toBe(picture(5))
      const info = data<GroupInfo>(await back.dispatch('getGroupInfo', [group.groupId]))
      expect(info.avatarFileId).toBe(set.avatarFileId)
    }
  })
})
