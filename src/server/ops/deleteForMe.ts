/**
 * Delete for me on all my devices (issue 13, H6). The caller's messages-to-forget are recorded per
 * user; the message itself stays for everyone else, with its receipts untouched: deleting an unread
 * message does not read it, and its sender's ticks do not move. The caller's other devices hear it
 * as a logged event (`messagesDeletedForMe`), live or by syncEvents after being offline, and the
 * caller's pulls and unread counts leave those messages out from then on.
 */
import { Code, CodedError } from '../../shared/codes'
import type { DeletedForMeInput } from '../storage/types'
import { recordEvent, type OpHandler } from './context'
import { visibleMessage } from './messageActions'

export const deleteMessagesForMe: OpHandler<'deleteMessagesForMe'> = async (ctx, data) => {
  const found: DeletedForMeInput[] = []
  const uidOf = new Map<number, string>()
  const rejected: { messageUId: string; code: number; msg: string }[] = []
  let refusal: CodedError | undefined
  for (const messageUId of new Set(data.messageUIds)) {
    try {
      // Only a message I may see (a member between my join and my leave): others are not probed.
      const { message } = await visibleMessage(ctx, messageUId)
      found.push({
        id: message.id,
        convId: message.convId,
        seq: message.seq,
        own: message.senderId === ctx.userId,
      })
      uidOf.set(message.id, message.messageUId)
    } catch (error) {
      // Storage failures (UNAVAILABLE among them) fail the request, never a rejection.
      if (!(error instanceof CodedError) || error.code !== Code.MESSAGE_NOT_FOUND) throw error
      rejected.push({ messageUId, code: error.code, msg: error.message })
      refusal ??= error
    }
  }
  // Nothing of the request could be done: a typed refusal, as any other operation's.
  if (found.length === 0 && refusal) throw refusal
  const added = await ctx.storage.deleteMessagesForMe(ctx.userId, found, ctx.now)
  // Already deleted before (by a retry of this request, or by another device): nothing to tell.
  if (added.length > 0) {
    const messageUIds = added.map((id) => uidOf.get(id) ?? '')
    await recordEvent(ctx, ctx.userId, 'messagesDeletedForMe', { messageUIds, at: ctx.now }, ctx.connection)
  }
  return { deleted: [...uidOf.values()], rejected }
}
