/**
 * Who learns that a message was read. A reader decides (AccountSettings.shareReadReceipts, and a
 * per-conversation override); a read that is not shared is a private read: the reader's devices
 * sync it (read_seq, unread counts) but no sender is told (no read_at, no shared_read_seq, no reader
 * fact, no event), as Matrix's m.read.private.
 *
 * Single chats are reciprocal, as in WhatsApp and Signal: read receipts flow only while both members
 * share them, so nobody can read others' receipts while hiding their own. Groups are not: a member
 * who hides is counted apart ("n hide their receipts"), never as "not read yet".
 */
import { Code, CodedError } from '../../shared/codes'
import type { ConversationOfUser } from '../storage/types'
import { noteSharingChanged } from './acks'
import type { OpContext, OpHandler } from './context'
import { findMembership, notifyGroupChanged } from './conversations'

/**
 * Tells everyone concerned that sharing changed in these conversations of the caller: the caller's
 * devices and, in single chats, the peer (each with their own view); group members get the group
 * again (its count of members hiding receipts).
 */
export async function announceReceiptSharing(
  ctx: OpContext,
  rows: readonly ConversationOfUser[],
): Promise<void> {
  for (const { conv, me, peer, group } of rows) {
    if (group) {
      const members = await ctx.storage.listCurrentMemberIds(conv.id)
      await notifyGroupChanged(ctx, group, members)
      ctx.pushes.add(ctx.userId, 'receiptSharingChanged', {
        conversation: { type: 'group', targetId: group.id },
        shareReadReceipts: me.shareReadReceipts,
        readReceiptsShared: me.sharesReadReceipts,
      })
      continue
    }
    if (!peer) continue
    const shared = me.sharesReadReceipts && peer.sharesReadReceipts
    ctx.pushes.add(ctx.userId, 'receiptSharingChanged', {
      conversation: { type: 'private', targetId: peer.userId },
      shareReadReceipts: me.shareReadReceipts,
      readReceiptsShared: shared,
    })
    const theirs = await ctx.storage.getMember(conv.id, peer.userId)
    ctx.pushes.add(peer.userId, 'receiptSharingChanged', {
      conversation: { type: 'private', targetId: ctx.userId },
      shareReadReceipts: theirs?.shareReadReceipts ?? null,
      readReceiptsShared: shared,
    })
  }
}

/** The caller's override of shareReadReceipts for one conversation (null: follow the account). */
export const setConversationReceiptSharing: OpHandler<'setConversationReceiptSharing'> = async (
  ctx,
  data,
) => {
  const membership = await findMembership(ctx, data.conversation)
  if (!membership || membership.me.leftSeq !== null) {
    throw new CodedError(Code.NOT_A_MEMBER, 'no such conversation of yours')
  }
  await ctx.storage.setMemberReceiptSharing(membership.conv.id, ctx.userId, data.shareReadReceipts)
  const row = (await ctx.storage.listConversationsOfUser(ctx.userId)).find(
    (r) => r.conv.id === membership.conv.id,
  )
  if (!row) throw new Error(`conversation ${membership.conv.key} vanished`)
  // Issue 15: the ack panels' hidden counts follow the reader's sharing.
  await noteSharingChanged(ctx, [
    {
      convId: row.conv.id,
      sharedBefore: membership.me.sharesReadReceipts,
      sharedNow: row.me.sharesReadReceipts,
    },
  ])
  await announceReceiptSharing(ctx, [row])
  const shared = row.me.sharesReadReceipts && (row.peer === null || row.peer.sharesReadReceipts)
  return { shareReadReceipts: row.me.shareReadReceipts, readReceiptsShared: shared }
}
