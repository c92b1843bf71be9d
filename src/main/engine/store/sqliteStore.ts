/**
 * EngineStore on one SQLite file per profile (better-sqlite3, WAL). Each method is one call of a
 * domain file, which takes the database first; this class only opens the file and routes.
 */
import Database from 'better-sqlite3'
import { runMigrations } from '../../../node/migrate'
import type { Db } from '../../../node/sqlite'
import type {
  Conversation,
  GroupInfo,
  GroupReadAck,
  MessageContent,
  NotificationStatus,
  UserProfile,
} from '../../../shared/model'
import type { AccountSettings, ConversationState, WireMessage } from '../../../shared/protocol'
import type { ReceiptKind } from '../../../shared/receipts'
import { AckStore } from './acks'
import { AttachmentStore } from './attachments'
import type { AvatarDirectory } from '../../../shared/avatars'
import * as avatars from './avatars'
import * as conversations from './conversations'
import * as deleteEverywhere from './deleteForMe'
import * as directory from './directory'
import * as everyday from './everyday'
import * as mutedConversations from './mutedConversations'
import * as groupReceipts from './groupReceipts'
import * as historyWindow from './historyWindow'
import * as search from './search'
import type { SearchInput } from './search'
import * as messages from './messages'
import * as messageActions from './messageActions'
import { engineMigrations } from './migrations'
import * as outbox from './outbox'
import * as receipts from './receipts'
import { rowByLocalId, rowByUid, toRecord, viewByLocalId } from './rows'
import type { EngineStore, NewOutboxJob, OutboxKind, OutgoingMessage } from './types'

export class SqliteEngineStore implements EngineStore {
  /** The connection itself, for the store's own tests and tools; the engine uses the interface. */
  readonly db: Db

  /** `nativeBinding`: the better-sqlite3 addon built for Electron's ABI (the default one is Node's). */
  constructor(file: string, options: { nativeBinding?: string } = {}) {
    this.db = new Database(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {})
    this.db.pragma('journal_mode = WAL')
    this.db.pragma('synchronous = NORMAL')
    this.db.pragma('foreign_keys = ON')
    runMigrations(this.db, engineMigrations, 'app')
    this.attachments = new AttachmentStore(this.db)
    this.acks = new AckStore(this.db)
  }

  readonly attachments: AttachmentStore
  readonly acks: AckStore

  close(): void {
    this.db.close()
  }

  settings = () => directory.settings(this.db)
  setSettings = (s: AccountSettings) => directory.setSettings(this.db, s)
  lastEventSeq = () => directory.lastEventSeq(this.db)
  advanceEventSeq = (eventSeq: number) => directory.advanceEventSeq(this.db, eventSeq)
  upsertUsers = (users: readonly UserProfile[]) => directory.upsertUsers(this.db, users)
  displayName = (userId: string) => directory.displayName(this.db, userId)
  upsertGroup = (g: GroupInfo, now: number) => directory.upsertGroup(this.db, g, now)
  group = (groupId: string) => directory.group(this.db, groupId)
  avatarDirectory = () => avatars.avatarDirectory(this.db)
  updateAvatars = (kind: keyof AvatarDirectory, entries: Record<string, string | null>, replace?: boolean) =>
    avatars.updateAvatars(this.db, kind, entries, replace)

  ensureConversation = (c: Conversation, title: string, now: number) =>
    conversations.ensureConversation(this.db, c, title, now)
  conversation = (c: Conversation) => conversations.conversation(this.db, c)
  applyConversationState = (st: ConversationState, now: number) =>
    conversations.applyConversationState(this.db, st, now)
  setReceiptSharing = (c: Conversation, override: boolean | null, shared: boolean) =>
    conversations.setReceiptSharing(this.db, c, override, shared)
  conversationsBehind = () => conversations.conversationsBehind(this.db)
  summary = (c: Conversation) => conversations.summary(this.db, c)
  listConversations = () => conversations.listConversations(this.db)
  // Drafts and notifications (issue 13, H5)
  draft = (c: Conversation) => everyday.draft(this.db, c)
  saveDraft = (c: Conversation, text: string, now: number) => everyday.saveDraft(this.db, c, text, now)
  notificationStatus = (c: Conversation) => everyday.notificationStatus(this.db, c)
  setNotificationStatus = (c: Conversation, status: NotificationStatus) =>
    everyday.setNotificationStatus(this.db, c, status)
  // Mute per chat on all my devices (issue 13, H8)
  setNotificationStatusOnAllDevices = (c: Conversation, status: NotificationStatus, now: number) =>
    mutedConversations.setNotificationStatusOnAllDevices(this.db, c, status, now)
  applyServerNotificationStatus = (c: Conversation, status: NotificationStatus) =>
    mutedConversations.applyServerNotificationStatus(this.db, c, status)
  readConversation = (c: Conversation, seq: number, now: number, queueAck: boolean) =>
    conversations.readConversation(this.db, c, seq, now, queueAck)

  history = (c: Conversation, beforeSeq: number | undefined, count: number) =>
    messages.history(this.db, c, beforeSeq, count)
  // Search (issue 13, H2)
  searchMessages = (input: SearchInput) => search.searchMessages(this.db, input)
  indexForSearch = (limit: number) => search.indexForSearch(this.db, limit)
  historyAround = (c: Conversation, localId: number, count: number) =>
    historyWindow.historyAround(this.db, c, localId, count)
  historyAfter = (c: Conversation, afterSeq: number, count: number) =>
    historyWindow.historyAfter(this.db, c, afterSeq, count)
  messageByUid = (uid: string) => {
    const row = rowByUid(this.db, uid)
    return row && toRecord(row)
  }
  messageByLocalId = (localId: number) => {
    const row = rowByLocalId(this.db, localId)
    return row && toRecord(row)
  }
  view = (localId: number) => viewByLocalId(this.db, localId)
  insertOutgoing = (input: OutgoingMessage) => messages.insertOutgoing(this.db, input)
  storeServerMessages = (
    me: string,
    list: readonly WireMessage[],
    now: number,
    options?: { collectInserted?: boolean },
  ) => messages.storeServerMessages(this.db, me, list, now, options)
  markFailed = (localId: number, code: number, reason: string) =>
    messages.markFailed(this.db, localId, code, reason)
  skipPrunedMessages = (c: Conversation, seq: number) => messages.skipPrunedMessages(this.db, c, seq)
  // Reply, edit, recall, delete for me (issue 13, H1)
  applyEdit = (uid: string, content: MessageContent, editedAt: number, editCount: number) =>
    messageActions.edit(this.db, uid, content, editedAt, editCount)
  applyRecall = (uid: string, recalledAt: number) => messageActions.recall(this.db, uid, recalledAt)
  // H6: delete for me on all my devices.
  deleteForMe = (localId: number, now: number) =>
    deleteEverywhere.deleteForMeOnAllDevices(this.db, localId, now)
  applyDeletedForMe = (uids: readonly string[], now: number) =>
    deleteEverywhere.applyDeletedForMe(this.db, uids, now)
  // The same move as over pruned messages: synced_seq up to it, then over what follows it here.
  markSyncedThrough = (c: Conversation, seq: number) => messages.skipPrunedMessages(this.db, c, seq)
  dropDeletedElsewhere = (
    c: Conversation,
    afterSeq: number,
    throughSeq: number,
    returned: ReadonlySet<number>,
    now: number,
  ) => deleteEverywhere.dropDeletedElsewhere(this.db, c, afterSeq, throughSeq, returned, now)
  recallWindow = () => messageActions.recallWindow(this.db)
  setRecallWindow = (ms: number) => messageActions.setRecallWindow(this.db, ms)

  applyReceipts = (kind: ReceiptKind, uids: readonly string[], by: string, at: number) =>
    receipts.applyReceipts(this.db, kind, uids, by, at)
  applyPeerConversationRead = (c: Conversation, seq: number, at: number) =>
    receipts.applyPeerConversationRead(this.db, c, seq, at)
  readMessage = (uid: string, now: number, ack?: NewOutboxJob) => receipts.readMessage(this.db, uid, now, ack)
  respond = (uid: string, now: number, ack: NewOutboxJob) => receipts.respond(this.db, uid, now, ack)

  applyGroupReadAcks = (acks: readonly GroupReadAck[]) => groupReceipts.applyGroupReadAcks(this.db, acks)
  applyGroupReadCounts = (counts: readonly { messageUId: string; count: number }[]) =>
    groupReceipts.applyGroupReadCounts(this.db, counts)
  applyReceiptResponse = (uids: readonly string[], reader: string, at: number) =>
    groupReceipts.applyReceiptResponse(this.db, uids, reader, at)
  markReceiptRequested = (uid: string, at: number) => groupReceipts.markReceiptRequested(this.db, uid, at)
  respondToReceiptRequests = (
    groupId: string,
    channelId: string,
    messageList: Readonly<Record<string, readonly string[]>> | undefined,
    now: number,
  ) => groupReceipts.respondToReceiptRequests(this.db, groupId, channelId, messageList, now)

  outbox = (kind: OutboxKind, limit: number) => outbox.outbox(this.db, kind, limit)
  outboxSize = () => outbox.outboxSize(this.db)
  removeFromOutbox = (ids: readonly number[]) => outbox.removeFromOutbox(this.db, ids)
  countAttempts = (ids: readonly number[]) => outbox.countAttempts(this.db, ids)
}
