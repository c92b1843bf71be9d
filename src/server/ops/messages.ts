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

function privateTarget(ctx: OpContext, peerId: string): SendTarget {
  if (peerId === ctx.userId) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
  if (!ctx.storage.getUser(peerId)) throw new CodedError(Code.USER_NOT_FOUND, `no user ${peerId}`)
  const key = privateKey(ctx.userId, peerId)
  let conv = ctx.storage.getConversationByKey(key)
  if (!conv) {
    conv = ctx.storage.insertConversation({ key, type: 'private', createdAt: ctx.now })
    for (const userId of [ctx.userId, peerId]) {
      ctx.storage.upsertMember({ convId: conv.id, userId, role: null, joinedSeq: 0, joinedAt: ctx.now })
    }
  }
  return { conv, to: peerId, recipients: [ctx.userId, peerId], memberCount: 1 }
}

function groupTarget(ctx: OpContext, groupId: string): SendTarget {
  const { group, conv, me } = requireCurrentMember(ctx, groupId)
  const recipients = ctx.storage.listCurrentMemberIds(group.convId)
  return {
    conv,
    to: group.id,
    recipients,
    memberCount: recipients.length - 1,
    group: { row: group, senderRole: me.role },
  }
}

function uniqueMessageUId(ctx: OpContext): string {
  for (;;) {
    const uid = newMessageUId()
    if (!ctx.storage.messageUIdExists(uid)) return uid
  }
}

export const sendMessage: OpHandler<'sendMessage'> = (ctx, data) =>
  ctx.storage.transaction(() => {
    // Before any membership check: a resend of an accepted message must succeed even if the sender
    // has left the group since.
    const stored = ctx.storage.findMessageByClientId(ctx.userId, data.clientMsgId)
    if (stored) return { message: toWire(stored), duplicate: true }

    const isGroup = data.conversation.type === 'group'
    const target = isGroup
      ? groupTarget(ctx, data.conversation.targetId)
      : privateTarget(ctx, data.conversation.targetId)
    // E8: a message that asks for group read acks is refused outright when the group's limits say no.
    if (target.group && data.isNeedGroupAck) {
      const settings = receiptSettingsOf(ctx, target.group.row)
      requireMayAskForReceipts(settings, target.group.senderRole, target.recipients.length)
    }
    const sender = ctx.storage.getUser(ctx.userId)
    if (!sender) throw new Error(`sender ${ctx.userId} has no account`)

    const newMessage: NewMessage = {
      uid: uniqueMessageUId(ctx),
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
    const message = toWire(ctx.storage.insertMessage(newMessage))
    for (const userId of target.recipients) {
      ctx.pushes.add(userId, 'message', message, { except: ctx.connection })
    }
    return { message, duplicate: false }
  })

export const pullMessages: OpHandler<'pullMessages'> = (ctx, data) => {
  const membership = findMembership(ctx, data.conversation)
  if (!membership) {
    if (!ctx.storage.getUser(data.conversation.targetId)) {
      throw new CodedError(Code.USER_NOT_FOUND, `no user ${data.conversation.targetId}`)
    }
    return { messages: [], hasMore: false }
  }
  const afterSeq = Math.max(data.afterSeq, membership.me.joinedSeq)
  const rows = ctx.storage.listMessages(membership.conv.id, afterSeq, visibleUpTo(membership), data.limit + 1)
  return { messages: rows.slice(0, data.limit).map(toWire), hasMore: rows.length > data.limit }
}
