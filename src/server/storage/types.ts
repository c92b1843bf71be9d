/**
 * Every read and write the server makes, in one interface (Signal-Desktop's Interface.ts habit).
 * Services depend on this, never on SQL; `sqlite.ts` is the embedded implementation.
 *
 * The interface is Promise-based so that a networked database (PostgreSQL) fits behind it. Nothing
 * above it may rely on a backend being synchronous: an operation that must be atomic runs inside one
 * `transaction` (or one unit of a `batch`), and the invariants that concurrent writers could break
 * are kept by the storage itself, in one statement or one transaction:
 * - `insertMessage` assigns the conversation's next seq and is exactly-once by (sender, clientMsgId);
 * - `setMemberWatermarks` only ever moves a watermark forward (max of old and new);
 * - `insertGroupReadAck` writes at most one reader fact per (message, member) and bumps the count
 *   in the same step, so the count always equals the number of facts.
 * `tests/server/storageContract.test.ts` holds any implementation to these with operations
 * interleaved at every await.
 */
import type { ConversationType, GroupReceiptSettings, GroupRole, MessageContent } from '../../shared/model'
import { Code, CodedError } from '../../shared/codes'
import type { AccountSettings, MessageVersion, PushEvent, WireMessage } from '../../shared/protocol'
import type { PrivacySettings, Visibility } from '../../shared/presence'
import type { AckStorageOps } from './ackTypes'

export type { AckPanelRow, TrackedMessageRow, MentionPassed, ReminderRunRow } from './ackTypes'

/**
 * The database cannot be reached (PostgreSQL stopped, restarting, the network to it cut): nothing of
 * the call was written. Callers answer UNAVAILABLE (HTTP 503) and keep serving; the next call tries
 * again, so the node recovers by itself when the database returns.
 */
export class StorageUnavailableError extends CodedError {
  constructor(override readonly cause: unknown) {
    super(Code.UNAVAILABLE)
    this.name = 'StorageUnavailableError'
  }
}

/** Search (H2): a user found by searchUsers; `known`: shares (or shared) a conversation with the searcher. */
export interface UserSearchRow {
  id: string
  displayName: string
  known: boolean
}

export interface UserRow {
  id: string
  displayName: string
  passwordHash: string
  settings: AccountSettings
  lastEventSeq: number
  createdAt: number
}

export interface NewUser {
  id: string
  displayName: string
  passwordHash: string
  createdAt: number
  /**
   * The receipt options the account starts with: the server's `accountDefaults` (accountDefaults.ts;
   * both on unless the operator says otherwise). Absent: DEFAULT_ACCOUNT_RECEIPTS. Always written
   * explicitly, so the column defaults of old schemas never decide.
   */
  receipts?: Pick<AccountSettings, 'requireDeliveryAck' | 'requireReadAck'>
}

export interface SessionRow {
  userId: string
  deviceId: string
  createdAt: number
  expiresAt: number
  revoked: boolean
}

export interface ConversationRow {
  id: number
  key: string
  type: ConversationType
  lastSeq: number
  createdAt: number
}

export interface GroupRow {
  id: string
  convId: number
  name: string
  ownerId: string
  createdAt: number
}

export interface MemberRow {
  convId: number
  userId: string
  /** Null in single chats. */
  role: GroupRole | null
  joinedSeq: number
  leftSeq: number | null
  joinedAt: number
  readSeq: number
  deliveredSeq: number
  /** The read watermark others may see: it moves with readSeq only while receipts are shared. */
  sharedReadSeq: number
  /** This member's override of shareReadReceipts for the conversation; null follows the account. */
  shareReadReceipts: boolean | null
  /** Effective: the override, or the account's setting. */
  sharesReadReceipts: boolean
}

export interface GroupMemberView {
  userId: string
  displayName: string
  role: GroupRole
  joinedAt: number
}

/** One conversation of a user, with what syncState needs about the peer or the group. */
export interface ConversationOfUser {
  conv: ConversationRow
  me: MemberRow
  /** Single chat only. */
  peer: {
    userId: string
    displayName: string
    /** The peer's watermark as I may see it (shared_read_seq). */
    readSeq: number
    deliveredSeq: number
    sharesReadReceipts: boolean
  } | null
  /** Group only. */
  group: GroupRow | null
}

/** A group the user is or was a member of. */
export interface GroupOfUser {
  group: GroupRow
  memberCount: number
  /** Null once the user left or was removed. */
  myRole: GroupRole | null
  /** The group's own receipt settings; missing fields inherit the server defaults. */
  receiptOverrides: Partial<GroupReceiptSettings>
}

/** The stored row; its receipt fields are the columns, not the optional wire ones (toWire decides those). */
export interface StoredMessage extends Omit<
  WireMessage,
  'deliveredAt' | 'readAt' | 'groupAckCount' | 'receiptRequested'
> {
  id: number
  convId: number
  deliveredAt: number | null
  readAt: number | null
  /** Group readers so far (rows in group_read_acks): the read count of both group receipt models. */
  groupAckCount: number
  /** Its sender asked for read receipts after sending (a receipt_requests row). */
  receiptRequested: boolean
}

export interface NewMessage {
  uid: string
  convId: number
  senderId: string
  clientMsgId: string
  to: string
  convType: ConversationType
  channelId: string
  content: MessageContent
  sentAt: number
  needDeliveryAck: boolean
  needReadAck: boolean
  isNeedGroupAck: boolean
  memberCount: number
}

/** The one reader fact of group receipts: `userId` read group message `messageId` at `createdAt`. */
export interface GroupReadAckRow {
  /** INTEGER PRIMARY KEY: grows with every new fact, so it is a stable paging cursor (internal only). */
  ackId: number
  /** What clients see as the ack id: random, never a counter (the cursor they page by). */
  publicId: string
  messageId: number
  userId: string
  /** Easemob ackGroupMessageRead ext; null for RongCloud responses. */
  ext: string | null
  createdAt: number
  /** The message's read count once this fact was added. */
  countAfter: number
}

/** A group message, for the questions "who could read it" and "who has not". */
export interface ReaderQuery {
  convId: number
  messageId: number
  seq: number
  senderId: string
}

export interface GroupUnreadMember {
  userId: string
  displayName: string
}

export interface GroupInviteRow {
  groupId: string
  userId: string
  invitedBy: string
  createdAt: number
}

export interface UserEventRow {
  eventSeq: number
  event: PushEvent
  /** JSON of the push data. */
  data: string
  createdAt: number
}

/**
 * Every read and write; in a transaction, the calls share it, otherwise each call is its own.
 * Inside a transaction, a call that throws may have done part of its work: the owner of the
 * transaction rolls it back (a unit's savepoint), so an operation never catches a storage error
 * and carries on.
 */
export interface StorageOps extends AckStorageOps {
  // accounts
  /** False when the id is taken. */
  insertUser(user: NewUser): Promise<boolean>
  getUser(id: string): Promise<UserRow | undefined>
  getUsers(ids: readonly string[]): Promise<UserRow[]>
  updateSettings(userId: string, patch: Partial<AccountSettings>): Promise<AccountSettings>

  // sessions (tokens are stored only as their sha256)
  insertSession(tokenHash: Buffer, session: SessionRow): Promise<void>
  getSession(tokenHash: Buffer): Promise<SessionRow | undefined>
  /** True when the session existed and was not revoked before. */
  revokeSession(tokenHash: Buffer): Promise<boolean>

  // invite codes (registration 'invite'; stored only as their sha256)
  insertInvite(codeHash: Buffer, createdAt: number, expiresAt: number): Promise<void>
  /** Marks the invite used; false when it is unknown, already used or expired (nothing written). */
  useInvite(codeHash: Buffer, userId: string, at: number): Promise<boolean>

  // conversations and membership
  getConversationByKey(key: string): Promise<ConversationRow | undefined>
  insertConversation(conv: {
    key: string
    type: ConversationType
    createdAt: number
  }): Promise<ConversationRow>
  getMember(convId: number, userId: string): Promise<MemberRow | undefined>
  /** Current members only (no left_seq). */
  listCurrentMemberIds(convId: number): Promise<string[]>
  countCurrentMembers(convId: number): Promise<number>
  /** Inserts, or re-activates a former member with a new joined_seq. */
  upsertMember(member: {
    convId: number
    userId: string
    role: GroupRole | null
    joinedSeq: number
    joinedAt: number
  }): Promise<void>
  setMemberRole(convId: number, userId: string, role: GroupRole): Promise<void>
  markMemberLeft(convId: number, userId: string, leftSeq: number): Promise<void>
  /**
   * Moves each watermark to the larger of its stored value and the given one: never backwards.
   * `sharedReadSeq` (default 0: unchanged) is the read watermark others may see.
   */
  setMemberWatermarks(
    convId: number,
    userId: string,
    readSeq: number,
    deliveredSeq: number,
    sharedReadSeq?: number,
  ): Promise<void>
  /** A member's override of shareReadReceipts for one conversation (null: follow the account). */
  setMemberReceiptSharing(convId: number, userId: string, share: boolean | null): Promise<void>
  /** Current members whose read receipts are not shared in the conversation. */
  countMembersHidingReceipts(convId: number): Promise<number>
  listConversationsOfUser(userId: string): Promise<ConversationOfUser[]>

  // groups
  insertGroup(group: GroupRow): Promise<void>
  getGroup(id: string): Promise<GroupRow | undefined>
  listGroupMembers(convId: number): Promise<GroupMemberView[]>
  listGroupsOfUser(userId: string): Promise<GroupOfUser[]>
  /**
   * Hands the group to another current member, atomically (one statement or transaction): the
   * group's owner becomes `toUserId` (role owner) and `fromUserId` becomes an admin. Only when
   * `fromUserId` still owns the group and `toUserId` is a current member other than them; returns
   * false (and changes nothing) otherwise.
   */
  transferGroupOwnership(groupId: string, fromUserId: string, toUserId: string): Promise<boolean>

  // messages
  findMessageByClientId(senderId: string, clientMsgId: string): Promise<StoredMessage | undefined>
  /**
   * Assigns the conversation's next seq inside the insert, so seqs have no gaps and no duplicates.
   * Exactly-once by (senderId, clientMsgId): when the sender already has a message with that client
   * id, nothing is written (no seq is used) and that message comes back with `duplicate: true`.
   * A freshly drawn `uid` that is already taken is replaced by another.
   */
  insertMessage(message: NewMessage): Promise<{ message: StoredMessage; duplicate: boolean }>
  getMessageByUId(uid: string): Promise<StoredMessage | undefined>
  /**
   * seq in (afterSeq, maxSeq], ascending, at most `limit`; with `forUserId`, without the messages
   * that user deleted for themselves (H6).
   */
  listMessages(
    convId: number,
    afterSeq: number,
    maxSeq: number,
    limit: number,
    forUserId?: string,
  ): Promise<StoredMessage[]>
  /** Messages with seq in (afterSeq, maxSeq] that `userId` did not send nor deleted for themselves (H6). */
  countUnread(convId: number, userId: string, afterSeq: number, maxSeq: number): Promise<number>
  /**
   * Records the first delivery or read of single-chat message `uid` by its receiver (read implies
   * delivered). Resolves to the sender's id when this call set it; undefined when it was set before,
   * or when `uid` is no single-chat message to `receiverId`.
   */
  markReceived(
    kind: 'delivered' | 'read',
    uid: string,
    receiverId: string,
    at: number,
  ): Promise<string | undefined>
  /** Whether both members of the single chat `convId` share read receipts (so reads are visible). */
  readReceiptsExchanged(convId: number): Promise<boolean>

  // group receipts (E6–E8, R1–R4)
  /** Only the fields the owner set; the rest inherit the server defaults. */
  getGroupReceiptOverrides(groupId: string): Promise<Partial<GroupReceiptSettings>>
  /** Merges `patch` into the group's overrides (fields not in it keep their override or default). */
  setGroupReceiptOverrides(groupId: string, patch: Partial<GroupReceiptSettings>): Promise<void>
  /** When the sender asked with sendReadReceiptRequest; undefined if never. */
  getReceiptRequestedAt(messageId: number): Promise<number | undefined>
  /** False when the message already had a request. */
  insertReceiptRequest(messageId: number, at: number): Promise<boolean>
  getGroupReadAck(messageId: number, userId: string): Promise<GroupReadAckRow | undefined>
  /**
   * Adds the reader fact and bumps the message's group_ack_count, atomically. Undefined when the
   * user already has a fact for that message (nothing written).
   */
  insertGroupReadAck(ack: {
    messageId: number
    userId: string
    ext: string | null
    at: number
  }): Promise<GroupReadAckRow | undefined>
  /** ack_id > afterAckId, ascending, at most `limit` (an index range). */
  listGroupReadAcks(messageId: number, afterAckId: number, limit: number): Promise<GroupReadAckRow[]>
  /** The ack_id of the message's fact with that public id (a client's cursor); undefined if none. */
  findGroupReadAckCursor(messageId: number, publicId: string): Promise<number | undefined>
  /**
   * Eligible readers (joined before the message, not left before it, not its sender) with no reader
   * fact, user_id > afterUserId ascending, at most `limit`.
   */
  listGroupUnreadMembers(query: ReaderQuery, afterUserId: string, limit: number): Promise<GroupUnreadMember[]>
  /**
   * Eligible readers who hide their read receipts and have no reader fact: listed neither as read nor
   * as unread (listGroupUnreadMembers leaves them out). Served by an index of the hiders only.
   */
  countHiddenReaders(query: ReaderQuery): Promise<number>
  /** Eligible readers who are still members, by user id (the receiptRequest fan-out). */
  listCurrentEligibleReaders(query: Omit<ReaderQuery, 'messageId'>): Promise<string[]>

  // message actions (issue 13, H1: storage/messageActions.ts)
  /** Records the message `messageId` quotes (written right after its insert, in the same unit). */
  setReplyTo(messageId: number, replyToUId: string): Promise<void>
  /**
   * Replaces the content of a message that is not recalled, keeping the replaced one as a version
   * (version 1: as sent), in one step. The new edit count; undefined when recalled (nothing written).
   */
  editMessage(messageId: number, content: MessageContent, at: number): Promise<number | undefined>
  /** Replaces the content with { type: 'recalled' } and deletes its versions; false if it already was. */
  recallMessage(messageId: number, at: number): Promise<boolean>
  /** The versions edits replaced, oldest first (the current content is not among them). */
  listMessageVersions(messageId: number): Promise<MessageVersion[]>
  /** Everyone who may see the message of `seq` (joined before it, not left before it; its sender too). */
  listMessageViewers(convId: number, seq: number): Promise<string[]>

  // delete for me on all my devices (issue 13, H6: storage/deleteForMe.ts)
  /**
   * Records that `userId` deleted these messages for themselves (idempotent); the messages newly
   * recorded, by id. Pulls and unread counts of that user leave them out from then on.
   */
  deleteMessagesForMe(userId: string, messages: readonly DeletedForMeInput[], at: number): Promise<number[]>

  // group invitations (groupInvites: 'accept')
  /** False when the user already has an invitation to that group. */
  insertGroupInvite(invite: GroupInviteRow): Promise<boolean>
  getGroupInvite(groupId: string, userId: string): Promise<GroupInviteRow | undefined>
  /** True when there was one to delete. */
  deleteGroupInvite(groupId: string, userId: string): Promise<boolean>
  listGroupInvitesOfUser(userId: string): Promise<GroupInviteRow[]>

  // per-user receipt event log
  /** The user's next eventSeq, assigned atomically with the insert. */
  appendUserEvent(userId: string, event: PushEvent, data: string, at: number): Promise<number>
  listUserEvents(userId: string, afterEventSeq: number, limit: number): Promise<UserEventRow[]>

  // retention and quotas (storage/retention.ts)
  /** Every receipt event of the user up to this eventSeq has been deleted (0: none). */
  eventsPrunedSeq(userId: string): Promise<number>
  /** Every message of the conversation up to this seq has been deleted (0: none); seqs are not reused. */
  messagesPrunedSeq(convId: number): Promise<number>
  /** Deletes expired and revoked sessions; how many. */
  deleteDeadSessions(now: number): Promise<number>
  /** Deletes receipt events older than `before`, a prefix per user, from `fromUserId` on. */
  pruneUserEvents(before: number, fromUserId: string, maxRows: number): Promise<PruneResult<string>>
  /** Deletes messages older than `before` with their facts, a prefix per conversation. */
  pruneMessages(before: number, fromConvId: number, maxRows: number): Promise<PruneResult<number>>
  /** Adds to the user's usage of `day` in one step unless a limit would be passed (then false). */
  chargeUsage(userId: string, day: number, delta: UsageDelta, limits: UsageLimits): Promise<boolean>
  deleteUsageBefore(day: number): Promise<number>
  /** The users of `ids` who share (or shared) a conversation with `userId` (storage/lookups.ts). */
  knownUsers(userId: string, ids: readonly string[]): Promise<string[]>
  /** Search (H2, storage/userSearch.ts): users other than `me` whose id or name contains `query`. */
  searchUsers(me: string, query: string, limit: number): Promise<UserSearchRow[]>

  // profile, privacy, presence (issue 13, H4; storage/presence.ts, postgres/presence.ts)
  /** Undefined for an unknown user. */
  getPrivacy(userId: string): Promise<PrivacySettings | undefined>
  updatePrivacy(userId: string, patch: Partial<PrivacySettings>): Promise<PrivacySettings>
  updateDisplayName(userId: string, displayName: string): Promise<void>
  renameGroup(groupId: string, name: string): Promise<void>
  updatePasswordHash(userId: string, passwordHash: string): Promise<void>
  /** Revokes every live session of the user but `keep`; the token hashes it revoked. */
  revokeOtherSessions(userId: string, keep: Buffer): Promise<Buffer[]>
  /**
   * Users who share a current conversation with `userId` ('everyone'), or a single chat
   * ('contacts'), restricted to `among` when given (src/shared/presence.ts).
   */
  relatedUsers(userId: string, scope: RelationScope, among?: readonly string[]): Promise<string[]>
  /**
   * One more socket of the user on `nodeId` (last_seen_at = at). True when the user had no live
   * socket anywhere before (rows with seen_at > liveAfter count as live).
   */
  addPresenceSocket(userId: string, nodeId: string, at: number, liveAfter: number): Promise<boolean>
  /** One socket less (last_seen_at = at); true when the user has no live socket anywhere now. */
  removePresenceSocket(userId: string, nodeId: string, at: number, liveAfter: number): Promise<boolean>
  /** The node is alive: its rows are fresh as of `at`. */
  refreshPresence(nodeId: string, at: number): Promise<void>
  /** Deletes stale rows (of nodes gone without a word); the users left with no live socket. */
  sweepPresence(liveAfter: number): Promise<string[]>
  /** Known users of `userIds` with their presence and presence setting (unknown ones left out). */
  getPresence(userIds: readonly string[], liveAfter: number): Promise<PresenceRow[]>

  // files and images (issue 13, H3; storage/files.ts): the bytes are in the BlobStore, not here
  insertFile(file: FileRow): Promise<void>
  getFile(id: string): Promise<FileRow | undefined>
  /** Marks the upload complete (once: a later call changes nothing). */
  completeFile(id: string, at: number): Promise<void>
  /** Deletes the file's row unless a message carries it or it is a picture (H7) (then false, nothing deleted). */
  deleteUnattachedFile(id: string): Promise<boolean>
  /** Records that the message (convId, seq) carries the file; idempotent. */
  attachFile(fileId: string, convId: number, seq: number): Promise<void>
  listFileMessages(fileId: string): Promise<{ convId: number; seq: number }[]>
  /** Uploads never completed, started before `before` (the sweep deletes them). */
  listStaleUploads(before: number, limit: number): Promise<string[]>
  /** Files every message of which retention pruned (the sweep deletes them). */
  listFilesOfPrunedMessages(limit: number): Promise<string[]>
  /** Deletes a file's row and which messages carried it. */
  deleteFile(id: string): Promise<void>

  // profile and group pictures (issue 13, H7; storage/avatars.ts)
  /** Sets (fileId) or removes (null) a picture; the file it replaced (null: none, or the same). */
  setAvatar(kind: AvatarOwnerKind, ownerId: string, fileId: string | null, at: number): Promise<string | null>
  /** The pictures of these users or groups; those without one are left out. */
  getAvatars(kind: AvatarOwnerKind, ownerIds: readonly string[]): Promise<AvatarRow[]>
  /** Whose picture the file is (nobody's: empty). */
  avatarOwners(fileId: string): Promise<AvatarOwner[]>

  // mute per chat on all my devices (issue 13, H8; storage/mutedConversations.ts)
  /** Mutes (true) or unmutes a conversation for a user; true when that changed something. */
  setConversationMuted(userId: string, convId: number, muted: boolean, at: number): Promise<boolean>
  /** The ids of the conversations the user muted. */
  listMutedConversations(userId: string): Promise<number[]>
}

/** H7: whose picture. */
export type AvatarOwnerKind = 'user' | 'group'
export interface AvatarRow {
  ownerId: string
  fileId: string
}
export interface AvatarOwner {
  kind: AvatarOwnerKind
  ownerId: string
}

/** H6: a message a user deletes for themselves. */
export interface DeletedForMeInput {
  id: number
  convId: number
  seq: number
  /** The user sent it (it never counted as unread for them). */
  own: boolean
}

/** An uploaded file (issue 13, H3); `completedAt` null while bytes are missing. */
export interface FileRow {
  id: string
  ownerId: string
  name: string
  mime: string
  kind: 'file' | 'image'
  size: number
  createdAt: number
  completedAt: number | null
}

/** H4: who counts for a privacy setting (src/shared/presence.ts). */
export type RelationScope = 'contacts' | 'everyone'

/** H4: a user's presence as stored, with the setting that decides who may see it. */
export interface PresenceRow {
  userId: string
  online: boolean
  lastSeenAt: number | null
  visibility: Visibility
}

/** What one pruning call deleted, and where the next call goes on (absent: nothing left). */
export interface PruneResult<C> {
  deleted: number
  next?: C
}

/** What a request adds to its sender's usage of the day. */
export interface UsageDelta {
  messages: number
  bytes: number
  groups: number
}

/** The most a user may add per day (UTC); Infinity is not storable, so "no limit" is a huge number. */
export type UsageLimits = UsageDelta

/** One piece of work inside a transaction; it sees the transaction's view of the data. */
export type Unit<T> = (tx: StorageOps) => Promise<T>

/** How one unit of a batch ended: its value, or the error it threw (its writes rolled back). */
export type UnitResult<T> = { ok: true; value: T } | { ok: false; error: unknown }

export interface Storage extends StorageOps {
  /**
   * Runs `fn` atomically: its calls on `tx` share one transaction, committed when it resolves and
   * rolled back when it rejects. Transactions never interleave their writes.
   */
  transaction<T>(fn: Unit<T>): Promise<T>
  /**
   * Group commit: runs the units and reports each, in input order. A unit that throws is rolled back
   * alone and reported as `{ ok: false }`; the others keep their writes. Resolves only after every
   * unit's writes are committed (or rolled back), so nothing it reports as done can still be lost;
   * rejects, with nothing written, when nothing of it could be committed.
   *
   * `chains[i]` (any value compared by identity; the gateway passes the unit's connection) says
   * which units must keep their order: units of one chain run one after another in input order, each
   * seeing the writes of those before it. Absent: all units form one chain. What each backend does:
   * - SQLite (`SqliteStorage`) ignores `chains`: all units in order in ONE transaction, each in a
   *   savepoint of its own, one commit (one fsync for the batch); if SQLite itself ends that
   *   transaction, every unit is reported failed.
   * - PostgreSQL (`PostgresStorage`) runs each unit in a transaction of its own (its row locks held
   *   for that one operation only, so the batches of several nodes cannot deadlock on each other's
   *   hot rows); the chains run concurrently, each on a pooled connection, a bounded number at a
   *   time. PostgreSQL group-commits the WAL flushes of concurrent commits itself. A unit that loses
   *   a deadlock or a serialization failure is run again (a few times), so a unit must be safe to run
   *   twice: keep its effects in the transaction, or reset them at its start. A unit that failed
   *   because the database is unavailable is reported with StorageUnavailableError (so are the units
   *   not yet started then); if no unit of the batch could run, it rejects with it.
   */
  batch<T>(units: readonly Unit<T>[], chains?: readonly unknown[]): Promise<UnitResult<T>[]>
  /** Resolves when the database answers; rejects with StorageUnavailableError when it does not (/ready). */
  ping(): Promise<void>
  close(): Promise<void>
}
