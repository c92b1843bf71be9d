/**
 * Mute per chat on all my devices (issue 13, H8; RongCloud setConversationNotificationStatus,
 * Easemob's do-not-disturb kept on the server). The caller's choice is stored per conversation and
 * logged for the caller's own devices as `conversationNotificationStatusChanged`: the other devices
 * hear it live, or by syncEvents after being offline; syncState carries it for a new device or a full
 * resync. Nobody else learns it: muting a chat tells its other members nothing.
 *
 * The last change to reach the server wins: changes of one user are ordered by their event log, and
 * devices apply the events in that order (a device with a change of its own still to send keeps
 * its own, which will come after).
 */
import { Code, CodedError } from '../../shared/codes'
import { recordEvent, type OpHandler } from './context'
import { findMembership } from './conversations'

export const setConversationNotificationStatus: OpHandler<'setConversationNotificationStatus'> = async (
  ctx,
  data,
) => {
  // A conversation I am in or was in (a group I left keeps its history on my devices, and its mark);
  // any other is refused alike, so nobody learns which groups or chats exist.
  const membership = await findMembership(ctx, data.conversation)
  if (!membership) throw new CodedError(Code.NOT_A_MEMBER, 'no such conversation of yours')
  const changed = await ctx.storage.setConversationMuted(
    ctx.userId,
    membership.conv.id,
    data.status === 'doNotDisturb',
    ctx.now,
  )
  const change = { conversation: data.conversation, status: data.status, at: ctx.now }
  // Unchanged (a retry of this request, or another device said the same): nothing to tell.
  if (changed)
    await recordEvent(ctx, ctx.userId, 'conversationNotificationStatusChanged', change, ctx.connection)
  return change
}
