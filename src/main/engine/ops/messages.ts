/** Conversations and messages: the list, history pages, new chats, sending. */
import { newClientMsgId } from '../../../shared/clientMsgId'
import { Code, CodedError } from '../../../shared/codes'
import type {
  Conversation,
  ConversationSummary,
  MentionedInfo,
  Message,
  MessageContent,
  UserProfile,
} from '../../../shared/model'
import { receiptRequestRefusal } from '../../../shared/receipts'
import { emitConversations, requireOk, type EngineContext } from '../context'
import { requireQuotable } from './messageActions'

export function conversationList(ctx: EngineContext): ConversationSummary[] {
  return ctx.store.listConversations()
}

export async function startPrivateChat(ctx: EngineContext, userId: string): Promise<ConversationSummary> {
  if (userId === ctx.me) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
  if (ctx.store.displayName(userId) === undefined) {
    const res = await requireOk(ctx, 'getUsers', { userIds: [userId] })
    const user = res.users.find((u) => u.userId === userId)
    if (!user) throw new CodedError(Code.USER_NOT_FOUND, `No user with the id "${userId}".`)
    ctx.store.upsertUsers([user])
  }
  const c: Conversation = { type: 'private', targetId: userId }
  ctx.store.ensureConversation(c, ctx.store.displayName(userId) ?? userId, ctx.now())
  const summary = ctx.store.summary(c)
  if (!summary) throw new CodedError(Code.INTERNAL)
  ctx.emit('conversationChanged', [summary])
  return summary
}

export function history(
  ctx: EngineContext,
  c: Conversation,
  beforeSeq: number | undefined,
  count: number,
): { list: Message[]; hasMore: boolean } {
  return ctx.store.history(c, beforeSeq, count)
}

/** Writes the message and its send job, then lets the outbox send it (now, or once connected). */
export function sendMessage(
  ctx: EngineContext,
  c: Conversation,
  content: MessageContent,
  options: {
    isNeedGroupAck: boolean
    channelId: string
    replyTo?: string | undefined
    /** Issue 15: ask each recipient to acknowledge it. */
    needAck?: boolean | undefined
    /** Issue 15, groups only: the members it mentions (the server checks they are members). */
    mentionedInfo?: MentionedInfo | undefined
  },
): Message {
  if (c.type === 'private' && c.targetId === ctx.me) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
  if (c.type === 'group') {
    const g = ctx.store.group(c.targetId)
    if (!g) throw new CodedError(Code.GROUP_NOT_FOUND)
    if (!g.myRole) throw new CodedError(Code.NOT_A_MEMBER, 'You are no longer a member of this group.')
    // The server enforces E8 too; checking here gives the reason before anything is written.
    const refusal = options.isNeedGroupAck
      ? receiptRequestRefusal(g.receiptSettings, g.myRole, g.memberCount)
      : null
    if (refusal) throw new CodedError(Code[refusal])
  }
  // H1: a recall's placeholder is never sent; a reply quotes a message of this chat.
  if (content.type === 'recalled')
    throw new CodedError(Code.INVALID_ARGUMENT, 'A recalled message cannot be sent.')
  if (options.replyTo !== undefined) requireQuotable(ctx, c, options.replyTo)
  if (options.mentionedInfo !== undefined && c.type !== 'group')
    throw new CodedError(Code.INVALID_ARGUMENT, 'Mentions are for group messages.')
  const now = ctx.now()
  const message = ctx.store.insertOutgoing({
    me: ctx.me,
    clientMsgId: newClientMsgId(now),
    conversation: c,
    channelId: options.channelId,
    content,
    isNeedGroupAck: c.type === 'group' && options.isNeedGroupAck,
    now,
    title: c.type === 'private' ? (ctx.store.displayName(c.targetId) ?? c.targetId) : '',
    ...(options.replyTo !== undefined ? { replyTo: options.replyTo } : {}),
    ...(options.needAck ? { needAck: true } : {}),
    ...(options.mentionedInfo !== undefined ? { mentionedInfo: options.mentionedInfo } : {}),
  })
  emitConversations(ctx, [c])
  ctx.kickOutbox()
  return message
}

export async function users(ctx: EngineContext, userIds: string[]): Promise<UserProfile[]> {
  const res = await requireOk(ctx, 'getUsers', { userIds })
  ctx.store.upsertUsers(res.users)
  return res.users
}
