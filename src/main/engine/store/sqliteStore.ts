/**
 * EngineStore on one SQLite file per profile (better-sqlite3, WAL). Each method is one call of a
 * domain file, which takes the database first; this class only opens the file and routes.
 */
import Database from 'better-sqlite3'
import { runMigrations } from '../../../node/migrate'
import type { Db } from '../../../node/sqlite'
import type { Conversation, GroupInfo, GroupReadAck, UserProfile } from '../../../shared/model'
import type { AccountSettings, ConversationState, WireMessage } from '../../../shared/protocol'
import type { ReceiptKind } from '../../../shared/receipts'
import * as conversations from './conversations'
import * as directory from './directory'
import * as groupReceipts from './groupReceipts'
import * as messages from './messages'
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
  }

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
  readConversation = (c: Conversation, seq: number, now: number, queueAck: boolean) =>
    conversations.readConversation(this.db, c, seq, now, queueAck)

  history = (c: Conversation, beforeSeq: number | undefined, count: number) =>
    messages.history(this.db, c, beforeSeq, count)
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
