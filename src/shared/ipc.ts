/**
 * The IPC contract between the renderer and the client engine: one object listing every call and
 * every event. Main (handler table), preload (window.im) and renderer types all derive from it.
 *
 * - Calls: `window.im.<operation>(...args)` resolves to `{ code, msg?, data? }` (see codes.ts);
 *   arguments are validated with the zod tuple below before any handler runs.
 * - Events: `window.im.on(event, handler)` returns the function that removes that very handler.
 */
import { z } from 'zod'
import type { Result } from './codes'
import { eventNames, operationNames } from './ipcNames'
import {
  byUserId,
  Conversation,
  DisplayName,
  GroupId,
  GroupName,
  GroupReceiptSettings,
  LIMITS,
  MessageContent,
  MessageUId,
  Password,
  UserId,
  type ConversationSummary,
  type GroupInfo,
  type GroupInvitation,
  type GroupMember,
  type GroupReadAck,
  type Message,
  type UserProfile,
} from './model'
import { AccountSettings } from './protocol'
import { checkServerList, describeServerListProblem } from './serverList'

/** A call: the zod schemas of its positional arguments, and (type only) what `data` holds on success. */
interface OperationSpec<A extends z.ZodTuple, R> {
  args: A
  /** Phantom: never read at run time, it only carries the result type. */
  result?: R
}

function op<R>() {
  return <const T extends [z.ZodType, ...z.ZodType[]] | []>(...args: T) =>
    // zod's overloads cannot see that T is one of its two accepted tuple shapes
    ({ args: z.tuple(args as unknown as [z.ZodType]) }) as unknown as OperationSpec<z.ZodTuple<T, null>, R>
}

/** One server URL, or several nodes of one deployment separated by commas (serverList.ts). */
const ServerUrl = z
  .string()
  .trim()
  .superRefine((value, ctx) => {
    const checked = checkServerList(value)
    if ('problem' in checked)
      ctx.addIssue({ code: 'custom', message: describeServerListProblem(checked.problem) })
  })

export const SessionInfo = z.object({
  user: z.object({ userId: UserId, displayName: z.string() }),
  serverUrl: z.string(),
  deviceId: z.string(),
  /**
   * Something the user should be told about this session's local data, e.g. PROFILE_DATABASE_CORRUPT:
   * the damaged history file was set aside and is being downloaded again.
   */
  notice: z.object({ code: z.number().int(), msg: z.string() }).optional(),
})
export type SessionInfo = z.infer<typeof SessionInfo>

export const ConnectionStateName = z.enum([
  'signedOut',
  'connecting',
  'syncing',
  'connected',
  'disconnected',
  'unauthorized',
])
export type ConnectionStateName = z.infer<typeof ConnectionStateName>

export interface ConnectionState {
  state: ConnectionStateName
  /** While disconnected: when the next attempt starts (ms since epoch). */
  retryAt?: number
  /** Why the last attempt failed, in words; or the session's notice (see SessionInfo.notice). */
  detail?: string
}

export interface SyncProgress {
  /** Messages stored so far in this sync, and how many the server reported missing. */
  done: number
  total: number
}

export interface GroupReadAckPage {
  acks: GroupReadAck[]
  /** Pass as startAckId for the next page; absent on the last page. */
  nextAckId?: string
  /** Members who read it, and members who could read it when it was sent (sender excluded). */
  count: number
  total: number
  /** Of those, members who do not share read receipts: neither "read" nor "not read yet". */
  hidden: number
}

export interface GroupUnreadPage {
  members: UserProfile[]
  nextUserId?: string
  /** Members who hide their read receipts (never listed as not read). */
  hidden: number
}

export interface HistoryPage {
  list: Message[]
  hasMore: boolean
}

const HistoryOptions = z
  .object({
    /** Return messages older than this sequence number (exclusive); omitted: the newest. */
    beforeSeq: z.number().int().positive().optional(),
    count: z.number().int().min(1).max(LIMITS.historyPageMax).default(30),
  })
  .default({ count: 30 })

const SendOptions = z
  .object({
    isNeedGroupAck: z.boolean().default(false),
    channelId: z.string().max(LIMITS.channelIdMax).default(''),
  })
  .default({ isNeedGroupAck: false, channelId: '' })

export interface AppInfo {
  version: string
  host: 'electron' | 'headless'
  /** The profile folder name (each profile is one account's own SQLite file). */
  profile: string
  /** Server URL to prefill on the sign-in form. */
  defaultServerUrl: string
}

export const ipcOperations = {
  getAppInfo: op<AppInfo>()(),
  register: op<UserProfile>()(
    z.object({
      serverUrl: ServerUrl,
      userId: UserId,
      password: Password,
      displayName: DisplayName.optional(),
      /** On servers whose operator gives out invite codes (registration: 'invite'). */
      inviteCode: z.string().trim().min(1).max(64).optional(),
    }),
  ),
  login: op<SessionInfo>()(
    z.object({ serverUrl: ServerUrl, userId: UserId, password: z.string().min(1).max(LIMITS.passwordMax) }),
  ),
  logout: op<null>()(),
  getCurrentUser: op<SessionInfo | null>()(),
  getConnectionState: op<ConnectionState>()(),
  getSettings: op<AccountSettings>()(),
  updateSettings: op<AccountSettings>()(AccountSettings.partial()),
  getConversationList: op<ConversationSummary[]>()(),
  /** Opens (creates locally if new) a single chat with an existing user. */
  startPrivateChat: op<ConversationSummary>()(UserId),
  getHistoryMessages: op<HistoryPage>()(Conversation, HistoryOptions),
  sendMessage: op<Message>()(Conversation, MessageContent, SendOptions),
  getUsers: op<UserProfile[]>()(z.array(UserId).min(1).max(LIMITS.userLookupMax)),
  createGroup: op<GroupInfo>()(GroupName, z.array(UserId).max(LIMITS.groupMembersPerCall)),
  addGroupMembers: op<GroupInfo>()(GroupId, z.array(UserId).min(1).max(LIMITS.groupMembersPerCall)),
  removeGroupMembers: op<GroupInfo>()(GroupId, z.array(UserId).min(1).max(LIMITS.groupMembersPerCall)),
  leaveGroup: op<null>()(GroupId),
  setGroupMemberRole: op<GroupInfo>()(GroupId, UserId, z.enum(['admin', 'member'])),
  /** Owner only: the member `newOwnerId` becomes the owner, I become an admin (then I may leave). */
  transferGroupOwnership: op<GroupInfo>()(GroupId, UserId),
  getGroupMembers: op<GroupMember[]>()(GroupId),
  /** Invitations to groups waiting for me (servers whose operator asks for consent to join). */
  getGroupInvites: op<GroupInvitation[]>()(),
  /** Accept (resolves with the group) or decline (null) an invitation. */
  respondToGroupInvite: op<GroupInfo | null>()(GroupId, z.boolean()),
  /** The group as this device knows it (name, my role, receipt settings). */
  getGroupInfo: op<GroupInfo>()(GroupId),

  /**
   * Send read receipts in this conversation: true / false, or null to follow the account setting
   * (getSettings().shareReadReceipts). Resolves with the conversation's summary.
   */
  setConversationReceiptSharing: op<ConversationSummary>()(Conversation, z.boolean().nullable()),

  // Receipts: single chat (SPEC E1–E5)
  /** Easemob ackMessageRead(messageId): messageId is the server messageUId of a received message. */
  ackMessageRead: op<null>()(MessageUId),
  ackConversationRead: op<null>()(Conversation),

  // Receipts: group chat, Easemob model (SPEC E6–E8)
  /** Easemob ackGroupMessageRead(message, ext): once per member per message that asked. */
  ackGroupMessageRead: op<null>()(MessageUId, z.string().max(LIMITS.extMax).optional()),
  /** Easemob fetchGroupReadAcks(messageId, pageSize, startAckId): stable cursor, oldest first. */
  fetchGroupReadAcks: op<GroupReadAckPage>()(
    MessageUId,
    z.number().int().min(1).max(LIMITS.historyPageMax),
    z.string().max(40).optional(),
  ),
  /** Who could read the message and has not yet (paged by user id). */
  fetchGroupUnreadMembers: op<GroupUnreadPage>()(
    MessageUId,
    z.number().int().min(1).max(LIMITS.historyPageMax),
    UserId.optional(),
  ),
  setGroupReceiptSettings: op<GroupInfo>()(GroupId, GroupReceiptSettings.partial()),

  // Receipts: group chat, RongCloud model (SPEC R1–R6, R8, R9)
  sendReadReceiptRequest: op<null>()(GroupId, MessageUId),
  /**
   * RongCloud sendReadReceiptResponseV2(targetId, messageList?, channelId?). Without messageList the
   * engine builds it from SQLite (R6). Resolves with the messageList actually sent ({} if none).
   */
  sendReadReceiptResponseV2: op<{ messageList: Record<string, string[]> }>()(
    GroupId,
    byUserId(z.array(MessageUId).min(1).max(LIMITS.ackBatchMax)).optional(),
    z.string().max(LIMITS.channelIdMax).optional(),
  ),
} as const

export type OperationName = keyof typeof ipcOperations
export type OperationArgs<K extends OperationName> = z.input<(typeof ipcOperations)[K]['args']>
export type ParsedOperationArgs<K extends OperationName> = z.output<(typeof ipcOperations)[K]['args']>
export type OperationResult<K extends OperationName> = Exclude<(typeof ipcOperations)[K]['result'], undefined>

/** Events pushed from the engine to the renderer, with their payload types. */
export interface IpcEvents {
  connectionState: ConnectionState
  syncProgress: SyncProgress
  /** Easemob onMessageReceived(messages): new messages from others (or my other devices). */
  messageReceived: Message[]
  /**
   * The one state event for messages: these stored messages changed (sending → sent / failed, a
   * receipt, my read flag, a reader, a receipt request or answer). Each carries its row's revision;
   * a copy with a higher revision replaces the one held. The receipt events below are notifications
   * named after the SDKs, for API users: state comes from this event and from history pages only.
   */
  messagesChanged: Message[]
  conversationChanged: ConversationSummary[]
  groupChanged: { groupId: string; group: GroupInfo | null }
  /** The invitations to groups waiting for me, whole, each time they change. */
  groupInvitesChanged: GroupInvitation[]
  settingsChanged: AccountSettings
  /** The session ended (logout here, or revoked on the server). */
  sessionEnded: { reason: 'logout' | 'revoked' }

  // Receipts (SPEC E1–E4)
  messageDelivered: Message[]
  messageRead: Message[]
  conversationRead: { conversation: Conversation; from: string; to: string; seq: number }
  groupMessageRead: GroupReadAck[]
  /** RongCloud Events.MESSAGE_RECEIPT_REQUEST: a sender asks me for a read receipt. */
  MESSAGE_RECEIPT_REQUEST: {
    conversation: Conversation
    messageUId: string
    senderUserId: string
    channelId: string
  }
  /** RongCloud Events.MESSAGE_RECEIPT_RESPONSE: a member read messages of mine that asked. */
  MESSAGE_RECEIPT_RESPONSE: {
    conversation: Conversation
    receivedUserId: string
    messageUIdList: string[]
    channelId: string
  }
}
export type EventName = keyof IpcEvents

export { eventNames, operationNames } from './ipcNames'

// ipcNames.ts lists exactly the operations and events of this contract (compile-time checks).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
const operationsListed: Same<OperationName, (typeof operationNames)[number]> = true
const eventsListed: Same<EventName, (typeof eventNames)[number]> = true
void operationsListed
void eventsListed

/** What the renderer sees as `window.im`. */
export type ImApi = {
  [K in OperationName]: (...args: OperationArgs<K>) => Promise<Result<OperationResult<K>>>
} & {
  on<E extends EventName>(event: E, handler: (payload: IpcEvents[E]) => void): () => void
}

export { IPC_CALL_PREFIX, IPC_EVENT_CHANNEL } from './ipcNames'
