import { Code, CodedError } from '../../shared/codes'
import { newGroupId } from '../ids'
import type { OpContext, OpHandler } from './context'
import { chargeLookups, chargeUsage } from './limits'
import { groupInfoFor, groupKey, notifyGroupChanged, requireCurrentMember } from './conversations'
import { addOrInvite } from './groupInvites'
import { withAvatars } from './avatars'

async function requireUsers(ctx: OpContext, ids: readonly string[]): Promise<void> {
  // Whether strangers exist is told only within the caller's lookup budget (enumeration).
  await chargeLookups(ctx, ids)
  const found = new Set((await ctx.storage.getUsers(ids)).map((u) => u.id))
  const missing = ids.filter((id) => !found.has(id))
  if (missing.length > 0) throw new CodedError(Code.USER_NOT_FOUND, `unknown users: ${missing.join(', ')}`)
}

async function unusedGroupId(ctx: OpContext): Promise<string> {
  for (;;) {
    const id = newGroupId()
    if (!(await ctx.storage.getGroup(id))) return id
  }
}

export const createGroup: OpHandler<'createGroup'> = async (ctx, data) => {
  const memberIds = [...new Set(data.memberIds)].filter((id) => id !== ctx.userId)
  await requireUsers(ctx, memberIds)
  await chargeUsage(ctx, { groups: 1 })
  const id = await unusedGroupId(ctx)
  const conv = await ctx.storage.insertConversation({ key: groupKey(id), type: 'group', createdAt: ctx.now })
  const group = { id, convId: conv.id, name: data.name, ownerId: ctx.userId, createdAt: ctx.now }
  await ctx.storage.insertGroup(group)
  await ctx.storage.upsertMember({
    convId: conv.id,
    userId: ctx.userId,
    role: 'owner',
    joinedSeq: 0,
    joinedAt: ctx.now,
  })
  const joined = await addOrInvite(ctx, group, conv, memberIds)
  await notifyGroupChanged(ctx, group, [ctx.userId, ...joined])
  return { group: await groupInfoFor(ctx, group, ctx.userId) }
}

export const addGroupMembers: OpHandler<'addGroupMembers'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role === 'member')
    throw new CodedError(Code.PERMISSION_DENIED, 'only the owner and admins may add members')
  const userIds = [...new Set(data.userIds)]
  await requireUsers(ctx, userIds)
  const added: string[] = []
  for (const userId of userIds) {
    const existing = await ctx.storage.getMember(conv.id, userId)
    if (!existing || existing.leftSeq !== null) added.push(userId)
  }
  const joined = await addOrInvite(ctx, group, conv, added)
  if (joined.length > 0) await notifyGroupChanged(ctx, group, await ctx.storage.listCurrentMemberIds(conv.id))
  return { group: await groupInfoFor(ctx, group, ctx.userId) }
}

export const removeGroupMembers: OpHandler<'removeGroupMembers'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role === 'member') {
    throw new CodedError(Code.PERMISSION_DENIED, 'only the owner and admins may remove members')
  }
  const removed: string[] = []
  for (const userId of new Set(data.userIds)) {
    if (userId === group.ownerId) {
      if (me.role === 'owner')
        throw new CodedError(Code.OWNER_CANNOT_LEAVE, 'the owner cannot remove themself')
      throw new CodedError(Code.PERMISSION_DENIED, 'the owner cannot be removed')
    }
    const member = await ctx.storage.getMember(conv.id, userId)
    if (!member || member.leftSeq !== null) continue
    if (me.role === 'admin' && member.role !== 'member') {
      throw new CodedError(
        Code.PERMISSION_DENIED,
        `an admin may remove plain members only (${userId} is ${member.role})`,
      )
    }
    removed.push(userId)
  }
  for (const userId of removed) await ctx.storage.markMemberLeft(conv.id, userId, conv.lastSeq)
  if (removed.length > 0) {
    await notifyGroupChanged(ctx, group, [...(await ctx.storage.listCurrentMemberIds(conv.id)), ...removed])
  }
  return { group: await groupInfoFor(ctx, group, ctx.userId) }
}

export const leaveGroup: OpHandler<'leaveGroup'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role === 'owner') throw new CodedError(Code.OWNER_CANNOT_LEAVE)
  await ctx.storage.markMemberLeft(conv.id, ctx.userId, conv.lastSeq)
  await notifyGroupChanged(ctx, group, [...(await ctx.storage.listCurrentMemberIds(conv.id)), ctx.userId])
  return {}
}

export const setGroupMemberRole: OpHandler<'setGroupMemberRole'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role !== 'owner') throw new CodedError(Code.PERMISSION_DENIED, 'only the owner may change roles')
  if (data.userId === group.ownerId)
    throw new CodedError(Code.PERMISSION_DENIED, "the owner's role cannot change")
  const target = await ctx.storage.getMember(conv.id, data.userId)
  if (!target || target.leftSeq !== null) {
    throw new CodedError(Code.NOT_A_MEMBER, `${data.userId} is not a member of ${group.id}`)
  }
  if (target.role !== data.role) {
    await ctx.storage.setMemberRole(conv.id, data.userId, data.role)
    await notifyGroupChanged(ctx, group, await ctx.storage.listCurrentMemberIds(conv.id))
  }
  return { group: await groupInfoFor(ctx, group, ctx.userId) }
}

/**
 * The owner hands the group to another current member: the new owner gets the role owner, the old
 * one becomes an admin (so they may then leave). One storage call, atomic on both storages; every
 * current member hears groupChanged with their own role.
 */
export const transferGroupOwnership: OpHandler<'transferGroupOwnership'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role !== 'owner')
    throw new CodedError(Code.PERMISSION_DENIED, 'only the owner may transfer ownership')
  if (data.newOwnerId === ctx.userId) throw new CodedError(Code.ALREADY_OWNER)
  const target = await ctx.storage.getMember(conv.id, data.newOwnerId)
  if (!target || target.leftSeq !== null) {
    throw new CodedError(Code.NEW_OWNER_NOT_A_MEMBER, `${data.newOwnerId} is not a member of ${group.id}`)
  }
  if (!(await ctx.storage.transferGroupOwnership(group.id, ctx.userId, data.newOwnerId))) {
    // Another request changed the group between the checks and the write (two devices at once).
    throw new CodedError(
      Code.PERMISSION_DENIED,
      'the group changed meanwhile: only the owner may transfer ownership',
    )
  }
  const moved = { ...group, ownerId: data.newOwnerId }
  await notifyGroupChanged(ctx, moved, await ctx.storage.listCurrentMemberIds(conv.id))
  return { group: await groupInfoFor(ctx, moved, ctx.userId) }
}

export const getGroupMembers: OpHandler<'getGroupMembers'> = async (ctx, data) => {
  const { group } = await requireCurrentMember(ctx, data.groupId)
  // H7: with their pictures, so someone who joined since my last sync shows theirs too.
  return { members: await withAvatars(ctx.storage, await ctx.storage.listGroupMembers(group.convId)) }
}
