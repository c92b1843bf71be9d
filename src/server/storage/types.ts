/**
 * Every read and write the server makes, in one interface (Signal-Desktop's Interface.ts habit).
 * Services depend on this, never on SQL; `sqlite.ts` is the embedded implementation.
 *
 * It is synchronous because better-sqlite3 is, and the server relies on that: a request runs to the
 * end of its transaction before the next frame is read. A networked backend would need an async
 * variant of this interface with the same coarse operations.
 */
import type { ConversationType, GroupReceiptSettings, GroupRole, MessageContent } from '../../shared/model'
import type { AccountSettings, PushEvent, WireMessage } from '../../shared/protocol'

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
  peer: { userId: string; displayName: string; readSeq: number; deliveredSeq: number } | null
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

export interface StoredMessage extends WireMessage {
  id: number
  convId: number
  deliveredAt: number | null
  readAt: number | null
  /** Group readers so far (rows in group_read_acks): the read count of both group receipt models. */
  groupAckCount: number
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
  /** INTEGER PRIMARY KEY: grows with every new fact, so it is a stable paging cursor. */
  ackId: number
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

export interface UserEventRow {
  eventSeq: number
  event: PushEvent
  /** JSON of the push data. */
  data: string
  createdAt: number
}

export interface Storage {
  /** Runs fn atomically; nests (savepoints). A throw rolls back everything fn wrote. */
  transaction<T>(fn: () => T): T
  close(): void

  // accounts
  /** False when the id is taken. */
  insertUser(user: NewUser): boolean
  getUser(id: string): UserRow | undefined
  getUsers(ids: readonly string[]): UserRow[]
  updateSettings(userId: string, patch: Partial<AccountSettings>): AccountSettings

  // sessions (tokens are stored only as their sha256)
  insertSession(tokenHash: Buffer, session: SessionRow): void
  getSession(tokenHash: Buffer): SessionRow | undefined
  /** True when the session existed and was not revoked before. */
  revokeSession(tokenHash: Buffer): boolean

  // conversations and membership
  getConversationByKey(key: string): ConversationRow | undefined
  insertConversation(conv: { key: string; type: ConversationType; createdAt: number }): ConversationRow
  getMember(convId: number, userId: string): MemberRow | undefined
  /** Current members only (no left_seq). */
  listCurrentMemberIds(convId: number): string[]
  countCurrentMembers(convId: number): number
  /** Inserts, or re-activates a former member with a new joined_seq. */
  upsertMember(member: {
    convId: number
    userId: string
    role: GroupRole | null
    joinedSeq: number
    joinedAt: number
  }): void
  setMemberRole(convId: number, userId: string, role: GroupRole): void
  markMemberLeft(convId: number, userId: string, leftSeq: number): void
  setMemberWatermarks(convId: number, userId: string, readSeq: number, deliveredSeq: number): void
  listConversationsOfUser(userId: string): ConversationOfUser[]

  // groups
  insertGroup(group: GroupRow): void
  getGroup(id: string): GroupRow | undefined
  listGroupMembers(convId: number): GroupMemberView[]
  listGroupsOfUser(userId: string): GroupOfUser[]

  // messages
  findMessageByClientId(senderId: string, clientMsgId: string): StoredMessage | undefined
  /** Assigns the conversation's next seq inside the insert, so seqs have no gaps. */
  insertMessage(message: NewMessage): StoredMessage
  getMessageByUId(uid: string): StoredMessage | undefined
  messageUIdExists(uid: string): boolean
  /** seq in (afterSeq, maxSeq], ascending, at most `limit`. */
  listMessages(convId: number, afterSeq: number, maxSeq: number, limit: number): StoredMessage[]
  /** Messages with seq in (afterSeq, maxSeq] that `userId` did not send. */
  countUnread(convId: number, userId: string, afterSeq: number, maxSeq: number): number
  /** True when this call set it (it was unset). */
  markDelivered(messageId: number, at: number): boolean
  /** True when this call set read_at; sets delivered_at too when unset, since read implies delivered. */
  markRead(messageId: number, at: number): boolean

  // group receipts (E6–E8, R1–R4)
  /** Only the fields the owner set; the rest inherit the server defaults. */
  getGroupReceiptOverrides(groupId: string): Partial<GroupReceiptSettings>
  /** Merges `patch` into the group's overrides (fields not in it keep their override or default). */
  setGroupReceiptOverrides(groupId: string, patch: Partial<GroupReceiptSettings>): void
  /** When the sender asked with sendReadReceiptRequest; undefined if never. */
  getReceiptRequestedAt(messageId: number): number | undefined
  /** False when the message already had a request. */
  insertReceiptRequest(messageId: number, at: number): boolean
  getGroupReadAck(messageId: number, userId: string): GroupReadAckRow | undefined
  /**
   * Adds the reader fact and bumps the message's group_ack_count, atomically. Undefined when the
   * user already has a fact for that message (nothing written).
   */
  insertGroupReadAck(ack: {
    messageId: number
    userId: string
    ext: string | null
    at: number
  }): GroupReadAckRow | undefined
  /** ack_id > afterAckId, ascending, at most `limit` (an index range). */
  listGroupReadAcks(messageId: number, afterAckId: number, limit: number): GroupReadAckRow[]
  /**
   * Eligible readers (joined before the message, not left before it, not its sender) with no reader
   * fact, user_id > afterUserId ascending, at most `limit`.
   */
  listGroupUnreadMembers(query: ReaderQuery, afterUserId: string, limit: number): GroupUnreadMember[]
  /** Eligible readers who are still members, by user id (the receiptRequest fan-out). */
  listCurrentEligibleReaders(query: Omit<ReaderQuery, 'messageId'>): string[]

  // per-user receipt event log
  appendUserEvent(userId: string, event: PushEvent, data: string, at: number): number
  listUserEvents(userId: string, afterEventSeq: number, limit: number): UserEventRow[]
}
