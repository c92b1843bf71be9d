/** My display name and a group's name (issue 13, H4). The password changes over HTTP (httpApi.ts). */
import { Code, CodedError } from '../../shared/codes'
import { announceProfile, profileWithAvatar } from './avatars'
import type { OpHandler } from './context'
import { groupInfoFor, notifyGroupChanged, requireCurrentMember } from './conversations'

/**
 * My display name, everywhere at once: my other devices and everyone who shares a conversation with
 * me now hear userChanged (chat titles, member lists and sender names follow it). Former members of
 * my groups keep what they knew.
 */
export const updateProfile: OpHandler<'updateProfile'> = async (ctx, data) => {
  await ctx.storage.updateDisplayName(ctx.userId, data.displayName)
  // The whole profile goes out (H7: with the picture), so a receiver never takes a rename for a removal.
  const user = await profileWithAvatar(ctx.storage, { id: ctx.userId, displayName: data.displayName })
  await announceProfile(ctx, user)
  return { user }
}

/** The owner and admins rename the group (as they manage members); every current member hears it. */
export const renameGroup: OpHandler<'renameGroup'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role === 'member')
    throw new CodedError(Code.PERMISSION_DENIED, 'only the owner and admins may rename the group')
  const renamed = { ...group, name: data.name }
  if (group.name !== data.name) {
    await ctx.storage.renameGroup(group.id, data.name)
    await notifyGroupChanged(ctx, renamed, await ctx.storage.listCurrentMemberIds(conv.id))
  }
  return { group: await groupInfoFor(ctx, renamed, ctx.userId) }
}
