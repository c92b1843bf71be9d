/**
 * Mute per chat on all my devices (issue 13, H8), on SQLite: one row per user and conversation they
 * muted ("do not disturb"); no row notifies. Kept on the server so every device of the user, a new
 * one included, learns it (syncState) and hears each change (the logged
 * `conversationNotificationStatusChanged`).
 */
import { prepare, type Db } from './db'

/** Mutes (true) or unmutes a conversation for a user; true when that changed something. */
export function setConversationMuted(
  db: Db,
  userId: string,
  convId: number,
  muted: boolean,
  at: number,
): boolean {
  if (!muted) {
    return (
      prepare<[string, number]>(db, 'DELETE FROM muted_conversations WHERE user_id = ? AND conv_id = ?').run(
        userId,
        convId,
      ).changes > 0
    )
  }
  return (
    prepare<[string, number, number]>(
      db,
      `INSERT INTO muted_conversations (user_id, conv_id, muted_at) VALUES (?, ?, ?)
       ON CONFLICT DO NOTHING`,
    ).run(userId, convId, at).changes > 0
  )
}

/** The conversations a user muted (primary key prefix: the user's own rows). */
export function listMutedConversations(db: Db, userId: string): number[] {
  return prepare<[string], number>(db, 'SELECT conv_id FROM muted_conversations WHERE user_id = ?')
    .pluck()
    .all(userId)
}
