import { Code, CodedError } from '../../shared/codes'
import { announceReceiptSharing } from './receiptPrivacy'
import { recordAttachment, requireAttachable } from './attachments'
import { newMessageUId } from '../ids'
import type { GroupRole } from '../../shared/model'
import type { ParsedRequestData } from '../../shared/protocol'
import type { ConversationRow, GroupRow, NewMessage, StoredMessage } from '../storage/types'
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
import { chargeLookups, chargeUsage } from './limits'
import { checkReplyTarget } from './messageActions'
import { checkMentions, recordAckInfo, withMyAcks } from './ackReads'

interface SendTarget {
  conv: ConversationRow
  to: string
  /** Everyone who gets the message pushed, the sender included (for their other devices). */
  recipients: string[]
  memberCount: number
  /** Group only: the group and the sender's role in it. */
  group?: { row: GroupRow; senderRole: GroupRole }
}

/** A resend of a message the server already accepted: answered with it, whatever changed since. */
interface Resend {
  resendOf: StoredMessage
}

async function privateTarget(
  ctx: OpContext,
  peerId: string,
  clientMsgId: string,
): Promise<SendTarget | Resend> {
  if (peerId === ctx.userId) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
  const key = privateKey(ctx.userId, peerId)
  let conv = await ctx.storage.getConversationByKey(key)
  // Users are never deleted, so only the first message of a chat needs to look the peer up.
  if (!conv) {
    // Nothing may be created for a resend (of a message that went elsewhere).
    const stored = await ctx.storage.findMessageByClientId(ctx.userId, clientMsgId)
    if (stored) return { resendOf: stored }
    // A first message is a lookup: whether the peer exists is told only within the caller's budget.
    await chargeLookups(ctx, [peerId])
    if (!(await ctx.storage.getUser(peerId))) throw new CodedError(Code.USER_NOT_FOUND, `no user ${peerId}`)
    conv = await ctx.storage.insertConversation({ key, type: 'private', createdAt: ctx.now })
    for (const userId of [ctx.userId, peerId]) {
      await ctx.storage.upsertMember({ convId: conv.id, userId, role: null, joinedSeq: 0, joinedAt: ctx.now })
    }
    // A new chat in which read receipts do not flow: both sides hear it before its first message.
    if (!(await ctx.storage.readReceiptsExchanged(conv.id))) {
      const row = (await ctx.storage.listConversationsOfUser(ctx.userId)).find((r) => r.conv.id === conv?.id)
      if (row) await announceReceiptSharing(ctx, [row])
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

/** Where a send goes, and whether the group's E8 limits let it ask for receipts. */
async function resolveSend(
  ctx: OpContext,
  data: ParsedRequestData<'sendMessage'>,
): Promise<SendTarget | Resend> {
  const target =
    data.conversation.type === 'group'
      ? await groupTarget(ctx, data.conversation.targetId)
      : await privateTarget(ctx, data.conversation.targetId, data.clientMsgId)
  if ('resendOf' in target) return target
  // E8: a message that asks for group read acks is refused outright when the group's limits say no.
  if (target.group && data.isNeedGroupAck) {
    const settings = await receiptSettingsOf(ctx, target.group.row)
    requireMayAskForReceipts(settings, target.group.senderRole, target.recipients.length)
  }
  return target
}

export const sendMessage: OpHandler<'sendMessage'> = async (ctx, data) => {
  const isGroup = data.conversation.type === 'group'
  let target: SendTarget | Resend
  try {
    target = await resolveSend(ctx, data)
  } catch (error) {
    // A resend of an accepted message succeeds whatever changed since (the sender left the group,
    // the limits changed). Looked up only here: insertMessage itself is exactly-once, so the
    // common path needs no lookup before the insert.
    const stored = await ctx.storage.findMessageByClientId(ctx.userId, data.clientMsgId)
    if (stored) return { message: toWire(stored), duplicate: true }
    throw error
  }
  if ('resendOf' in target) return { message: toWire(target.resendOf), duplicate: true }
  const sender = await ctx.storage.getUser(ctx.userId)
  if (!sender) throw new Error(`sender ${ctx.userId} has no account`)
  await requireAttachable(ctx, data.content)
  // H1: a recall's placeholder is never sent; a quote is of this conversation and visible to me.
  if (data.content.type === 'recalled')
    throw new CodedError(Code.INVALID_ARGUMENT, 'content: a recalled message cannot be sent')
  if (data.replyTo !== undefined) await checkReplyTarget(ctx, target.conv.id, data.replyTo)
  // Issue 15: mentions name current members of a group only.
  const mentioned = await checkMentions(ctx, target.conv.id, isGroup, data.mentionedInfo)

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
    // Within the pair's budget only (deliveryBudget.ts: receipts cannot be used to probe a device).
    // On several nodes the budget is shared (one statement on the database; see deliveryBudget.ts).
    needDeliveryAck:
      !isGroup &&
      sender.settings.requireDeliveryAck &&
      (await ctx.deliveryBudget.take(ctx.userId, data.conversation.targetId, ctx.now)),
    needReadAck: !isGroup && sender.settings.requireReadAck,
    isNeedGroupAck: isGroup && data.isNeedGroupAck,
    memberCount: target.memberCount,
  }
  // Exactly-once even when the same clientMsgId races in from two connections: the storage decides.
  const inserted = await ctx.storage.insertMessage(newMessage)
  if (!inserted.duplicate) await recordAttachment(ctx, inserted.message)
  if (!inserted.duplicate && data.replyTo !== undefined) {
    await ctx.storage.setReplyTo(inserted.message.id, data.replyTo)
    inserted.message.replyTo = data.replyTo
  }
  if (!inserted.duplicate)
    await recordAckInfo(ctx, inserted.message, data.needAck, data.mentionedInfo, mentioned)
  const message = toWire(inserted.message)
  // The day's quota, in the same transaction: a refused message is rolled back with everything else.
  if (!inserted.duplicate) {
    await chargeUsage(ctx, { messages: 1, bytes: Buffer.byteLength(JSON.stringify(data.content)) })
  }
  if (!inserted.duplicate) ctx.pushes.add(target.recipients, 'message', message, { except: ctx.connection })
  return { message, duplicate: inserted.duplicate }
}

export const pullMessages: OpHandler<'pullMessages'> = async (ctx, data) => {
  const membership = await findMembership(ctx, data.conversation)
  // No chat with that user (yet): the same answer whether or not the user exists (enumeration).
  if (!membership) return { messages: [], hasMore: false }
  const afterSeq = Math.max(data.afterSeq, membership.me.joinedSeq)
  const upTo = visibleUpTo(membership)
  // H6: without what the caller deleted for themselves (on any of their devices).
  const rows = await ctx.storage.listMessages(membership.conv.id, afterSeq, upTo, data.limit + 1, ctx.userId)
  // Messages past the retention are gone for good: say so, or the client would ask for them forever.
  const pruned = Math.min(await ctx.storage.messagesPrunedSeq(membership.conv.id), upTo)
  // countVisibility 'all': the read counts of others' messages too, to current members only.
  const countsForAll =
    membership.group !== null &&
    membership.me.leftSeq === null &&
    (await receiptSettingsOf(ctx, membership.group)).countVisibility === 'all'
  const page = rows.slice(0, data.limit)
  const hasMore = rows.length > data.limit
  const messages = page.map((m) => toWire(m, ctx.userId, countsForAll))
  // Issue 15: a recipient's own ack time of the messages that ask for one.
  await withMyAcks(ctx, page, messages)
  return {
    messages,
    hasMore,
    ...(pruned > afterSeq ? { prunedSeq: pruned } : {}),
    // H6: the seqs this page covers, deleted-for-me ones included (so they leave no gap to pull).
    throughSeq: Math.max(afterSeq, hasMore ? (page.at(-1)?.seq ?? afterSeq) : upTo),
  }
}
