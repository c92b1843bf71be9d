/**
 * How a message row's acknowledgement and mention columns (engine migration 11) look to the
 * renderer. Apart from store/acks.ts, which reads rows through rows.ts: rows.ts imports this.
 */
import { prepare, type Db } from '../../../node/sqlite'
import { MessageDirection, type MentionedInfo, type Message } from '../../../shared/model'

const MENTION_READS_OF_SQL = 'SELECT user_id, read_at FROM message_mention_reads WHERE message_uid = ?'

/** The columns of migration 11, as rows.ts reads them. */
export interface AckRow {
  local_id: number
  message_uid: string | null
  direction: MessageDirection
  need_ack: number
  ack_count: number
  my_ack_at: number | null
  mentioned_info: string | null
  mentions_me: number
}

/** The Message fields of migration 11 (optional ones absent when they do not apply). */
export function ackView(
  db: Db,
  row: AckRow,
): Pick<Message, 'needAck' | 'ackCount' | 'myAckTime' | 'mentionedInfo' | 'mentionsMe' | 'mentionReadBy'> {
  const view: ReturnType<typeof ackView> = {
    needAck: row.need_ack === 1,
    ackCount: row.ack_count,
    myAckTime: row.my_ack_at,
  }
  if (row.mentioned_info === null) return view
  // Written by this module from a validated MentionedInfo; the database is ours.
  view.mentionedInfo = JSON.parse(row.mentioned_info) as MentionedInfo
  if (row.mentions_me === 1) view.mentionsMe = true
  if (row.direction === MessageDirection.SEND && row.message_uid !== null) {
    const readBy = Object.create(null) as Record<string, number>
    const reads = prepare<[string], { user_id: string; read_at: number }>(db, MENTION_READS_OF_SQL).all(
      row.message_uid,
    )
    for (const r of reads) readBy[r.user_id] = r.read_at
    view.mentionReadBy = readBy
  }
  return view
}

/** Whether `info` names `me` (by name, or everyone). */
export function mentions(info: MentionedInfo | undefined, me: string): boolean {
  return info !== undefined && (info.type === 'all' || info.userIdList.includes(me))
}
