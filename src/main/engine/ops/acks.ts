/**
 * Acknowledgements, reminders, "Waiting for me" and mentions (issue 15; words in
 * src/shared/acks.ts). The server judges every ack and keeps the panel; the engine mirrors my own
 * acks (store/acks.ts), so that an ack given offline shows at once and goes out through the outbox,
 * and keeps "Waiting for me" in SQLite so that it opens without the server.
 *
 * Reads never write: the panel pages, reminder results and mention reads are the server's answers
 * as they are; the counts and dots shown on a message come from the store, which pushes keep current.
 */
import {
  ACK_LIMITS,
  type AckEntry,
  type AckListState,
  type AckPage,
  type MentionReads,
  type ReminderResult,
  type ReminderSchedule,
  type ReminderScheduleState,
} from '../../../shared/acks'
import { Code, CodedError } from '../../../shared/codes'
import { MessageDirection, type Message } from '../../../shared/model'
import { emitChanged, requireOk, type EngineContext } from '../context'
import type { AckSettings } from '../store/acks'
import { afterRead } from './receipts'

/** The last "Waiting for me" count told to each session's renderer. */
const toldPending = new WeakMap<EngineContext, number>()

/** Tells `pendingAcksChanged` when the number of messages waiting for my ack changed. */
export function notePendingAcks(ctx: EngineContext): void {
  const count = ctx.store.acks.pendingCount()
  if (toldPending.get(ctx) === count) return
  toldPending.set(ctx, count)
  ctx.emit('pendingAcksChanged', { count })
}

/** A message of this device's history by its local id (Message.messageId). */
function stored(ctx: EngineContext, messageId: string): Message {
  const message = ctx.store.view(Number(messageId))
  if (!message) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  return message
}

/** A message I received that asks me for an ack (the server checks the rest). */
function ackable(ctx: EngineContext, messageId: string): Message & { messageUId: string } {
  const message = stored(ctx, messageId)
  if (!message.needAck) throw new CodedError(Code.ACK_NOT_REQUESTED)
  if (message.messageDirection !== MessageDirection.RECEIVE || message.messageUId === null)
    throw new CodedError(Code.NOT_AN_ACK_RECIPIENT, 'The sender of a message does not acknowledge it.')
  return { ...message, messageUId: message.messageUId }
}

/** A message of mine, on the server, that asks for acks: only its sender sees who acknowledged. */
function ownAsking(ctx: EngineContext, messageId: string): Message & { messageUId: string } {
  const message = stored(ctx, messageId)
  if (message.senderUserId !== ctx.me) throw new CodedError(Code.NOT_MESSAGE_SENDER)
  if (message.messageUId === null)
    throw new CodedError(Code.MESSAGE_NOT_FOUND, 'This message has not reached the server yet.')
  return { ...message, messageUId: message.messageUId }
}

function ownAskingAck(ctx: EngineContext, messageId: string): Message & { messageUId: string } {
  const message = ownAsking(ctx, messageId)
  if (!message.needAck) throw new CodedError(Code.ACK_NOT_REQUESTED)
  return message
}

/**
 * I acknowledge a message: at once here (and in "Waiting for me"), to the server through the outbox
 * (now, or after the next connection). Acking twice changes nothing. An ack implies I saw it: the
 * message counts as read here too (the server counts it as a read for receipts where I share them).
 */
export function ackMessage(ctx: EngineContext, messageId: string): Message {
  const message = ackable(ctx, messageId)
  if (message.myAckTime !== null) return message
  const now = ctx.now()
  const validity =
    message.conversation.type === 'group'
      ? ctx.store.group(message.conversation.targetId)?.receiptSettings.ackValidityMs
      : undefined
  if (validity !== undefined && now - message.sentTime > validity) throw new CodedError(Code.ACK_EXPIRED)
  const acked = ctx.store.acks.ack(Number(messageId), now)
  if (!acked) throw new CodedError(Code.MESSAGE_NOT_FOUND)
  emitChanged(ctx, [acked])
  if (message.isUnread) afterRead(ctx, message.conversation, ctx.store.readMessage(message.messageUId, now))
  notePendingAcks(ctx)
  ctx.kickOutbox()
  return ctx.store.view(Number(messageId)) ?? acked
}

/**
 * Takes my ack back. One that has not left this device yet is simply dropped; otherwise the server
 * decides (within its undo window: ACK_UNDO_WINDOW_PASSED after it), so this needs a connection.
 */
export async function undoAckMessage(ctx: EngineContext, messageId: string): Promise<Message> {
  const message = ackable(ctx, messageId)
  if (message.myAckTime === null) throw new CodedError(Code.ACK_NOT_FOUND)
  const dropped = ctx.link() ? undefined : ctx.store.acks.dropUnsentAck(message.messageUId)
  if (dropped) {
    emitChanged(ctx, [dropped])
    notePendingAcks(ctx)
    return dropped
  }
  const res = await requireOk(ctx, 'undoAckMessage', { messageUId: message.messageUId }).catch(
    (err: unknown) => {
      // The server never got it: the ack still waits in the outbox, and is taken back here.
      if (err instanceof CodedError && err.code === Code.ACK_NOT_FOUND) {
        const unsent = ctx.store.acks.dropUnsentAck(message.messageUId)
        if (unsent) return undefined
      }
      throw err
    },
  )
  const changed = res ? ctx.store.acks.clearMyAck(res.messageUId) : undefined
  const now = ctx.store.view(Number(messageId)) ?? message
  emitChanged(ctx, [changed ?? now])
  notePendingAcks(ctx)
  return now
}

/** The sender's panel: one tab, paged on the server's cursor. */
export async function getMessageAcks(
  ctx: EngineContext,
  messageId: string,
  state: AckPage['state'],
  pageSize: number,
  cursor: string | undefined,
): Promise<AckPage> {
  const message = ownAskingAck(ctx, messageId)
  const page = await requireOk(ctx, 'fetchMessageAcks', {
    messageUId: message.messageUId,
    state,
    pageSize,
    ...(cursor ? { cursor } : {}),
  })
  return { ...page, state }
}

export async function remindUnacknowledged(ctx: EngineContext, messageId: string): Promise<ReminderResult> {
  const message = ownAskingAck(ctx, messageId)
  return requireOk(ctx, 'remindUnacknowledged', { messageUId: message.messageUId })
}

export async function setAckReminderSchedule(
  ctx: EngineContext,
  messageId: string,
  schedule: ReminderSchedule | undefined,
): Promise<ReminderScheduleState | null> {
  const message = ownAskingAck(ctx, messageId)
  const res = await requireOk(ctx, 'setAckReminderSchedule', {
    messageUId: message.messageUId,
    schedule: schedule ?? null,
  })
  return res.schedule
}

/** "Waiting for me", from this device's store (kept right by pushes and each sync). */
export function getPendingAckMessages(
  ctx: EngineContext,
  count: number,
): { messages: Message[]; total: number } {
  return { messages: ctx.store.acks.pending(count), total: ctx.store.acks.pendingCount() }
}

export async function getMentionReads(ctx: EngineContext, messageId: string): Promise<MentionReads> {
  const message = ownAsking(ctx, messageId)
  if (!message.mentionedInfo)
    throw new CodedError(Code.INVALID_ARGUMENT, 'This message does not mention anyone.')
  return requireOk(ctx, 'fetchMentionReads', { messageUId: message.messageUId })
}

/** The server's ack rules as the last sync reported them; null before the first one. */
export function getAckSettings(ctx: EngineContext): AckSettings | null {
  return ctx.store.acks.settings()
}

// ---- export ------------------------------------------------------------------------------------

const CSV_HEADER = ['user_id', 'display_name', 'state', 'acked_at', 'read_at'] as const
/** The CSV's words for the lists. */
const CSV_STATE: Record<AckListState, string> = {
  acked: 'acked',
  readNotAcked: 'read_not_acked',
  notRead: 'not_read',
  hidden: 'hidden',
}
/** In this order in the file. */
const EXPORT_LISTS: readonly AckListState[] = ['acked', 'readNotAcked', 'notRead', 'hidden']
/** A file of a 20,000-member group is 100 pages; more than this means a cursor that never ends. */
const EXPORT_PAGES_MAX = 1_000

/**
 * One CSV cell: a cell a spreadsheet would run as a formula (= + - @, or a leading tab or carriage
 * return) gets a leading apostrophe (OWASP "CSV injection"); then RFC 4180 quoting when it holds a
 * comma, a quote or a line break.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe
}

/** RFC 4180: CRLF after every record, the header first. */
export function toCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((r) => r.map(csvCell).join(',') + '\r\n').join('')
}

const iso = (ms: number | undefined): string => (ms === undefined ? '' : new Date(ms).toISOString())

/** A CSV row of one recipient. Hidden ones show no read time (they do not share it). */
function csvRow(state: AckListState, e: AckEntry): string[] {
  return [e.userId, e.displayName, CSV_STATE[state], iso(e.ackedAt), state === 'hidden' ? '' : iso(e.readAt)]
}

/**
 * The whole acknowledgement list of my message as CSV: every page of the three tabs and of the
 * recipients who hide their reads (state `hidden`, never `not_read`). Built here from the server's
 * pages, so it holds exactly what the panel shows.
 */
export async function exportMessageAcks(
  ctx: EngineContext,
  messageId: string,
): Promise<{ fileName: string; csv: string }> {
  const message = ownAskingAck(ctx, messageId)
  const rows: string[][] = [[...CSV_HEADER]]
  for (const state of EXPORT_LISTS) {
    let cursor: string | undefined
    for (let pages = 0; ; pages++) {
      if (pages >= EXPORT_PAGES_MAX) throw new CodedError(Code.INTERNAL, 'the list did not end')
      const page = await requireOk(ctx, 'fetchMessageAcks', {
        messageUId: message.messageUId,
        state,
        pageSize: ACK_LIMITS.ackPageMax,
        ...(cursor ? { cursor } : {}),
      })
      for (const e of page.entries) rows.push(csvRow(state, e))
      cursor = page.nextCursor
      if (!cursor) break
    }
  }
  const day = new Date(message.sentTime).toISOString().slice(0, 10)
  return { fileName: `acknowledgements-${day}-${message.messageUId}.csv`, csv: toCsv(rows) }
}
