import * as accounts from './accounts'
import * as conversations from './conversations'
import { openDatabase, transact, type Db } from './db'
import * as events from './events'
import * as groupReceipts from './groupReceipts'
import * as messages from './messages'
import { migrate } from './migrations'
import type { Storage } from './types'

/** The embedded storage: one better-sqlite3 database, migrated on open. */
export class SqliteStorage implements Storage {
  readonly db: Db

  /** `file` is a path or `:memory:`. Throws SchemaTooNewError for a database written by a newer server. */
  constructor(file: string) {
    this.db = openDatabase(file)
    try {
      migrate(this.db)
    } catch (error) {
      this.db.close()
      throw error
    }
  }

  transaction<T>(fn: () => T): T {
    return transact(this.db, fn)
  }

  close(): void {
    if (this.db.open) this.db.close()
  }

  insertUser: Storage['insertUser'] = (user) => accounts.insertUser(this.db, user)
  getUser: Storage['getUser'] = (id) => accounts.getUser(this.db, id)
  getUsers: Storage['getUsers'] = (ids) => accounts.getUsers(this.db, ids)
  updateSettings: Storage['updateSettings'] = (userId, patch) =>
    accounts.updateSettings(this.db, userId, patch)

  insertSession: Storage['insertSession'] = (hash, session) => accounts.insertSession(this.db, hash, session)
  getSession: Storage['getSession'] = (hash) => accounts.getSession(this.db, hash)
  revokeSession: Storage['revokeSession'] = (hash) => accounts.revokeSession(this.db, hash)

  getConversationByKey: Storage['getConversationByKey'] = (key) =>
    conversations.getConversationByKey(this.db, key)
  insertConversation: Storage['insertConversation'] = (conv) =>
    conversations.insertConversation(this.db, conv)
  getMember: Storage['getMember'] = (convId, userId) => conversations.getMember(this.db, convId, userId)
  listCurrentMemberIds: Storage['listCurrentMemberIds'] = (convId) =>
    conversations.listCurrentMemberIds(this.db, convId)
  countCurrentMembers: Storage['countCurrentMembers'] = (convId) =>
    conversations.countCurrentMembers(this.db, convId)
  upsertMember: Storage['upsertMember'] = (member) => conversations.upsertMember(this.db, member)
  setMemberRole: Storage['setMemberRole'] = (convId, userId, role) =>
    conversations.setMemberRole(this.db, convId, userId, role)
  markMemberLeft: Storage['markMemberLeft'] = (convId, userId, leftSeq) =>
    conversations.markMemberLeft(this.db, convId, userId, leftSeq)
  setMemberWatermarks: Storage['setMemberWatermarks'] = (convId, userId, readSeq, deliveredSeq) =>
    conversations.setMemberWatermarks(this.db, convId, userId, readSeq, deliveredSeq)
  listConversationsOfUser: Storage['listConversationsOfUser'] = (userId) =>
    conversations.listConversationsOfUser(this.db, userId)

  insertGroup: Storage['insertGroup'] = (group) => conversations.insertGroup(this.db, group)
  getGroup: Storage['getGroup'] = (id) => conversations.getGroup(this.db, id)
  listGroupMembers: Storage['listGroupMembers'] = (convId) => conversations.listGroupMembers(this.db, convId)
  listGroupsOfUser: Storage['listGroupsOfUser'] = (userId) => conversations.listGroupsOfUser(this.db, userId)

  findMessageByClientId: Storage['findMessageByClientId'] = (senderId, clientMsgId) =>
    messages.findMessageByClientId(this.db, senderId, clientMsgId)
  insertMessage: Storage['insertMessage'] = (message) => messages.insertMessage(this.db, message)
  getMessageByUId: Storage['getMessageByUId'] = (uid) => messages.getMessageByUId(this.db, uid)
  messageUIdExists: Storage['messageUIdExists'] = (uid) => messages.messageUIdExists(this.db, uid)
  listMessages: Storage['listMessages'] = (convId, afterSeq, maxSeq, limit) =>
    messages.listMessages(this.db, convId, afterSeq, maxSeq, limit)
  countUnread: Storage['countUnread'] = (convId, userId, afterSeq, maxSeq) =>
    messages.countUnread(this.db, convId, userId, afterSeq, maxSeq)
  markDelivered: Storage['markDelivered'] = (messageId, at) => messages.markDelivered(this.db, messageId, at)
  markRead: Storage['markRead'] = (messageId, at) => messages.markRead(this.db, messageId, at)

  getGroupReceiptOverrides: Storage['getGroupReceiptOverrides'] = (groupId) =>
    groupReceipts.getGroupReceiptOverrides(this.db, groupId)
  setGroupReceiptOverrides: Storage['setGroupReceiptOverrides'] = (groupId, patch) =>
    groupReceipts.setGroupReceiptOverrides(this.db, groupId, patch)
  getReceiptRequestedAt: Storage['getReceiptRequestedAt'] = (messageId) =>
    groupReceipts.getReceiptRequestedAt(this.db, messageId)
  insertReceiptRequest: Storage['insertReceiptRequest'] = (messageId, at) =>
    groupReceipts.insertReceiptRequest(this.db, messageId, at)
  getGroupReadAck: Storage['getGroupReadAck'] = (messageId, userId) =>
    groupReceipts.getGroupReadAck(this.db, messageId, userId)
  insertGroupReadAck: Storage['insertGroupReadAck'] = (ack) => groupReceipts.insertGroupReadAck(this.db, ack)
  listGroupReadAcks: Storage['listGroupReadAcks'] = (messageId, afterAckId, limit) =>
    groupReceipts.listGroupReadAcks(this.db, messageId, afterAckId, limit)
  listGroupUnreadMembers: Storage['listGroupUnreadMembers'] = (query, afterUserId, limit) =>
    groupReceipts.listGroupUnreadMembers(this.db, query, afterUserId, limit)
  listCurrentEligibleReaders: Storage['listCurrentEligibleReaders'] = (query) =>
    groupReceipts.listCurrentEligibleReaders(this.db, query)

  appendUserEvent: Storage['appendUserEvent'] = (userId, event, data, at) =>
    events.appendUserEvent(this.db, userId, event, data, at)
  listUserEvents: Storage['listUserEvents'] = (userId, afterEventSeq, limit) =>
    events.listUserEvents(this.db, userId, afterEventSeq, limit)
}
