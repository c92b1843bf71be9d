import { MessageDirection, type Message } from '../../../shared/model'

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

/**
 * Of two copies of one message, the current one: the engine owns message state and bumps the row's
 * revision on every change, so the copy with the higher revision wins whole, whatever order the
 * copies arrive in (a late "sending" answer of sendMessage cannot undo the "sent" event). Equal
 * revisions are the same state: the copy already held stays, so nothing is redrawn.
 */
export function currentCopy(held: Message, incoming: Message): Message {
  return incoming.revision > held.revision ? incoming : held
}

/**
 * Inserts a message or replaces the copy held under its messageId when the incoming one is newer,
 * keeping `list` in display order. Returns the copy kept.
 */
export function upsertMessage(list: Message[], incoming: Message): Message {
  let index = -1
  // New and changing messages are nearly always the newest ones: search from the end.
  for (let i = list.length - 1; i >= 0; i -= 1) {
    if (list[i].messageId === incoming.messageId) {
      index = i
      break
    }
  }
  if (index >= 0) {
    const stored = currentCopy(list[index], incoming)
    if (stored === list[index]) return stored
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
  while (position > 0 && compareMessages(list[position - 1], incoming) > 0) position -= 1
  list.splice(position, 0, incoming)
  return incoming
}

// A type, not an interface: vue-i18n takes it as named interpolation values.
export type GroupReadCounts = {
  /** Members who read it. */
  count: number
  /** Members who could read it when it was sent (the sender excluded). */
  total: number
}

/**
 * "n of m read" of a group message of mine that asked for receipts (Easemob isNeedGroupAck or a
 * RongCloud request), as the engine reports it: readReceiptInfo.readCount / totalCount, which the
 * engine fills for both models (groupAckCount / groupMemberCount are the same numbers for Easemob).
 * On someone else's message that asked (either model), groupAckCount / groupMemberCount: the count
 * the server told this member (only while the group shows counts to all; the caller checks that).
 * Null when the message did not ask, or the engine has not said its counts. Nothing is merged here.
 */
export function groupReadCounts(message: Message): GroupReadCounts | null {
  const info = message.readReceiptInfo
  if (!message.isNeedGroupAck && !info.isReceiptRequestMessage) return null
  if (info.readCount !== undefined && info.totalCount !== undefined) {
    return { count: info.readCount, total: info.totalCount }
  }
  if (message.isNeedGroupAck || message.messageDirection === MessageDirection.RECEIVE) {
    return { count: message.groupAckCount, total: message.groupMemberCount }
  }
  return null
}

/** "Read by everyone" is said only when every member who could read it has: never of an empty set. */
export function isReadByEveryone(counts: GroupReadCounts): boolean {
  return counts.total > 0 && counts.count === counts.total
}

/**
 * Members who could read it and have not (yet), for the "not read yet" tab. Members who hide their
 * read receipts (`hidden`) are not among them: nobody can tell whether they read it.
 */
export function notReadCount(counts: GroupReadCounts, hidden = 0): number {
  return Math.max(0, counts.total - counts.count - hidden)
}

/**
 * How many of the members who could read a message hide their read receipts, as far as it can be
 * said: never more than those not counted as readers (a member who read it before hiding their
 * receipts stays a reader), never less than 0.
 */
export function hiddenReaders(counts: GroupReadCounts, hiding: number): number {
  return Math.max(0, Math.min(hiding, counts.total - counts.count))
}
