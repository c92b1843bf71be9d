/**
 * The payload of each outbox job kind, as a schema: written by the store's intent calls (typed by
 * `NewOutboxJob`), read back and checked by the outbox (outbox/jobs.ts) before anything is sent.
 */
import { z } from 'zod'
import { Conversation, GroupId, NotificationStatus } from '../../../shared/model'
import { requests } from '../../../shared/protocol'

export const jobPayloads = {
  /** ref: the message's local id. */
  send: requests.sendMessage.data,
  /** ref: the received message's messageUId. */
  ackDelivered: z.object({}),
  /** ref: the received message's messageUId. */
  ackMessageRead: z.object({}),
  /** ref: the received message's messageUId. */
  ackGroupMessageRead: z.object({ groupId: GroupId, ext: z.string().optional() }),
  /** ref: the group id. */
  receiptResponse: requests.sendReadReceiptResponse.data,
  /** ref: the conversation key; only the highest seq per conversation is sent. */
  ackConversationRead: z.object({ conversation: Conversation, seq: z.number().int().min(0) }),
  /** H6, ref: the messageUId I deleted for me here: the server tells my other devices. */
  deleteForMe: z.object({}),
  /** H8, ref: the conversation key; only the latest per conversation is sent. */
  notificationStatus: z.object({ conversation: Conversation, status: NotificationStatus }),
  /** Issue 15, ref: the received message's messageUId I acknowledged (batched, one frame per ackBatchMax). */
  ack: z.object({}),
} as const

export type OutboxKind = keyof typeof jobPayloads

/** A job to write, its payload typed by its kind. */
export type NewOutboxJob = {
  [K in OutboxKind]: { kind: K; ref: string; payload: z.input<(typeof jobPayloads)[K]> }
}[OutboxKind]

export type JobPayload<K extends OutboxKind> = z.output<(typeof jobPayloads)[K]>
