import type { GroupReceiptSettings, GroupRole, Message, ReadReceiptInfo } from '../../../shared/model'
import { applyReceipt, type ReceiptState as ReceiptTimes } from '../../../shared/receiptState'

export type ReceiptState = 'sending' | 'failed' | 'sent' | 'delivered' | 'read'

/** What the ticks of one of my single-chat messages show. */
export function receiptState(message: Message): ReceiptState {
  if (message.status === 'sending') return 'sending'
  if (message.status === 'failed') return 'failed'
  if (message.isReceiverRead) return 'read'
  if (message.isDelivered) return 'delivered'
  return 'sent'
}

/**
 * Display order: by server sequence when both have one; otherwise by time, a message without a
 * sequence (still sending, or failed) after one with it at the same time.
 */
export function compareMessages(a: Message, b: Message): number {
  if (a.seq !== null && b.seq !== null) return a.seq - b.seq
  if (a.sentTime !== b.sentTime) return a.sentTime - b.sentTime
  if (a.seq === b.seq) return 0
  return a.seq === null ? 1 : -1
}

function mergeReadReceiptInfo(current: ReadReceiptInfo, incoming: ReadReceiptInfo): ReadReceiptInfo {
  const merged: ReadReceiptInfo = {
    isReceiptRequestMessage: current.isReceiptRequestMessage || incoming.isReceiptRequestMessage,
    hasRespond: current.hasRespond || incoming.hasRespond,
  }
  if (current.readerList || incoming.readerList) {
    merged.readerList = { ...current.readerList, ...incoming.readerList }
  }
  const readCount = Math.max(current.readCount ?? 0, incoming.readCount ?? 0)
  if (current.readCount !== undefined || incoming.readCount !== undefined) merged.readCount = readCount
  const totalCount = incoming.totalCount ?? current.totalCount
  if (totalCount !== undefined) merged.totalCount = totalCount
  return merged
}

const NO_RECEIPTS: ReceiptTimes = { deliveredAt: null, readAt: null }

/** Feeds the receipt times one copy of a message carries through the shared monotonic rule. */
function withReceiptsOf(state: ReceiptTimes, message: Message): ReceiptTimes {
  let next = state
  if (message.deliveredTime !== null)
    next = applyReceipt(next, { kind: 'delivered', at: message.deliveredTime })
  if (message.readTime !== null) next = applyReceipt(next, { kind: 'read', at: message.readTime })
  return next
}

/**
 * Combines two copies of one message so that its state never goes backwards, whatever order the
 * copies arrive in: a late "sending" copy (the sendMessage answer after the "sent" event) must not
 * undo "sent", and a receipt once seen stays seen. Delivered/read times go through `applyReceipt`
 * (src/shared/receiptState.ts), the rule the engine applies too: earliest time wins, read implies
 * delivered.
 */
export function mergeMessage(current: Message, incoming: Message): Message {
  const keepSent = current.status === 'sent' && incoming.status !== 'sent'
  const base = keepSent ? { ...incoming, ...pickSentFields(current) } : incoming
  const receipts = withReceiptsOf(withReceiptsOf(NO_RECEIPTS, current), incoming)
  // A flag without its time (never sent by the engine, but cheap to honour) still never turns off.
  const isReceiverRead = receipts.readAt !== null || current.isReceiverRead || incoming.isReceiverRead
  return {
    ...base,
    isDelivered:
      receipts.deliveredAt !== null || isReceiverRead || current.isDelivered || incoming.isDelivered,
    deliveredTime: receipts.deliveredAt,
    isReceiverRead,
    readTime: receipts.readAt,
    isUnread: current.isUnread && incoming.isUnread,
    groupAckCount: Math.max(current.groupAckCount, incoming.groupAckCount),
    readReceiptInfo: mergeReadReceiptInfo(current.readReceiptInfo, incoming.readReceiptInfo),
  }
}

function pickSentFields(message: Message): Pick<Message, 'status' | 'messageUId' | 'seq' | 'sentTime'> {
  return {
    status: message.status,
    messageUId: message.messageUId,
    seq: message.seq,
    sentTime: message.sentTime,
  }
}

/** Inserts or replaces by messageId, keeping `list` in display order. Returns the stored copy. */
export function upsertMessage(list: Message[], incoming: Message): Message {
  let index = -1
  // New and changing messages are nearly always the newest ones: search from the end.
  for (let i = list.length - 1; i >= 0; i -= 1) {
    if (list[i].messageId === incoming.messageId) {
      index = i
      break
    }
  }
  const stored = index >= 0 ? mergeMessage(list[index], incoming) : incoming
  if (index >= 0) {
    const before = list[index - 1]
    const after = list[index + 1]
    const stillInPlace =
      (!before || compareMessages(before, stored) <= 0) && (!after || compareMessages(stored, after) <= 0)
    if (stillInPlace) {
      list[index] = stored
      return stored
    }
    list.splice(index, 1)
  }
  let position = list.length
  while (position > 0 && compareMessages(list[position - 1], stored) > 0) position -= 1
  list.splice(position, 0, stored)
  return stored
}

// A type, not an interface: vue-i18n takes it as named interpolation values.
export type GroupReadCounts = {
  /** Members who read it. */
  count: number
  /** Members who could read it when it was sent (the sender excluded). */
  total: number
}

/**
 * "n of m read" of a group message that asked for receipts, either way: Easemob isNeedGroupAck
 * (groupAckCount / groupMemberCount) or a RongCloud request (readReceiptInfo, sender side).
 * Null when the message did not ask, or its counts are not known here.
 */
export function groupReadCounts(message: Message): GroupReadCounts | null {
  if (message.isNeedGroupAck) return { count: message.groupAckCount, total: message.groupMemberCount }
  const info = message.readReceiptInfo
  if (info.isReceiptRequestMessage && info.totalCount !== undefined) {
    return { count: info.readCount ?? Object.keys(info.readerList ?? {}).length, total: info.totalCount }
  }
  return null
}

/** "Read by everyone" is said only when every member who could read it has: never of an empty set. */
export function isReadByEveryone(counts: GroupReadCounts): boolean {
  return counts.total > 0 && counts.count === counts.total
}

export type ReceiptRefusal = 'GROUP_ACK_DISABLED' | 'GROUP_ACK_NOT_ALLOWED' | 'GROUP_TOO_LARGE'

/**
 * Why I may not ask this group for read receipts (SPEC E8), in the server's order; null when I may.
 * `memberCount` is the group's current size, me included. The server still has the last word.
 */
export function receiptRequestRefusal(
  settings: GroupReceiptSettings,
  role: GroupRole | undefined,
  memberCount: number,
): ReceiptRefusal | null {
  if (!settings.enabled) return 'GROUP_ACK_DISABLED'
  if (settings.whoMayRequest === 'ownerAndAdmins' && role === 'member') return 'GROUP_ACK_NOT_ALLOWED'
  if (memberCount > settings.maxGroupSize) return 'GROUP_TOO_LARGE'
  return null
}
