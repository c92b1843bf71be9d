import { Code, CodedError } from '../../shared/codes'
import { newMessageUId } from '../ids'
import type { GroupRole } from '../../shared/model'
import type { ConversationRow, GroupRow, NewMessage } from '../storage/types'
import type { OpContext, OpHandler } from './context'
import {
  findMembership,
  privateKey,
  receiptSettingsOf,
  requireCurrentMember,
  toWire,
  visibleUpTo,
} from './conversations'
import { requireMayAskForReceipts } from './groupReceipts'

interface SendTarget {
  conv: ConversationRow
  to: string
  /** Everyone who gets the message pushed, the sender included (for their other devices). */
  recipients: string[]
  memberCount: number
  /** Group only: the group and the sender's role in it. */
  group?: { row: GroupRow; senderRole: GroupRole }
}

async function privateTarget(ctx: OpContext, peerId: string): Promise<SendTarget> {
  if (peerId === ctx.userId) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
  const key = privateKey(ctx.userId, peerId)
  let conv = await ctx.storage.getConversationByKey(key)
  // Users are never deleted, so only the first message of a chat needs to look the peer up.
  if (!conv) {
    if (!(await ctx.storage.getUser(peerId))) throw new CodedError(Code.USER_NOT_FOUND, `no user ${peerId}`)
    conv = await ctx.storage.insertConversation({ key, type: 'private', createdAt: ctx.now })
    for (const userId of [ctx.userId, peerId]) {
      await ctx.storage.upsertMember({ convId: conv.id, userId, role: null, joinedSeq: 0, joinedAt: ctx.now })
    }
  }
  return { conv, to: peerId, recipients: [ctx.userId, peerId], memberCount: 1 }
}

async function groupTarget(ctx: OpContext, groupId: string): Promise<SendTarget> {
  const { group, conv, me } = await requireCurrentMember(ctx, groupId)
  const recipients = await ctx.storage.listCurrentMemberIds(group.convId)
  return {
    conv,
    to: group.id,
    recipients,
    memberCount: recipients.length - 1,
    group: { row: group, senderRole: me.role },
  }
}

export const sendMessage: OpHandler<'sendMessage'> = async (ctx, data) => {
  // Before any membership check: a resend of an accepted message must succeed even if the sender
  // has left the group since.
  const stored = await ctx.storage.findMessageByClientId(ctx.userId, data.clientMsgId)
  if (stored) return { message: toWire(stored), duplicate: true }

  const isGroup = data.conversation.type === 'group'
  const target = isGroup
    ? await groupTarget(ctx, data.conversation.targetId)
    : await privateTarget(ctx, data.conversation.targetId)
  // E8: a message that asks for group read acks is refused outright when the group's limits say no.
  if (target.group && data.isNeedGroupAck) {
    const settings = await receiptSettingsOf(ctx, target.group.row)
    requireMayAskForReceipts(settings, target.group.senderRole, target.recipients.length)
  }
  const sender = await ctx.storage.getUser(ctx.userId)
  if (!sender) throw new Error(`sender ${ctx.userId} has no account`)

  const newMessage: NewMessage = {
    uid: newMessageUId(ctx.now),
    convId: target.conv.id,
    senderId: ctx.userId,
    clientMsgId: data.clientMsgId,
    to: target.to,
    convType: data.conversation.type,
    channelId: data.channelId,
    content: data.content,
    sentAt: ctx.now,
    // Single-chat receipts follow the sender's settings at send time; groups have read acks only (E9).
    needDeliveryAck: !isGroup && sender.settings.requireDeliveryAck,
    needReadAck: !isGroup && sender.settings.requireReadAck,
    isNeedGroupAck: isGroup && data.isNeedGroupAck,
    memberCount: target.memberCount,
  }
  // Exactly-once even when the same clientMsgId races in from two connections: the storage decides.
  const inserted = await ctx.storage.insertMessage(newMessage)
  const message = toWire(inserted.message)
  if (!inserted.duplicate) ctx.pushes.add(target.recipients, 'message', message, { except: ctx.connection })
  return { message, duplicate: inserted.duplicate }
}

export const pullMessages: OpHandler<'pullMessages'> = async (ctx, data) => {
  const membership = await findMembership(ctx, data.conversation)
  if (!membership) {
    if (!(await ctx.storage.getUser(data.conversation.targetId))) {
      throw new CodedError(Code.USER_NOT_FOUND, `no user ${data.conversation.targetId}`)
    }
    return { messages: [], hasMore: false }
  }
  const afterSeq = Math.max(data.afterSeq, membership.me.joinedSeq)
  const rows = await ctx.storage.listMessages(
    membership.conv.id,
    afterSeq,
    visibleUpTo(membership),
    data.limit + 1,
  )
  return { messages: rows.slice(0, data.limit).map(toWire), hasMore: rows.length > data.limit }
}
