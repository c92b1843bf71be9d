/**
 * Receipt state of single messages: delivered/read receipts on mine (through `applyReceipt`, the
 * shared rule: earliest time wins, read implies delivered), receipts that arrived before their
 * message, and my reading of received messages.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import { MessageDirection, type Conversation, type Message } from '../../../shared/model'
import { applyReceipt, type Receipt, type ReceiptKind } from '../../../shared/receipts'
import { allReadUpTo, conversationKeyOf, countOneRead, readConversation } from './conversations'
import { countReaders, setAckCount, setRequested } from './groupReceipts'
import { enqueue } from './outbox'
import {
  conversationOfRow,
  rowByUid,
  toMessage,
  viewByLocalId,
  viewsOf,
  MESSAGE_COLUMNS,
  type MessageRow,
} from './rows'
import type { NewOutboxJob, ReadResult } from './types'

/** My messages up to a seq of a single chat that asked for read receipts and are not read yet. */
export const SENT_UNREAD_UP_TO_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq <= ? AND direction = 1 AND need_read_ack = 1 AND read_at IS NULL`

type PendingKind = ReceiptKind | 'request' | 'readers'

/**
 * Kept until the message arrives (a receipt can overtake its message: another device, a pull).
 * H6: never for a message I deleted for me (on any device): it will not arrive.
 */
export function keepPending(db: Db, uid: string, kind: PendingKind, by: string, at: number): void {
  prepare<[string, string, string, number, string]>(
    db,
    `INSERT INTO pending_receipts (message_uid, kind, by_user, at)
     SELECT ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM deleted_messages WHERE message_uid = ?)
     ON CONFLICT DO UPDATE SET at = min(at, excluded.at)`,
  ).run(uid, kind, by, at, uid)
}

export function hasPending(db: Db): boolean {
  return (prepare<[], { n: number }>(db, 'SELECT count(*) AS n FROM pending_receipts').get()?.n ?? 0) > 0
}

/**
 * Applies receipts to a message of mine through the shared rule (earliest time wins, read implies
 * delivered) and writes the row once, with a new revision, if they changed it; true when they did.
 */
function writeReceipts(db: Db, row: MessageRow, receipts: readonly Receipt[]): boolean {
  if (row.direction !== MessageDirection.SEND) return false
  const current = { deliveredAt: row.delivered_at, readAt: row.read_at }
  const next = receipts.reduce(applyReceipt, current)
  if (next === current) return false
  prepare<[number | null, number | null, number]>(
    db,
    'UPDATE messages SET delivered_at = ?, read_at = ?, revision = revision + 1 WHERE local_id = ?',
  ).run(next.deliveredAt, next.readAt, row.local_id)
  return true
}

function applyToRow(db: Db, row: MessageRow, kind: ReceiptKind, at: number): boolean {
  return writeReceipts(db, row, [{ kind, at }])
}

/**
 * The delivery and read times a pulled copy of my message carries (its receipt events may have been
 * pruned on the server), through the same rule as the events; true when they changed the row.
 */
export function applyCarriedReceipts(
  db: Db,
  row: MessageRow,
  deliveredAt: number | undefined,
  readAt: number | undefined,
): boolean {
  const receipts: Receipt[] = []
  if (deliveredAt !== undefined) receipts.push({ kind: 'delivered', at: deliveredAt })
  if (readAt !== undefined) receipts.push({ kind: 'read', at: readAt })
  return writeReceipts(db, row, receipts)
}

export function applyReceipts(
  db: Db,
  kind: ReceiptKind,
  uids: readonly string[],
  by: string,
  at: number,
): Message[] {
  return transact(db, () => {
    const changed: number[] = []
    for (const uid of uids) {
      const row = rowByUid(db, uid)
      if (!row) keepPending(db, uid, kind, by, at)
      else if (applyToRow(db, row, kind, at)) changed.push(row.local_id)
    }
    return viewsOf(db, changed)
  })
}

export function applyPeerConversationRead(db: Db, c: Conversation, seq: number, at: number): Message[] {
  return transact(db, () => {
    const changed: number[] = []
    const rows = prepare<[string, string, number], MessageRow>(db, SENT_UNREAD_UP_TO_SQL).all(
      c.type,
      c.targetId,
      seq,
    )
    for (const row of rows) if (applyToRow(db, row, 'read', at)) changed.push(row.local_id)
    return viewsOf(db, changed)
  })
}

/** Applies what was kept for a message that has just been stored; its view if anything applied. */
export function applyPending(db: Db, uid: string): Message | undefined {
  const pending = prepare<[string], { kind: PendingKind; by_user: string; at: number }>(
    db,
    'SELECT kind, by_user, at FROM pending_receipts WHERE message_uid = ?',
  ).all(uid)
  if (pending.length === 0) return undefined
  const first = rowByUid(db, uid)
  if (!first) return undefined
  for (const p of pending) {
    const row = rowByUid(db, uid)
    if (!row) break
    if (p.kind === 'request') setRequested(db, row.local_id, p.at)
    else if (p.kind === 'readers') {
      if (row.direction === MessageDirection.SEND) setAckCount(db, row.local_id, countReaders(db, uid))
    } else applyToRow(db, row, p.kind, p.at)
  }
  prepare<[string]>(db, 'DELETE FROM pending_receipts WHERE message_uid = ?').run(uid)
  return viewByLocalId(db, first.local_id)
}

/** Clears the read flag of one received message; true when it was set. */
function markOneRead(db: Db, row: MessageRow, now: number): boolean {
  const changed =
    prepare<[number, number]>(
      db,
      'UPDATE messages SET is_unread = 0, my_read_at = ?, revision = revision + 1 WHERE local_id = ? AND is_unread = 1',
    ).run(now, row.local_id).changes > 0
  if (changed) countOneRead(db, conversationOfRow(row))
  return changed
}

export function readMessage(db: Db, uid: string, now: number, ack: NewOutboxJob | undefined): ReadResult {
  return transact(db, () => {
    const row = rowByUid(db, uid)
    if (!row) return { changed: [], conversationChanged: false }
    if (!markOneRead(db, row, now)) return { changed: [toMessage(db, row)], conversationChanged: false }
    if (ack) enqueue(db, ack, now)
    const c = conversationOfRow(row)
    const changed = viewsOf(db, [row.local_id])
    if (row.seq !== null && allReadUpTo(db, c, row.seq)) {
      const moved = readConversation(db, c, row.seq, now, false)
      enqueue(
        db,
        {
          kind: 'ackConversationRead',
          ref: conversationKeyOf(c),
          payload: { conversation: c, seq: row.seq },
        },
        now,
      )
      changed.push(...moved.changed)
    }
    return { changed, conversationChanged: true }
  })
}

/** Marks a received message answered (hasRespond) and queues the answer; false if it already was. */
export function respond(db: Db, uid: string, now: number, ack: NewOutboxJob): boolean {
  return transact(db, () => {
    if (!setResponded(db, uid)) return false
    enqueue(db, ack, now)
    return true
  })
}

export function setResponded(db: Db, uid: string): boolean {
  return (
    prepare<[string]>(
      db,
      `UPDATE messages SET has_respond = 1, revision = revision + 1
       WHERE message_uid = ? AND direction = 2 AND has_respond = 0`,
    ).run(uid).changes > 0
  )
}

/** Marks a received message read as part of answering it (no receipt of its own is queued). */
export function readWithoutAck(db: Db, uid: string, now: number): void {
  const row = rowByUid(db, uid)
  if (row) markOneRead(db, row, now)
}
