import type { GroupReceiptSettings } from '../../shared/model'
import type { ParsedRequestData, PushData, PushEvent, ReplyData, RequestOp } from '../../shared/protocol'
import type { Connection } from '../connection'
import type { QueuedPush } from '../hub'
import type { Storage } from '../storage/types'

/** Pushes a request causes; sent only after its reply, and dropped if the request fails. */
export class PushBatch {
  readonly queued: QueuedPush[] = []

  add<E extends PushEvent>(
    userId: string,
    event: E,
    data: PushData<E>,
    options: { except?: Connection; eventSeq?: number } = {},
  ): void {
    const frame = {
      type: 'push' as const,
      event,
      data,
      ...(options.eventSeq === undefined ? {} : { eventSeq: options.eventSeq }),
    }
    this.queued.push({ userId, frame, except: options.except })
  }
}

export interface OpContext {
  storage: Storage
  /** Always the authenticated user of the connection, never a client-supplied id. */
  userId: string
  deviceId: string
  connection: Connection
  pushes: PushBatch
  now: number
  /** The server's group receipt settings; a group's effective ones merge its overrides into these. */
  receiptDefaults: GroupReceiptSettings
}

export type OpHandler<Op extends RequestOp> = (ctx: OpContext, data: ParsedRequestData<Op>) => ReplyData<Op>

export type OpTable = { [Op in RequestOp]: OpHandler<Op> }

/** Receipt events are logged per recipient (for syncEvents) and pushed with their eventSeq. */
export type LoggedEvent =
  | 'messageDelivered'
  | 'messageRead'
  | 'conversationRead'
  | 'groupMessageRead'
  | 'receiptRequest'
  | 'receiptResponse'

export function recordEvent<E extends LoggedEvent>(
  ctx: OpContext,
  userId: string,
  event: E,
  data: PushData<E>,
  except?: Connection,
): void {
  const eventSeq = ctx.storage.appendUserEvent(userId, event, JSON.stringify(data), ctx.now)
  ctx.pushes.add(userId, event, data, { eventSeq, except })
}
