/**
 * The engine's store: what the engine may ask of a profile's local database, at the level of
 * intent ("mark this message read and queue its receipt"), one transaction per call. The SQLite
 * implementation is `SqliteEngineStore` (sqliteStore.ts), one domain file per table group beside it.
 *
 * Receipt state of a message changes only here, through the shared rules of src/shared/receipts
 * (earliest time wins, watermarks never go back, one reader per member). Every change bumps the
 * message's `revision`; calls that change messages return the changed ones as the renderer sees them
 * (`Message`), so the engine can emit them without reading anything back.
 */
import type {
  Conversation,
  ConversationSummary,
  GroupInfo,
  GroupReadAck,
  Message,
  MessageContent,
  MessageDirection,
  MentionedInfo,
  MessageStatus,
  NotificationStatus,
  UserProfile,
} from '../../../shared/model'
import type { AccountSettings, ConversationState, WireMessage } from '../../../shared/protocol'
import type { ReceiptKind } from '../../../shared/receipts'
import type { HistoryPage, MessageSearchPage } from '../../../shared/ipc'
import type { SearchInput } from './search'
import type { NewOutboxJob, OutboxKind } from '../outbox/payloads'
import type { DeletedForMe } from './messageActions'
import type { AttachmentStore } from './attachments'
import type { AvatarDirectory } from '../../../shared/avatars'
import type { AckStore } from './acks'

export type { NewOutboxJob, OutboxKind }

/** One stored message, as the engine reads it to decide what to do (camelCase, booleans). */
export interface MessageRecord {
  localId: number
  clientMsgId: string
  messageUId: string | null
  conversation: Conversation
  channelId: string
  seq: number | null
  senderId: string
  direction: MessageDirection
  status: MessageStatus
  /** Received side: not yet read by me. */
  isUnread: boolean
  needReadAck: boolean
  isNeedGroupAck: boolean
  isReceiptRequest: boolean
  hasRespond: boolean
  revision: number
}

/** One conversation's local marks. */
export interface ConversationRecord {
  conversation: Conversation
  title: string
  /** Highest server sequence known. */
  lastSeq: number
  /** Every visible message with seq <= syncedSeq is stored here. */
  syncedSeq: number
  joinedSeq: number
  leftSeq: number | null
  /** My read watermark (shared by my devices). */
  readSeq: number
  unreadCount: number
}

export interface BehindConversation {
  conversation: Conversation
  afterSeq: number
  upTo: number
}

/** What storing a batch of server messages did. */
export interface StoredBatch {
  /** Messages new to this store (received ones and my own from other devices); see `collectInserted`. */
  inserted: Message[]
  /** Messages of mine that changed: confirmed by the server's copy, or a receipt that arrived early. */
  changed: Message[]
  conversations: Conversation[]
}

export interface OutgoingMessage {
  me: string
  clientMsgId: string
  conversation: Conversation
  channelId: string
  content: MessageContent
  isNeedGroupAck: boolean
  now: number
  /** The conversation's title if it is created by this message. */
  title: string
  /** The messageUId of the message this one quotes (H1). */
  replyTo?: string
  /** Issue 15: each recipient is asked to acknowledge it. */
  needAck?: boolean
  /** Issue 15, groups: the members it mentions. */
  mentionedInfo?: MentionedInfo
}

/** A job as stored: its payload still JSON, parsed by the job kind's schema (outbox/jobs.ts). */
export interface OutboxRow {
  id: number
  kind: OutboxKind
  ref: string
  payload: string
  createdAt: number
  /** Passes that a live server refused for now; the job's policy gives up past its limit. */
  attempts: number
}

export interface ReadResult {
  /** Messages whose state changed (my read flag, hasRespond). */
  changed: Message[]
  /** The conversation's read mark or unread count moved. */
  conversationChanged: boolean
}

export interface EngineStore {
  close(): void
  /** Files and images (issue 13, H3): uploads in progress and downloaded files (store/attachments.ts). */
  readonly attachments: AttachmentStore
  /** Acknowledgements and mentions (issue 15, store/acks.ts): my acks, counts, "Waiting for me". */
  readonly acks: AckStore

  // ---- account -----------------------------------------------------------------------------
  settings(): AccountSettings | undefined
  setSettings(settings: AccountSettings): void
  /** The highest receipt event applied (events are replayed from it after a gap). */
  lastEventSeq(): number
  /** Moves lastEventSeq forward, never back. */
  advanceEventSeq(eventSeq: number): void

  // ---- people and groups -------------------------------------------------------------------
  upsertUsers(users: readonly UserProfile[]): void
  displayName(userId: string): string | undefined
  /** Stores the group and makes sure its conversation exists, titled with its name. */
  upsertGroup(group: GroupInfo, now: number): void
  group(groupId: string): GroupInfo | undefined
  /** H7: who has which picture (store/avatars.ts). */
  avatarDirectory(): AvatarDirectory
  /** H7: pictures heard of (null: none); `replace`: the kind's whole list. True when anything changed. */
  updateAvatars(
    kind: keyof AvatarDirectory,
    entries: Record<string, string | null>,
    replace?: boolean,
  ): boolean

  // ---- conversations -----------------------------------------------------------------------
  ensureConversation(c: Conversation, title: string, now: number): void
  conversation(c: Conversation): ConversationRecord | undefined
  /**
   * Max-merges the server's view of a conversation (marks never go back). Returns the received
   * messages its read mark turned read (as readConversation).
   */
  applyConversationState(state: ConversationState, now: number): Message[]
  /**
   * Whether read receipts are shared in the conversation: my override (null: the account's) and
   * whether they flow at all (single chat: both ways). True when it changed.
   */
  setReceiptSharing(c: Conversation, override: boolean | null, shared: boolean): boolean
  /** Conversations with messages still to pull from the server. */
  conversationsBehind(): BehindConversation[]
  summary(c: Conversation): ConversationSummary | undefined
  listConversations(): ConversationSummary[]
  // Drafts and notifications (issue 13, H5), this device only: undefined for an unknown
  // conversation; the setters return true when something changed.
  draft(c: Conversation): string | undefined
  saveDraft(c: Conversation, text: string, now: number): boolean
  notificationStatus(c: Conversation): NotificationStatus | undefined
  setNotificationStatus(c: Conversation, status: NotificationStatus): boolean
  // Mute per chat on all my devices (issue 13, H8; store/mutedConversations.ts)
  /** Sets it here and queues it for the server in one transaction. */
  setNotificationStatusOnAllDevices(c: Conversation, status: NotificationStatus, now: number): boolean
  /** The server's mark; skipped while a change of this device waits in the outbox. */
  applyServerNotificationStatus(c: Conversation, status: NotificationStatus): boolean

  // ---- messages ----------------------------------------------------------------------------
  history(
    c: Conversation,
    beforeSeq: number | undefined,
    count: number,
  ): { list: Message[]; hasMore: boolean }
  // Search (issue 13, H2): store/search.ts and store/historyWindow.ts
  searchMessages(input: SearchInput): MessageSearchPage
  /** Indexes up to `limit` messages not yet in the full-text index; returns how many it looked at. */
  indexForSearch(limit: number): number
  /** The page around one message of `c`; undefined when it is not a message of `c` here. */
  historyAround(c: Conversation, localId: number, count: number): HistoryPage | undefined
  historyAfter(c: Conversation, afterSeq: number, count: number): HistoryPage
  messageByUid(messageUId: string): MessageRecord | undefined
  messageByLocalId(localId: number): MessageRecord | undefined
  /** The message as the renderer sees it (with the reader list on my group messages that asked). */
  view(localId: number): Message | undefined
  /** Writes a message of mine and its send job in one transaction. */
  insertOutgoing(input: OutgoingMessage): Message
  /**
   * Stores server messages (pushes, pulls, the reply to my own send) in one transaction: inserts
   * new ones, confirms my own unsent ones, counts unread, queues the delivery receipts their senders
   * asked for, applies receipts that arrived before their message, advances the synced mark.
   * `collectInserted: false` (a sync pull) leaves `inserted` empty.
   */
  storeServerMessages(
    me: string,
    messages: readonly WireMessage[],
    now: number,
    options?: { collectInserted?: boolean },
  ): StoredBatch
  markFailed(localId: number, code: number, reason: string): Message | undefined
  /**
   * The server no longer keeps the conversation's messages up to `seq` (its retention): they count
   * as synced, so pulls go on after them.
   */
  skipPrunedMessages(c: Conversation, seq: number): void

  // ---- reply, edit, recall, delete for me (issue 13, H1: messageActions.ts) ------------------
  /** A newer edit (higher editCount) replaces the text in place; returns it and the replies quoting it. */
  applyEdit(messageUId: string, content: MessageContent, editedAt: number, editCount: number): Message[]
  /** Deletes the content of a recalled message (the row and its receipts stay); as applyEdit. */
  applyRecall(messageUId: string, recalledAt: number): Message[]
  /**
   * Deletes it from this device's history for good (not while sending); undefined if there is none.
   * H6: one the server has gets a `deleteForMe` job too, so my other devices delete it as well.
   */
  deleteForMe(localId: number, now: number): DeletedForMe | undefined
  /** H6: my other device deleted these for me: deleted here too (tombstones for those not here). */
  applyDeletedForMe(messageUIds: readonly string[], now: number): DeletedForMe[]
  /** H6: a pull's throughSeq: every message up to it is here or was deleted for me (no gap). */
  markSyncedThrough(c: Conversation, seq: number): void
  /**
   * H6, a full resync's page: messages here with a seq in (afterSeq, throughSeq] the server no
   * longer returns (`returned`: the page's seqs) were deleted for me elsewhere: deleted here too.
   */
  dropDeletedElsewhere(
    c: Conversation,
    afterSeq: number,
    throughSeq: number,
    returned: ReadonlySet<number>,
    now: number,
  ): DeletedForMe[]
  /** The server's recall window (syncState), kept for the menu; null until a server said. */
  recallWindow(): number | null
  setRecallWindow(ms: number): void

  // ---- receipts on my messages -------------------------------------------------------------
  /** Delivered/read receipts; ones for messages not stored yet are kept until they arrive. */
  applyReceipts(kind: ReceiptKind, messageUIds: readonly string[], by: string, at: number): Message[]
  /** The peer read everything up to `seq` of a single chat: my messages that asked are read. */
  applyPeerConversationRead(c: Conversation, seq: number, at: number): Message[]
  /** Easemob groupMessageRead: readers, and the server's count for each message. */
  applyGroupReadAcks(acks: readonly GroupReadAck[]): Message[]
  /**
   * The read counts of others' group messages (countVisibility 'all', groupReadCount): raised,
   * never lowered; counts of messages not stored yet are dropped (their pulled copy carries them).
   */
  applyGroupReadCounts(counts: readonly { messageUId: string; count: number }[]): Message[]
  /** RongCloud MESSAGE_RECEIPT_RESPONSE: `reader` answered these requests of mine. */
  applyReceiptResponse(messageUIds: readonly string[], reader: string, at: number): Message[]
  /** RongCloud: a read receipt request was made for this message (either side). */
  markReceiptRequested(messageUId: string, at: number): Message | undefined

  // ---- my reading --------------------------------------------------------------------------
  /**
   * Marks one received message read, queues `ack` if it changed, and moves my read mark (queueing
   * the conversation read receipt for my other devices) once every message up to it is read.
   */
  readMessage(messageUId: string, now: number, ack?: NewOutboxJob): ReadResult
  /** Marks the message answered (Easemob group ack) and queues `ack`; false if it already was. */
  respond(messageUId: string, now: number, ack: NewOutboxJob): boolean
  /**
   * Moves my read mark to `seq` (never back) and recounts unread; with `queueAck`, also queues the
   * conversation read receipt. Returns the received messages whose read flag changed, newest first,
   * at most `READ_CHANGES_REPORTED` of them.
   */
  readConversation(c: Conversation, seq: number, now: number, queueAck: boolean): ReadResult
  /**
   * R6 and R3: answers receipt requests of a group (those in `messageList`, or every unanswered one
   * of the conversation and channel, by an indexed query), marks them answered and read, and queues
   * one response. Returns what was sent and the changed messages.
   */
  respondToReceiptRequests(
    groupId: string,
    channelId: string,
    messageList: Readonly<Record<string, readonly string[]>> | undefined,
    now: number,
  ): { sent: Record<string, string[]>; changed: Message[] }

  // ---- outbox ------------------------------------------------------------------------------
  outbox(kind: OutboxKind, limit: number): OutboxRow[]
  outboxSize(): number
  removeFromOutbox(ids: readonly number[]): void
  /** Counts one more refused attempt for each job. */
  countAttempts(ids: readonly number[]): void
}

/** readConversation reports at most this many changed messages (the newest): see its comment. */
export const READ_CHANGES_REPORTED = 500
