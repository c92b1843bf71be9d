import type Database from 'better-sqlite3'
import * as accounts from './accounts'
import * as acks from './acks'
import * as avatars from './avatars'
import * as mutedConversations from './mutedConversations'
import * as conversations from './conversations'
import * as deleteForMe from './deleteForMe'
import { openDatabase, type Db } from './db'
import * as events from './events'
import * as files from './files'
import * as groupInvites from './groupInvites'
import * as groupReceipts from './groupReceipts'
import * as invites from './invites'
import * as lookups from './lookups'
import * as presence from './presence'
import * as messageActions from './messageActions'
import * as messages from './messages'
import * as retention from './retention'
import * as userSearch from './userSearch'
import { migrate } from './migrations'
import type { Storage, StorageOps, Unit, UnitResult } from './types'

/**
 * Every operation on one better-sqlite3 database. The calls are synchronous underneath; `async`
 * turns a throw into a rejection, as a networked backend would report it.
 */
class SqliteOps implements StorageOps {
  constructor(readonly db: Db) {}

  async insertUser(...a: Parameters<StorageOps['insertUser']>) {
    return accounts.insertUser(this.db, ...a)
  }
  async getUser(...a: Parameters<StorageOps['getUser']>) {
    return accounts.getUser(this.db, ...a)
  }
  async getUsers(...a: Parameters<StorageOps['getUsers']>) {
    return accounts.getUsers(this.db, ...a)
  }
  async updateSettings(...a: Parameters<StorageOps['updateSettings']>) {
    return accounts.updateSettings(this.db, ...a)
  }
  async insertSession(...a: Parameters<StorageOps['insertSession']>) {
    return accounts.insertSession(this.db, ...a)
  }
  async getSession(...a: Parameters<StorageOps['getSession']>) {
    return accounts.getSession(this.db, ...a)
  }
  async revokeSession(...a: Parameters<StorageOps['revokeSession']>) {
    return accounts.revokeSession(this.db, ...a)
  }
  async insertInvite(...a: Parameters<StorageOps['insertInvite']>) {
    return invites.insertInvite(this.db, ...a)
  }
  async useInvite(...a: Parameters<StorageOps['useInvite']>) {
    return invites.useInvite(this.db, ...a)
  }

  async getConversationByKey(...a: Parameters<StorageOps['getConversationByKey']>) {
    return conversations.getConversationByKey(this.db, ...a)
  }
  async insertConversation(...a: Parameters<StorageOps['insertConversation']>) {
    return conversations.insertConversation(this.db, ...a)
  }
  async getMember(...a: Parameters<StorageOps['getMember']>) {
    return conversations.getMember(this.db, ...a)
  }
  async listCurrentMemberIds(...a: Parameters<StorageOps['listCurrentMemberIds']>) {
    return conversations.listCurrentMemberIds(this.db, ...a)
  }
  async countCurrentMembers(...a: Parameters<StorageOps['countCurrentMembers']>) {
    return conversations.countCurrentMembers(this.db, ...a)
  }
  async upsertMember(...a: Parameters<StorageOps['upsertMember']>) {
    return conversations.upsertMember(this.db, ...a)
  }
  async setMemberRole(...a: Parameters<StorageOps['setMemberRole']>) {
    return conversations.setMemberRole(this.db, ...a)
  }
  async markMemberLeft(...a: Parameters<StorageOps['markMemberLeft']>) {
    return conversations.markMemberLeft(this.db, ...a)
  }
  async setMemberWatermarks(...a: Parameters<StorageOps['setMemberWatermarks']>) {
    return conversations.setMemberWatermarks(this.db, ...a)
  }
  async setMemberReceiptSharing(...a: Parameters<StorageOps['setMemberReceiptSharing']>) {
    return conversations.setMemberReceiptSharing(this.db, ...a)
  }
  async countMembersHidingReceipts(...a: Parameters<StorageOps['countMembersHidingReceipts']>) {
    return conversations.countMembersHidingReceipts(this.db, ...a)
  }
  async readReceiptsExchanged(...a: Parameters<StorageOps['readReceiptsExchanged']>) {
    return conversations.readReceiptsExchanged(this.db, ...a)
  }
  async listConversationsOfUser(...a: Parameters<StorageOps['listConversationsOfUser']>) {
    return conversations.listConversationsOfUser(this.db, ...a)
  }

  async insertGroup(...a: Parameters<StorageOps['insertGroup']>) {
    return conversations.insertGroup(this.db, ...a)
  }
  async getGroup(...a: Parameters<StorageOps['getGroup']>) {
    return conversations.getGroup(this.db, ...a)
  }
  async transferGroupOwnership(...a: Parameters<StorageOps['transferGroupOwnership']>) {
    return conversations.transferGroupOwnership(this.db, ...a)
  }
  async listGroupMembers(...a: Parameters<StorageOps['listGroupMembers']>) {
    return conversations.listGroupMembers(this.db, ...a)
  }
  async listGroupsOfUser(...a: Parameters<StorageOps['listGroupsOfUser']>) {
    return conversations.listGroupsOfUser(this.db, ...a)
  }

  async findMessageByClientId(...a: Parameters<StorageOps['findMessageByClientId']>) {
    return messages.findMessageByClientId(this.db, ...a)
  }
  async insertMessage(...a: Parameters<StorageOps['insertMessage']>) {
    return messages.insertMessage(this.db, ...a)
  }
  async getMessageByUId(...a: Parameters<StorageOps['getMessageByUId']>) {
    return messages.getMessageByUId(this.db, ...a)
  }
  async listMessages(...a: Parameters<StorageOps['listMessages']>) {
    return messages.listMessages(this.db, ...a)
  }
  async countUnread(...a: Parameters<StorageOps['countUnread']>) {
    return messages.countUnread(this.db, ...a)
  }
  async markReceived(...a: Parameters<StorageOps['markReceived']>) {
    return messages.markReceived(this.db, ...a)
  }

  async getGroupReceiptOverrides(...a: Parameters<StorageOps['getGroupReceiptOverrides']>) {
    return groupReceipts.getGroupReceiptOverrides(this.db, ...a)
  }
  async setGroupReceiptOverrides(...a: Parameters<StorageOps['setGroupReceiptOverrides']>) {
    return groupReceipts.setGroupReceiptOverrides(this.db, ...a)
  }
  async getReceiptRequestedAt(...a: Parameters<StorageOps['getReceiptRequestedAt']>) {
    return groupReceipts.getReceiptRequestedAt(this.db, ...a)
  }
  async insertReceiptRequest(...a: Parameters<StorageOps['insertReceiptRequest']>) {
    return groupReceipts.insertReceiptRequest(this.db, ...a)
  }
  async getGroupReadAck(...a: Parameters<StorageOps['getGroupReadAck']>) {
    return groupReceipts.getGroupReadAck(this.db, ...a)
  }
  async insertGroupReadAck(...a: Parameters<StorageOps['insertGroupReadAck']>) {
    return groupReceipts.insertGroupReadAck(this.db, ...a)
  }
  async listGroupReadAcks(...a: Parameters<StorageOps['listGroupReadAcks']>) {
    return groupReceipts.listGroupReadAcks(this.db, ...a)
  }
  async findGroupReadAckCursor(...a: Parameters<StorageOps['findGroupReadAckCursor']>) {
    return groupReceipts.findGroupReadAckCursor(this.db, ...a)
  }
  async listGroupUnreadMembers(...a: Parameters<StorageOps['listGroupUnreadMembers']>) {
    return groupReceipts.listGroupUnreadMembers(this.db, ...a)
  }
  async countHiddenReaders(...a: Parameters<StorageOps['countHiddenReaders']>) {
    return groupReceipts.countHiddenReaders(this.db, ...a)
  }
  async listCurrentEligibleReaders(...a: Parameters<StorageOps['listCurrentEligibleReaders']>) {
    return groupReceipts.listCurrentEligibleReaders(this.db, ...a)
  }

  async appendUserEvent(...a: Parameters<StorageOps['appendUserEvent']>) {
    return events.appendUserEvent(this.db, ...a)
  }
  // message actions (issue 13, H1)
  async setReplyTo(...a: Parameters<StorageOps['setReplyTo']>) {
    return messageActions.setReplyTo(this.db, ...a)
  }
  async editMessage(...a: Parameters<StorageOps['editMessage']>) {
    return messageActions.editMessage(this.db, ...a)
  }
  async recallMessage(...a: Parameters<StorageOps['recallMessage']>) {
    return messageActions.recallMessage(this.db, ...a)
  }
  async listMessageVersions(...a: Parameters<StorageOps['listMessageVersions']>) {
    return messageActions.listMessageVersions(this.db, ...a)
  }
  async listMessageViewers(...a: Parameters<StorageOps['listMessageViewers']>) {
    return messageActions.listMessageViewers(this.db, ...a)
  }
  // H6: delete for me on all my devices.
  async deleteMessagesForMe(...a: Parameters<StorageOps['deleteMessagesForMe']>) {
    return deleteForMe.deleteMessagesForMe(this.db, ...a)
  }
  async insertGroupInvite(...a: Parameters<StorageOps['insertGroupInvite']>) {
    return groupInvites.insertGroupInvite(this.db, ...a)
  }
  async getGroupInvite(...a: Parameters<StorageOps['getGroupInvite']>) {
    return groupInvites.getGroupInvite(this.db, ...a)
  }
  async deleteGroupInvite(...a: Parameters<StorageOps['deleteGroupInvite']>) {
    return groupInvites.deleteGroupInvite(this.db, ...a)
  }
  async listGroupInvitesOfUser(...a: Parameters<StorageOps['listGroupInvitesOfUser']>) {
    return groupInvites.listGroupInvitesOfUser(this.db, ...a)
  }
  async listUserEvents(...a: Parameters<StorageOps['listUserEvents']>) {
    return events.listUserEvents(this.db, ...a)
  }

  async eventsPrunedSeq(...a: Parameters<StorageOps['eventsPrunedSeq']>) {
    return retention.eventsPrunedSeq(this.db, ...a)
  }
  async messagesPrunedSeq(...a: Parameters<StorageOps['messagesPrunedSeq']>) {
    return retention.messagesPrunedSeq(this.db, ...a)
  }
  async deleteDeadSessions(...a: Parameters<StorageOps['deleteDeadSessions']>) {
    return retention.deleteDeadSessions(this.db, ...a)
  }
  async pruneUserEvents(...a: Parameters<StorageOps['pruneUserEvents']>) {
    return retention.pruneUserEvents(this.db, ...a)
  }
  async pruneMessages(...a: Parameters<StorageOps['pruneMessages']>) {
    return retention.pruneMessages(this.db, ...a)
  }
  async chargeUsage(...a: Parameters<StorageOps['chargeUsage']>) {
    return retention.chargeUsage(this.db, ...a)
  }
  async deleteUsageBefore(...a: Parameters<StorageOps['deleteUsageBefore']>) {
    return retention.deleteUsageBefore(this.db, ...a)
  }
  async knownUsers(...a: Parameters<StorageOps['knownUsers']>) {
    return lookups.knownUsers(this.db, ...a)
  }
  async searchUsers(...a: Parameters<StorageOps['searchUsers']>) {
    return userSearch.searchUsers(this.db, ...a)
  }

  // profile, privacy, presence (H4)
  async getPrivacy(...a: Parameters<StorageOps['getPrivacy']>) {
    return presence.getPrivacy(this.db, ...a)
  }
  async updatePrivacy(...a: Parameters<StorageOps['updatePrivacy']>) {
    return presence.updatePrivacy(this.db, ...a)
  }
  async updateDisplayName(...a: Parameters<StorageOps['updateDisplayName']>) {
    return presence.updateDisplayName(this.db, ...a)
  }
  async renameGroup(...a: Parameters<StorageOps['renameGroup']>) {
    return presence.renameGroup(this.db, ...a)
  }
  async updatePasswordHash(...a: Parameters<StorageOps['updatePasswordHash']>) {
    return presence.updatePasswordHash(this.db, ...a)
  }
  async revokeOtherSessions(...a: Parameters<StorageOps['revokeOtherSessions']>) {
    return presence.revokeOtherSessions(this.db, ...a)
  }
  async relatedUsers(...a: Parameters<StorageOps['relatedUsers']>) {
    return presence.relatedUsers(this.db, ...a)
  }
  async addPresenceSocket(...a: Parameters<StorageOps['addPresenceSocket']>) {
    return presence.addPresenceSocket(this.db, ...a)
  }
  async removePresenceSocket(...a: Parameters<StorageOps['removePresenceSocket']>) {
    return presence.removePresenceSocket(this.db, ...a)
  }
  async refreshPresence(...a: Parameters<StorageOps['refreshPresence']>) {
    return presence.refreshPresence(this.db, ...a)
  }
  async sweepPresence(...a: Parameters<StorageOps['sweepPresence']>) {
    return presence.sweepPresence(this.db, ...a)
  }
  async getPresence(...a: Parameters<StorageOps['getPresence']>) {
    return presence.getPresence(this.db, ...a)
  }

  // files and images (H3)
  async insertFile(...a: Parameters<StorageOps['insertFile']>) {
    return files.insertFile(this.db, ...a)
  }
  async getFile(...a: Parameters<StorageOps['getFile']>) {
    return files.getFile(this.db, ...a)
  }
  async completeFile(...a: Parameters<StorageOps['completeFile']>) {
    return files.completeFile(this.db, ...a)
  }
  async deleteUnattachedFile(...a: Parameters<StorageOps['deleteUnattachedFile']>) {
    return files.deleteUnattachedFile(this.db, ...a)
  }
  async attachFile(...a: Parameters<StorageOps['attachFile']>) {
    return files.attachFile(this.db, ...a)
  }
  async listFileMessages(...a: Parameters<StorageOps['listFileMessages']>) {
    return files.listFileMessages(this.db, ...a)
  }
  async listStaleUploads(...a: Parameters<StorageOps['listStaleUploads']>) {
    return files.listStaleUploads(this.db, ...a)
  }
  async listFilesOfPrunedMessages(...a: Parameters<StorageOps['listFilesOfPrunedMessages']>) {
    return files.listFilesOfPrunedMessages(this.db, ...a)
  }
  async deleteFile(...a: Parameters<StorageOps['deleteFile']>) {
    return files.deleteFile(this.db, ...a)
  }

  // profile and group pictures (H7)
  async setAvatar(...a: Parameters<StorageOps['setAvatar']>) {
    return avatars.setAvatar(this.db, ...a)
  }
  async getAvatars(...a: Parameters<StorageOps['getAvatars']>) {
    return avatars.getAvatars(this.db, ...a)
  }
  async avatarOwners(...a: Parameters<StorageOps['avatarOwners']>) {
    return avatars.avatarOwners(this.db, ...a)
  }

  // mute per chat on all my devices (H8)
  async setConversationMuted(...a: Parameters<StorageOps['setConversationMuted']>) {
    return mutedConversations.setConversationMuted(this.db, ...a)
  }
  async listMutedConversations(...a: Parameters<StorageOps['listMutedConversations']>) {
    return mutedConversations.listMutedConversations(this.db, ...a)
  }

  // acknowledgements, reminders, mentions (issue 15)
  async setMessageAckInfo(...a: Parameters<StorageOps['setMessageAckInfo']>) {
    return acks.setMessageAckInfo(this.db, ...a)
  }
  async getAcksOf(...a: Parameters<StorageOps['getAcksOf']>) {
    return acks.getAcksOf(this.db, ...a)
  }
  async insertMessageAck(...a: Parameters<StorageOps['insertMessageAck']>) {
    return acks.insertMessageAck(this.db, ...a)
  }
  async deleteMessageAck(...a: Parameters<StorageOps['deleteMessageAck']>) {
    return acks.deleteMessageAck(this.db, ...a)
  }
  async insertMessageRead(...a: Parameters<StorageOps['insertMessageRead']>) {
    return acks.insertMessageRead(this.db, ...a)
  }
  async listTrackedMessages(...a: Parameters<StorageOps['listTrackedMessages']>) {
    return acks.listTrackedMessages(this.db, ...a)
  }
  async markMentionsRead(...a: Parameters<StorageOps['markMentionsRead']>) {
    return acks.markMentionsRead(this.db, ...a)
  }
  async listMentions(...a: Parameters<StorageOps['listMentions']>) {
    return acks.listMentions(this.db, ...a)
  }
  async getAckCounts(...a: Parameters<StorageOps['getAckCounts']>) {
    return acks.getAckCounts(this.db, ...a)
  }
  async listAckedPage(...a: Parameters<StorageOps['listAckedPage']>) {
    return acks.listAckedPage(this.db, ...a)
  }
  async listReadNotAckedPage(...a: Parameters<StorageOps['listReadNotAckedPage']>) {
    return acks.listReadNotAckedPage(this.db, ...a)
  }
  async listNotReadPage(...a: Parameters<StorageOps['listNotReadPage']>) {
    return acks.listNotReadPage(this.db, ...a)
  }
  async countAckHidden(...a: Parameters<StorageOps['countAckHidden']>) {
    return acks.countAckHidden(this.db, ...a)
  }
  async remindPending(...a: Parameters<StorageOps['remindPending']>) {
    return acks.remindPending(this.db, ...a)
  }
  async getReminderRun(...a: Parameters<StorageOps['getReminderRun']>) {
    return acks.getReminderRun(this.db, ...a)
  }
  async setReminderRunAt(...a: Parameters<StorageOps['setReminderRunAt']>) {
    return acks.setReminderRunAt(this.db, ...a)
  }
  async setReminderSchedule(...a: Parameters<StorageOps['setReminderSchedule']>) {
    return acks.setReminderSchedule(this.db, ...a)
  }
  async claimDueReminders(...a: Parameters<StorageOps['claimDueReminders']>) {
    return acks.claimDueReminders(this.db, ...a)
  }
  async endReminderSchedule(...a: Parameters<StorageOps['endReminderSchedule']>) {
    return acks.endReminderSchedule(this.db, ...a)
  }
  async listPendingAcks(...a: Parameters<StorageOps['listPendingAcks']>) {
    return acks.listPendingAcks(this.db, ...a)
  }
  async countPendingAcks(...a: Parameters<StorageOps['countPendingAcks']>) {
    return acks.countPendingAcks(this.db, ...a)
  }
  async listAckHiddenPage(...a: Parameters<StorageOps['listAckHiddenPage']>) {
    return acks.listAckHiddenPage(this.db, ...a)
  }
  async deleteMessageRead(...a: Parameters<StorageOps['deleteMessageRead']>) {
    return acks.deleteMessageRead(this.db, ...a)
  }
  async getMessageUIdById(...a: Parameters<StorageOps['getMessageUIdById']>) {
    return acks.getMessageUIdById(this.db, ...a)
  }
  async adjustAckHidden(...a: Parameters<StorageOps['adjustAckHidden']>) {
    return acks.adjustAckHidden(this.db, ...a)
  }
}

type OpName = keyof StorageOps

/**
 * The embedded storage: one better-sqlite3 database, migrated on open.
 *
 * One writer at a time: `transaction` and `batch` hold a lock from BEGIN to COMMIT, and a call made
 * outside any transaction waits for that lock too, so nothing ever lands inside another caller's open
 * transaction, even if a unit awaits something that is not storage. When the lock is free (always,
 * between event-loop turns, since SQLite work never leaves the thread), a direct call runs at once
 * in SQLite's autocommit mode.
 */
export class SqliteStorage extends SqliteOps implements Storage {
  private locked = false
  private readonly waiters: (() => void)[] = []
  private readonly tx: SqliteOps
  private readonly sql: Record<
    'begin' | 'commit' | 'rollback' | 'savepoint' | 'release' | 'undo',
    Database.Statement
  >

  /** `file` is a path or `:memory:`. Throws SchemaTooNewError for a database written by a newer server. */
  constructor(file: string) {
    const db = openDatabase(file)
    try {
      migrate(db)
    } catch (error) {
      db.close()
      throw error
    }
    super(db)
    this.tx = new SqliteOps(db)
    this.sql = {
      begin: db.prepare('BEGIN IMMEDIATE'),
      commit: db.prepare('COMMIT'),
      rollback: db.prepare('ROLLBACK'),
      savepoint: db.prepare('SAVEPOINT unit'),
      release: db.prepare('RELEASE unit'),
      undo: db.prepare('ROLLBACK TO unit'),
    }
    // Calls made outside a transaction queue behind an open one (see the class comment).
    for (const name of Object.getOwnPropertyNames(SqliteOps.prototype) as (OpName | 'constructor')[]) {
      if (name === 'constructor') continue
      const op = SqliteOps.prototype[name] as (...args: unknown[]) => Promise<unknown>
      ;(this as unknown as Record<OpName, unknown>)[name] = (...args: unknown[]) =>
        this.locked ? this.exclusive(() => op.apply(this.tx, args)) : op.apply(this.tx, args)
    }
  }

  private async exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.locked) await new Promise<void>((resolve) => this.waiters.push(resolve))
    else this.locked = true
    try {
      return await fn()
    } finally {
      const next = this.waiters.shift()
      // The lock passes straight to the next waiter, so a new caller cannot slip in between.
      if (next) next()
      else this.locked = false
    }
  }

  transaction<T>(fn: Unit<T>): Promise<T> {
    return this.exclusive(async () => {
      this.sql.begin.run()
      try {
        const value = await fn(this.tx)
        this.sql.commit.run()
        return value
      } catch (error) {
        if (this.db.inTransaction) this.sql.rollback.run()
        throw error
      }
    })
  }

  /**
   * Group commit (types.ts `Storage.batch`): every unit in order in one transaction, each in a
   * savepoint of its own, one commit. `chains` is not needed here: one order for all keeps each
   * chain's order.
   */
  batch<T>(units: readonly Unit<T>[], _chains?: readonly unknown[]): Promise<UnitResult<T>[]> {
    return this.exclusive(async () => {
      const results: UnitResult<T>[] = []
      this.sql.begin.run()
      try {
        for (const unit of units) {
          this.sql.savepoint.run()
          try {
            const value = await unit(this.tx)
            this.sql.release.run()
            results.push({ ok: true, value })
          } catch (error) {
            if (this.db.inTransaction) {
              this.sql.undo.run()
              this.sql.release.run()
            } else {
              // SQLite ended the whole transaction itself (e.g. disk full): what the earlier units
              // wrote is gone too, so they must not be reported as done. Go on in a new one.
              for (let i = 0; i < results.length; i++) results[i] = { ok: false, error }
              this.sql.begin.run()
            }
            results.push({ ok: false, error })
          }
        }
        this.sql.commit.run()
        return results
      } catch (error) {
        if (this.db.inTransaction) this.sql.rollback.run()
        throw error
      }
    })
  }

  /** An embedded database is there while the process is. */
  async ping(): Promise<void> {}

  async close(): Promise<void> {
    if (this.db.open) this.db.close()
  }
}
