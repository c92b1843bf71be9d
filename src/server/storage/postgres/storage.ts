/**
 * `PostgresStorage`: the `Storage` interface on a PostgreSQL database, shared by any number of
 * server nodes (each with its own pool). Open it with `await PostgresStorage.open(url)`.
 *
 * Transactions run at READ COMMITTED, PostgreSQL's default. The invariants that SQLite's single
 * writer gave for free are kept by row locks and unique indexes, whichever node writes:
 * - seq per conversation: `insertMessage` locks the conversation row (`SELECT … FOR UPDATE`), takes
 *   last_seq + 1 and moves last_seq in the statement that inserts, all before its transaction ends;
 *   writers of one conversation queue on that lock, so seqs have no gaps or duplicates and commit
 *   in order (messages.ts);
 * - exactly-once sends: UNIQUE (sender_id, client_msg_id) with `ON CONFLICT DO NOTHING`; the seq
 *   moves only with a row actually inserted, and the stored copy is read back;
 * - watermarks: `GREATEST(old, new)` in one UPDATE, re-evaluated on the newest row by PostgreSQL
 *   when two race;
 * - reader facts: UNIQUE (message_id, user_id), added under the message row's lock together with
 *   the count, so the count equals the facts and ack_ids of one message commit in order (the
 *   fetchGroupReadAcks cursor); event seqs per user likewise under the user row's lock;
 * - quotas: one upsert whose WHERE is checked on the locked row.
 *
 * Calls outside a transaction go to the pool (any free connection, autocommit); an operation of
 * several statements (insertMessage, insertGroupReadAck, pruning) then runs in a transaction of its
 * own. A group commit (`batch`) is not one transaction here: each unit is a transaction of its
 * own, so no row lock is held across the operations of other connections. Nothing here blocks the
 * event loop: every call is a round trip awaited on a socket.
 */
import pg from 'pg'
import { StorageUnavailableError, type Storage, type StorageOps, type Unit, type UnitResult } from '../types'
import * as accounts from './accounts'
import * as acks from './acks'
import * as avatars from './avatars'
import * as mutedConversations from './mutedConversations'
import * as conversations from './conversations'
import * as deleteForMe from './deleteForMe'
import * as files from './files'
import * as groupInvites from './groupInvites'
import * as groupReceipts from './groupReceipts'
import * as messageActions from './messageActions'
import * as messages from './messages'
import { openMigratedPool } from './migrations'
import * as presence from './presence'
import * as retention from './retention'
import { inTransaction, poolSql, transactionSql, type Sql } from './sql'
import * as userSearch from './userSearch'

class PgOps implements StorageOps {
  constructor(readonly sql: Sql) {}

  insertUser(...a: Parameters<StorageOps['insertUser']>) {
    return accounts.insertUser(this.sql, ...a)
  }
  getUser(...a: Parameters<StorageOps['getUser']>) {
    return accounts.getUser(this.sql, ...a)
  }
  getUsers(...a: Parameters<StorageOps['getUsers']>) {
    return accounts.getUsers(this.sql, ...a)
  }
  updateSettings(...a: Parameters<StorageOps['updateSettings']>) {
    return accounts.updateSettings(this.sql, ...a)
  }
  insertSession(...a: Parameters<StorageOps['insertSession']>) {
    return accounts.insertSession(this.sql, ...a)
  }
  getSession(...a: Parameters<StorageOps['getSession']>) {
    return accounts.getSession(this.sql, ...a)
  }
  revokeSession(...a: Parameters<StorageOps['revokeSession']>) {
    return accounts.revokeSession(this.sql, ...a)
  }
  insertInvite(...a: Parameters<StorageOps['insertInvite']>) {
    return accounts.insertInvite(this.sql, ...a)
  }
  useInvite(...a: Parameters<StorageOps['useInvite']>) {
    return accounts.useInvite(this.sql, ...a)
  }

  getConversationByKey(...a: Parameters<StorageOps['getConversationByKey']>) {
    return conversations.getConversationByKey(this.sql, ...a)
  }
  insertConversation(...a: Parameters<StorageOps['insertConversation']>) {
    return conversations.insertConversation(this.sql, ...a)
  }
  getMember(...a: Parameters<StorageOps['getMember']>) {
    return conversations.getMember(this.sql, ...a)
  }
  listCurrentMemberIds(...a: Parameters<StorageOps['listCurrentMemberIds']>) {
    return conversations.listCurrentMemberIds(this.sql, ...a)
  }
  countCurrentMembers(...a: Parameters<StorageOps['countCurrentMembers']>) {
    return conversations.countCurrentMembers(this.sql, ...a)
  }
  upsertMember(...a: Parameters<StorageOps['upsertMember']>) {
    return conversations.upsertMember(this.sql, ...a)
  }
  setMemberRole(...a: Parameters<StorageOps['setMemberRole']>) {
    return conversations.setMemberRole(this.sql, ...a)
  }
  markMemberLeft(...a: Parameters<StorageOps['markMemberLeft']>) {
    return conversations.markMemberLeft(this.sql, ...a)
  }
  setMemberWatermarks(...a: Parameters<StorageOps['setMemberWatermarks']>) {
    return conversations.setMemberWatermarks(this.sql, ...a)
  }
  setMemberReceiptSharing(...a: Parameters<StorageOps['setMemberReceiptSharing']>) {
    return conversations.setMemberReceiptSharing(this.sql, ...a)
  }
  countMembersHidingReceipts(...a: Parameters<StorageOps['countMembersHidingReceipts']>) {
    return conversations.countMembersHidingReceipts(this.sql, ...a)
  }
  readReceiptsExchanged(...a: Parameters<StorageOps['readReceiptsExchanged']>) {
    return conversations.readReceiptsExchanged(this.sql, ...a)
  }
  listConversationsOfUser(...a: Parameters<StorageOps['listConversationsOfUser']>) {
    return conversations.listConversationsOfUser(this.sql, ...a)
  }

  insertGroup(...a: Parameters<StorageOps['insertGroup']>) {
    return conversations.insertGroup(this.sql, ...a)
  }
  getGroup(...a: Parameters<StorageOps['getGroup']>) {
    return conversations.getGroup(this.sql, ...a)
  }
  transferGroupOwnership(...a: Parameters<StorageOps['transferGroupOwnership']>) {
    return conversations.transferGroupOwnership(this.sql, ...a)
  }
  listGroupMembers(...a: Parameters<StorageOps['listGroupMembers']>) {
    return conversations.listGroupMembers(this.sql, ...a)
  }
  listGroupsOfUser(...a: Parameters<StorageOps['listGroupsOfUser']>) {
    return conversations.listGroupsOfUser(this.sql, ...a)
  }

  findMessageByClientId(...a: Parameters<StorageOps['findMessageByClientId']>) {
    return messages.findMessageByClientId(this.sql, ...a)
  }
  insertMessage(...a: Parameters<StorageOps['insertMessage']>) {
    return messages.insertMessage(this.sql, ...a)
  }
  getMessageByUId(...a: Parameters<StorageOps['getMessageByUId']>) {
    return messages.getMessageByUId(this.sql, ...a)
  }
  listMessages(...a: Parameters<StorageOps['listMessages']>) {
    return messages.listMessages(this.sql, ...a)
  }
  countUnread(...a: Parameters<StorageOps['countUnread']>) {
    return messages.countUnread(this.sql, ...a)
  }
  markReceived(...a: Parameters<StorageOps['markReceived']>) {
    return messages.markReceived(this.sql, ...a)
  }

  getGroupReceiptOverrides(...a: Parameters<StorageOps['getGroupReceiptOverrides']>) {
    return groupReceipts.getGroupReceiptOverrides(this.sql, ...a)
  }
  setGroupReceiptOverrides(...a: Parameters<StorageOps['setGroupReceiptOverrides']>) {
    return groupReceipts.setGroupReceiptOverrides(this.sql, ...a)
  }
  getReceiptRequestedAt(...a: Parameters<StorageOps['getReceiptRequestedAt']>) {
    return groupReceipts.getReceiptRequestedAt(this.sql, ...a)
  }
  insertReceiptRequest(...a: Parameters<StorageOps['insertReceiptRequest']>) {
    return groupReceipts.insertReceiptRequest(this.sql, ...a)
  }
  getGroupReadAck(...a: Parameters<StorageOps['getGroupReadAck']>) {
    return groupReceipts.getGroupReadAck(this.sql, ...a)
  }
  insertGroupReadAck(...a: Parameters<StorageOps['insertGroupReadAck']>) {
    return groupReceipts.insertGroupReadAck(this.sql, ...a)
  }
  listGroupReadAcks(...a: Parameters<StorageOps['listGroupReadAcks']>) {
    return groupReceipts.listGroupReadAcks(this.sql, ...a)
  }
  findGroupReadAckCursor(...a: Parameters<StorageOps['findGroupReadAckCursor']>) {
    return groupReceipts.findGroupReadAckCursor(this.sql, ...a)
  }
  listGroupUnreadMembers(...a: Parameters<StorageOps['listGroupUnreadMembers']>) {
    return groupReceipts.listGroupUnreadMembers(this.sql, ...a)
  }
  countHiddenReaders(...a: Parameters<StorageOps['countHiddenReaders']>) {
    return groupReceipts.countHiddenReaders(this.sql, ...a)
  }
  listCurrentEligibleReaders(...a: Parameters<StorageOps['listCurrentEligibleReaders']>) {
    return groupReceipts.listCurrentEligibleReaders(this.sql, ...a)
  }

  appendUserEvent(...a: Parameters<StorageOps['appendUserEvent']>) {
    return accounts.appendUserEvent(this.sql, ...a)
  }
  // message actions (issue 13, H1)
  setReplyTo(...a: Parameters<StorageOps['setReplyTo']>) {
    return messageActions.setReplyTo(this.sql, ...a)
  }
  editMessage(...a: Parameters<StorageOps['editMessage']>) {
    return messageActions.editMessage(this.sql, ...a)
  }
  recallMessage(...a: Parameters<StorageOps['recallMessage']>) {
    return messageActions.recallMessage(this.sql, ...a)
  }
  listMessageVersions(...a: Parameters<StorageOps['listMessageVersions']>) {
    return messageActions.listMessageVersions(this.sql, ...a)
  }
  listMessageViewers(...a: Parameters<StorageOps['listMessageViewers']>) {
    return messageActions.listMessageViewers(this.sql, ...a)
  }
  // H6: delete for me on all my devices.
  deleteMessagesForMe(...a: Parameters<StorageOps['deleteMessagesForMe']>) {
    return deleteForMe.deleteMessagesForMe(this.sql, ...a)
  }
  insertGroupInvite(...a: Parameters<StorageOps['insertGroupInvite']>) {
    return groupInvites.insertGroupInvite(this.sql, ...a)
  }
  getGroupInvite(...a: Parameters<StorageOps['getGroupInvite']>) {
    return groupInvites.getGroupInvite(this.sql, ...a)
  }
  deleteGroupInvite(...a: Parameters<StorageOps['deleteGroupInvite']>) {
    return groupInvites.deleteGroupInvite(this.sql, ...a)
  }
  listGroupInvitesOfUser(...a: Parameters<StorageOps['listGroupInvitesOfUser']>) {
    return groupInvites.listGroupInvitesOfUser(this.sql, ...a)
  }
  listUserEvents(...a: Parameters<StorageOps['listUserEvents']>) {
    return accounts.listUserEvents(this.sql, ...a)
  }

  eventsPrunedSeq(...a: Parameters<StorageOps['eventsPrunedSeq']>) {
    return retention.eventsPrunedSeq(this.sql, ...a)
  }
  messagesPrunedSeq(...a: Parameters<StorageOps['messagesPrunedSeq']>) {
    return retention.messagesPrunedSeq(this.sql, ...a)
  }
  deleteDeadSessions(...a: Parameters<StorageOps['deleteDeadSessions']>) {
    return retention.deleteDeadSessions(this.sql, ...a)
  }
  pruneUserEvents(...a: Parameters<StorageOps['pruneUserEvents']>) {
    return retention.pruneUserEvents(this.sql, ...a)
  }
  pruneMessages(...a: Parameters<StorageOps['pruneMessages']>) {
    return retention.pruneMessages(this.sql, ...a)
  }
  chargeUsage(...a: Parameters<StorageOps['chargeUsage']>) {
    return retention.chargeUsage(this.sql, ...a)
  }
  deleteUsageBefore(...a: Parameters<StorageOps['deleteUsageBefore']>) {
    return retention.deleteUsageBefore(this.sql, ...a)
  }
  knownUsers(...a: Parameters<StorageOps['knownUsers']>) {
    return retention.knownUsers(this.sql, ...a)
  }

  // profile, privacy, presence (H4)
  getPrivacy(...a: Parameters<StorageOps['getPrivacy']>) {
    return presence.getPrivacy(this.sql, ...a)
  }
  updatePrivacy(...a: Parameters<StorageOps['updatePrivacy']>) {
    return presence.updatePrivacy(this.sql, ...a)
  }
  updateDisplayName(...a: Parameters<StorageOps['updateDisplayName']>) {
    return presence.updateDisplayName(this.sql, ...a)
  }
  renameGroup(...a: Parameters<StorageOps['renameGroup']>) {
    return presence.renameGroup(this.sql, ...a)
  }
  updatePasswordHash(...a: Parameters<StorageOps['updatePasswordHash']>) {
    return presence.updatePasswordHash(this.sql, ...a)
  }
  revokeOtherSessions(...a: Parameters<StorageOps['revokeOtherSessions']>) {
    return presence.revokeOtherSessions(this.sql, ...a)
  }
  relatedUsers(...a: Parameters<StorageOps['relatedUsers']>) {
    return presence.relatedUsers(this.sql, ...a)
  }
  addPresenceSocket(...a: Parameters<StorageOps['addPresenceSocket']>) {
    return presence.addPresenceSocket(this.sql, ...a)
  }
  removePresenceSocket(...a: Parameters<StorageOps['removePresenceSocket']>) {
    return presence.removePresenceSocket(this.sql, ...a)
  }
  refreshPresence(...a: Parameters<StorageOps['refreshPresence']>) {
    return presence.refreshPresence(this.sql, ...a)
  }
  sweepPresence(...a: Parameters<StorageOps['sweepPresence']>) {
    return presence.sweepPresence(this.sql, ...a)
  }
  getPresence(...a: Parameters<StorageOps['getPresence']>) {
    return presence.getPresence(this.sql, ...a)
  }
  searchUsers(...a: Parameters<StorageOps['searchUsers']>) {
    return userSearch.searchUsers(this.sql, ...a)
  }

  // files and images (H3)
  insertFile(...a: Parameters<StorageOps['insertFile']>) {
    return files.insertFile(this.sql, ...a)
  }
  getFile(...a: Parameters<StorageOps['getFile']>) {
    return files.getFile(this.sql, ...a)
  }
  completeFile(...a: Parameters<StorageOps['completeFile']>) {
    return files.completeFile(this.sql, ...a)
  }
  deleteUnattachedFile(...a: Parameters<StorageOps['deleteUnattachedFile']>) {
    return files.deleteUnattachedFile(this.sql, ...a)
  }
  attachFile(...a: Parameters<StorageOps['attachFile']>) {
    return files.attachFile(this.sql, ...a)
  }
  listFileMessages(...a: Parameters<StorageOps['listFileMessages']>) {
    return files.listFileMessages(this.sql, ...a)
  }
  listStaleUploads(...a: Parameters<StorageOps['listStaleUploads']>) {
    return files.listStaleUploads(this.sql, ...a)
  }
  listFilesOfPrunedMessages(...a: Parameters<StorageOps['listFilesOfPrunedMessages']>) {
    return files.listFilesOfPrunedMessages(this.sql, ...a)
  }
  deleteFile(...a: Parameters<StorageOps['deleteFile']>) {
    return files.deleteFile(this.sql, ...a)
  }

  // profile and group pictures (H7)
  setAvatar(...a: Parameters<StorageOps['setAvatar']>) {
    return avatars.setAvatar(this.sql, ...a)
  }
  getAvatars(...a: Parameters<StorageOps['getAvatars']>) {
    return avatars.getAvatars(this.sql, ...a)
  }
  avatarOwners(...a: Parameters<StorageOps['avatarOwners']>) {
    return avatars.avatarOwners(this.sql, ...a)
  }

  // mute per chat on all my devices (H8)
  setConversationMuted(...a: Parameters<StorageOps['setConversationMuted']>) {
    return mutedConversations.setConversationMuted(this.sql, ...a)
  }
  listMutedConversations(...a: Parameters<StorageOps['listMutedConversations']>) {
    return mutedConversations.listMutedConversations(this.sql, ...a)
  }

  // acknowledgements, reminders, mentions (issue 15)
  setMessageAckInfo(...a: Parameters<StorageOps['setMessageAckInfo']>) {
    return acks.setMessageAckInfo(this.sql, ...a)
  }
  getAcksOf(...a: Parameters<StorageOps['getAcksOf']>) {
    return acks.getAcksOf(this.sql, ...a)
  }
  insertMessageAck(...a: Parameters<StorageOps['insertMessageAck']>) {
    return acks.insertMessageAck(this.sql, ...a)
  }
  deleteMessageAck(...a: Parameters<StorageOps['deleteMessageAck']>) {
    return acks.deleteMessageAck(this.sql, ...a)
  }
  insertMessageRead(...a: Parameters<StorageOps['insertMessageRead']>) {
    return acks.insertMessageRead(this.sql, ...a)
  }
  listTrackedMessages(...a: Parameters<StorageOps['listTrackedMessages']>) {
    return acks.listTrackedMessages(this.sql, ...a)
  }
  markMentionsRead(...a: Parameters<StorageOps['markMentionsRead']>) {
    return acks.markMentionsRead(this.sql, ...a)
  }
  listMentions(...a: Parameters<StorageOps['listMentions']>) {
    return acks.listMentions(this.sql, ...a)
  }
  getAckCounts(...a: Parameters<StorageOps['getAckCounts']>) {
    return acks.getAckCounts(this.sql, ...a)
  }
  listAckedPage(...a: Parameters<StorageOps['listAckedPage']>) {
    return acks.listAckedPage(this.sql, ...a)
  }
  listReadNotAckedPage(...a: Parameters<StorageOps['listReadNotAckedPage']>) {
    return acks.listReadNotAckedPage(this.sql, ...a)
  }
  listNotReadPage(...a: Parameters<StorageOps['listNotReadPage']>) {
    return acks.listNotReadPage(this.sql, ...a)
  }
  countAckHidden(...a: Parameters<StorageOps['countAckHidden']>) {
    return acks.countAckHidden(this.sql, ...a)
  }
  remindPending(...a: Parameters<StorageOps['remindPending']>) {
    return acks.remindPending(this.sql, ...a)
  }
  getReminderRun(...a: Parameters<StorageOps['getReminderRun']>) {
    return acks.getReminderRun(this.sql, ...a)
  }
  setReminderRunAt(...a: Parameters<StorageOps['setReminderRunAt']>) {
    return acks.setReminderRunAt(this.sql, ...a)
  }
  setReminderSchedule(...a: Parameters<StorageOps['setReminderSchedule']>) {
    return acks.setReminderSchedule(this.sql, ...a)
  }
  claimDueReminders(...a: Parameters<StorageOps['claimDueReminders']>) {
    return acks.claimDueReminders(this.sql, ...a)
  }
  endReminderSchedule(...a: Parameters<StorageOps['endReminderSchedule']>) {
    return acks.endReminderSchedule(this.sql, ...a)
  }
  listPendingAcks(...a: Parameters<StorageOps['listPendingAcks']>) {
    return acks.listPendingAcks(this.sql, ...a)
  }
  countPendingAcks(...a: Parameters<StorageOps['countPendingAcks']>) {
    return acks.countPendingAcks(this.sql, ...a)
  }
  listAckHiddenPage(...a: Parameters<StorageOps['listAckHiddenPage']>) {
    return acks.listAckHiddenPage(this.sql, ...a)
  }
  deleteMessageRead(...a: Parameters<StorageOps['deleteMessageRead']>) {
    return acks.deleteMessageRead(this.sql, ...a)
  }
  getMessageUIdById(...a: Parameters<StorageOps['getMessageUIdById']>) {
    return acks.getMessageUIdById(this.sql, ...a)
  }
  adjustAckHidden(...a: Parameters<StorageOps['adjustAckHidden']>) {
    return acks.adjustAckHidden(this.sql, ...a)
  }
}

type OpName = keyof StorageOps
const OP_NAMES = Object.getOwnPropertyNames(PgOps.prototype).filter((n) => n !== 'constructor') as OpName[]

/**
 * The operations on one open transaction, for one transaction function or one batch unit:
 * - one call at a time, in the order made: an operation of several statements (insertMessage reads
 *   the locked last_seq, then inserts) never has another one's statements in between, as on SQLite
 *   where each call runs whole;
 * - `finish()` once the unit has settled: calls it made and did not await are waited for, so none
 *   lands after its savepoint was released or rolled back, and a call made later is refused.
 */
function scopedOps(client: pg.PoolClient): { ops: StorageOps; finish(): Promise<void> } {
  const inner = new PgOps(transactionSql(client))
  let tail: Promise<unknown> = Promise.resolve()
  let finished = false
  const ops = {} as Record<OpName, (...args: unknown[]) => Promise<unknown>>
  for (const name of OP_NAMES) {
    const op = inner[name] as (...args: unknown[]) => Promise<unknown>
    ops[name] = (...args) => {
      if (finished)
        return Promise.reject(new Error(`storage.${name} called after its transaction or batch unit ended`))
      const result = tail.then(() => op.apply(inner, args))
      tail = result.then(
        () => undefined,
        () => undefined,
      )
      return result
    }
  }
  return {
    ops: ops as unknown as StorageOps,
    async finish() {
      finished = true
      await tail
    },
  }
}

/** Runs `fn` on scoped operations of `client` (above), finishing them whichever way it ends. */
async function runScoped<T>(client: pg.PoolClient, fn: Unit<T>): Promise<T> {
  const scope = scopedOps(client)
  try {
    return await fn(scope.ops)
  } finally {
    await scope.finish()
  }
}

export interface PostgresStorageOptions {
  /** Connections in this node's pool (default 10). */
  maxConnections?: number
  /**
   * An idle pooled connection failed (the server restarted, the network dropped it). The pool has
   * already discarded it and the next call opens a new one; this only reports it. Default: ignored.
   */
  onConnectionError?: (error: Error) => void
}

export class PostgresStorage extends PgOps implements Storage {
  private closing: Promise<void> | undefined

  private constructor(
    private readonly pool: pg.Pool,
    /** Chains of a batch run at once at most: the pool less two, for the node's other calls. */
    private readonly parallel: number,
  ) {
    super(poolSql(pool))
  }

  /**
   * Connects (`postgres://user@host:port/database`, or a pg config) and migrates; rejects when the
   * database does not answer, or is at a newer schema than this code (SchemaTooNewError).
   */
  static async open(
    connection: string | pg.PoolConfig,
    options: PostgresStorageOptions = {},
  ): Promise<PostgresStorage> {
    const config = typeof connection === 'string' ? { connectionString: connection } : connection
    const pool = await openMigratedPool(config, {
      name: 'receipts-messenger-server',
      max: options.maxConnections ?? 10,
      onError: options.onConnectionError,
    })
    return new PostgresStorage(pool, Math.max(1, (pool.options.max ?? 10) - 2))
  }

  /**
   * One pooled connection: BEGIN, `fn`, COMMIT (ROLLBACK when it rejects). After a serialization
   * failure or a deadlock PostgreSQL has rolled the transaction back, and the whole of `fn` runs
   * again (a few times at most, sql.ts `inTransaction`): `fn` must keep its effects inside the
   * transaction until it resolves, as every caller in the server does.
   */
  transaction<T>(fn: Unit<T>): Promise<T> {
    return inTransaction(this.pool, (client) => runScoped(client, fn))
  }

  /**
   * Group commit, PostgreSQL's way (types.ts `Storage.batch`): NOT one transaction. Each unit runs
   * in a transaction of its own (`transaction`: BEGIN, the unit, COMMIT on one pooled connection),
   * so the row locks it takes (a conversation's seq, a message's group_ack_count, a user's event
   * seq) are held for that one operation, not until a whole batch of other connections' operations
   * commits: the batches of several nodes taking the same hot rows in different orders deadlocked
   * on each other when a batch was one transaction. One fsync per batch, the reason SQLite commits a
   * batch at once, comes from concurrency here: PostgreSQL flushes the WAL of commits that arrive
   * together once (group commit of its own).
   *
   * Units of one chain (`chains[i]`, the gateway's connection; absent: one chain for all) run one
   * after another in input order; chains run concurrently, at most `parallel` at a time, each on a
   * connection of the pool. A unit that loses a deadlock or a serialization failure is run again
   * (`inTransaction`), so a unit must be safe to run twice. Once a unit fails because the database
   * is unavailable, the units not yet started are reported with that same StorageUnavailableError
   * (nothing of them written) rather than each waiting for a connection that will not come; if no
   * unit got through at all, the batch rejects with it (the gateway answers every one UNAVAILABLE).
   * Resolves only after every unit's transaction has ended.
   */
  async batch<T>(units: readonly Unit<T>[], chains?: readonly unknown[]): Promise<UnitResult<T>[]> {
    const results: UnitResult<T>[] = new Array<UnitResult<T>>(units.length)
    const byChain = new Map<unknown, number[]>()
    units.forEach((_, i) => {
      const key = chains?.[i]
      const chain = byChain.get(key)
      if (chain) chain.push(i)
      else byChain.set(key, [i])
    })
    const queue = [...byChain.values()]
    let next = 0
    let down: StorageUnavailableError | undefined
    const worker = async (): Promise<void> => {
      for (let chain = queue[next++]; chain; chain = queue[next++]) {
        for (const i of chain) {
          if (down) {
            results[i] = { ok: false, error: down }
            continue
          }
          try {
            results[i] = { ok: true, value: await this.transaction(units[i] as Unit<T>) }
          } catch (error) {
            if (error instanceof StorageUnavailableError) down ??= error
            results[i] = { ok: false, error }
          }
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.parallel, queue.length) }, worker))
    if (down && results.every((r) => !r.ok && r.error instanceof StorageUnavailableError)) throw down
    return results
  }

  async ping(): Promise<void> {
    await this.sql.run('SELECT 1')
  }

  /** This database's random id (migration 5): the nodes sharing it name their bus subjects after it. */
  async deploymentId(): Promise<string> {
    const row = await this.sql.first<{ id: string }>('SELECT id FROM deployment')
    if (!row) throw new Error('the deployment table is empty: was migration 5 run?')
    return row.id
  }

  /** Ends the pool once the calls in flight are done. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= this.pool.end())
  }
}
