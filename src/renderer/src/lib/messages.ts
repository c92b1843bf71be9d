import type { Message, ReadReceiptInfo } from '../../../shared/model'

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

/**
 * Combines two copies of one message so that its state never goes backwards, whatever order the
 * copies arrive in: a late "sending" copy (the sendMessage answer after the "sent" event) must not
 * undo "sent", and a receipt once seen stays seen. The one place this rule lives in the renderer.
 */
export function mergeMessage(current: Message, incoming: Message): Message {
  const keepSent = current.status === 'sent' && incoming.status !== 'sent'
  const base = keepSent ? { ...incoming, ...pickSentFields(current) } : incoming
  const isReceiverRead = current.isReceiverRead || incoming.isReceiverRead
  const readTime = earliest(current.readTime, incoming.readTime)
  return {
    ...base,
    // Read implies delivered.
    isDelivered: current.isDelivered || incoming.isDelivered || isReceiverRead,
    deliveredTime: earliest(current.deliveredTime, incoming.deliveredTime) ?? readTime,
    isReceiverRead,
    readTime,
    isUnread: current.isUnread && incoming.isUnread,
    groupAckCount: Math.max(current.groupAckCount, incoming.groupAckCount),
    readReceiptInfo: mergeReadReceiptInfo(current.readReceiptInfo, incoming.readReceiptInfo),
  }
}

/** Receipt times are the first time a step was seen: copies that disagree resolve to the earlier one. */
function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b
  if (b === null) return a
  return Math.min(a, b)
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
