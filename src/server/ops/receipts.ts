import { Code, CodedError, codeDescriptions, type CodeName } from '../../shared/codes'
import type { ReplyData } from '../../shared/protocol'
import type { OpContext, OpHandler } from './context'
import { recordEvent } from './context'
import { findMembership, visibleUpTo } from './conversations'
import { noteMessageRead, noteReadPosition } from './ackReads'

type AckReply = ReplyData<'ackDelivered'>

function reject(reply: AckReply, messageUId: string, name: CodeName & keyof typeof Code): void {
  reply.rejected.push({ messageUId, code: Code[name], msg: codeDescriptions[name] })
}

/**
 * Single-chat delivery and read acks (E1, E4). Each id is judged on its own; duplicates are accepted
 * but only ids this call newly applied produce an event: one per sender, since every message the
 * caller may ack was sent to the caller.
 */
async function ackSingleChatMessages(
  ctx: OpContext,
  messageUIds: readonly string[],
  kind: 'delivered' | 'read',
): Promise<AckReply> {
  const reply: AckReply = { accepted: [], rejected: [] }
  const appliedBySender = new Map<string, string[]>()
  const deliveredBySender = new Map<string, string[]>()
  const exchangedIn = new Map<number, boolean>()
  const exchanged = async (convId: number): Promise<boolean> => {
    let known = exchangedIn.get(convId)
    if (known === undefined)
      exchangedIn.set(convId, (known = await ctx.storage.readReceiptsExchanged(convId)))
    return known
  }
  for (const uid of new Set(messageUIds)) {
    // The common case in one statement; only an id it did not apply is looked up, to say why.
    const senderId = await ctx.storage.markReceived(kind, uid, ctx.userId, ctx.now)
    if (senderId !== undefined) {
      reply.accepted.push(uid)
      // Issue 15: a read of a message that asks for an ack shows in its panel.
      if (kind === 'read') {
        const read = await ctx.storage.getMessageByUId(uid)
        if (read?.needAck) await noteMessageRead(ctx, read)
      }
      const ids = appliedBySender.get(senderId)
      if (ids) ids.push(uid)
      else appliedBySender.set(senderId, [uid])
      continue
    }
    const message = await ctx.storage.getMessageByUId(uid)
    if (!message) reject(reply, uid, 'MESSAGE_NOT_FOUND')
    else if (message.convType !== 'private') reject(reply, uid, 'RECEIPT_NOT_APPLICABLE')
    else if (message.to !== ctx.userId) reject(reply, uid, 'NOT_MESSAGE_RECEIVER')
    else {
      reply.accepted.push(uid)
      // Not applied because read receipts are not exchanged here (receiptPrivacy.ts): a private
      // read, which the sender learns only as a delivery. Otherwise applied before: no new event.
      if (kind === 'read' && message.readAt === null && !(await exchanged(message.convId))) {
        const senderId = await ctx.storage.markReceived('delivered', uid, ctx.userId, ctx.now)
        if (senderId !== undefined) appendTo(deliveredBySender, senderId, uid)
      }
    }
  }
  for (const [senderId, ids] of deliveredBySender) {
    await recordEvent(ctx, senderId, 'messageDelivered', ackEvent(ctx, ids))
  }
  for (const [senderId, ids] of appliedBySender) {
    await recordEvent(ctx, senderId, kind === 'read' ? 'messageRead' : 'messageDelivered', ackEvent(ctx, ids))
  }
  return reply
}

function ackEvent(ctx: OpContext, messageUIds: string[]) {
  return {
    conversation: { type: 'private' as const, targetId: ctx.userId },
    messageUIds,
    by: ctx.userId,
    at: ctx.now,
  }
}

function appendTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

export const ackDelivered: OpHandler<'ackDelivered'> = (ctx, data) =>
  ackSingleChatMessages(ctx, data.messageUIds, 'delivered')

export const ackMessageRead: OpHandler<'ackMessageRead'> = (ctx, data) =>
  ackSingleChatMessages(ctx, data.messageUIds, 'read')

/** E3: moves the caller's read watermark (never backwards) and tells their other devices and the peer. */
export const ackConversationRead: OpHandler<'ackConversationRead'> = async (ctx, data) => {
  const membership = await findMembership(ctx, data.conversation)
  if (!membership) throw new CodedError(Code.NOT_A_MEMBER, 'no conversation with that user yet')
  const { conv, me, group } = membership
  const readSeq = Math.max(me.readSeq, Math.min(data.seq, visibleUpTo(membership)))
  if (readSeq === me.readSeq) return { readSeq }
  // Shared with the peer only while read receipts are exchanged (receiptPrivacy.ts); my devices
  // get my read mark either way.
  const shared = group ? me.sharesReadReceipts : await ctx.storage.readReceiptsExchanged(conv.id)
  // Read implies delivered.
  await ctx.storage.setMemberWatermarks(
    conv.id,
    ctx.userId,
    readSeq,
    Math.max(me.deliveredSeq, readSeq),
    shared ? readSeq : 0,
  )
  // Issue 15: read facts of the messages that track reads, and mentions of me, it passed.
  await noteReadPosition(
    ctx,
    { convId: conv.id, me, groupId: group ? group.id : null },
    me.readSeq,
    readSeq,
    shared,
  )

  const to = group ? group.id : data.conversation.targetId
  const event = { from: ctx.userId, to, seq: readSeq, at: ctx.now }
  await recordEvent(
    ctx,
    ctx.userId,
    'conversationRead',
    { conversation: data.conversation, ...event },
    ctx.connection,
  )
  if (!group && shared) {
    await recordEvent(ctx, to, 'conversationRead', {
      conversation: { type: 'private', targetId: ctx.userId },
      ...event,
    })
  }
  return { readSeq }
}
