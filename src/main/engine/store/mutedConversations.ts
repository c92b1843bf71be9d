/**
 * Mute per chat on all my devices (issue 13, H8). The mark itself is H5's column
 * (store/everyday.ts); set here, it also writes the job that tells the server, in the same
 * transaction, so a crash cannot lose it. Told by the server (another device of mine changed it, or
 * syncState), it is set the same way without a job, unless a change of this device is still waiting
 * in the outbox: that one reaches the server later, so it is the newer and stays.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import { conversationKey, type Conversation, type NotificationStatus } from '../../../shared/model'
import { setNotificationStatus } from './everyday'
import { enqueue } from './outbox'

/** Sets my mark here and queues it for my other devices; true when it changed here. */
export function setNotificationStatusOnAllDevices(
  db: Db,
  c: Conversation,
  status: NotificationStatus,
  now: number,
): boolean {
  return transact(db, () => {
    const changed = setNotificationStatus(db, c, status)
    if (changed)
      enqueue(
        db,
        { kind: 'notificationStatus', ref: conversationKey(c), payload: { conversation: c, status } },
        now,
      )
    return changed
  })
}

/** The server's mark (a push, a replayed event, syncState); true when it changed here. */
export function applyServerNotificationStatus(db: Db, c: Conversation, status: NotificationStatus): boolean {
  return transact(db, () => {
    const pending = prepare<[string], number>(
      db,
      "SELECT 1 FROM outbox WHERE kind = 'notificationStatus' AND ref = ? LIMIT 1",
    )
      .pluck()
      .get(conversationKey(c))
    return pending === undefined && setNotificationStatus(db, c, status)
  })
}
