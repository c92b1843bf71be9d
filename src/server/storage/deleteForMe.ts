/**
 * Delete for me on all my devices (issue 13, H6) on SQLite: one row per user and message they
 * deleted for themselves. The message itself is not touched, so the others keep it and its receipts
 * stay as they are; only this user's pulls and unread counts leave it out (storage/messages.ts).
 */
import { prepare, transact, type Db } from './db'
import type { DeletedForMeInput } from './types'

export function deleteMessagesForMe(
  db: Db,
  userId: string,
  messages: readonly DeletedForMeInput[],
  at: number,
): number[] {
  const insert = prepare<[string, number, number, number, number, number]>(
    db,
    `INSERT INTO deleted_for_me (user_id, conv_id, seq, message_id, own, deleted_at)
     VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  )
  return transact(db, () =>
    messages
      .filter((m) => insert.run(userId, m.convId, m.seq, m.id, m.own ? 1 : 0, at).changes > 0)
      .map((m) => m.id),
  )
}
