/**
 * Issue 15: what the other operations tell the acknowledgement facts (words in src/shared/acks.ts;
 * the ack operations and the panel are in acks.ts). A message is stamped with needAck and its
 * mentions when it is sent (messages.ts); a read position that moves (receipts.ts) or a read receipt
 * (groupReceipts.ts) writes the read facts of the messages that track reads and tells the senders
 * of the mentions it passed; a pulled message carries the viewer's own ack time only.
 */
import { Code, CodedError } from '../../shared/codes'
import type { MentionedInfo } from '../../shared/model'
import type { MemberRow, StoredMessage } from '../storage/types'
import { recordEvent, type OpContext } from './context'
import type { toWire } from './conversations'

function tracksReads(message: { needAck?: boolean; mentionedInfo?: MentionedInfo }): boolean {
  return message.needAck === true || message.mentionedInfo?.type === 'all'
}

/** Tells the senders of the mentions a reader just passed (mentionRead, logged). */
async function tellMentionsRead(
  ctx: OpContext,
  convId: number,
  groupId: string,
  afterSeq: number,
  upToSeq: number,
): Promise<void> {
  const passed = await ctx.storage.markMentionsRead(convId, ctx.userId, afterSeq, upToSeq, ctx.now)
  for (const p of passed) {
    await recordEvent(ctx, p.senderId, 'mentionRead', {
      conversation: { type: 'group', targetId: groupId },
      messageUId: p.messageUId,
      userId: ctx.userId,
      at: ctx.now,
    })
  }
}

/**
 * The caller's read position moved from `afterSeq` to `upToSeq` in a conversation, and others may
 * see it (`shared`): a read fact for each message there that tracks reads (an indexed range of
 * those only) and each mention of the caller it passed. Called by ackConversationRead.
 */
export async function noteReadPosition(
  ctx: OpContext,
  target: { convId: number; me: MemberRow; groupId: string | null },
  afterSeq: number,
  upToSeq: number,
  shared: boolean,
): Promise<void> {
  if (!shared) return
  const { me } = target
  const from = Math.max(afterSeq, me.joinedSeq)
  const to = me.leftSeq === null ? upToSeq : Math.min(upToSeq, me.leftSeq)
  if (to <= from) return
  for (const tracked of await ctx.storage.listTrackedMessages(target.convId, from, to)) {
    if (tracked.senderId !== ctx.userId) await ctx.storage.insertMessageRead(tracked.id, ctx.userId, ctx.now)
  }
  if (target.groupId !== null) await tellMentionsRead(ctx, target.convId, target.groupId, from, to)
}

/**
 * The caller read one message (a read receipt, or an ack) while sharing reads: its read fact if it
 * tracks reads, and its mention of the caller if any. The caller must be a recipient.
 */
export async function noteMessageRead(ctx: OpContext, message: StoredMessage): Promise<void> {
  if (message.senderId === ctx.userId) return
  if (tracksReads(message)) await ctx.storage.insertMessageRead(message.id, ctx.userId, ctx.now)
  if (message.convType === 'group' && message.mentionedInfo?.type === 'some')
    await tellMentionsRead(ctx, message.convId, message.to, message.seq - 1, message.seq)
}

/**
 * sendMessage's `mentionedInfo`: groups only (INVALID_ARGUMENT in a single chat), and each named
 * member must be a current member of the group (MENTION_NOT_A_MEMBER). The members to record (the
 * sender is never recorded as mentioning themselves).
 */
export async function checkMentions(
  ctx: OpContext,
  convId: number,
  isGroup: boolean,
  info: MentionedInfo | undefined,
): Promise<string[]> {
  if (!info) return []
  if (!isGroup) throw new CodedError(Code.INVALID_ARGUMENT, 'mentionedInfo: mentions exist in groups only')
  if (info.type === 'all') return []
  const named = [...new Set(info.userIdList)]
  for (const userId of named) {
    const member = await ctx.storage.getMember(convId, userId)
    if (!member || member.leftSeq !== null)
      throw new CodedError(
        Code.MENTION_NOT_A_MEMBER,
        `mentionedInfo: ${userId} is not a member of this group`,
      )
  }
  return named.filter((id) => id !== ctx.userId)
}

/** Stamps needAck and the mentions on a message just inserted, and on the stored copy the reply carries. */
export async function recordAckInfo(
  ctx: OpContext,
  message: StoredMessage,
  needAck: boolean,
  info: MentionedInfo | undefined,
  mentioned: readonly string[],
): Promise<void> {
  if (!needAck && !info) return
  const mentionedInfo = info && { type: info.type, userIdList: info.type === 'all' ? [] : info.userIdList }
  await ctx.storage.setMessageAckInfo(message, {
    needAck,
    tracksReads: tracksReads({ needAck, mentionedInfo }),
    mentionedInfo: mentionedInfo ? JSON.stringify(mentionedInfo) : null,
    mentioned,
  })
  if (needAck) {
    message.needAck = true
    message.ackCount = 0
  }
  if (mentionedInfo) message.mentionedInfo = mentionedInfo
}

/**
 * Per viewer (pullMessages, listPendingAcks): the sender sees ackCount (toWire), a recipient their
 * own ack time as myAckAt, nobody else's.
 */
export async function withMyAcks(
  ctx: OpContext,
  messages: readonly StoredMessage[],
  wire: ReturnType<typeof toWire>[],
): Promise<void> {
  const asked = messages.filter((m) => m.needAck && m.senderId !== ctx.userId)
  if (asked.length === 0) return
  const mine = new Map(
    (
      await ctx.storage.getAcksOf(
        ctx.userId,
        asked.map((m) => m.id),
      )
    ).map((a) => [a.messageId, a.ackedAt]),
  )
  messages.forEach((m, i) => {
    const at = mine.get(m.id)
    const w = wire[i]
    if (at !== undefined && w) w.myAckAt = at
  })
}
