import type { PushEvent } from '../../shared/protocol'
import { nextEventSeq } from './accounts'
import { prepare, transact, type Db } from './db'
import type { UserEventRow } from './types'

export function appendUserEvent(db: Db, userId: string, event: PushEvent, data: string, at: number): number {
  return transact(db, () => {
    const eventSeq = nextEventSeq(db, userId)
    prepare<[string, number, string, string, number]>(
      db,
      'INSERT INTO user_events (user_id, event_seq, event, data, created_at) VALUES (?, ?, ?, ?, ?)',
    ).run(userId, eventSeq, event, data, at)
    return eventSeq
  })
}

export function listUserEvents(db: Db, userId: string, afterEventSeq: number, limit: number): UserEventRow[] {
  return prepare<[string, number, number], UserEventRow>(
    db,
    `SELECT event_seq AS eventSeq, event, data, created_at AS createdAt
     FROM user_events WHERE user_id = ? AND event_seq > ? ORDER BY event_seq LIMIT ?`,
  ).all(userId, afterEventSeq, limit)
}
