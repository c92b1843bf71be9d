/**
 * Reply, edit and recall (issue 13, H1). Only a message's sender edits or recalls it; everyone who
 * may see it (its conversation's members between their join and their leave, the sender's own
 * devices too) hears the change as a logged event, so a device that was offline catches up with
 * syncEvents, and a copy pulled later carries the change itself (content, editCount, recalledAt).
 * An edit keeps the message row, so its receipts (delivered, read, group read count) stay.
 */
import { Code, CodedError } from '../../shared/codes'
import { DEFAULT_RECALL_WINDOW_MS } from '../messageActions'
import type { StoredMessage } from '../storage/types'
import { recordEvent, type OpContext, type OpHandler } from './context'
import { chargeUsage } from './limits'

/**
 * The message, if the caller may see it (a member who had joined before it and had not left before
 * it). Unknown and invisible are one answer, MESSAGE_NOT_FOUND, so nothing can be probed.
 */
export async function visibleMessage(
  ctx: OpContext,
  messageUId: string,
): Promise<{ message: StoredMessage; current: boolean }> {
  const message = await ctx.storage.getMessageByUId(messageUId)
  const me = message && (await ctx.storage.getMember(message.convId, ctx.userId))
  if (!message || !me || me.joinedSeq >= message.seq || (me.leftSeq !== null && me.leftSeq < message.seq))
    throw new CodedError(Code.MESSAGE_NOT_FOUND)
  return { message, current: me.leftSeq === null }
}

/** The caller's own message, not recalled. */
async function ownMessage(
  ctx: OpContext,
  messageUId: string,
): Promise<{ message: StoredMessage; current: boolean }> {
  const found = await visibleMessage(ctx, messageUId)
  if (found.message.senderId !== ctx.userId) throw new CodedError(Code.NOT_MESSAGE_SENDER)
  if (found.message.recalledAt !== undefined) throw new CodedError(Code.MESSAGE_RECALLED)
  return found
}

/** sendMessage's `replyTo`: a message of the same conversation the sender may see, not recalled. */
export async function checkReplyTarget(ctx: OpContext, convId: number, replyTo: string): Promise<void> {
  const { message } = await visibleMessage(ctx, replyTo)
  if (message.convId !== convId)
    throw new CodedError(Code.MESSAGE_NOT_FOUND, 'the quoted message is not in this conversation')
  if (message.recalledAt !== undefined) throw new CodedError(Code.MESSAGE_RECALLED)
}

export const editMessage: OpHandler<'editMessage'> = async (ctx, data) => {
  const { message, current } = await ownMessage(ctx, data.messageUId)
  if (!current)
    throw new CodedError(
      Code.NOT_A_MEMBER,
      'you left this group: your messages there can no longer be edited',
    )
  if (message.content.type !== 'text') throw new CodedError(Code.MESSAGE_NOT_EDITABLE)
  const content = { type: 'text' as const, text: data.text }
  // An edit is stored content like a message: it counts against the day's bytes.
  await chargeUsage(ctx, { bytes: Buffer.byteLength(JSON.stringify(content)) })
  const editCount = await ctx.storage.editMessage(message.id, content, ctx.now)
  if (editCount === undefined) throw new CodedError(Code.MESSAGE_RECALLED)
  const event = { messageUId: message.messageUId, content, editedAt: ctx.now, editCount }
  for (const viewer of await ctx.storage.listMessageViewers(message.convId, message.seq)) {
    await recordEvent(ctx, viewer, 'messageEdited', event, ctx.connection)
  }
  return event
}

export const recallMessage: OpHandler<'recallMessage'> = async (ctx, data) => {
  const { message } = await ownMessage(ctx, data.messageUId)
  const windowMs = ctx.policy?.recallWindowMs ?? DEFAULT_RECALL_WINDOW_MS
  if (ctx.now - message.sentAt > windowMs) throw new CodedError(Code.RECALL_WINDOW_PASSED)
  if (!(await ctx.storage.recallMessage(message.id, ctx.now))) throw new CodedError(Code.MESSAGE_RECALLED)
  const event = { messageUId: message.messageUId, recalledAt: ctx.now }
  for (const viewer of await ctx.storage.listMessageViewers(message.convId, message.seq)) {
    await recordEvent(ctx, viewer, 'messageRecalled', event, ctx.connection)
  }
  return event
}

/** Every version, oldest first: those edits replaced, then the current one. */
export const fetchMessageVersions: OpHandler<'fetchMessageVersions'> = async (ctx, data) => {
  const { message } = await visibleMessage(ctx, data.messageUId)
  if (message.recalledAt !== undefined) throw new CodedError(Code.MESSAGE_RECALLED)
  const earlier = await ctx.storage.listMessageVersions(message.id)
  const current = {
    version: earlier.length + 1,
    content: message.content,
    at: message.editedAt ?? message.sentAt,
  }
  return { versions: [...earlier, current] }
}
