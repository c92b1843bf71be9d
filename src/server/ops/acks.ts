/**
 * Issue 15: must-acknowledge messages, the sender's panel, "Waiting for me", and mentions that show
 * who saw them (words in src/shared/acks.ts; reminders in ackReminders.ts).
 *
 * The server is the judge. The recipients of a message are fixed at send time: the peer of a single
 * chat, or the group's members then (joined before its seq, not left before it, the sender
 * excluded); nobody else can ack it, and the acker is always the authenticated caller (no request
 * names another user), so nobody can ack or undo for someone else. An ack is a fact row, one per
 * recipient per message, its count kept on the message row in the same step (storage/acks.ts). It
 * never goes backwards except by the acker's own undo within the operator's ackUndoWindowMs.
 *
 * "Read" for the panel and for mentions is a tracked read fact: written when a recipient who shares
 * read receipts moves their read position past the message (ackConversationRead), answers a read
 * receipt for it, or acks it. A recipient who hides their reads is never "not read": counted in
 * `hidden` only. Those facts are written by the hooks of ackReads.ts, which the other operations call.
 */
import { Code, CodedError, codeDescriptions, type CodeName } from '../../shared/codes'
import type { AckEntry, AckListState } from '../../shared/acks'
import type { Conversation } from '../../shared/model'
import type { ReplyData } from '../../shared/protocol'
import { DEFAULT_ACK_SETTINGS, type AckSettings } from '../ackSettings'
import type { AckPanelRow, MemberRow, ReaderQuery, StoredMessage } from '../storage/types'
import { recordEvent, type OpContext, type OpHandler } from './context'
import { noteMessageRead } from './ackReads'
import { receiptSettingsOf, toWire } from './conversations'

type Rejection = ReplyData<'ackMessage'>['rejected'][number]

function rejection(messageUId: string, name: CodeName & keyof typeof Code): Rejection {
  return { messageUId, code: Code[name], msg: codeDescriptions[name] }
}

export function ackSettingsOf(ctx: OpContext): AckSettings {
  return ctx.policy?.acks ?? DEFAULT_ACK_SETTINGS
}

export function readerQuery(message: StoredMessage): ReaderQuery {
  return { convId: message.convId, messageId: message.id, seq: message.seq, senderId: message.senderId }
}

/** The message's conversation as `viewerId` names it (the other party of a single chat). */
export function conversationFor(message: StoredMessage, viewerId: string): Conversation {
  if (message.convType === 'group') return { type: 'group', targetId: message.to }
  return { type: 'private', targetId: viewerId === message.senderId ? message.to : message.senderId }
}

/** A recipient: joined before it, not left before it, not its sender (memberCount counts them). */
function isRecipient(me: MemberRow, message: StoredMessage): boolean {
  return (
    me.userId !== message.senderId &&
    me.joinedSeq < message.seq &&
    (me.leftSeq === null || me.leftSeq >= message.seq)
  )
}

/**
 * The message as someone who may see it asks about it: unknown, and a conversation the caller is no
 * member of, are one answer (MESSAGE_NOT_FOUND), so nothing can be probed.
 */
async function messageAndMember(
  ctx: OpContext,
  messageUId: string,
): Promise<{ message: StoredMessage; me: MemberRow } | undefined> {
  const message = await ctx.storage.getMessageByUId(messageUId)
  const me = message && (await ctx.storage.getMember(message.convId, ctx.userId))
  return message && me ? { message, me } : undefined
}

/** The sender's own needAck message (the panel, reminders, schedules). */
async function ownAckMessage(ctx: OpContext, messageUId: string, needAck = true): Promise<StoredMessage> {
  const found = await messageAndMember(ctx, messageUId)
  if (!found) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  if (found.message.senderId !== ctx.userId) throw new CodedError(Code.NOT_MESSAGE_SENDER)
  if (needAck && !found.message.needAck) throw new CodedError(Code.ACK_NOT_REQUESTED)
  return found.message
}

/** Does the caller's read count for others here (group: their setting; single chat: both share)? */
async function sharesReads(ctx: OpContext, message: StoredMessage, me: MemberRow): Promise<boolean> {
  return message.convType === 'group'
    ? me.sharesReadReceipts
    : await ctx.storage.readReceiptsExchanged(message.convId)
}

/**
 * "Reading by acking" for receipts (the acker shares reads): a single chat's read receipt, or a
 * group read fact where the message asked for read receipts and the group's receipts are on.
 */
async function ackImpliesRead(ctx: OpContext, message: StoredMessage): Promise<void> {
  if (message.convType === 'private') {
    if (
      message.needReadAck &&
      (await ctx.storage.markReceived('read', message.messageUId, ctx.userId, ctx.now))
    )
      await recordEvent(ctx, message.senderId, 'messageRead', {
        conversation: { type: 'private', targetId: ctx.userId },
        messageUIds: [message.messageUId],
        by: ctx.userId,
        at: ctx.now,
      })
    return
  }
  const asked = message.isNeedGroupAck || (await ctx.storage.getReceiptRequestedAt(message.id)) !== undefined
  if (!asked) return
  const group = await ctx.storage.getGroup(message.to)
  if (!group || !(await receiptSettingsOf(ctx, group)).enabled) return
  const row = await ctx.storage.insertGroupReadAck({
    messageId: message.id,
    userId: ctx.userId,
    ext: null,
    at: ctx.now,
  })
  if (row)
    await recordEvent(ctx, message.senderId, 'groupMessageRead', {
      acks: [
        {
          ackId: row.publicId,
          messageUId: message.messageUId,
          groupId: group.id,
          from: ctx.userId,
          timestamp: row.createdAt,
          count: row.countAfter,
        },
      ],
    })
}

/** Tells the sender (with the count) and the acker's other devices of an ack given or taken back. */
async function tellAck(
  ctx: OpContext,
  message: StoredMessage,
  count: number,
  undone: boolean,
): Promise<void> {
  const base = {
    messageUId: message.messageUId,
    by: ctx.userId,
    at: ctx.now,
    ...(undone ? { undone: true as const } : {}),
  }
  await recordEvent(ctx, message.senderId, 'messageAcked', {
    ...base,
    conversation: conversationFor(message, message.senderId),
    count,
  })
  await recordEvent(
    ctx,
    ctx.userId,
    'messageAcked',
    { ...base, conversation: conversationFor(message, ctx.userId) },
    ctx.connection,
  )
}

export const ackMessage: OpHandler<'ackMessage'> = async (ctx, data) => {
  const reply: ReplyData<'ackMessage'> = { accepted: [], rejected: [] }
  for (const messageUId of new Set(data.messageUIds)) {
    const found = await messageAndMember(ctx, messageUId)
    if (!found) {
      reply.rejected.push(rejection(messageUId, 'MESSAGE_NOT_FOUND'))
      continue
    }
    const { message, me } = found
    if (!isRecipient(me, message)) {
      // Its sender, or a member of the conversation who joined after it (or had left before it).
      reply.rejected.push(rejection(messageUId, 'NOT_AN_ACK_RECIPIENT'))
      continue
    }
    if (!message.needAck) {
      reply.rejected.push(rejection(messageUId, 'ACK_NOT_REQUESTED'))
      continue
    }
    const [existing] = await ctx.storage.getAcksOf(ctx.userId, [message.id])
    if (existing) {
      // Idempotent: a second ack (another device, a retry) keeps the first time.
      reply.accepted.push({ messageUId, at: existing.ackedAt })
      continue
    }
    if (message.recalledAt !== undefined) {
      reply.rejected.push(rejection(messageUId, 'MESSAGE_RECALLED'))
      continue
    }
    if (message.convType === 'group') {
      const group = await ctx.storage.getGroup(message.to)
      const validity = group && (await receiptSettingsOf(ctx, group)).ackValidityMs
      if (validity !== undefined && validity !== null && ctx.now - message.sentAt > validity) {
        reply.rejected.push(rejection(messageUId, 'ACK_EXPIRED'))
        continue
      }
    }
    const written = await ctx.storage.insertMessageAck(message.id, ctx.userId, ctx.now)
    if (!written) {
      // Another request of the same acker was first (two devices at once): its time stands.
      const [first] = await ctx.storage.getAcksOf(ctx.userId, [message.id])
      reply.accepted.push({ messageUId, at: first?.ackedAt ?? ctx.now })
      continue
    }
    reply.accepted.push({ messageUId, at: ctx.now })
    await tellAck(ctx, message, written.count, false)
    // An ack says "I have seen this": in the panel it is a read whoever acks (the ack itself is
    // visible, so read = acked + read without acking; insertMessageAck writes that read fact); for
    // mentions and read receipts only where the acker lets others see their reads.
    if (await sharesReads(ctx, message, me)) {
      await noteMessageRead(ctx, message)
      await ackImpliesRead(ctx, message)
    }
  }
  return reply
}

export const undoAckMessage: OpHandler<'undoAckMessage'> = async (ctx, data) => {
  const found = await messageAndMember(ctx, data.messageUId)
  if (!found) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  // Only the caller's own ack can be named: the request has no user in it.
  const [mine] = await ctx.storage.getAcksOf(ctx.userId, [found.message.id])
  if (!mine) throw new CodedError(Code.ACK_NOT_FOUND)
  const windowMs = ackSettingsOf(ctx).undoWindowMs
  if (windowMs === 0 || ctx.now - mine.ackedAt > windowMs) throw new CodedError(Code.ACK_UNDO_WINDOW_PASSED)
  const removed = await ctx.storage.deleteMessageAck(found.message.id, ctx.userId)
  if (!removed) throw new CodedError(Code.ACK_NOT_FOUND)
  // A hider's read was visible only through the ack: it goes with it (they are 'hidden' again).
  if (!(await sharesReads(ctx, found.message, found.me)))
    await ctx.storage.deleteMessageRead(found.message.id, ctx.userId)
  await tellAck(ctx, found.message, removed.count, true)
  return { messageUId: data.messageUId, undoneAt: ctx.now }
}

// ---- the sender's panel ----

/** Cursors are opaque to clients: the tab and the key of the last entry, base64url. */
function encodeCursor(state: AckListState, key: number | string): string {
  return Buffer.from(`${state}:${key}`).toString('base64url')
}

const BAD_CURSOR = 'cursor: not a cursor of this tab'

function decodeCursor(state: AckListState, cursor: string | undefined): number | string | undefined {
  if (cursor === undefined) return undefined
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new CodedError(Code.INVALID_ARGUMENT, BAD_CURSOR)
  const text = Buffer.from(cursor, 'base64url').toString()
  const prefix = `${state}:`
  if (!text.startsWith(prefix)) throw new CodedError(Code.INVALID_ARGUMENT, BAD_CURSOR)
  const key = text.slice(prefix.length)
  if (state === 'notRead' || state === 'hidden') {
    if (key.length === 0 || key.length > 64) throw new CodedError(Code.INVALID_ARGUMENT, BAD_CURSOR)
    return key
  }
  if (!/^[0-9]{1,15}$/.test(key)) throw new CodedError(Code.INVALID_ARGUMENT, BAD_CURSOR)
  return Number(key)
}

function toEntry(row: AckPanelRow): AckEntry {
  return {
    userId: row.userId,
    displayName: row.displayName,
    ...(row.ackedAt !== null ? { ackedAt: row.ackedAt } : {}),
    ...(row.readAt !== null ? { readAt: row.readAt } : {}),
    reminded: row.reminded,
  }
}

/** The counts above the tabs: three counts stored on the message row (one lookup at any size). */
async function ackCounts(ctx: OpContext, message: StoredMessage) {
  const { acked, read, hidden } = await ctx.storage.getAckCounts(message.id)
  return { acked, read, total: message.memberCount, hidden }
}

/**
 * The caller's effective read-receipt sharing in conversations changed (receiptPrivacy.ts,
 * updateSettings): the hidden counts of the messages there that track reads follow.
 */
export async function noteSharingChanged(
  ctx: OpContext,
  changes: readonly { convId: number; sharedBefore: boolean; sharedNow: boolean }[],
): Promise<void> {
  for (const c of changes)
    if (c.sharedBefore !== c.sharedNow)
      await ctx.storage.adjustAckHidden(c.convId, ctx.userId, c.sharedNow ? -1 : 1)
}

export const fetchMessageAcks: OpHandler<'fetchMessageAcks'> = async (ctx, data) => {
  const after = decodeCursor(data.state, data.cursor)
  const message = await ownAckMessage(ctx, data.messageUId)
  const limit = data.pageSize + 1
  const rows =
    data.state === 'acked'
      ? await ctx.storage.listAckedPage(message.id, (after as number | undefined) ?? 0, limit)
      : data.state === 'readNotAcked'
        ? await ctx.storage.listReadNotAckedPage(message.id, (after as number | undefined) ?? 0, limit)
        : data.state === 'notRead'
          ? await ctx.storage.listNotReadPage(
              readerQuery(message),
              (after as string | undefined) ?? '',
              limit,
            )
          : await ctx.storage.listAckHiddenPage(
              readerQuery(message),
              (after as string | undefined) ?? '',
              limit,
            )
  const page = rows.slice(0, data.pageSize)
  const last = page.at(-1)
  return {
    state: data.state,
    entries: page.map(toEntry),
    ...(rows.length > data.pageSize && last ? { nextCursor: encodeCursor(data.state, last.key) } : {}),
    counts: await ackCounts(ctx, message),
  }
}

// ---- "Waiting for me" ----

export const listPendingAcks: OpHandler<'listPendingAcks'> = async (ctx, data) => {
  let beforeId = Number.MAX_SAFE_INTEGER
  if (data.cursor !== undefined) {
    const text = /^[A-Za-z0-9_-]+$/.test(data.cursor) ? Buffer.from(data.cursor, 'base64url').toString() : ''
    const match = /^pending:([0-9]{1,15})$/.exec(text)
    if (!match) throw new CodedError(Code.INVALID_ARGUMENT, 'cursor: not a cursor of this list')
    beforeId = Number(match[1])
  }
  const rows = await ctx.storage.listPendingAcks(ctx.userId, beforeId, data.pageSize + 1)
  const page = rows.slice(0, data.pageSize)
  const stored: StoredMessage[] = []
  for (const row of page) {
    const message = await ctx.storage.getMessageByUId(row.messageUId)
    if (message) stored.push(message)
  }
  const last = page.at(-1)
  return {
    messages: stored.map((m) => toWire(m, ctx.userId)),
    ...(rows.length > data.pageSize && last
      ? { nextCursor: Buffer.from(`pending:${last.id}`).toString('base64url') }
      : {}),
    total: await ctx.storage.countPendingAcks(ctx.userId),
  }
}

// ---- mentions ----

export const fetchMentionReads: OpHandler<'fetchMentionReads'> = async (ctx, data) => {
  const message = await ownAckMessage(ctx, data.messageUId, false)
  const info = message.mentionedInfo
  if (!info) throw new CodedError(Code.INVALID_ARGUMENT, 'messageUId: that message mentions nobody')
  const members = (await ctx.storage.listMentions(message.id)).map((m) =>
    m.readAt !== null
      ? { userId: m.userId, state: 'read' as const, readAt: m.readAt }
      : { userId: m.userId, state: m.hides ? ('hidden' as const) : ('unread' as const) },
  )
  if (info.type !== 'all') return { members }
  const counts = await ackCounts(ctx, message)
  return { members, all: { read: counts.read, total: counts.total, hidden: counts.hidden } }
}

export { ownAckMessage }
