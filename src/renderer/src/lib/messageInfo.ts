/**
 * What the message ticks and the message info panel say about one message, worked out from the
 * engine's fields alone (the engine owns receipt state; nothing is merged or guessed here).
 */
import { MessageDirection, type Message } from '../../../shared/model'

/**
 * Which receipts a sent single-chat message of mine did not ask for, so will never get:
 * 'all' (neither), 'read' (delivery only: it stops at delivered), 'delivery' (read only: it goes
 * from sent to read). Null when it asked for both, or is not a sent single-chat message of mine.
 */
export type ReceiptsOff = 'all' | 'read' | 'delivery' | null

export function receiptsOff(message: Message): ReceiptsOff {
  if (message.conversation.type !== 'private') return null
  if (message.messageDirection !== MessageDirection.SEND || message.status !== 'sent') return null
  if (!message.needReadAck) return message.needDeliveryAck ? 'read' : 'all'
  return message.needDeliveryAck ? null : 'delivery'
}

/**
 * One step of a message's timeline:
 * - written: mine, written on this device (or on another one: `elsewhere`, no time);
 * - sent: the server took it (seq, messageUId), or failed / still sending;
 * - delivered, read: single chat, mine;
 * - groupRead: group, mine: the readers are listed beside it (done when everyone who could has);
 * - received: theirs, stored on this device; readByMe: theirs, read by me.
 */
type StepName = 'written' | 'sent' | 'delivered' | 'read' | 'groupRead' | 'received' | 'readByMe'

/**
 * done (with its time when known), pending (not yet), failed, off (the message did not ask for
 * it: it never comes), hidden (read receipts are not shared in this chat: never "not read"),
 * elsewhere (it happened on another of my devices).
 */
type StepState = 'done' | 'pending' | 'failed' | 'off' | 'hidden' | 'elsewhere'

export interface TimelineStep {
  step: StepName
  state: StepState
  time: number | null
}

export interface TimelineContext {
  /** The conversation summary's readReceiptsShared (null: not known). */
  readReceiptsShared: boolean | null
  /** Group, mine: "n of m read" says everyone who could has read it. */
  readByEveryone?: boolean
  /** Group, mine: the message asked for read receipts (either model). */
  groupAsked?: boolean
}

function sentStep(message: Message): TimelineStep {
  if (message.status === 'failed') return { step: 'sent', state: 'failed', time: null }
  if (message.status === 'sending') return { step: 'sent', state: 'pending', time: null }
  return { step: 'sent', state: 'done', time: message.sentTime }
}

/** The steps of a message in the order they happen, each with its state and time (local ms). */
export function messageTimeline(message: Message, context: TimelineContext): TimelineStep[] {
  if (message.messageDirection === MessageDirection.RECEIVE) {
    return [
      { step: 'sent', state: 'done', time: message.sentTime },
      { step: 'received', state: 'done', time: message.storedTime },
      message.isUnread
        ? { step: 'readByMe', state: 'pending', time: null }
        : { step: 'readByMe', state: 'done', time: message.readByMeTime },
    ]
  }
  const steps: TimelineStep[] = [
    message.storedTime === null
      ? { step: 'written', state: 'elsewhere', time: null }
      : { step: 'written', state: 'done', time: message.storedTime },
    sentStep(message),
  ]
  const sent = message.status === 'sent'
  if (message.conversation.type === 'group') {
    let state: StepState = 'pending'
    if (!context.groupAsked) state = 'off'
    else if (sent && context.readByEveryone) state = 'done'
    steps.push({ step: 'groupRead', state, time: null })
    return steps
  }
  // Read implies delivered (src/shared/receipts/state.ts): a read with no delivery time was
  // delivered by then at the latest.
  const deliveredAt = message.deliveredTime ?? message.readTime
  let delivered: TimelineStep = { step: 'delivered', state: 'pending', time: null }
  if (sent && deliveredAt !== null) delivered = { step: 'delivered', state: 'done', time: deliveredAt }
  else if (sent && !message.needDeliveryAck) delivered = { step: 'delivered', state: 'off', time: null }
  let read: TimelineStep = { step: 'read', state: 'pending', time: null }
  if (sent && message.readTime !== null) read = { step: 'read', state: 'done', time: message.readTime }
  else if (sent && !message.needReadAck) read = { step: 'read', state: 'off', time: null }
  else if (sent && context.readReceiptsShared === false) read = { step: 'read', state: 'hidden', time: null }
  steps.push(delivered, read)
  return steps
}
