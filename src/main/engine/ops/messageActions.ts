/**
 * Reply, edit, recall and delete for me (issue 13, H1). Edit and recall ask the server, which
 * decides (only the sender; recall within its window) and tells every device of every member; this
 * device applies the answer at once, as its other devices apply the event. Delete for me leaves
 * this device's history at once and for good, and (H6) my other devices' through a durable outbox
 * job and the server; the other members keep theirs.
 */
import { Code, CodedError } from '../../../shared/codes'
import { conversationKey, type Conversation, type Message } from '../../../shared/model'
import type { MessageVersion } from '../../../shared/protocol'
import { emitChanged, emitConversations, requireOk, type EngineContext } from '../context'
import { announceDeletedForMe } from './deleteForMe'

/** My sent message of this device's history, by its local id. */
function ownSent(ctx: EngineContext, messageId: string): Message & { messageUId: string } {
  const message = ctx.store.view(Number(messageId))
  if (!message) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  if (message.senderUserId !== ctx.me) throw new CodedError(Code.NOT_MESSAGE_SENDER)
  if (message.recalledTime !== undefined) throw new CodedError(Code.MESSAGE_RECALLED)
  const uid = message.messageUId
  if (uid === null)
    throw new CodedError(Code.MESSAGE_NOT_FOUND, 'This message has not reached the server yet.')
  return { ...message, messageUId: uid }
}

/** A reply's quote: a message of this conversation stored here, not recalled (the server checks too). */
export function requireQuotable(ctx: EngineContext, c: Conversation, messageUId: string): void {
  const quoted = ctx.store.messageByUid(messageUId)
  if (!quoted || conversationKey(quoted.conversation) !== conversationKey(c))
    throw new CodedError(Code.MESSAGE_NOT_FOUND, 'The quoted message is not in this conversation.')
  if (ctx.store.view(quoted.localId)?.recalledTime !== undefined) throw new CodedError(Code.MESSAGE_RECALLED)
}

export async function editMessage(ctx: EngineContext, messageId: string, text: string): Promise<Message> {
  const message = ownSent(ctx, messageId)
  if (message.content.type !== 'text') throw new CodedError(Code.MESSAGE_NOT_EDITABLE)
  const edited = await requireOk(ctx, 'editMessage', { messageUId: message.messageUId, text })
  const changed = ctx.store.applyEdit(edited.messageUId, edited.content, edited.editedAt, edited.editCount)
  emitChanged(ctx, changed)
  emitConversations(ctx, [message.conversation])
  return ctx.store.view(Number(messageId)) ?? message
}

export async function recallMessage(ctx: EngineContext, messageId: string): Promise<Message> {
  const message = ownSent(ctx, messageId)
  const recalled = await requireOk(ctx, 'recallMessage', { messageUId: message.messageUId })
  emitChanged(ctx, ctx.store.applyRecall(recalled.messageUId, recalled.recalledAt))
  emitConversations(ctx, [message.conversation])
  return ctx.store.view(Number(messageId)) ?? message
}

export function deleteMessageForMe(ctx: EngineContext, messageId: string): null {
  const deleted = ctx.store.deleteForMe(Number(messageId), ctx.now())
  if (!deleted)
    throw new CodedError(Code.MESSAGE_NOT_FOUND, 'No such message here (or it is still being sent).')
  // H6: the store queued the job that tells my other devices (a message the server has).
  announceDeletedForMe(ctx, [deleted])
  ctx.kickOutbox()
  return null
}

/** What the menu needs to know of the server's limits: its recall window (null: not known yet). */
export function messageActionSettings(ctx: EngineContext): { recallWindowMs: number | null } {
  return { recallWindowMs: ctx.store.recallWindow() }
}

/** Every version of a message of this device's history, oldest first, from the server. */
export async function messageVersions(ctx: EngineContext, messageId: string): Promise<MessageVersion[]> {
  const message = ctx.store.view(Number(messageId))
  if (!message?.messageUId) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  const { versions } = await requireOk(ctx, 'fetchMessageVersions', { messageUId: message.messageUId })
  return versions
}
