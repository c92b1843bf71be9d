/**
 * Delete for me on all my devices (issue 13, H6): what the renderer hears when messages leave this
 * device's history, whether I deleted them here (ops/messageActions.ts) or on another device of mine
 * (the `messagesDeletedForMe` push or its replay, sync/pushes.ts). Both say it the same way.
 */
import { conversationKey, type Conversation } from '../../../shared/model'
import { emitChanged, emitConversations, type EngineContext } from '../context'
import type { DeletedForMe } from '../store/messageActions'

export function announceDeletedForMe(ctx: EngineContext, deletions: readonly DeletedForMe[]): void {
  const byConversation = new Map<string, { conversation: Conversation; messageIds: string[] }>()
  for (const d of deletions) {
    const key = conversationKey(d.conversation)
    const entry = byConversation.get(key) ?? { conversation: d.conversation, messageIds: [] }
    entry.messageIds.push(d.messageId)
    byConversation.set(key, entry)
  }
  for (const entry of byConversation.values()) ctx.emit('messagesDeleted', entry)
  // Replies quoting them now say "not available".
  emitChanged(
    ctx,
    deletions.flatMap((d) => d.changed),
  )
  emitConversations(
    ctx,
    [...byConversation.values()].map((e) => e.conversation),
  )
}
