/**
 * The single place where per-message receipt state changes: sent → delivered → read.
 *
 * State is the earliest time each step was observed. Applying a receipt takes the minimum, so the
 * result does not depend on the order receipts arrive in, a duplicate changes nothing, and a stale
 * receipt cannot move anything backwards. Read implies delivered (deliveredAt ≤ readAt always).
 */
export interface ReceiptState {
  deliveredAt: number | null
  readAt: number | null
}

export type ReceiptKind = 'delivered' | 'read'

export interface Receipt {
  kind: ReceiptKind
  at: number
}

export type ReceiptLevel = 'sent' | 'delivered' | 'read'

const LEVEL_RANK: Record<ReceiptLevel, number> = { sent: 0, delivered: 1, read: 2 }

function earliest(current: number | null, at: number): number {
  return current === null || at < current ? at : current
}

/** Returns the next state, or the very same object when the receipt changes nothing. */
export function applyReceipt(state: ReceiptState, receipt: Receipt): ReceiptState {
  const deliveredAt = earliest(state.deliveredAt, receipt.at)
  const readAt = receipt.kind === 'read' ? earliest(state.readAt, receipt.at) : state.readAt
  if (deliveredAt === state.deliveredAt && readAt === state.readAt) return state
  return { deliveredAt, readAt }
}

export function receiptLevel(state: ReceiptState): ReceiptLevel {
  if (state.readAt !== null) return 'read'
  if (state.deliveredAt !== null) return 'delivered'
  return 'sent'
}

export function compareLevels(a: ReceiptLevel, b: ReceiptLevel): number {
  return LEVEL_RANK[a] - LEVEL_RANK[b]
}

/** Watermarks (read_seq, delivered_seq) only move forward. */
export function advanceWatermark(current: number, proposed: number): number {
  return proposed > current ? proposed : current
}

/** What the ticks of one of my messages show: its send status, then its receipt level. */
export type TickLevel = 'sending' | 'failed' | ReceiptLevel

export function tickLevel(message: {
  status: 'sending' | 'sent' | 'failed'
  deliveredTime: number | null
  readTime: number | null
}): TickLevel {
  if (message.status !== 'sent') return message.status
  return receiptLevel({ deliveredAt: message.deliveredTime, readAt: message.readTime })
}
