/**
 * Group read receipts, both models on one fact (SPEC E6–E8, R1–R4).
 *
 * A message "asked for receipts" when it was sent with isNeedGroupAck (Easemob) or its sender later
 * called sendReadReceiptRequest (RongCloud). Either way a reader answers by writing the same fact,
 * "member X read message M at T" (group_read_acks): ackGroupMessageRead with its ext,
 * sendReadReceiptResponse with none. messages.group_ack_count counts those facts and is the read count
 * of both models; the denominator is the memberCount stamped on the message at send time.
 *
 * The eligible readers of a message (seq s, sender S) are the members who could read it when it was
 * sent: joined_seq < s and (left_seq IS NULL or left_seq >= s), S excluded. A member who leaves later
 * keeps their fact; one who joins later is never eligible.
 */
import { Code, CodedError, codeDescriptions, type CodeName } from '../../shared/codes'
import type { GroupReadAck, GroupReceiptSettings, GroupRole } from '../../shared/model'
import type { ReplyData } from '../../shared/protocol'
import { couldRead, receiptRequestRefusal } from '../../shared/receipts'
import type { GroupReadAckRow, GroupRow, MemberRow, StoredMessage } from '../storage/types'
import { recordEvent, type OpContext, type OpHandler } from './context'
import {
  groupInfoFor,
  notifyGroupChanged,
  receiptSettingsOf,
  requireCurrentMember,
  requireGroup,
} from './conversations'
import { noteMessageRead } from './ackReads'

type Rejection = ReplyData<'ackGroupMessageRead'>['rejected'][number]
type ReaderAck = ReplyData<'ackGroupMessageRead'>['accepted'][number]

function rejection(messageUId: string, name: CodeName & keyof typeof Code): Rejection {
  return { messageUId, code: Code[name], msg: codeDescriptions[name] }
}

/**
 * The E8 limits on asking for receipts, shared by sendMessage(isNeedGroupAck) and
 * sendReadReceiptRequest. `memberCount` is the group's current size, the caller included.
 */
export function requireMayAskForReceipts(
  settings: GroupReceiptSettings,
  role: GroupRole,
  memberCount: number,
): void {
  const refusal = receiptRequestRefusal(settings, role, memberCount)
  if (refusal === 'GROUP_TOO_LARGE') {
    throw new CodedError(
      Code.GROUP_TOO_LARGE,
      `the group has ${memberCount} members; read acks are limited to groups of ${settings.maxGroupSize}`,
    )
  }
  if (refusal) throw new CodedError(Code[refusal])
}

async function askedForReceipts(ctx: OpContext, message: StoredMessage): Promise<boolean> {
  return message.isNeedGroupAck || (await ctx.storage.getReceiptRequestedAt(message.id)) !== undefined
}

function toGroupReadAck(row: GroupReadAckRow, messageUId: string, groupId: string): GroupReadAck {
  return {
    ackId: row.publicId,
    messageUId,
    groupId,
    from: row.userId,
    timestamp: row.createdAt,
    ...(row.ext === null ? {} : { ext: row.ext }),
    count: row.countAfter,
  }
}

/**
 * A reader's own copy of its ack (the reply to ackGroupMessageRead): the read count only where every
 * member may see counts. Under countVisibility 'sender' the count is the sender's alone (E8).
 */
function asSeenByReader(ack: GroupReadAck, settings: GroupReceiptSettings): ReaderAck {
  if (settings.countVisibility === 'all') return ack
  const { count: _hidden, ...rest } = ack
  return rest
}

type Verdict =
  | { rejected: Rejection }
  | { message: StoredMessage; existing: GroupReadAckRow | undefined; rejected?: undefined }

/**
 * Judges one reader fact the caller (a current member, `me`) wants to write, for either model. In
 * order: unknown, other group or other sender → MESSAGE_NOT_FOUND; not an eligible reader →
 * NOT_MESSAGE_RECEIVER; did not ask → RECEIPT_NOT_APPLICABLE; already written → the existing fact
 * (a retry succeeds whatever changed since); switched off → GROUP_ACK_DISABLED; older than the
 * validity → GROUP_ACK_EXPIRED.
 */
async function judgeReadFact(
  ctx: OpContext,
  group: { row: GroupRow; me: MemberRow; settings: GroupReceiptSettings },
  messageUId: string,
  expectedSenderId?: string,
): Promise<Verdict> {
  const message = await ctx.storage.getMessageByUId(messageUId)
  if (
    !message ||
    message.convId !== group.row.convId ||
    (expectedSenderId !== undefined && message.senderId !== expectedSenderId)
  ) {
    return { rejected: rejection(messageUId, 'MESSAGE_NOT_FOUND') }
  }
  if (!couldRead(group.me, message)) return { rejected: rejection(messageUId, 'NOT_MESSAGE_RECEIVER') }
  if (!(await askedForReceipts(ctx, message))) {
    return { rejected: rejection(messageUId, 'RECEIPT_NOT_APPLICABLE') }
  }
  const existing = await ctx.storage.getGroupReadAck(message.id, ctx.userId)
  if (existing) return { message, existing }
  if (!group.settings.enabled) return { rejected: rejection(messageUId, 'GROUP_ACK_DISABLED') }
  if (ctx.now - message.sentAt > group.settings.validityMs) {
    return { rejected: rejection(messageUId, 'GROUP_ACK_EXPIRED') }
  }
  return { message, existing: undefined }
}

/**
 * The caller's reader fact for the message: the one this call wrote, or, when another request of the
 * same reader wrote one since judgeReadFact looked (two devices at once), that one (`isNew` false).
 */
async function writeReadFact(
  ctx: OpContext,
  message: StoredMessage,
  ext: string | null,
): Promise<{ row: GroupReadAckRow; isNew: boolean }> {
  const row = await ctx.storage.insertGroupReadAck({
    messageId: message.id,
    userId: ctx.userId,
    ext,
    at: ctx.now,
  })
  if (row) return { row, isNew: true }
  const existing = await ctx.storage.getGroupReadAck(message.id, ctx.userId)
  if (!existing) throw new Error(`reader fact ${message.messageUId}/${ctx.userId} neither written nor found`)
  return { row: existing, isNew: false }
}

function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/**
 * countVisibility 'all' (E8): every member who could read a message hears its new read count
 * (groupReadCount, logged for syncEvents), one event per member per frame; the sender is told by
 * groupMessageRead or receiptResponse instead. Under 'sender' nobody else hears anything.
 */
async function tellMembersTheCounts(
  ctx: OpContext,
  group: GroupRow,
  settings: GroupReceiptSettings,
  messages: readonly StoredMessage[],
): Promise<void> {
  if (settings.countVisibility !== 'all' || messages.length === 0) return
  const countsByMember = new Map<string, { messageUId: string; count: number }[]>()
  for (const message of messages) {
    // The count as it stands after this frame's writes (the stored row was read before them).
    const current = await ctx.storage.getMessageByUId(message.messageUId)
    if (!current) continue
    const readers = await ctx.storage.listCurrentEligibleReaders({
      convId: current.convId,
      seq: current.seq,
      senderId: current.senderId,
    })
    for (const userId of readers) {
      appendTo(countsByMember, userId, { messageUId: current.messageUId, count: current.groupAckCount })
    }
  }
  for (const [userId, counts] of countsByMember) {
    await recordEvent(ctx, userId, 'groupReadCount', { groupId: group.id, counts })
  }
}

/** E6: Easemob ackGroupMessageRead, batched. One groupMessageRead per message sender per frame. */
export const ackGroupMessageRead: OpHandler<'ackGroupMessageRead'> = async (ctx, data) => {
  const { group, me } = await requireCurrentMember(ctx, data.groupId)
  const target = { row: group, me, settings: await receiptSettingsOf(ctx, group) }
  const reply: ReplyData<'ackGroupMessageRead'> = { accepted: [], rejected: [] }
  const newBySender = new Map<string, GroupReadAck[]>()
  const counted: StoredMessage[] = []
  const seen = new Set<string>()
  for (const { messageUId, ext } of data.acks) {
    if (seen.has(messageUId)) continue
    seen.add(messageUId)
    const verdict = await judgeReadFact(ctx, target, messageUId)
    if (verdict.rejected) {
      reply.rejected.push(verdict.rejected)
      continue
    }
    if (verdict.existing) {
      reply.accepted.push(
        asSeenByReader(toGroupReadAck(verdict.existing, messageUId, group.id), target.settings),
      )
      continue
    }
    if (!me.sharesReadReceipts) {
      // A private read (receiptPrivacy.ts): accepted, nothing written that the sender could see.
      ;(reply.private ??= []).push(messageUId)
      continue
    }
    const written = await writeReadFact(ctx, verdict.message, ext ?? null)
    const ack = toGroupReadAck(written.row, messageUId, group.id)
    reply.accepted.push(asSeenByReader(ack, target.settings))
    if (written.isNew) {
      appendTo(newBySender, verdict.message.senderId, ack)
      counted.push(verdict.message)
      // Issue 15: an ack panel's read, a mention's dot.
      await noteMessageRead(ctx, verdict.message)
    }
  }
  for (const [senderId, acks] of newBySender) {
    await recordEvent(ctx, senderId, 'groupMessageRead', { acks })
  }
  await tellMembersTheCounts(ctx, group, target.settings, counted)
  return reply
}

/**
 * A group message whose readers the caller may see: its sender always (even after leaving); other
 * current members when the group's countVisibility is 'all'.
 */
async function requireReaderView(
  ctx: OpContext,
  messageUId: string,
): Promise<{ message: StoredMessage; group: GroupRow }> {
  const message = await ctx.storage.getMessageByUId(messageUId)
  if (!message) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  if (message.convType !== 'group') {
    throw new CodedError(Code.RECEIPT_NOT_APPLICABLE, 'group read acks exist for group messages only')
  }
  const group = await requireGroup(ctx, message.to)
  if (message.senderId !== ctx.userId) {
    const member = await ctx.storage.getMember(group.convId, ctx.userId)
    if (!member || member.leftSeq !== null) throw new CodedError(Code.NOT_A_MEMBER)
    if ((await receiptSettingsOf(ctx, group)).countVisibility === 'sender') {
      throw new CodedError(Code.GROUP_ACK_COUNT_HIDDEN)
    }
  }
  if (!(await askedForReceipts(ctx, message))) {
    throw new CodedError(Code.RECEIPT_NOT_APPLICABLE, 'that message did not ask for read receipts')
  }
  return { message, group }
}

/** The same words for a malformed cursor and for one of no fact of this message. */
const NOT_AN_ACK_ID = 'startAckId: not an ack id'

/** A well-formed ack id (the random public id this server sent), checked before anything is read. */
function checkAckId(text: string | undefined): void {
  if (text !== undefined && !/^[A-Za-z0-9]{1,40}$/.test(text)) {
    throw new CodedError(Code.INVALID_ARGUMENT, NOT_AN_ACK_ID)
  }
}

/** The internal cursor behind a client's startAckId: the fact of this message with that public id. */
async function cursorOf(ctx: OpContext, messageId: number, startAckId: string | undefined): Promise<number> {
  if (startAckId === undefined) return 0
  const ackId = await ctx.storage.findGroupReadAckCursor(messageId, startAckId)
  if (ackId === undefined) throw new CodedError(Code.INVALID_ARGUMENT, NOT_AN_ACK_ID)
  return ackId
}

/** E7: the reader facts in ack_id order; startAckId exclusive, so new acks only ever append. */
export const fetchGroupReadAcks: OpHandler<'fetchGroupReadAcks'> = async (ctx, data) => {
  checkAckId(data.startAckId)
  const { message, group } = await requireReaderView(ctx, data.messageUId)
  const afterAckId = await cursorOf(ctx, message.id, data.startAckId)
  const rows = await ctx.storage.listGroupReadAcks(message.id, afterAckId, data.pageSize + 1)
  const page = rows.slice(0, data.pageSize)
  const last = page.at(-1)
  return {
    acks: page.map((row) => toGroupReadAck(row, message.messageUId, group.id)),
    ...(rows.length > data.pageSize && last ? { nextAckId: last.publicId } : {}),
    count: message.groupAckCount,
    total: message.memberCount,
    hidden: await hiddenReaders(ctx, message),
  }
}

/** Eligible readers who hide their read receipts (receiptPrivacy.ts): neither read nor "not read". */
function hiddenReaders(ctx: OpContext, message: StoredMessage): Promise<number> {
  return ctx.storage.countHiddenReaders(readerQuery(message))
}

function readerQuery(message: StoredMessage) {
  return { convId: message.convId, messageId: message.id, seq: message.seq, senderId: message.senderId }
}

/** The eligible readers without a reader fact, by user id; startUserId exclusive. */
export const fetchGroupUnreadMembers: OpHandler<'fetchGroupUnreadMembers'> = async (ctx, data) => {
  const { message } = await requireReaderView(ctx, data.messageUId)
  const rows = await ctx.storage.listGroupUnreadMembers(
    readerQuery(message),
    data.startUserId ?? '',
    data.pageSize + 1,
  )
  const members = rows.slice(0, data.pageSize)
  const last = members.at(-1)
  return {
    members,
    ...(rows.length > data.pageSize && last ? { nextUserId: last.userId } : {}),
    hidden: await hiddenReaders(ctx, message),
  }
}

/**
 * R1: the sender asks for read receipts of one of its group messages after sending it. Idempotent;
 * the first request pushes receiptRequest (logged, for syncEvents) to every eligible reader who is
 * still a member.
 */
export const sendReadReceiptRequest: OpHandler<'sendReadReceiptRequest'> = async (ctx, data) => {
  const { group, me } = await requireCurrentMember(ctx, data.groupId)
  const message = await ctx.storage.getMessageByUId(data.messageUId)
  if (!message || message.convId !== group.convId) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  if (message.senderId !== ctx.userId) throw new CodedError(Code.NOT_MESSAGE_SENDER)
  if ((await ctx.storage.getReceiptRequestedAt(message.id)) !== undefined) return {}
  const settings = await receiptSettingsOf(ctx, group)
  requireMayAskForReceipts(settings, me.role, await ctx.storage.countCurrentMembers(group.convId))
  if (ctx.now - message.sentAt > settings.validityMs) throw new CodedError(Code.RECEIPT_REQUEST_EXPIRED)
  // Another request for the same message may have been first (two devices): it did the fan-out.
  if (!(await ctx.storage.insertReceiptRequest(message.id, ctx.now))) return {}
  const push = {
    groupId: group.id,
    channelId: message.channelId,
    messageUId: message.messageUId,
    senderUserId: ctx.userId,
    at: ctx.now,
  }
  const readers = await ctx.storage.listCurrentEligibleReaders({
    convId: group.convId,
    seq: message.seq,
    senderId: message.senderId,
  })
  for (const userId of readers) await recordEvent(ctx, userId, 'receiptRequest', push)
  return {}
}

/**
 * R3 (sendReadReceiptResponseV2): one frame answers several messages of several senders. Each
 * accepted message gets the caller's reader fact (ext null); each sender gets one receiptResponse
 * listing the messages newly answered.
 */
export const sendReadReceiptResponse: OpHandler<'sendReadReceiptResponse'> = async (ctx, data) => {
  const { group, me } = await requireCurrentMember(ctx, data.groupId)
  const target = { row: group, me, settings: await receiptSettingsOf(ctx, group) }
  const reply: ReplyData<'sendReadReceiptResponse'> = { accepted: [], rejected: [] }
  const newBySender = new Map<string, string[]>()
  const counted: StoredMessage[] = []
  for (const [senderUserId, messageUIds] of Object.entries(data.messageList)) {
    for (const messageUId of new Set(messageUIds)) {
      const verdict = await judgeReadFact(ctx, target, messageUId, senderUserId)
      if (verdict.rejected) {
        reply.rejected.push(verdict.rejected)
        continue
      }
      reply.accepted.push(messageUId)
      // Answered before, or a private read (receiptPrivacy.ts): nothing the sender could see.
      if (verdict.existing || !me.sharesReadReceipts) continue
      const written = await writeReadFact(ctx, verdict.message, null)
      if (written.isNew) {
        appendTo(newBySender, verdict.message.senderId, messageUId)
        counted.push(verdict.message)
        await noteMessageRead(ctx, verdict.message)
      }
    }
  }
  for (const [senderId, messageUIdList] of newBySender) {
    await recordEvent(ctx, senderId, 'receiptResponse', {
      groupId: group.id,
      channelId: data.channelId,
      receivedUserId: ctx.userId,
      messageUIdList,
      at: ctx.now,
    })
  }
  await tellMembersTheCounts(ctx, group, target.settings, counted)
  return reply
}

/** E8: the owner overrides the server's receipt limits for the group; members hear groupChanged. */
export const setGroupReceiptSettings: OpHandler<'setGroupReceiptSettings'> = async (ctx, data) => {
  const { group, conv, me } = await requireCurrentMember(ctx, data.groupId)
  if (me.role !== 'owner') {
    throw new CodedError(Code.PERMISSION_DENIED, 'only the owner may change the receipt settings')
  }
  const before = await receiptSettingsOf(ctx, group)
  await ctx.storage.setGroupReceiptOverrides(group.id, data.settings)
  const after = await receiptSettingsOf(ctx, group)
  const changed = (Object.keys(after) as (keyof GroupReceiptSettings)[]).some((k) => after[k] !== before[k])
  if (changed) await notifyGroupChanged(ctx, group, await ctx.storage.listCurrentMemberIds(conv.id))
  return { group: await groupInfoFor(ctx, group, ctx.userId) }
}
