/** The acknowledgement and mention columns of a message (issue 15, acks.ts), read by both backends. */
import type { MentionedInfo } from '../../shared/model'

/** The columns messages.ts adds to every message it reads (as stored: 0/1 or boolean, JSON text). */
export interface AckColumns {
  needAck: number | boolean
  ackCount: number
  mentionedInfo: string | null
}

/** What a stored message carries of them: absent when not set, as on the wire (toWire decides who sees ackCount). */
export function ackFields(r: AckColumns): {
  needAck?: true
  ackCount?: number
  mentionedInfo?: MentionedInfo
} {
  return {
    ...(r.needAck ? { needAck: true as const, ackCount: r.ackCount } : {}),
    // Written by setMessageAckInfo from validated input; the database is ours.
    ...(r.mentionedInfo !== null ? { mentionedInfo: JSON.parse(r.mentionedInfo) as MentionedInfo } : {}),
  }
}
