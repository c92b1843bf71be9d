import { DEFAULT_RECALL_WINDOW_MS } from '../messageActions'
import type { ConversationState, PushFrame } from '../../shared/protocol'
import type { ConversationOfUser } from '../storage/types'
import { mergeReceiptSettings } from '../receiptSettings'
import type { OpContext, OpHandler } from './context'
import { chargeLookups } from './limits'
import { groupInfo, visibleUpTo } from './conversations'
import { announceReceiptSharing } from './receiptPrivacy'
import { avatarOf, profileWithAvatar, withAvatars } from './avatars'
import { toProfile } from '../accounts'
import { ackSettingsOf, noteSharingChanged } from './acks'

async function conversationState(
  ctx: OpContext,
  row: ConversationOfUser,
  muted: ReadonlySet<number>,
): Promise<ConversationState> {
  const { conv, me, peer, group } = row
  const conversation =
    conv.type === 'private'
      ? { type: 'private' as const, targetId: peer?.userId ?? '' }
      : { type: 'group' as const, targetId: group?.id ?? '' }
  return {
    conversation,
    title: peer?.displayName ?? group?.name ?? '',
    lastSeq: conv.lastSeq,
    readSeq: me.readSeq,
    shareReadReceipts: me.shareReadReceipts,
    readReceiptsShared: me.sharesReadReceipts && (peer === null || peer.sharesReadReceipts),
    peerReadSeq: peer?.readSeq ?? 0,
    peerDeliveredSeq: peer?.deliveredSeq ?? 0,
    joinedSeq: me.joinedSeq,
    leftSeq: me.leftSeq,
    unreadCount: await ctx.storage.countUnread(
      conv.id,
      ctx.userId,
      Math.max(me.readSeq, me.joinedSeq),
      visibleUpTo(row),
    ),
    notificationStatus: muted.has(conv.id) ? 'doNotDisturb' : 'notify',
  }
}

export const syncState: OpHandler<'syncState'> = async (ctx) => {
  const user = await ctx.storage.getUser(ctx.userId)
  if (!user) throw new Error(`user ${ctx.userId} has a session but no account`)
  const conversations: ConversationState[] = []
  // H8: the chats I muted on any of my devices.
  const muted = new Set(await ctx.storage.listMutedConversations(ctx.userId))
  for (const row of await ctx.storage.listConversationsOfUser(ctx.userId)) {
    conversations.push(await conversationState(ctx, row, muted))
  }
  // H7: the pictures of everyone I may see, so pictures changed while I was away come with the sync.
  const seen = [ctx.userId, ...(await ctx.storage.relatedUsers(ctx.userId, 'everyone'))]
  const avatars = (await ctx.storage.getAvatars('user', seen)).map((a) => ({
    userId: a.ownerId,
    fileId: a.fileId,
  }))
  return {
    user: await profileWithAvatar(ctx.storage, user),
    avatars,
    settings: user.settings,
    conversations,
    groups: await Promise.all(
      (await ctx.storage.listGroupsOfUser(ctx.userId)).map(
        async ({ group, memberCount, myRole, receiptOverrides }) =>
          groupInfo(
            group,
            memberCount,
            myRole,
            mergeReceiptSettings(ctx.receiptDefaults, receiptOverrides),
            await ctx.storage.countMembersHidingReceipts(group.convId),
            await avatarOf(ctx.storage, 'group', group.id),
          ),
      ),
    ),
    lastEventSeq: user.lastEventSeq,
    serverTime: ctx.now,
    recallWindowMs: ctx.policy?.recallWindowMs ?? DEFAULT_RECALL_WINDOW_MS,
    // Issue 15: the operator's ack rules, and how many messages wait for my ack.
    ackSettings: {
      undoWindowMs: ackSettingsOf(ctx).undoWindowMs,
      remindersPerMember: ackSettingsOf(ctx).remindersPerMember,
      reminderIntervalMs: ackSettingsOf(ctx).reminderIntervalMs,
    },
    pendingAcks: await ctx.storage.countPendingAcks(ctx.userId),
  }
}

export const syncEvents: OpHandler<'syncEvents'> = async (ctx, data) => {
  // Events past their window are deleted: a client behind them cannot replay, it must resync.
  const prunedThrough = await ctx.storage.eventsPrunedSeq(ctx.userId)
  if (data.afterEventSeq < prunedThrough) return { events: [], hasMore: false, prunedThrough }
  const rows = await ctx.storage.listUserEvents(ctx.userId, data.afterEventSeq, data.limit + 1)
  const events = rows.slice(0, data.limit).map(
    (row) =>
      // Rows were written by recordEvent from typed push data.
      ({ type: 'push', event: row.event, data: JSON.parse(row.data), eventSeq: row.eventSeq }) as PushFrame,
  )
  return { events, hasMore: rows.length > data.limit }
}

export const getUsers: OpHandler<'getUsers'> = async (ctx, data) => {
  // People the caller shares a conversation with are free; strangers cost lookups (enumeration).
  await chargeLookups(ctx, data.userIds)
  return {
    users: await withAvatars(
      ctx.storage,
      (await ctx.storage.getUsers([...new Set(data.userIds)])).map(toProfile),
    ),
  }
}

export const updateSettings: OpHandler<'updateSettings'> = async (ctx, data) => {
  const before = await ctx.storage.getUser(ctx.userId)
  const settings = await ctx.storage.updateSettings(ctx.userId, data)
  ctx.pushes.add(ctx.userId, 'settingsChanged', { settings }, { except: ctx.connection })
  if (before && before.settings.shareReadReceipts !== settings.shareReadReceipts) {
    const rows = await ctx.storage.listConversationsOfUser(ctx.userId)
    // Issue 15: the ack panels' hidden counts follow, where no override pins the sharing.
    await noteSharingChanged(
      ctx,
      rows
        .filter((r) => r.me.shareReadReceipts === null)
        .map((r) => ({
          convId: r.conv.id,
          sharedBefore: before.settings.shareReadReceipts,
          sharedNow: settings.shareReadReceipts,
        })),
    )
    await announceReceiptSharing(ctx, rows)
  }
  return { settings }
}
