/**
 * The events of the web SDK, by RongCloud Web's names (RongIMLib.Events), with their payloads.
 * Conversations are the project's own `{ type, targetId }` (src/shared/model.ts), as the desktop
 * engine's events carry them, so that the two clients of the protocol can be compared.
 */
import type { Conversation, GroupInfo } from '../../shared/model'
import type { ConversationState } from '../../shared/protocol'
import type { WebMessage } from './messages'

export const Events = {
  /** Opening a socket (the first one, or a reconnection). */
  CONNECTING: 'CONNECTING',
  /** Signed in and caught up (after every reconnection too). */
  CONNECTED: 'CONNECTED',
  /** The link dropped; the SDK is reconnecting with backoff. */
  SUSPEND: 'SUSPEND',
  /** Disconnected for good: disconnect() was called, or the session ended (revoked, expired). */
  DISCONNECT: 'DISCONNECT',
  /** The conversation list changed (a group was created, joined, renamed, left): the new list. */
  CONVERSATION: 'CONVERSATION',
  /** Messages arrived: live, or missed while away (pulled by sequence number after reconnecting). */
  MESSAGES: 'MESSAGES',
  /** A group member asked who read one of their messages (R2). */
  MESSAGE_RECEIPT_REQUEST: 'MESSAGE_RECEIPT_REQUEST',
  /** A member answered my request(s): `messageUIdList` are messages of mine they read (R4). */
  MESSAGE_RECEIPT_RESPONSE: 'MESSAGE_RECEIPT_RESPONSE',
} as const
export type EventName = (typeof Events)[keyof typeof Events]

/** Why the SDK is disconnected for good. */
export type DisconnectReason = 'client' | 'sessionEnded'

export interface EventPayloads {
  CONNECTING: { attempt: number }
  CONNECTED: { userId: string }
  SUSPEND: { code: number; reason: string; retryInMs: number }
  DISCONNECT: { reason: DisconnectReason }
  CONVERSATION: { conversations: ConversationState[]; groups: GroupInfo[] }
  MESSAGES: { messages: WebMessage[] }
  MESSAGE_RECEIPT_REQUEST: {
    conversation: Conversation
    messageUId: string
    senderUserId: string
    channelId: string
  }
  MESSAGE_RECEIPT_RESPONSE: {
    conversation: Conversation
    receivedUserId: string
    messageUIdList: string[]
    channelId: string
  }
}

export type Listener<E extends EventName> = (payload: EventPayloads[E]) => void
