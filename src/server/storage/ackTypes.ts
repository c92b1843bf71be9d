/**
 * The storage interface of issue 15 (acknowledgements, reminders, mentions): the rows and the
 * operations that storage/acks.ts and postgres/acks.ts implement. StorageOps (types.ts) extends it.
 */
import type { ReaderQuery } from './types'

/** One recipient in a tab of the acknowledgement panel, with its cursor key (ack_id, read_id or user id). */
export interface AckPanelRow {
  key: number | string
  userId: string
  displayName: string
  ackedAt: number | null
  readAt: number | null
  reminded: number
}

/** A message that tracks reads (needAck or '@all') in a seq range: what a read-position hook needs. */
export interface TrackedMessageRow {
  id: number
  seq: number
  senderId: string
}

/** A mention a read position just passed: to tell its sender (mentionRead). */
export interface MentionPassed {
  messageId: number
  messageUId: string
  senderId: string
  seq: number
}

/** The reminder bookkeeping of one message: its last run and its schedule (nextAt null: none). */
export interface ReminderRunRow {
  messageId: number
  lastRunAt: number | null
  everyMinutes: number | null
  times: number | null
  remaining: number
  nextAt: number | null
}

/**
 * Issue 15: acks are reader facts like group read acks (one per recipient per message, the count on
 * the message row kept equal to the facts in the same step); reads of a message that tracks them
 * likewise. Every list is an index range, so a 20,000-member group's panel costs what a 200-member
 * one does.
 */
export interface AckStorageOps {
  /** Stamps needAck and mentions on a message just inserted (the same unit as insertMessage). */
  setMessageAckInfo(
    message: { id: number; convId: number; seq: number },
    info: {
      needAck: boolean
      tracksReads: boolean
      mentionedInfo: string | null
      mentioned: readonly string[]
    },
  ): Promise<void>
  /** The caller's ack time of each of these messages that they acked (by message id). */
  getAcksOf(userId: string, messageIds: readonly number[]): Promise<{ messageId: number; ackedAt: number }[]>
  /** Adds the ack and bumps ack_count, atomically; undefined (nothing written) when one exists. */
  insertMessageAck(messageId: number, userId: string, at: number): Promise<{ count: number } | undefined>
  /** Removes the ack and lowers ack_count, atomically; undefined when there was none. */
  deleteMessageAck(messageId: number, userId: string): Promise<{ count: number } | undefined>
  /** Adds a read fact (reader shares reads) and bumps ack_read_count; false when one existed. */
  insertMessageRead(messageId: number, userId: string, at: number): Promise<boolean>
  /** Messages of the conversation that track reads with seq in (afterSeq, upToSeq], by seq. */
  listTrackedMessages(convId: number, afterSeq: number, upToSeq: number): Promise<TrackedMessageRow[]>
  /** Marks read (read_at = at) the user's unread mentions with seq in (afterSeq, upToSeq]; those marked. */
  markMentionsRead(
    convId: number,
    userId: string,
    afterSeq: number,
    upToSeq: number,
    at: number,
  ): Promise<MentionPassed[]>
  /** The members a message names, with when they read it (null: not yet, or hidden). */
  listMentions(messageId: number): Promise<{ userId: string; readAt: number | null; hides: boolean }[]>
  /** { acked, read, hidden } as stored on the message row. */
  getAckCounts(messageId: number): Promise<{ acked: number; read: number; hidden: number }>
  /**
   * The user's effective read-receipt sharing in the conversation changed (`delta` +1: now hides,
   * -1: shares again): the hidden count of each message there that tracks reads, of which they are a
   * recipient with no read fact, moves by `delta` (a range of the tracked messages index).
   */
  adjustAckHidden(convId: number, userId: string, delta: 1 | -1): Promise<void>
  /** Tab 'acked': ack_id > afterAckId ascending. */
  listAckedPage(messageId: number, afterAckId: number, limit: number): Promise<AckPanelRow[]>
  /** Tab 'readNotAcked': read facts with read_id > afterReadId and no ack, ascending. */
  listReadNotAckedPage(messageId: number, afterReadId: number, limit: number): Promise<AckPanelRow[]>
  /** Tab 'notRead': recipients sharing reads with no read fact and no ack, user_id > afterUserId. */
  listNotReadPage(query: ReaderQuery, afterUserId: string, limit: number): Promise<AckPanelRow[]>
  /**
   * Recipients who hide their reads and have neither acked nor a read fact, counted from the members
   * (a range of the hiders index): what ack_hidden_count must equal (tests; the initial count at send).
   */
  countAckHidden(query: ReaderQuery): Promise<number>
  /** The same recipients, user_id > afterUserId ascending (the export's 'hidden' list). */
  listAckHiddenPage(query: ReaderQuery, afterUserId: string, limit: number): Promise<AckPanelRow[]>
  /** Removes a read fact and lowers ack_read_count (a hider's undo: their read was only the ack's). */
  deleteMessageRead(messageId: number, userId: string): Promise<void>
  /**
   * One reminder to each current recipient with no ack whose count for this message is below `max`,
   * in one statement: those reminded with their new count, and how many were pending in all.
   */
  remindPending(
    query: ReaderQuery,
    at: number,
    max: number,
  ): Promise<{ reminded: { userId: string; n: number }[]; pending: number }>
  getReminderRun(messageId: number): Promise<ReminderRunRow | undefined>
  /** Records a run now (manual or scheduled). */
  setReminderRunAt(messageId: number, at: number): Promise<void>
  /** Sets (or with null clears) the schedule; the row as stored. */
  setReminderSchedule(
    messageId: number,
    schedule: { everyMinutes: number; times: number; nextAt: number } | null,
  ): Promise<ReminderRunRow>
  /**
   * Claims up to `limit` due schedules atomically (one statement: two nodes never both claim one):
   * remaining goes down by one, next_at moves on by everyMinutes × minuteMs (NULL once none remain).
   */
  claimDueReminders(now: number, minuteMs: number, limit: number): Promise<ReminderRunRow[]>
  /** The uid of the message with this id (a schedule names its message by id). */
  getMessageUIdById(messageId: number): Promise<string | undefined>
  /** Ends a schedule (nobody pending, or all at the limit). */
  endReminderSchedule(messageId: number): Promise<void>
  /** "Waiting for me": needAck messages of my current conversations I have not acked, id < beforeId, newest first. */
  listPendingAcks(
    userId: string,
    beforeId: number,
    limit: number,
  ): Promise<{ id: number; messageUId: string }[]>
  countPendingAcks(userId: string): Promise<number>
}
