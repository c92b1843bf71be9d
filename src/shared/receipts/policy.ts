/**
 * Receipt rules that the server, the engine and the renderer all apply, written once.
 * Pure functions over the shared model; nothing here imports a platform API.
 */
import type { GroupReceiptSettings, GroupRole } from '../model'

export type ReceiptRefusal = 'GROUP_ACK_DISABLED' | 'GROUP_ACK_NOT_ALLOWED' | 'GROUP_TOO_LARGE'

/**
 * SPEC E8: may a member with `role` ask this group for read receipts (Easemob isNeedGroupAck or
 * RongCloud sendReadReceiptRequest)? Null when they may, otherwise the reason, in the server's
 * order. `memberCount` is the group's current size, the asker included; `role` undefined means the
 * asker is not a member (the caller decides what that means before asking this).
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

/** A member's window on a conversation: messages after `joinedSeq`, up to `leftSeq` if they left. */
export interface MembershipWindow {
  joinedSeq: number
  leftSeq: number | null
}

/**
 * The last sequence number a member may see of a conversation whose newest message is `lastSeq`:
 * everything up to it, or up to the moment they left.
 */
export function visibleUpTo(lastSeq: number, leftSeq: number | null): number {
  return leftSeq === null ? lastSeq : Math.min(lastSeq, leftSeq)
}

/**
 * Could this member read the message with `seq` when it was sent? The sender never counts: this is
 * the denominator of "n of m read" and the set the not-yet-read list is drawn from.
 */
export function couldRead(
  member: MembershipWindow & { userId: string },
  message: { seq: number; senderId: string },
): boolean {
  return (
    member.userId !== message.senderId &&
    member.joinedSeq < message.seq &&
    (member.leftSeq === null || member.leftSeq >= message.seq)
  )
}
