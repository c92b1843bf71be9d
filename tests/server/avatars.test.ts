/**
 * Profile and group pictures (issue 13, H7) on a real server (both backends in the postgres
 * project): setting one, who hears it, who may download it, and the hostile cases with their codes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AVATAR_MAX_BYTES } from '../../src/shared/avatars'
import { Code } from '../../src/shared/codes'
import {
  CHUNK_CONTENT_TYPE,
  FILES_PATH,
  UPLOAD_OFFSET_HEADER,
  type UploadState,
} from '../../src/shared/files'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, startTestServer, text, type TestClient } from './helpers'

/** A WebP's first bytes (RIFF … WEBP) padded to `size`: the server checks the declared type, not pixels. */
function webp(size = 2000): Buffer {
  const b = Buffer.alloc(size, 7)
  b.write('RIFF', 0, 'ascii')
  b.write('WEBP', 8, 'ascii')
  return b
}

async function upload(
  server: RunningServer,
  who: TestClient,
  data: Buffer,
  meta: { kind: 'file' | 'image'; mime: string } = { kind: 'image', mime: 'image/webp' },
): Promise<string> {
  const headers = { authorization: `Bearer ${who.session.token}` }
  const created = await fetch(`${server.httpUrl}${FILES_PATH}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'me.webp', size: data.length, ...meta }),
  })
  const { fileId } = ((await created.json()) as { data: UploadState }).data
  const sent = await fetch(`${server.httpUrl}${FILES_PATH}/${fileId}`, {
    method: 'PATCH',
    headers: { ...headers, 'content-type': CHUNK_CONTENT_TYPE, [UPLOAD_OFFSET_HEADER]: '0' },
    body: data,
  })
  expect(((await sent.json()) as { data: UploadState }).data.complete).toBe(true)
  return fileId
}

async function download(server: RunningServer, who: TestClient, fileId: string) {
  const response = await fetch(`${server.httpUrl}${FILES_PATH}/${fileId}`, {
    headers: { authorization: `Bearer ${who.session.token}` },
  })
  if (response.status === 200) return { status: 200, bytes: Buffer.from(await response.arrayBuffer()) }
  return { status: response.status, code: ((await response.json()) as { code: number }).code }
}

async function chat(a: TestClient, b: TestClient): Promise<void> {
  await a.call('sendMessage', {
    clientMsgId: clientMsgId(),
    conversation: { type: 'private', targetId: b.userId },
    content: text('hi'),
  })
  await b.nextPush('message')
}

describe('profile and group pictures', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  it('sets my picture: my peers hear it live, get it in a sync and may download it; strangers may not', async () => {
    const [alice, bob, stranger] = [
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
    ]
    await chat(alice, bob)
    const picture = webp()
    const fileId = await upload(server, alice, picture)
    const { user } = await alice.call('setAvatar', { fileId })
    expect(user).toEqual({ userId: alice.userId, displayName: user.displayName, avatarFileId: fileId })
    expect((await bob.nextPush('userChanged')).data.user).toEqual(user)
    expect((await stranger.barrier()).filter((p) => p.event === 'userChanged')).toEqual([])

    // After being away: syncState lists it, getUsers carries it, and a rename keeps it.
    expect((await bob.call('syncState', {})).avatars).toContainEqual({ userId: alice.userId, fileId })
    expect((await bob.call('getUsers', { userIds: [alice.userId] })).users[0]?.avatarFileId).toBe(fileId)
    const renamed = await alice.call('updateProfile', { displayName: 'Alice B.' })
    expect(renamed.user.avatarFileId).toBe(fileId)

    expect(await download(server, bob, fileId)).toEqual({ status: 200, bytes: picture })
    expect(await download(server, stranger, fileId)).toEqual({ status: 404, code: Code.FILE_NOT_FOUND })

    // The picture in use is not deleted by its owner's DELETE (the file API's "unattached upload").
    await fetch(`${server.httpUrl}${FILES_PATH}/${fileId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${alice.session.token}` },
    })
    expect((await download(server, bob, fileId)).status).toBe(200)

    // Removed: the push says so by leaving it out, and the old file is no longer bob's to fetch.
    const removed = await alice.call('setAvatar', { fileId: null })
    expect(removed.user.avatarFileId).toBeUndefined()
    await bob.nextPush('userChanged', (d) => d.user.avatarFileId === undefined)
    expect(await download(server, bob, fileId)).toEqual({ status: 404, code: Code.FILE_NOT_FOUND })
  })

  it("refuses someone else's file, a non-image, an incomplete or a too large upload, each with its code", async () => {
    const [alice, mallory] = [await connectOne(server), await connectOne(server)]
    const alicesFile = await upload(server, alice, webp())
    await mallory.expectError('setAvatar', { fileId: alicesFile }, Code.FILE_NOT_FOUND)
    const pdf = await upload(server, mallory, webp(), { kind: 'file', mime: 'application/pdf' })
    await mallory.expectError('setAvatar', { fileId: pdf }, Code.AVATAR_NOT_IMAGE)
    const gif = await upload(server, mallory, webp(), { kind: 'image', mime: 'image/gif' })
    await mallory.expectError('setAvatar', { fileId: gif }, Code.AVATAR_NOT_IMAGE)
    const huge = await upload(server, mallory, webp(AVATAR_MAX_BYTES + 1))
    await mallory.expectError('setAvatar', { fileId: huge }, Code.AVATAR_TOO_LARGE)
    const created = await fetch(`${server.httpUrl}${FILES_PATH}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mallory.session.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'half.webp', size: 100, mime: 'image/webp', kind: 'image' }),
    })
    const half = ((await created.json()) as { data: UploadState }).data.fileId
    await mallory.expectError('setAvatar', { fileId: half }, Code.UPLOAD_INCOMPLETE)
    await mallory.expectError('setAvatar', { fileId: 'f_0000000000000000000000' }, Code.FILE_NOT_FOUND)
    await mallory.expectError('setAvatar', { fileId: 'not a file' }, Code.INVALID_ARGUMENT)
    expect((await mallory.call('syncState', {})).user.avatarFileId).toBeUndefined()
  })

  it("owner and admins set a group's picture; members see and download it, a plain member cannot set it", async () => {
    const [owner, member, outsider] = [
      await connectOne(server),
      await connectOne(server),
      await connectOne(server),
    ]
    const { group } = await owner.call('createGroup', { name: 'team', memberIds: [member.userId] })
    const mine = await upload(server, member, webp())
    await member.expectError(
      'setGroupAvatar',
      { groupId: group.groupId, fileId: mine },
      Code.PERMISSION_DENIED,
    )
    await outsider.expectError('setGroupAvatar', { groupId: group.groupId, fileId: null }, Code.NOT_A_MEMBER)

    const fileId = await upload(server, owner, webp(3000))
    const set = await owner.call('setGroupAvatar', { groupId: group.groupId, fileId })
    expect(set.group.avatarFileId).toBe(fileId)
    await member.nextPush('groupChanged', (d) => d.group?.avatarFileId === fileId)
    // Other group changes keep it (a rename is not a removal).
    const renamed = await owner.call('renameGroup', { groupId: group.groupId, name: 'team 2' })
    expect(renamed.group.avatarFileId).toBe(fileId)
    expect(
      (await member.call('syncState', {})).groups.find((g) => g.groupId === group.groupId)?.avatarFileId,
    ).toBe(fileId)
    expect((await download(server, member, fileId)).status).toBe(200)
    expect(await download(server, outsider, fileId)).toEqual({ status: 404, code: Code.FILE_NOT_FOUND })

    // The owner's own picture: in the member list, and downloadable by a fellow member (not by the outsider).
    const ownerPicture = await upload(server, owner, webp(1500))
    await owner.call('setAvatar', { fileId: ownerPicture })
    const { members } = await member.call('getGroupMembers', { groupId: group.groupId })
    expect(members.find((m) => m.userId === owner.userId)?.avatarFileId).toBe(ownerPicture)
    expect(members.find((m) => m.userId === member.userId)?.avatarFileId).toBeUndefined()
    expect((await download(server, member, ownerPicture)).status).toBe(200)
    expect((await download(server, outsider, ownerPicture)).status).toBe(404)

    // A member who left no longer gets it.
    await member.call('leaveGroup', { groupId: group.groupId })
    expect(await download(server, member, fileId)).toEqual({ status: 404, code: Code.FILE_NOT_FOUND })
  })
})
