/**
 * Acknowledgements and mentions in the local store (issue 15; words in src/shared/acks.ts).
 *
 * The server is the judge of every ack; this store mirrors it. Received side: `my_ack_at` is set
 * here at once when I acknowledge on this device (with an `ack` outbox job in the same
 * transaction, so an ack given offline goes out on the next connection), then set to the server's
 * time when it took the ack, and cleared only by an undo (mine here, or a `messageAcked` push with
 * `undone` from another device of mine) or by the server refusing the ack. Sender side: the
 * server's count (`ack_count`) and the mentioned members who read the message
 * (`message_mention_reads`). "Waiting for me" is the partial index `messages_pending_ack` of
 * migration 11: received messages that ask for an ack I have not given.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import { MessageDirection, type MentionedInfo, type Message } from '../../../shared/model'
import type { WireMessage } from '../../../shared/protocol'
import { enqueue } from './outbox'
import { mentions } from './ackView'
import { MESSAGE_COLUMNS, rowByUid, toMessage, viewByLocalId, type MessageRow } from './rows'

/** The operator's ack rules, as syncState last reported them. */
export interface AckSettings {
  undoWindowMs: number
  remindersPerMember: number
  reminderIntervalMs: number
}

/**
 * Waiting for my ack: received, asking, not acked (the partial index), and still asking: not
 * recalled, and not in a group I have left (the server lists neither).
 */
const PENDING_WHERE = `direction = 2 AND need_ack = 1 AND my_ack_at IS NULL AND recalled_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.conv_type = messages.conv_type
    AND c.target_id = messages.target_id AND c.left_seq IS NOT NULL)`
export const PENDING_ACKS_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE ${PENDING_WHERE}
  ORDER BY sent_at DESC, local_id DESC LIMIT ?`
const COUNT_PENDING_ACKS_SQL = `SELECT count(*) FROM messages WHERE ${PENDING_WHERE}`
const PENDING_UIDS_SQL = `SELECT message_uid FROM messages WHERE ${PENDING_WHERE} AND sent_at <= ?`
/** An ack of mine still waiting in the outbox (the outbox holds few acks: a scan of its kind). */
const UNSENT_ACK_SQL = `SELECT 1 FROM outbox WHERE kind = 'ack' AND ref = ?`

const ACK_SETTINGS_KEY = 'ackSettings'

/** Whether a server copy carries anything of this file (most do not: a cheap test first). */
export function carriesAcks(m: WireMessage): boolean {
  return (
    m.needAck === true || m.mentionedInfo !== undefined || m.ackCount !== undefined || m.myAckAt !== undefined
  )
}

/**
 * What a server copy (new here, or pulled again, or the reply to my own send) says of acks and
 * mentions, onto the stored row: needAck and the mention once, the sender's count as the server
 * counts it, and my ack with the server's time. A copy without `myAckAt` never clears an ack here:
 * an undo comes as its own event, and an ack of mine may still wait in the outbox. True when the
 * row changed.
 */
export function mergeAckCopy(db: Db, me: string, m: WireMessage): boolean {
  const row = rowByUid(db, m.messageUId)
  if (!row) return false
  const mine = row.direction === MessageDirection.SEND
  const next = {
    needAck: row.need_ack === 1 || m.needAck === true ? 1 : 0,
    ackCount: mine && m.ackCount !== undefined ? m.ackCount : row.ack_count,
    myAckAt: !mine && m.myAckAt !== undefined ? m.myAckAt : row.my_ack_at,
    mentionedInfo:
      row.mentioned_info ?? (m.mentionedInfo !== undefined ? JSON.stringify(m.mentionedInfo) : null),
    mentionsMe: row.mentions_me === 1 || (!mine && mentions(m.mentionedInfo, me)) ? 1 : 0,
  }
  if (
    next.needAck === row.need_ack &&
    next.ackCount === row.ack_count &&
    next.myAckAt === row.my_ack_at &&
    next.mentionedInfo === row.mentioned_info &&
    next.mentionsMe === row.mentions_me
  )
    return false
  prepare(
    db,
    `UPDATE messages SET need_ack = :needAck, ack_count = :ackCount, my_ack_at = :myAckAt,
       mentioned_info = :mentionedInfo, mentions_me = :mentionsMe, revision = revision + 1
     WHERE local_id = :localId`,
  ).run({ ...next, localId: row.local_id })
  return true
}

/** My outgoing message asks for acks or mentions members (written with it, before it is sent). */
export function setOutgoing(
  db: Db,
  localId: number,
  needAck: boolean,
  mentionedInfo: MentionedInfo | undefined,
): void {
  if (!needAck && mentionedInfo === undefined) return
  prepare<[number, string | null, number]>(
    db,
    'UPDATE messages SET need_ack = ?, mentioned_info = ? WHERE local_id = ?',
  ).run(needAck ? 1 : 0, mentionedInfo === undefined ? null : JSON.stringify(mentionedInfo), localId)
}

export class AckStore {
  constructor(private readonly db: Db) {}

  /**
   * I acknowledge a received message that asks for it: my_ack_at now and an `ack` job, in one
   * transaction. Undefined when there is no such message; unchanged (no job) when already acked.
   */
  ack(localId: number, now: number): Message | undefined {
    const { db } = this
    return transact(db, () => {
      const uid = prepare<[number, number], string>(
        db,
        `UPDATE messages SET my_ack_at = ?, revision = revision + 1
         WHERE local_id = ? AND direction = 2 AND need_ack = 1 AND my_ack_at IS NULL
           AND message_uid IS NOT NULL
         RETURNING message_uid`,
      )
        .pluck()
        .get(now, localId)
      if (uid !== undefined) enqueue(db, { kind: 'ack', ref: uid, payload: {} }, now)
      return viewByLocalId(db, localId)
    })
  }

  /** Whether an ack of mine for this message still waits in the outbox. */
  hasUnsentAck(messageUId: string): boolean {
    return prepare<[string]>(this.db, UNSENT_ACK_SQL).get(messageUId) !== undefined
  }

  /**
   * Takes back an ack of mine that never left this device: its job is removed and my_ack_at
   * cleared, in one transaction. Undefined when no such job was waiting.
   */
  dropUnsentAck(messageUId: string): Message | undefined {
    const { db } = this
    return transact(db, () => {
      const removed = prepare<[string]>(db, `DELETE FROM outbox WHERE kind = 'ack' AND ref = ?`).run(
        messageUId,
      )
      if (removed.changes === 0) return undefined
      return this.clearMyAck(messageUId)
    })
  }

  /** The server took my ack (from this device, or another of mine) at `at`: its time is kept. */
  applyMyAck(messageUId: string, at: number): Message | undefined {
    const localId = prepare<[number, string, number], number>(
      this.db,
      `UPDATE messages SET my_ack_at = ?, revision = revision + 1
       WHERE message_uid = ? AND direction = 2 AND need_ack = 1 AND my_ack_at IS NOT ?
       RETURNING local_id`,
    )
      .pluck()
      .get(at, messageUId, at)
    return localId === undefined ? undefined : viewByLocalId(this.db, localId)
  }

  /**
   * My ack was taken back on the server (an undo here or on another device), or the server refused
   * it: cleared, unless a newer ack of mine waits in the outbox (`keepUnsent`).
   */
  clearMyAck(messageUId: string, keepUnsent = false): Message | undefined {
    if (keepUnsent && this.hasUnsentAck(messageUId)) return undefined
    const localId = prepare<[string], number>(
      this.db,
      `UPDATE messages SET my_ack_at = NULL, revision = revision + 1
       WHERE message_uid = ? AND direction = 2 AND my_ack_at IS NOT NULL RETURNING local_id`,
    )
      .pluck()
      .get(messageUId)
    return localId === undefined ? undefined : viewByLocalId(this.db, localId)
  }

  /** Sender side: the server's count of acks of my message (it goes down only by an undo). */
  setAckCount(messageUId: string, count: number): Message | undefined {
    const localId = prepare<[number, string, number], number>(
      this.db,
      `UPDATE messages SET ack_count = ?, revision = revision + 1
       WHERE message_uid = ? AND direction = 1 AND ack_count IS NOT ? RETURNING local_id`,
    )
      .pluck()
      .get(count, messageUId, count)
    return localId === undefined ? undefined : viewByLocalId(this.db, localId)
  }

  /** Sender side: a member I mentioned read my message (the first time counts). */
  addMentionRead(messageUId: string, userId: string, at: number): Message | undefined {
    const { db } = this
    return transact(db, () => {
      const row = rowByUid(db, messageUId)
      if (!row || row.direction !== MessageDirection.SEND || row.mentioned_info === null) return undefined
      const added = prepare<[string, string, number]>(
        db,
        `INSERT INTO message_mention_reads (message_uid, user_id, read_at) VALUES (?, ?, ?)
         ON CONFLICT DO NOTHING`,
      ).run(messageUId, userId, at)
      if (added.changes === 0) return undefined
      prepare<[number]>(db, 'UPDATE messages SET revision = revision + 1 WHERE local_id = ?').run(
        row.local_id,
      )
      return viewByLocalId(db, row.local_id)
    })
  }

  /** "Waiting for me": how many. */
  pendingCount(): number {
    return prepare<[], number>(this.db, COUNT_PENDING_ACKS_SQL).pluck().get() ?? 0
  }

  /** "Waiting for me": the newest `limit` of them, across chats. */
  pending(limit: number): Message[] {
    return prepare<[number], MessageRow>(this.db, PENDING_ACKS_SQL)
      .all(limit)
      .map((r) => toMessage(this.db, r))
  }

  /**
   * After a sync, the server's whole "Waiting for me" list (`serverPending`, messageUIds, read
   * after its syncState of server time `asOf`) against this store's: a message sent before `asOf`
   * and pending here that the server does not list was acknowledged on another device while this
   * one was away (its event was pruned, and no pulled copy said so): acked, at `asOf` (its own time
   * is not known). One acked
   * here by `asOf` that the server lists as pending had its ack taken back elsewhere: cleared,
   * unless my ack still waits in the outbox. What happened after `asOf` (a message that arrived,
   * an ack the server took, while the list was read) is left as it is. Returns the changed messages.
   */
  reconcile(serverPending: ReadonlySet<string>, asOf: number): Message[] {
    const { db } = this
    return transact(db, () => {
      const changed: Message[] = []
      const localPending = prepare<[number], string>(db, PENDING_UIDS_SQL).pluck().all(asOf)
      for (const uid of localPending) {
        if (serverPending.has(uid)) continue
        const m = this.applyMyAck(uid, asOf)
        if (m) changed.push(m)
      }
      for (const uid of serverPending) {
        const row = rowByUid(db, uid)
        if (!row || row.my_ack_at === null || row.my_ack_at > asOf) continue
        const m = this.clearMyAck(uid, true)
        if (m) changed.push(m)
      }
      return changed
    })
  }

  /** The server's ack rules (syncState); null until a server said. */
  settings(): AckSettings | null {
    const value = prepare<[string], string>(this.db, 'SELECT value FROM kv WHERE key = ?')
      .pluck()
      .get(ACK_SETTINGS_KEY)
    return value === undefined ? null : (JSON.parse(value) as AckSettings)
  }

  setSettings(settings: AckSettings): void {
    prepare<[string, string]>(
      this.db,
      'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    ).run(ACK_SETTINGS_KEY, JSON.stringify(settings))
  }
}
