import { Code, CodedError } from '../../shared/codes'
import { newGroupId } from '../ids'
import type { OpContext, OpHandler } from './context'
import { groupInfoFor, groupKey, notifyGroupChanged, requireCurrentMember } from './conversations'

function requireUsers(ctx: OpContext, ids: readonly string[]): void {
  const found = new Set(ctx.storage.getUsers(ids).map((u) => u.id))
  const missing = ids.filter((id) => !found.has(id))
  if (missing.length > 0) throw new CodedError(Code.USER_NOT_FOUND, `unknown users: ${missing.join(', ')}`)
}

function unusedGroupId(ctx: OpContext): string {
  for (;;) {
    const id = newGroupId()
    if (!ctx.storage.getGroup(id)) return id
  }
}

export const createGroup: OpHandler<'createGroup'> = (ctx, data) =>
  ctx.storage.transaction(() => {
    const memberIds = [...new Set(data.memberIds)].filter((id) => id !== ctx.userId)
    requireUsers(ctx, memberIds)
    const id = unusedGroupId(ctx)
    const conv = ctx.storage.insertConversation({ key: groupKey(id), type: 'group', createdAt: ctx.now })
    const group = { id, convId: conv.id, name: data.name, ownerId: ctx.userId, createdAt: ctx.now }
    ctx.storage.insertGroup(group)
    ctx.storage.upsertMember({
      convId: conv.id,
      userId: ctx.userId,
      role: 'owner',
      joinedSeq: 0,
      joinedAt: ctx.now,
    })
    for (const userId of memberIds) {
      ctx.storage.upsertMember({ convId: conv.id, userId, role: 'member', joinedSeq: 0, joinedAt: ctx.now })
    }
    notifyGroupChanged(ctx, group, [ctx.userId, ...memberIds])
    return { group: groupInfoFor(ctx, group, ctx.userId) }
  })

export const addGroupMembers: OpHandler<'addGroupMembers'> = (ctx, data) =>
  ctx.storage.transaction(() => {
    const { group, conv, me } = requireCurrentMember(ctx, data.groupId)
    if (me.role === 'member')
      throw new CodedError(Code.PERMISSION_DENIED, 'only the owner and admins may add members')
    const userIds = [...new Set(data.userIds)]
    requireUsers(ctx, userIds)
    const added = userIds.filter((userId) => {
      const existing = ctx.storage.getMember(conv.id, userId)
      return !existing || existing.leftSeq !== null
    })
    // Members see messages from their join on, so a returning member starts a fresh window.
    for (const userId of added) {
      ctx.storage.upsertMember({
        convId: conv.id,
        userId,
        role: 'member',
        joinedSeq: conv.lastSeq,
        joinedAt: ctx.now,
      })
    }
    if (added.length > 0) notifyGroupChanged(ctx, group, ctx.storage.listCurrentMemberIds(conv.id))
    return { group: groupInfoFor(ctx, group, ctx.userId) }
  })

export const removeGroupMembers: OpHandler<'removeGroupMembers'> = (ctx, data) =>
  ctx.storage.transaction(() => {
    const { group, conv, me } = requireCurrentMember(ctx, data.groupId)
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
      const member = ctx.storage.getMember(conv.id, userId)
      if (!member || member.leftSeq !== null) continue
      if (me.role === 'admin' && member.role !== 'member') {
        throw new CodedError(
          Code.PERMISSION_DENIED,
          `an admin may remove plain members only (${userId} is ${member.role})`,
        )
      }
      removed.push(userId)
    }
    for (const userId of removed) ctx.storage.markMemberLeft(conv.id, userId, conv.lastSeq)
    if (removed.length > 0) {
      notifyGroupChanged(ctx, group, [...ctx.storage.listCurrentMemberIds(conv.id), ...removed])
    }
    return { group: groupInfoFor(ctx, group, ctx.userId) }
  })

export const leaveGroup: OpHandler<'leaveGroup'> = (ctx, data) =>
  ctx.storage.transaction(() => {
    const { group, conv, me } = requireCurrentMember(ctx, data.groupId)
    if (me.role === 'owner') throw new CodedError(Code.OWNER_CANNOT_LEAVE)
    ctx.storage.markMemberLeft(conv.id, ctx.userId, conv.lastSeq)
    notifyGroupChanged(ctx, group, [...ctx.storage.listCurrentMemberIds(conv.id), ctx.userId])
    return {}
  })

export const setGroupMemberRole: OpHandler<'setGroupMemberRole'> = (ctx, data) =>
  ctx.storage.transaction(() => {
    const { group, conv, me } = requireCurrentMember(ctx, data.groupId)
    if (me.role !== 'owner') throw new CodedError(Code.PERMISSION_DENIED, 'only the owner may change roles')
    if (data.userId === group.ownerId)
      throw new CodedError(Code.PERMISSION_DENIED, "the owner's role cannot change")
    const target = ctx.storage.getMember(conv.id, data.userId)
    if (!target || target.leftSeq !== null) {
      throw new CodedError(Code.NOT_A_MEMBER, `${data.userId} is not a member of ${group.id}`)
    }
    if (target.role !== data.role) {
      ctx.storage.setMemberRole(conv.id, data.userId, data.role)
      notifyGroupChanged(ctx, group, ctx.storage.listCurrentMemberIds(conv.id))
    }
    return { group: groupInfoFor(ctx, group, ctx.userId) }
  })

export const getGroupMembers: OpHandler<'getGroupMembers'> = (ctx, data) => {
  const { group } = requireCurrentMember(ctx, data.groupId)
  return { members: ctx.storage.listGroupMembers(group.convId) }
}
