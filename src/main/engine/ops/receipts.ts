/** Single-chat receipts and my read marks (SPEC E1–E5), and the account's receipt settings. */
import { Code, CodedError } from '../../../shared/codes'
import { MessageDirection, type Conversation, type ConversationSummary } from '../../../shared/model'
import type { AccountSettings } from '../../../shared/protocol'
import { visibleUpTo } from '../../../shared/receipts'
import { emitChanged, emitConversations, requireOk, type EngineContext } from '../context'
import type { MessageRecord, ReadResult } from '../store/types'

const DEFAULT_SETTINGS: AccountSettings = {
  requireDeliveryAck: false,
  requireReadAck: false,
  shareReadReceipts: true,
}

export function settings(ctx: EngineContext): AccountSettings {
  return ctx.store.settings() ?? DEFAULT_SETTINGS
}

export async function updateSettings(
  ctx: EngineContext,
  patch: Partial<AccountSettings>,
): Promise<AccountSettings> {
  const res = await requireOk(ctx, 'updateSettings', patch)
  ctx.store.setSettings(res.settings)
  ctx.emit('settingsChanged', res.settings)
  return res.settings
}

/**
 * "Send read receipts" for one conversation: true, false, or null to follow the account setting.
 * The server decides what it means (src/server/ops/receiptPrivacy.ts); this keeps its answer.
 */
export async function setConversationReceiptSharing(
  ctx: EngineContext,
  c: Conversation,
  share: boolean | null,
): Promise<ConversationSummary> {
  if (!ctx.store.conversation(c)) throw new CodedError(Code.NOT_A_MEMBER, 'No such conversation.')
  const res = await requireOk(ctx, 'setConversationReceiptSharing', {
    conversation: c,
    shareReadReceipts: share,
  })
  ctx.store.setReceiptSharing(c, res.shareReadReceipts, res.readReceiptsShared)
  const summary = ctx.store.summary(c)
  if (!summary) throw new CodedError(Code.INTERNAL)
  ctx.emit('conversationChanged', [summary])
  return summary
}

/** A received message of mine to acknowledge, or the reason it cannot be. */
export function requireReceived(ctx: EngineContext, messageUId: string): MessageRecord {
  const row = ctx.store.messageByUid(messageUId)
  if (!row) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  if (row.direction !== MessageDirection.RECEIVE) throw new CodedError(Code.NOT_MESSAGE_RECEIVER)
  return row
}

/** Tells the renderer what a read changed and lets the outbox send the receipts it queued. */
export function afterRead(ctx: EngineContext, c: Conversation, read: ReadResult): void {
  emitChanged(ctx, read.changed)
  if (read.conversationChanged) {
    emitConversations(ctx, [c])
    ctx.kickOutbox()
  }
}

/** Easemob ackMessageRead: marks a received message read and tells its sender, if it asked. */
export function ackMessageRead(ctx: EngineContext, messageUId: string): null {
  const row = requireReceived(ctx, messageUId)
  const asked = row.conversation.type === 'private' && row.needReadAck
  const read = ctx.store.readMessage(
    messageUId,
    ctx.now(),
    asked ? { kind: 'ackMessageRead', ref: messageUId, payload: {} } : undefined,
  )
  afterRead(ctx, row.conversation, read)
  return null
}

/**
 * Easemob ackConversationRead: everything in the conversation is read, on every device; with
 * `upToSeq`, only up to that message (the last one the reader actually had on screen: a backlog
 * never shown stays unread, and its sender sees it so).
 */
export function ackConversationRead(ctx: EngineContext, c: Conversation, upToSeq?: number): null {
  const row = ctx.store.conversation(c)
  if (!row) throw new CodedError(Code.NOT_A_MEMBER, 'No such conversation.')
  const seq = Math.min(visibleUpTo(row.lastSeq, row.leftSeq), upToSeq ?? Number.MAX_SAFE_INTEGER)
  if (seq === 0 || (row.readSeq >= seq && row.unreadCount === 0)) return null
  const read = ctx.store.readConversation(c, seq, ctx.now(), true)
  afterRead(ctx, c, { ...read, conversationChanged: true })
  return null
}
