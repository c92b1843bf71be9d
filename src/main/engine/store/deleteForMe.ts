/**
 * Delete for me on all my devices (issue 13, H6). The deletion itself is H1's (messageActions.ts:
 * the row goes, a tombstone keeps pulls and pushes from bringing it back, the unread count and the
 * last message follow). Done here, it also writes the job that tells the server, in the same
 * transaction, so a crash cannot lose it; told by the server (another device of mine deleted it),
 * it deletes the same way without a job, and leaves a tombstone for a message not here yet.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import type { Conversation } from '../../../shared/model'
import { deleteForMe, type DeletedForMe } from './messageActions'
import { enqueue } from './outbox'

function localIdOf(db: Db, uid: string): number | undefined {
  return prepare<[string], number>(db, 'SELECT local_id FROM messages WHERE message_uid = ?').pluck().get(uid)
}

/**
 * Deletes my message here and queues `deleteForMe` for the server. A message that never reached
 * the server (no messageUId: failed, never sent) has no other copy, so it stays local.
 */
export function deleteForMeOnAllDevices(db: Db, localId: number, now: number): DeletedForMe | undefined {
  return transact(db, () => {
    const uid = prepare<[number], string | null>(db, 'SELECT message_uid FROM messages WHERE local_id = ?')
      .pluck()
      .get(localId)
    const deleted = deleteForMe(db, localId, now)
    if (deleted && uid) enqueue(db, { kind: 'deleteForMe', ref: uid, payload: {} }, now)
    return deleted
  })
}

/**
 * Another device of mine deleted these for me (the server's `messagesDeletedForMe`, live or
 * replayed): the same deletion here. Unknown ones get their tombstone only, so a pull already on
 * its way cannot store them; a repeated event finds nothing left to do.
 */
export function applyDeletedForMe(db: Db, uids: readonly string[], now: number): DeletedForMe[] {
  return transact(db, () => {
    const deleted: DeletedForMe[] = []
    for (const uid of uids) {
      const localId = localIdOf(db, uid)
      const done = localId === undefined ? undefined : deleteForMe(db, localId, now)
      if (done) deleted.push(done)
      else {
        prepare<[string, number]>(
          db,
          'INSERT INTO deleted_messages (message_uid, deleted_at) VALUES (?, ?) ON CONFLICT DO NOTHING',
        ).run(uid, now)
        // Receipts that overtook it wait for a message that will not come.
        prepare<[string]>(db, 'DELETE FROM pending_receipts WHERE message_uid = ?').run(uid)
      }
    }
    return deleted
  })
}

/**
 * A full resync's page (the events this device missed were pruned from the server's log, so a
 * `messagesDeletedForMe` among them is lost): a message stored here with a seq the page covers,
 * (afterSeq, throughSeq], that the server no longer returns to me was deleted for me on another
 * device. Deleted here the same way; `returned` holds the seqs of the page.
 */
export function dropDeletedElsewhere(
  db: Db,
  c: Conversation,
  afterSeq: number,
  throughSeq: number,
  returned: ReadonlySet<number>,
  now: number,
): DeletedForMe[] {
  return transact(db, () => {
    const stored = prepare<[string, string, number, number], { local_id: number; seq: number }>(
      db,
      `SELECT local_id, seq FROM messages
       WHERE conv_type = ? AND target_id = ? AND seq > ? AND seq <= ? AND message_uid IS NOT NULL`,
    ).all(c.type, c.targetId, afterSeq, throughSeq)
    const deleted: DeletedForMe[] = []
    for (const row of stored) {
      if (returned.has(row.seq)) continue
      const done = deleteForMe(db, row.local_id, now)
      if (done) deleted.push(done)
    }
    return deleted
  })
}
