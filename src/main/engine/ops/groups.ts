/** Groups: create, change membership and roles, receipt settings, leave. */
import { Code, CodedError } from '../../../shared/codes'
import type { GroupInfo, GroupInvitation, GroupMember } from '../../../shared/model'
import type { RequestData } from '../../../shared/protocol'
import { noteUserAvatars } from '../files/avatars'
import { emitConversations, requireOk, type EngineContext } from '../context'

export type GroupOp =
  | 'createGroup'
  | 'addGroupMembers'
  | 'removeGroupMembers'
  | 'setGroupMemberRole'
  | 'setGroupReceiptSettings'
  | 'transferGroupOwnership'

/** Asks the server, then stores the group it answers with and tells the renderer. */
export async function groupOp<Op extends GroupOp>(
  ctx: EngineContext,
  op: Op,
  data: RequestData<Op>,
): Promise<GroupInfo> {
  const res = (await requireOk(ctx, op, data)) as { group: GroupInfo }
  ctx.store.upsertGroup(res.group, ctx.now())
  ctx.emit('groupChanged', { groupId: res.group.groupId, group: res.group })
  emitConversations(ctx, [{ type: 'group', targetId: res.group.groupId }])
  return res.group
}

/**
 * The owner hands the group to another current member (the server checks who may); this device's
 * copy of the group (owner, my role now admin) is stored and told as for any group change.
 */
export function transferGroupOwnership(
  ctx: EngineContext,
  groupId: string,
  newOwnerId: string,
): Promise<GroupInfo> {
  return groupOp(ctx, 'transferGroupOwnership', { groupId, newOwnerId })
}

export async function leaveGroup(ctx: EngineContext, groupId: string): Promise<null> {
  await requireOk(ctx, 'leaveGroup', { groupId })
  const g = ctx.store.group(groupId)
  if (g) {
    const { myRole: _left, ...rest } = g
    ctx.store.upsertGroup(rest, ctx.now())
    ctx.emit('groupChanged', { groupId, group: rest })
  }
  return null
}

/** Invitations waiting for me; also told to the renderer whole (groupInvitesChanged). */
export async function groupInvites(ctx: EngineContext): Promise<GroupInvitation[]> {
  const { invites } = await requireOk(ctx, 'listGroupInvites', {})
  ctx.emit('groupInvitesChanged', invites)
  return invites
}

/** Accepts (the group is stored and told) or declines an invitation. */
export async function respondToGroupInvite(
  ctx: EngineContext,
  groupId: string,
  accept: boolean,
): Promise<GroupInfo | null> {
  const { group } = await requireOk(ctx, 'respondToGroupInvite', { groupId, accept })
  if (group) {
    ctx.store.upsertGroup(group, ctx.now())
    ctx.emit('groupChanged', { groupId, group })
    emitConversations(ctx, [{ type: 'group', targetId: groupId }])
  }
  await groupInvites(ctx).catch(() => undefined)
  return group
}

export function groupInfo(ctx: EngineContext, groupId: string): GroupInfo {
  const g = ctx.store.group(groupId)
  if (!g) throw new CodedError(Code.GROUP_NOT_FOUND)
  // H7: the groups table keeps no picture; the avatar directory is where it is kept (store/avatars.ts).
  const avatarFileId = ctx.store.avatarDirectory().groups[groupId]
  return avatarFileId ? { ...g, avatarFileId } : g
}

export async function groupMembers(ctx: EngineContext, groupId: string): Promise<GroupMember[]> {
  const res = await requireOk(ctx, 'getGroupMembers', { groupId })
  ctx.store.upsertUsers(res.members.map((m) => ({ userId: m.userId, displayName: m.displayName })))
  noteUserAvatars(ctx, res.members)
  return res.members
}
