/**
 * Profile and group pictures (issue 13, H7; the shared rules are in src/shared/avatars.ts).
 *
 * A picture is a file: the caller uploads it over the file API as an 'image', then names it here.
 * What the server checks: the file is the caller's own (anyone else's is FILE_NOT_FOUND, as a
 * missing one), complete, an image of a picture type, and small. Who may then download it is the
 * file API's affair (mayReadAvatar below): whoever may see the user, or the group's members.
 */
import { AVATAR_MAX_BYTES, AVATAR_MIME_TYPES } from '../../shared/avatars'
import { Code, CodedError } from '../../shared/codes'
import type { UserProfile } from '../../shared/model'
import type { StorageOps, UserRow } from '../storage/types'
import type { OpContext, OpHandler } from './context'
import { groupInfoFor, notifyGroupChanged, requireCurrentMember } from './conversations'

const PICTURE_TYPES: ReadonlySet<string> = new Set(AVATAR_MIME_TYPES)

/** The caller's own completed image upload that may be a picture, else the typed refusal. */
async function requirePictureFile(ctx: OpContext, fileId: string): Promise<void> {
  const file = await ctx.storage.getFile(fileId)
  if (!file || file.ownerId !== ctx.userId) throw new CodedError(Code.FILE_NOT_FOUND)
  if (file.completedAt === null) throw new CodedError(Code.UPLOAD_INCOMPLETE)
  if (file.kind !== 'image' || !PICTURE_TYPES.has(file.mime.toLowerCase()))
    throw new CodedError(Code.AVATAR_NOT_IMAGE, `a picture is one of ${AVATAR_MIME_TYPES.join(', ')}`)
  if (file.size > AVATAR_MAX_BYTES)
    throw new CodedError(Code.AVATAR_TOO_LARGE, `a picture may be at most ${AVATAR_MAX_BYTES} bytes`)
}

/** The picture of one user or group, or undefined. */
export async function avatarOf(
  storage: StorageOps,
  kind: 'user' | 'group',
  ownerId: string,
): Promise<string | undefined> {
  return (await storage.getAvatars(kind, [ownerId]))[0]?.fileId
}

/** A user's profile with their picture: what userChanged, getUsers and syncState carry. */
export async function profileWithAvatar(
  storage: StorageOps,
  user: Pick<UserRow, 'id' | 'displayName'>,
): Promise<UserProfile> {
  const avatarFileId = await avatarOf(storage, 'user', user.id)
  return { userId: user.id, displayName: user.displayName, ...(avatarFileId ? { avatarFileId } : {}) }
}

/** Users (profiles, members) with their pictures, in one storage call for the pictures. */
export async function withAvatars<T extends { userId: string }>(
  storage: StorageOps,
  users: readonly T[],
): Promise<(T & { avatarFileId?: string })[]> {
  const pictures = await storage.getAvatars(
    'user',
    users.map((u) => u.userId),
  )
  const byUser = new Map(pictures.map((a) => [a.ownerId, a.fileId]))
  return users.map((u) => {
    const avatarFileId = byUser.get(u.userId)
    return avatarFileId ? { ...u, avatarFileId } : u
  })
}

/** My profile as it is now, told to my other devices and to everyone who shares a conversation with me. */
export async function announceProfile(ctx: OpContext, user: UserProfile): Promise<void> {
  ctx.pushes.add(ctx.userId, 'userChanged', { user }, { except: ctx.connection })
  const others = await ctx.storage.relatedUsers(ctx.userId, 'everyone')
  if (others.length > 0) ctx.pushes.add(others, 'userChanged', { user })
}

export const setAvatar: OpHandler<'setAvatar'> = async (ctx, data) => {
  if (data.fileId !== null) await requirePictureFile(ctx, data.fileId)
  const me = await ctx.storage.getUser(ctx.userId)
  if (!me) throw new Error(`user ${ctx.userId} has a session but no account`)
  await ctx.storage.setAvatar('user', ctx.userId, data.fileId, ctx.now)
  const user = await profileWithAvatar(ctx.storage, me)
  await announceProfile(ctx, user)
  return { user }
}

/** As a rename: the owner and admins; every current member hears groupChanged with the new picture. */
export const setGroupAvatar: OpHandler<'setGroupAvatar'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role === 'member')
    throw new CodedError(Code.PERMISSION_DENIED, "only the owner and admins may change the group's picture")
  if (data.fileId !== null) await requirePictureFile(ctx, data.fileId)
  await ctx.storage.setAvatar('group', group.id, data.fileId, ctx.now)
  await notifyGroupChanged(ctx, group, await ctx.storage.listCurrentMemberIds(conv.id))
  return { group: await groupInfoFor(ctx, group, ctx.userId) }
}

/**
 * May `userId` download the file as someone's picture: it is the picture of a user who shares a
 * current conversation with them (presence's 'everyone' rule, src/shared/presence.ts) or of a group
 * they are a current member of. Their own picture is theirs as its uploader already.
 */
export async function mayReadAvatar(storage: StorageOps, fileId: string, userId: string): Promise<boolean> {
  for (const owner of await storage.avatarOwners(fileId)) {
    if (owner.kind === 'user') {
      if (owner.ownerId === userId) return true
      if ((await storage.relatedUsers(owner.ownerId, 'everyone', [userId])).length > 0) return true
    } else {
      const group = await storage.getGroup(owner.ownerId)
      const member = group && (await storage.getMember(group.convId, userId))
      if (member && member.leftSeq === null) return true
    }
  }
  return false
}
