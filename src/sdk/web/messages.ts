/**
 * Messages as the web SDK hands them out: the wire message plus RongCloud's messageDirection and
 * readReceiptInfo (R5), the latter from the message itself (the sender's count) and, for others'
 * messages, from the R7 cache (whether this browser answered the request).
 */
import { MessageDirection } from '../../shared/model'
import type { WireMessage } from '../../shared/protocol'
import type { CachedReceiptRequest } from './receiptCache'

export interface WebReadReceiptInfo {
  /** The sender asked for read receipts of this group message (sendReadReceiptRequest). */
  isReceiptRequestMessage: boolean
  /** Received messages: this browser answered the request (known while it is in the R7 cache). */
  hasRespond?: boolean
  /** Sent messages: members who read it so far, and who could. */
  readCount?: number
  totalCount?: number
}

export type WebMessage = WireMessage & {
  messageDirection: MessageDirection
  readReceiptInfo: WebReadReceiptInfo
}

export function toWebMessage(
  message: WireMessage,
  me: string,
  cached: CachedReceiptRequest | undefined,
): WebMessage {
  const mine = message.senderId === me
  const requested = message.receiptRequested === true || cached !== undefined
  const readReceiptInfo: WebReadReceiptInfo = mine
    ? {
        isReceiptRequestMessage: requested,
        ...(message.convType === 'group'
          ? { readCount: message.groupAckCount ?? 0, totalCount: message.memberCount }
          : {}),
      }
    : { isReceiptRequestMessage: requested, hasRespond: cached?.answeredAt !== undefined }
  return {
    ...message,
    messageDirection: mine ? MessageDirection.SEND : MessageDirection.RECEIVE,
    readReceiptInfo,
  }
}
