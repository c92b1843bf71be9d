/**
 * Drafts and per-chat notifications (issue 13), with RongCloud's names. A draft is this device's
 * own (store/everyday.ts); a muted chat is muted on all my devices (H8: the server keeps it). Each
 * change is told to the renderer as the conversation's summary (the chat list shows "Draft: …" and
 * the muted mark from it).
 */
import { Code, CodedError } from '../../../shared/codes'
import type { Conversation, ConversationSummary, NotificationStatus } from '../../../shared/model'
import { emitConversations, type EngineContext } from '../context'

function unknownConversation(): CodedError {
  return new CodedError(Code.NOT_A_MEMBER, 'No such conversation.')
}

/** RongCloud saveTextMessageDraft: keeps what was typed; '' clears it. */
export function saveTextMessageDraft(ctx: EngineContext, c: Conversation, text: string): null {
  // Whitespace alone is no draft: the composer would not send it either.
  const draft = text.trim() === '' ? '' : text
  if (ctx.store.draft(c) === undefined) throw unknownConversation()
  if (ctx.store.saveDraft(c, draft, ctx.now())) emitConversations(ctx, [c])
  return null
}

/** RongCloud getTextMessageDraft: '' when there is none. */
export function getTextMessageDraft(ctx: EngineContext, c: Conversation): string {
  const draft = ctx.store.draft(c)
  if (draft === undefined) throw unknownConversation()
  return draft
}

/** RongCloud clearTextMessageDraft. */
export function clearTextMessageDraft(ctx: EngineContext, c: Conversation): null {
  return saveTextMessageDraft(ctx, c, '')
}

/**
 * RongCloud setConversationNotificationStatus: 'doNotDisturb' mutes the chat here at once and, through
 * the outbox, on all my devices (H8, store/mutedConversations.ts).
 */
export function setConversationNotificationStatus(
  ctx: EngineContext,
  c: Conversation,
  status: NotificationStatus,
): ConversationSummary {
  if (ctx.store.notificationStatus(c) === undefined) throw unknownConversation()
  if (ctx.store.setNotificationStatusOnAllDevices(c, status, ctx.now())) ctx.kickOutbox()
  const summary = ctx.store.summary(c)
  if (!summary) throw new CodedError(Code.INTERNAL)
  ctx.emit('conversationChanged', [summary])
  return summary
}

/** RongCloud getConversationNotificationStatus. */
export function getConversationNotificationStatus(ctx: EngineContext, c: Conversation): NotificationStatus {
  const status = ctx.store.notificationStatus(c)
  if (status === undefined) throw unknownConversation()
  return status
}
