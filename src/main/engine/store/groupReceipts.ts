/**
 * Group receipts in the local store, both SDK models on one fact per reader and message: on my
 * messages, who read them (message_readers) and how many (group_ack_count, max-merged with the
 * server's count); on received ones, whether a read receipt was requested and whether I answered.
 * The group read count is decided here and nowhere else.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import { MessageDirection, type GroupReadAck, type Message } from '../../../shared/model'
import { enqueue } from './outbox'
import { keepPending, readWithoutAck, setResponded } from './receipts'
import { rowByUid, viewByLocalId, viewsOf } from './rows'

/** R6: the RongCloud messageList, served by the partial index messages_unresponded. */
export const UNRESPONDED_SQL = `SELECT sender_id, message_uid FROM messages
  WHERE conv_type = ? AND target_id = ? AND channel_id = ?
    AND direction = 2 AND is_receipt_request = 1 AND has_respond = 0`

export function countReaders(db: Db, uid: string): number {
  return (
    prepare<[string], { n: number }>(
      db,
      'SELECT count(*) AS n FROM message_readers WHERE message_uid = ?',
    ).get(uid)?.n ?? 0
  )
}

/** Raises the read count (never lowers it); true when it changed. */
export function setAckCount(db: Db, localId: number, count: number): boolean {
  return (
    prepare<[number, number, number]>(
      db,
      `UPDATE messages SET group_ack_count = ?, revision = revision + 1
       WHERE local_id = ? AND group_ack_count < ?`,
    ).run(count, localId, count).changes > 0
  )
}

function touch(db: Db, localId: number): void {
  prepare<[number]>(db, 'UPDATE messages SET revision = revision + 1 WHERE local_id = ?').run(localId)
}

export function setRequested(db: Db, localId: number, at: number): boolean {
  return (
    prepare<[number, number]>(
      db,
      `UPDATE messages SET is_receipt_request = 1, receipt_request_at = ?, revision = revision + 1
       WHERE local_id = ? AND is_receipt_request = 0`,
    ).run(at, localId).changes > 0
  )
}

/**
 * Adds readers of a message of mine; the count is the larger of the server's and the readers known
 * here. Returns the local id when the message changed (a new reader, an earlier time, a higher count).
 */
function addReaders(
  db: Db,
  uid: string,
  readers: readonly { userId: string; at: number }[],
  serverCount = 0,
): number | undefined {
  const row = rowByUid(db, uid)
  if (row && row.direction !== MessageDirection.SEND) return undefined
  const insert = prepare<[string, string, number]>(
    db,
    `INSERT INTO message_readers (message_uid, reader_id, read_at) VALUES (?, ?, ?)
     ON CONFLICT DO UPDATE SET read_at = excluded.read_at WHERE excluded.read_at < read_at`,
  )
  let readersChanged = false
  for (const r of readers) if (insert.run(uid, r.userId, r.at).changes > 0) readersChanged = true
  if (!row) {
    // My message whose server id is not known here yet (the reply to its send is still on the way,
    // or it was sent from another device): the readers are kept and counted when it arrives.
    keepPending(db, uid, 'readers', '', 0)
    return undefined
  }
  const counted = setAckCount(db, row.local_id, Math.max(serverCount, countReaders(db, uid)))
  if (!counted && !readersChanged) return undefined
  if (!counted) touch(db, row.local_id)
  return row.local_id
}

export function applyGroupReadAcks(db: Db, acks: readonly GroupReadAck[]): Message[] {
  return transact(db, () => {
    const changed: number[] = []
    for (const a of acks) {
      const id = addReaders(db, a.messageUId, [{ userId: a.from, at: a.timestamp }], a.count)
      if (id !== undefined) changed.push(id)
    }
    return viewsOf(db, changed)
  })
}

/**
 * The read counts the server tells the members of a group whose countVisibility is 'all'
 * (groupReadCount): max-merged into the messages here, never lowered. A count for a message not
 * here yet is dropped: its pulled copy carries the count.
 */
export function applyGroupReadCounts(
  db: Db,
  counts: readonly { messageUId: string; count: number }[],
): Message[] {
  return transact(db, () => {
    const changed: number[] = []
    for (const { messageUId, count } of counts) {
      const row = rowByUid(db, messageUId)
      if (!row || row.conv_type !== 'group') continue
      if (setAckCount(db, row.local_id, count)) changed.push(row.local_id)
    }
    return viewsOf(db, changed)
  })
}

export function applyReceiptResponse(db: Db, uids: readonly string[], reader: string, at: number): Message[] {
  return transact(db, () => {
    const changed: number[] = []
    for (const uid of uids) {
      const id = addReaders(db, uid, [{ userId: reader, at }])
      if (id !== undefined) changed.push(id)
    }
    return viewsOf(db, changed)
  })
}

export function markReceiptRequested(db: Db, uid: string, at: number): Message | undefined {
  return transact(db, () => {
    const row = rowByUid(db, uid)
    if (!row) {
      keepPending(db, uid, 'request', '', at)
      return undefined
    }
    return setRequested(db, row.local_id, at) ? viewByLocalId(db, row.local_id) : undefined
  })
}

export function unrespondedMessageList(
  db: Db,
  type: string,
  targetId: string,
  channelId: string,
): Record<string, string[]> {
  const list: Record<string, string[]> = Object.create(null) as Record<string, string[]>
  const rows = prepare<[string, string, string], { sender_id: string; message_uid: string }>(
    db,
    UNRESPONDED_SQL,
  ).all(type, targetId, channelId)
  for (const r of rows) (list[r.sender_id] ??= []).push(r.message_uid)
  return list
}

export function respondToReceiptRequests(
  db: Db,
  groupId: string,
  channelId: string,
  messageList: Readonly<Record<string, readonly string[]>> | undefined,
  now: number,
): { sent: Record<string, string[]>; changed: Message[] } {
  return transact(db, () => {
    const candidate = messageList ?? unrespondedMessageList(db, 'group', groupId, channelId)
    const sent: Record<string, string[]> = Object.create(null) as Record<string, string[]>
    const changed: number[] = []
    let any = false
    for (const [sender, uids] of Object.entries(candidate)) {
      const fresh: string[] = []
      for (const uid of uids) {
        const row = rowByUid(db, uid)
        // Messages I do not have yet are passed on as given: the server decides about them.
        if (row && (row.has_respond === 1 || row.direction !== MessageDirection.RECEIVE)) continue
        fresh.push(uid)
        if (!row) continue
        setResponded(db, uid)
        readWithoutAck(db, uid, now)
        changed.push(row.local_id)
      }
      if (fresh.length > 0) {
        sent[sender] = fresh
        any = true
      }
    }
    if (any)
      enqueue(
        db,
        { kind: 'receiptResponse', ref: groupId, payload: { groupId, channelId, messageList: sent } },
        now,
      )
    return { sent: { ...sent }, changed: viewsOf(db, changed) }
  })
}
