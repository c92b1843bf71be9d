import type { GroupReceiptSettings } from '../../shared/model'
import type { DeliveryBudget } from '../deliveryBudget'
import type { OpPolicy } from '../policy'
import type { ParsedRequestData, PushData, PushEvent, ReplyData, RequestOp } from '../../shared/protocol'
import type { Connection } from '../connection'
import type { QueuedPush } from '../hub'
import type { StorageOps } from '../storage/types'

/** The text of a push frame. `dataJson` is the JSON of its data, serialized once by the caller. */
function pushPayload(event: PushEvent, dataJson: string, eventSeq?: number): string {
  // Event names are identifiers of the protocol, so they need no escaping.
  return eventSeq === undefined
    ? `{"type":"push","event":"${event}","data":${dataJson}}`
    : `{"type":"push","event":"${event}","data":${dataJson},"eventSeq":${eventSeq}}`
}

/**
 * Pushes a request causes; sent only after its reply, and only once its writes are committed
 * (dropped if the request fails). Each payload is serialized once, however many users it goes to.
 */
export class PushBatch {
  readonly queued: QueuedPush[] = []

  add<E extends PushEvent>(
    userIds: string | readonly string[],
    event: E,
    data: PushData<E>,
    options: { except?: Connection } = {},
  ): void {
    this.addPayload(userIds, pushPayload(event, JSON.stringify(data)), options.except)
  }

  addPayload(userIds: string | readonly string[], payload: string, except?: Connection): void {
    this.queued.push({ userIds: typeof userIds === 'string' ? [userIds] : userIds, payload, except })
  }
}

export interface OpContext {
  /**
   * The request's transaction (its own savepoint of the gateway's group commit on SQLite, a
   * transaction of its own on PostgreSQL, where it may run again after a deadlock: the gateway then
   * gives it fresh `pushes`).
   */
  storage: StorageOps
  /** Always the authenticated user of the connection, never a client-supplied id. */
  userId: string
  deviceId: string
  connection: Connection
  pushes: PushBatch
  now: number
  /** The server's group receipt settings; a group's effective ones merge its overrides into these. */
  receiptDefaults: GroupReceiptSettings
  /** Delivery receipts one sender may trigger at one receiver (src/server/deliveryBudget.ts). */
  deliveryBudget: DeliveryBudget
  /** Quotas and the lookup budget (src/server/policy.ts); absent: no limits (tests of single ops). */
  policy?: OpPolicy
}

export type OpHandler<Op extends RequestOp> = (
  ctx: OpContext,
  data: ParsedRequestData<Op>,
) => Promise<ReplyData<Op>>

export type OpTable = { [Op in RequestOp]: OpHandler<Op> }

/** Receipt events are logged per recipient (for syncEvents) and pushed with their eventSeq. */
export type LoggedEvent =
  | 'messageDelivered'
  | 'messageRead'
  | 'conversationRead'
  | 'groupMessageRead'
  | 'receiptRequest'
  | 'receiptResponse'
  | 'groupReadCount'
  | 'messageEdited'
  | 'messageRecalled'
  | 'messagesDeletedForMe'
  | 'conversationNotificationStatusChanged'
  | 'messageAcked'
  | 'mentionRead'

/** Logs the event for `userId` (for syncEvents) and queues its push; the data is serialized once for both. */
export async function recordEvent<E extends LoggedEvent>(
  ctx: OpContext,
  userId: string,
  event: E,
  data: PushData<E>,
  except?: Connection,
): Promise<void> {
  const json = JSON.stringify(data)
  const eventSeq = await ctx.storage.appendUserEvent(userId, event, json, ctx.now)
  ctx.pushes.addPayload(userId, pushPayload(event, json, eventSeq), except)
}
