import { Code, CodedError } from '../../shared/codes'
import type { Conversation, GroupInfo, GroupReceiptSettings, GroupRole } from '../../shared/model'
import type { WireMessage } from '../../shared/protocol'
import type { ConversationRow, GroupRow, MemberRow, StoredMessage } from '../storage/types'
import { mergeReceiptSettings } from '../receiptSettings'
import type { OpContext } from './context'

/** Viewer-independent: both users of a single chat map to the same key. */
export function privateKey(a: string, b: string): string {
  return a < b ? `p:${a}:${b}` : `p:${b}:${a}`
}

export function groupKey(groupId: string): string {
  return `g:${groupId}`
}

/**
 * The message as `viewerId` may see it. Pulled copies carry its receipt state (so a device whose
 * receipt events were pruned still learns it): delivery, read and read count to the sender only,
 * the read count of a group message that asked also to the other current members when
 * `countsForAll` (the group's countVisibility is 'all'); whether a read receipt was requested to
 * anyone who sees the message. Without a viewer (a fresh message: a push, the reply to its send)
 * there is none yet.
 */
export function toWire(message: StoredMessage, viewerId?: string, countsForAll = false): WireMessage {
  const wire = toPlainWire(message)
  if (viewerId !== undefined && viewerId === message.senderId) {
    if (message.deliveredAt !== null) wire.deliveredAt = message.deliveredAt
    if (message.readAt !== null) wire.readAt = message.readAt
    if (message.convType === 'group' && message.groupAckCount > 0) wire.groupAckCount = message.groupAckCount
    // Issue 15: the ack count is the sender's alone (recipients get their own myAckAt: acks.ts).
    if (message.needAck) wire.ackCount = message.ackCount ?? 0
  } else if (
    viewerId !== undefined &&
    countsForAll &&
    // A recalled message's receipts stay with its sender (H1).
    message.recalledAt === undefined &&
    message.convType === 'group' &&
    message.groupAckCount > 0 &&
    (message.isNeedGroupAck || message.receiptRequested)
  ) {
    wire.groupAckCount = message.groupAckCount
  }
  if (viewerId !== undefined && message.receiptRequested) wire.receiptRequested = true
  return wire
}

function toPlainWire(message: StoredMessage): WireMessage {
  return {
    messageUId: message.messageUId,
    clientMsgId: message.clientMsgId,
    convType: message.convType,
    senderId: message.senderId,
    to: message.to,
    channelId: message.channelId,
    seq: message.seq,
    content: message.content,
    sentAt: message.sentAt,
    needDeliveryAck: message.needDeliveryAck,
    needReadAck: message.needReadAck,
    isNeedGroupAck: message.isNeedGroupAck,
    memberCount: message.memberCount,
    // Reply, edit, recall (H1): set only when they apply.
    ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}),
    ...(message.editCount !== undefined ? { editedAt: message.editedAt, editCount: message.editCount } : {}),
    ...(message.recalledAt !== undefined ? { recalledAt: message.recalledAt } : {}),
    // Acks and mentions (issue 15).
    ...(message.needAck ? { needAck: true as const } : {}),
    ...(message.mentionedInfo !== undefined ? { mentionedInfo: message.mentionedInfo } : {}),
  }
}

export interface Membership {
  conv: ConversationRow
  /** The caller's row; for a former group member it carries leftSeq. */
  me: MemberRow
  group: GroupRow | null
}

/** The last seq the member may see: everything after leaving stays hidden. */
export function visibleUpTo(membership: Pick<Membership, 'conv' | 'me'>): number {
  return membership.me.leftSeq ?? membership.conv.lastSeq
}

export async function conversationOf(ctx: OpContext, key: string): Promise<ConversationRow> {
  const conv = await ctx.storage.getConversationByKey(key)
  if (!conv) throw new Error(`conversation ${key} is missing`)
  return conv
}

/**
 * The caller's membership of a conversation, current or former. Undefined for a single chat that has
 * no message yet (it exists only from the first message on).
 */
export async function findMembership(
  ctx: OpContext,
  conversation: Conversation,
): Promise<Membership | undefined> {
  if (conversation.type === 'private') {
    if (conversation.targetId === ctx.userId) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
    const conv = await ctx.storage.getConversationByKey(privateKey(ctx.userId, conversation.targetId))
    if (!conv) return undefined
    const me = await ctx.storage.getMember(conv.id, ctx.userId)
    if (!me) throw new Error(`single chat ${conv.key} lacks a member row for ${ctx.userId}`)
    return { conv, me, group: null }
  }
  const group = await requireGroup(ctx, conversation.targetId)
  const me = await ctx.storage.getMember(group.convId, ctx.userId)
  if (!me) throw new CodedError(Code.NOT_A_MEMBER)
  return { conv: await conversationOf(ctx, groupKey(group.id)), me, group }
}

export async function requireGroup(ctx: OpContext, groupId: string): Promise<GroupRow> {
  const group = await ctx.storage.getGroup(groupId)
  if (!group) throw new CodedError(Code.GROUP_NOT_FOUND, `no group ${groupId}`)
  return group
}

/** The group, its conversation and the caller's row, for callers that must be current members. */
export async function requireCurrentMember(
  ctx: OpContext,
  groupId: string,
): Promise<{ group: GroupRow; conv: ConversationRow; me: MemberRow & { role: GroupRole } }> {
  const group = await requireGroup(ctx, groupId)
  const me = await ctx.storage.getMember(group.convId, ctx.userId)
  if (!me || me.leftSeq !== null || me.role === null) throw new CodedError(Code.NOT_A_MEMBER)
  return { group, conv: await conversationOf(ctx, groupKey(group.id)), me: { ...me, role: me.role } }
}

/** The group's effective receipt settings: the server defaults merged with the owner's overrides. */
export async function receiptSettingsOf(ctx: OpContext, group: GroupRow): Promise<GroupReceiptSettings> {
  return mergeReceiptSettings(ctx.receiptDefaults, await ctx.storage.getGroupReceiptOverrides(group.id))
}

export function groupInfo(
  group: GroupRow,
  memberCount: number,
  myRole: GroupRole | null,
  receiptSettings: GroupReceiptSettings,
  membersHidingReceipts = 0,
  avatarFileId?: string,
): GroupInfo {
  return {
    groupId: group.id,
    name: group.name,
    ownerId: group.ownerId,
    memberCount,
    createdAt: group.createdAt,
    ...(myRole === null ? {} : { myRole }),
    receiptSettings,
    ...(membersHidingReceipts > 0 ? { membersHidingReceipts } : {}),
    ...(avatarFileId ? { avatarFileId } : {}),
  }
}

/** H7: the group's picture (ops/avatars.ts sets it). */
async function groupAvatar(ctx: OpContext, groupId: string): Promise<string | undefined> {
  return (await ctx.storage.getAvatars('group', [groupId]))[0]?.fileId
}

async function roleOf(ctx: OpContext, group: GroupRow, userId: string): Promise<GroupRole | null> {
  const member = await ctx.storage.getMember(group.convId, userId)
  return member && member.leftSeq === null ? member.role : null
}

/** GroupInfo as `userId` sees it: myRole only while a current member. */
export async function groupInfoFor(ctx: OpContext, group: GroupRow, userId: string): Promise<GroupInfo> {
  return groupInfo(
    group,
    await ctx.storage.countCurrentMembers(group.convId),
    await roleOf(ctx, group, userId),
    await receiptSettingsOf(ctx, group),
    await ctx.storage.countMembersHidingReceipts(group.convId),
    await groupAvatar(ctx, group.id),
  )
}

/** groupChanged to every connection of every affected user, each with their own myRole. */
export async function notifyGroupChanged(
  ctx: OpContext,
  group: GroupRow,
  affectedUserIds: Iterable<string>,
): Promise<void> {
  const memberCount = await ctx.storage.countCurrentMembers(group.convId)
  const settings = await receiptSettingsOf(ctx, group)
  const hiding = await ctx.storage.countMembersHidingReceipts(group.convId)
  const avatar = await groupAvatar(ctx, group.id)
  for (const userId of new Set(affectedUserIds)) {
    const info = groupInfo(group, memberCount, await roleOf(ctx, group, userId), settings, hiding, avatar)
    ctx.pushes.add(userId, 'groupChanged', { groupId: group.id, group: info })
  }
}
