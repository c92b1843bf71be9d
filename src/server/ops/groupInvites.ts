/**
 * Consent to join a group (issue #11). With the operator setting groupInvites 'direct' (the default)
 * whoever an owner or admin adds is a member at once, as before. With 'accept' they get an
 * invitation instead (the push groupInvitation, and listGroupInvites for devices that were offline)
 * and are no member, and see nothing of the group, until they accept it.
 */
import { Code, CodedError } from '../../shared/codes'
import type { ConversationRow, GroupRow } from '../storage/types'
import type { OpContext, OpHandler } from './context'
import { conversationOf, groupInfoFor, groupKey, notifyGroupChanged, requireGroup } from './conversations'

/**
 * Adds these users to the group, or invites them when the server asks for consent. Returns the
 * users who became members now (the others were invited).
 */
export async function addOrInvite(
  ctx: OpContext,
  group: GroupRow,
  conv: ConversationRow,
  userIds: readonly string[],
): Promise<string[]> {
  if (ctx.policy?.groupInvites === 'accept') {
    for (const userId of userIds) {
      const invite = { groupId: group.id, userId, invitedBy: ctx.userId, createdAt: ctx.now }
      if (await ctx.storage.insertGroupInvite(invite))
        ctx.pushes.add(userId, 'groupInvitation', {
          groupId: group.id,
          name: group.name,
          invitedBy: ctx.userId,
          at: ctx.now,
        })
    }
    return []
  }
  for (const userId of userIds) await join(ctx, conv, userId)
  return [...userIds]
}

/** Members see messages from their join on, so a returning member starts a fresh window. */
async function join(ctx: OpContext, conv: ConversationRow, userId: string): Promise<void> {
  await ctx.storage.upsertMember({
    convId: conv.id,
    userId,
    role: 'member',
    joinedSeq: conv.lastSeq,
    joinedAt: ctx.now,
  })
}

export const listGroupInvites: OpHandler<'listGroupInvites'> = async (ctx) => {
  const invites = []
  for (const row of await ctx.storage.listGroupInvitesOfUser(ctx.userId)) {
    const group = await ctx.storage.getGroup(row.groupId)
    if (group)
      invites.push({ groupId: group.id, name: group.name, invitedBy: row.invitedBy, at: row.createdAt })
  }
  return { invites }
}

/** Accept: a member from now on (the group's members hear it); decline: the invitation is gone. */
export const respondToGroupInvite: OpHandler<'respondToGroupInvite'> = async (ctx, data) => {
  if (!(await ctx.storage.deleteGroupInvite(data.groupId, ctx.userId)))
    throw new CodedError(Code.GROUP_NOT_FOUND, 'no invitation to that group')
  if (!data.accept) return { group: null }
  const group = await requireGroup(ctx, data.groupId)
  const conv = await conversationOf(ctx, groupKey(group.id))
  const member = await ctx.storage.getMember(conv.id, ctx.userId)
  if (!member || member.leftSeq !== null) await join(ctx, conv, ctx.userId)
  await notifyGroupChanged(ctx, group, await ctx.storage.listCurrentMemberIds(conv.id))
  return { group: await groupInfoFor(ctx, group, ctx.userId) }
}
