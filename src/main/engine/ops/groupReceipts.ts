/**
 * Group receipts, both SDK models (SPEC E6–E8 Easemob, R1–R6 RongCloud). Reads never write: the
 * reader pages come from the server as they are; the counts and lists the UI shows of a message
 * come from the store, which pushes keep current.
 */
import { Code, CodedError } from '../../../shared/codes'
import type { GroupReadAckPage, GroupUnreadPage } from '../../../shared/ipc'
import { MessageDirection, type GroupInfo, type GroupReceiptSettings } from '../../../shared/model'
import { emitChanged, emitConversations, requireOk, type EngineContext } from '../context'
import { groupOp } from './groups'
import { afterRead, requireReceived } from './receipts'

/** Easemob ackGroupMessageRead(message, ext): once per member, for group messages that asked. */
export function ackGroupMessageRead(ctx: EngineContext, messageUId: string, ext: string | undefined): null {
  const row = requireReceived(ctx, messageUId)
  if (row.conversation.type !== 'group' || !row.isNeedGroupAck) {
    throw new CodedError(Code.RECEIPT_NOT_APPLICABLE, 'This message did not ask for group read acks.')
  }
  const now = ctx.now()
  // Acked once per member, whether or not the message was already marked read here (a read mark
  // from another device marks it read without acking it): hasRespond records the ack.
  const acked = ctx.store.respond(messageUId, now, {
    kind: 'ackGroupMessageRead',
    ref: messageUId,
    payload: { groupId: row.conversation.targetId, ...(ext ? { ext } : {}) },
  })
  const read = ctx.store.readMessage(messageUId, now)
  afterRead(ctx, row.conversation, read)
  if (acked) ctx.kickOutbox()
  return null
}

export function fetchGroupReadAcks(
  ctx: EngineContext,
  messageUId: string,
  pageSize: number,
  startAckId: string | undefined,
): Promise<GroupReadAckPage> {
  return requireOk(ctx, 'fetchGroupReadAcks', { messageUId, pageSize, ...(startAckId ? { startAckId } : {}) })
}

export function fetchGroupUnreadMembers(
  ctx: EngineContext,
  messageUId: string,
  pageSize: number,
  startUserId: string | undefined,
): Promise<GroupUnreadPage> {
  return requireOk(ctx, 'fetchGroupUnreadMembers', {
    messageUId,
    pageSize,
    ...(startUserId ? { startUserId } : {}),
  })
}

/** RongCloud sendReadReceiptRequest: asks the group who has read one of my messages. */
export async function sendReadReceiptRequest(
  ctx: EngineContext,
  groupId: string,
  messageUId: string,
): Promise<null> {
  const row = ctx.store.messageByUid(messageUId)
  if (!row || row.conversation.type !== 'group' || row.conversation.targetId !== groupId)
    throw new CodedError(Code.MESSAGE_NOT_FOUND)
  if (row.direction !== MessageDirection.SEND) throw new CodedError(Code.NOT_MESSAGE_SENDER)
  await requireOk(ctx, 'sendReadReceiptRequest', { groupId, messageUId })
  const changed = ctx.store.markReceiptRequested(messageUId, ctx.now())
  if (changed) emitChanged(ctx, [changed])
  return null
}

/**
 * RongCloud sendReadReceiptResponseV2. Without a messageList, answers every unanswered request of
 * the conversation (R6, built from SQLite by an indexed query). The answer is durable (outbox) and
 * hasRespond turns true at once, so a second call sends nothing.
 */
export function sendReadReceiptResponseV2(
  ctx: EngineContext,
  groupId: string,
  messageList: Record<string, string[]> | undefined,
  channelId: string | undefined,
): { messageList: Record<string, string[]> } {
  const { sent, changed } = ctx.store.respondToReceiptRequests(
    groupId,
    channelId ?? '',
    messageList,
    ctx.now(),
  )
  if (changed.length > 0 || Object.keys(sent).length > 0) {
    emitChanged(ctx, changed)
    emitConversations(ctx, [{ type: 'group', targetId: groupId }])
    ctx.kickOutbox()
  }
  return { messageList: sent }
}

export function setGroupReceiptSettings(
  ctx: EngineContext,
  groupId: string,
  settings: Partial<GroupReceiptSettings>,
): Promise<GroupInfo> {
  return groupOp(ctx, 'setGroupReceiptSettings', { groupId, settings })
}
