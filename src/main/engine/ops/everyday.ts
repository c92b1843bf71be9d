/**
 * Drafts and per-chat notifications (issue 13), with RongCloud's names. Both are this device's own
 * marks (store/everyday.ts): nothing goes to the server, and each change is told to the renderer as
 * the conversation's summary (the chat list shows "Draft: …" and the muted mark from it).
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

/** RongCloud setConversationNotificationStatus: 'doNotDisturb' mutes the chat on this device. */
export function setConversationNotificationStatus(
  ctx: EngineContext,
  c: Conversation,
  status: NotificationStatus,
): ConversationSummary {
  if (ctx.store.notificationStatus(c) === undefined) throw unknownConversation()
  ctx.store.setNotificationStatus(c, status)
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
