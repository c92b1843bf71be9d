/**
 * Who has which picture on the engine's side (issue 13, H7): heard of live, replaced whole by a
 * sync, told to the renderer only when something changed; and the first-bytes check that decides
 * what the page may be handed.
 */
import { describe, expect, it } from 'vitest'
import { noteGroupAvatars, noteUserAvatars } from '../../src/main/engine/files/avatars'
import { sniffAvatarType } from '../../src/shared/avatars'
import { teamGroup, testContext } from './fakeContext'

const A = 'f_aaaaaaaaaaaaaaaaaaaaaa'
const B = 'f_bbbbbbbbbbbbbbbbbbbbbb'

describe('the picture directory', () => {
  it('takes pictures heard of, drops removed ones, and tells the renderer only of a change', () => {
    const ctx = testContext()
    noteUserAvatars(ctx, [{ userId: 'bob', avatarFileId: A }, { userId: 'carol' }])
    noteUserAvatars(ctx, [{ userId: 'bob', avatarFileId: A }])
    expect(ctx.events('avatarsChanged')).toEqual([{ users: { bob: A }, groups: {} }])
    noteUserAvatars(ctx, [{ userId: 'dave', avatarFileId: B }])
    noteUserAvatars(ctx, [{ userId: 'bob' }])
    expect(ctx.store.avatarDirectory()).toEqual({ users: { dave: B }, groups: {} })
    expect(ctx.events('avatarsChanged')).toHaveLength(3)
  })

  it('a sync replaces the whole list: who is left out has none; groups and users apart', () => {
    const ctx = testContext()
    noteUserAvatars(ctx, [
      { userId: 'bob', avatarFileId: A },
      { userId: 'carol', avatarFileId: B },
    ])
    noteGroupAvatars(ctx, [{ ...teamGroup('member'), avatarFileId: B }])
    noteUserAvatars(ctx, [{ userId: 'carol', avatarFileId: A }], true)
    expect(ctx.store.avatarDirectory()).toEqual({ users: { carol: A }, groups: { g_team: B } })
    noteGroupAvatars(ctx, [teamGroup('member')])
    expect(ctx.store.avatarDirectory().groups).toEqual({})
  })
})

describe('what a picture is', () => {
  it('knows WebP, JPEG and PNG by their first bytes, and nothing else (no SVG, no GIF)', () => {
    const webp = Buffer.from('RIFF\0\0\0\0WEBPVP8 ', 'latin1')
    expect(sniffAvatarType(webp)).toBe('image/webp')
    expect(sniffAvatarType(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('image/jpeg')
    expect(sniffAvatarType(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a]))).toBe('image/png')
    expect(sniffAvatarType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined()
    expect(sniffAvatarType(Buffer.from('GIF89a'))).toBeUndefined()
    expect(sniffAvatarType(Buffer.alloc(0))).toBeUndefined()
  })
})
