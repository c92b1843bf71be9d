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
  MentionedInfo,
  MessageContent,
  MessageUId,
  NotificationStatus,
  Password,
  Seq,
  UserId,
  UserSearchQuery,
  type ConversationSummary,
  type GroupInfo,
  type GroupInvitation,
  type GroupMember,
  type GroupReadAck,
  type Message,
  type UserProfile,
  FileId,
  FileName,
  MimeType,
  Thumbnail,
} from './model'
import { AccountSettings, type MessageVersion } from './protocol'
import { PrivacySettings, type PresenceInfo } from './presence'
import { checkServerList, describeServerListProblem } from './serverList'
import { STAGE_CHUNK_BYTES } from './staging'
import { AvatarDataUrl, type AvatarDirectory } from './avatars'
import {
  ACK_LIMITS,
  AckCursor,
  AckState,
  ReminderSchedule,
  type AckPage,
  type MentionReads,
  type ReminderResult,
  type ReminderScheduleState,
} from './acks'

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

const NotificationTag = z.string().min(1).max(100)

/** A desktop notification: the chat it opens, and its words (the renderer has the locale). */
export const NotificationRequest = z.object({
  conversation: Conversation,
  title: z.string().max(200),
  body: z.string().max(LIMITS.textMax),
  /** Issue 15: names it, so closeNotification can take it away (a reminder once acknowledged). */
  tag: NotificationTag.optional(),
})
export type NotificationRequest = z.infer<typeof NotificationRequest>

export interface HistoryPage {
  list: Message[]
  hasMore: boolean
  /** Pages that do not end at the newest message (getMessagesAround, getNewerMessages): more follow. */
  hasNewer?: boolean
}

// ---- Search (issue 13, feature 6: H2) ----
/** A piece of a search result's text; `match`: it matched the query (shown marked, as text). */
export interface SnippetPart {
  text: string
  match: boolean
}
export interface MessageSearchHit {
  message: Message
  /** The text around the first match, in parts. */
  snippet: SnippetPart[]
  senderName: string
  conversationTitle: string
}
export interface MessageSearchPage {
  /** Newest stored first. */
  hits: MessageSearchHit[]
  /** Pass back to continue; absent when the whole history has been searched. */
  cursor?: number
}
const SearchKeyword = z.string().trim().min(1).max(100)
const SearchMessagesOptions = z
  .object({
    /** Only this conversation; omitted: every conversation. */
    conversation: Conversation.optional(),
    count: z.number().int().min(1).max(50).default(20),
    cursor: z.number().int().positive().optional(),
  })
  .default({ count: 20 })
// ---- end Search ----

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
    /** Quote this message of the same conversation (H1: reply). */
    replyTo: MessageUId.optional(),
    /** Issue 15: ask each recipient to acknowledge it. */
    needAck: z.boolean().default(false),
    /** Issue 15, groups: the members it mentions ('@name', or everyone). */
    mentionedInfo: MentionedInfo.optional(),
  })
  .default({ isNeedGroupAck: false, channelId: '', needAck: false })

export interface AppInfo {
  version: string
  host: 'electron' | 'headless'
  /** The profile folder name (each profile is one account's own SQLite file). */
  profile: string
  /** Server URL to prefill on the sign-in form. */
  defaultServerUrl: string
  /** The host can open a downloaded file and show it in its folder (Electron; not a browser page). */
  canOpenFiles?: boolean
}

/** Message.messageId: the engine's row id on this device (H1's operations). */
const LocalMessageId = z.string().regex(/^[1-9][0-9]{0,15}$/, 'a message id')

// Files and images (issue 13, H3)
const StageId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'a stage id')
/** Where sendFile reads: a path (only from the Electron preload, out of a picked File) or a staged copy. */
export const FileSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('path'), path: z.string().min(1).max(4096) }),
  z.object({ kind: z.literal('staged'), stageId: StageId }),
])
export type FileSource = z.infer<typeof FileSource>
const ImageMeta = z.object({
  width: z.number().int().min(1).max(100_000),
  height: z.number().int().min(1).max(100_000),
  thumbnail: Thumbnail,
})
export const AttachmentMeta = z.object({
  name: FileName,
  mime: MimeType.default('application/octet-stream'),
  /** An image: its size and a thumbnail the page drew (sent as an image message). */
  image: ImageMeta.optional(),
})
export type AttachmentMeta = z.output<typeof AttachmentMeta>
export interface UploadView {
  uploadId: number
  conversation: Conversation
  name: string
  size: number
  mime: string
  kind: 'file' | 'image'
  /** Bytes the server confirmed. */
  sent: number
  state: 'uploading' | 'failed'
  failure?: { code: number; msg: string }
  thumbnail?: string
}
export interface DownloadView {
  messageId: string
  path: string
  fileName: string
  size: number
}
/** Bytes moved so far; `id` is the upload id or the message id. */
export interface TransferProgress {
  kind: 'upload' | 'download'
  id: string
  done: number
  total: number
}
/** What the page hands sendFile: the File itself; the preload or the headless bridge makes the FileSource. */
export interface PickedFile {
  readonly name: string
  readonly size: number
  readonly type: string
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> }
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
  /**
   * With `upToSeq`, read only up to that message: the last one actually shown (issue 13, H5), so
   * a backlog that was never on screen stays unread here and on the sender's side.
   */
  ackConversationRead: op<null>()(Conversation, Seq.optional()),

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

  // Message actions (issue 13, H1). messageId: Message.messageId of this device's history.
  /** A new text for my text message (everyone's devices get it; receipts stay). */
  editMessage: op<Message>()(LocalMessageId, z.string().trim().min(1).max(LIMITS.textMax)),
  /** Delete for everyone, within the server's window: the content is deleted everywhere. */
  recallMessage: op<Message>()(LocalMessageId),
  /**
   * Removes it from this device's history for good, and (H6) from my other devices through the
   * server; a message that never reached the server stays local. The other members keep theirs.
   */
  deleteMessageForMe: op<null>()(LocalMessageId),
  /** Every version of an edited message, oldest first (version 1: as sent). */
  getMessageVersions: op<MessageVersion[]>()(LocalMessageId),
  /** The server's recall window, as of the last sync (null: not known yet): Recall is offered within it. */
  getMessageActionSettings: op<{ recallWindowMs: number | null }>()(),

  // Search (issue 13, H2): local full-text search, jumping to a result, people on the server.
  /** RongCloud searchMessages: this device's history, newest first, paged by `cursor`. */
  searchMessages: op<MessageSearchPage>()(SearchKeyword, SearchMessagesOptions),
  /** The page around one message (messageId: Message.messageId), to show a result in its chat. */
  getMessagesAround: op<HistoryPage>()(
    Conversation,
    z.string().regex(/^[1-9][0-9]{0,15}$/, 'a message id'),
    z.number().int().min(2).max(LIMITS.historyPageMax).default(40),
  ),
  /** Messages after `afterSeq`, scrolling down from such a page towards the newest. */
  getNewerMessages: op<HistoryPage>()(
    Conversation,
    z.number().int().nonnegative(),
    z.number().int().min(1).max(LIMITS.historyPageMax).default(30),
  ),
  /** People by id or display name (case-insensitive, a small page); strangers cost lookups. */
  searchUsers: op<UserProfile[]>()(
    UserSearchQuery,
    z.number().int().min(1).max(LIMITS.userSearchMax).default(10),
  ),

  // Drafts and notifications (issue 13, H5): this device only, RongCloud's names.
  /** Keeps what was typed and not sent ('' clears it); shown as "Draft: …" in the chat list. */
  saveTextMessageDraft: op<null>()(Conversation, z.string().max(LIMITS.textMax)),
  getTextMessageDraft: op<string>()(Conversation),
  clearTextMessageDraft: op<null>()(Conversation),
  /** 'doNotDisturb' mutes the chat: no notification, no sound, not in the dock badge. */
  setConversationNotificationStatus: op<ConversationSummary>()(Conversation, NotificationStatus),
  getConversationNotificationStatus: op<NotificationStatus>()(Conversation),
  /**
   * A desktop notification shown by the host (Electron's main process); a click focuses the window
   * and comes back as `notificationClicked`. `shown: false` where the host has none (headless: the
   * page shows it with the browser's Notification API). Showing one never marks anything read.
   */
  showNotification: op<{ shown: boolean }>()(NotificationRequest),
  /** Issue 15: closes the host's notification shown with this tag, if still open (none: nothing). */
  closeNotification: op<null>()(NotificationTag),

  // Files and images (issue 13, H3): see src/main/engine/files/.
  /** A chunk of a page's file for its host (base64); the first (no stageId) starts a staged copy. */
  stageFileChunk: op<{ stageId: string; size: number }>()(
    StageId.optional(),
    z.number().int().nonnegative(),
    z.string().max(STAGE_CHUNK_BYTES * 2),
  ),
  /** Uploads the file, then sends it as a message; progress as `transferProgress`, state as `uploadsChanged`. */
  sendFile: op<UploadView>()(Conversation, FileSource, AttachmentMeta, SendOptions),
  getUploads: op<UploadView[]>()(),
  cancelUpload: op<null>()(z.number().int().positive()),
  /** `asFile`: an image refused as too large goes again as a file (held to the larger file limit). */
  retryUpload: op<null>()(z.number().int().positive(), z.boolean().optional()),
  /** Downloads a file or image message to the Downloads folder (a unique name if taken). */
  downloadFile: op<DownloadView>()(LocalMessageId),
  getDownload: op<DownloadView | null>()(LocalMessageId),
  /** A downloaded image message's picture as a data URL, for the page to show it whole (at most 32 MiB). */
  getImageData: op<string>()(LocalMessageId),
  /** Where the host can (AppInfo.canOpenFiles): open the downloaded file, or show it in its folder. */
  openDownload: op<null>()(LocalMessageId, z.enum(['open', 'reveal'])),

  // Typing, presence, profile (issue 13, H4; rules in presence.ts).
  /** I type (call on every edit: the engine sends at most one frame per few seconds) or stopped. */
  setTyping: op<null>()(Conversation, z.boolean()),
  /** Presence as each user's setting lets me see it ('hidden' is not 'offline'). */
  getPresence: op<PresenceInfo[]>()(z.array(UserId).min(1).max(LIMITS.userLookupMax)),
  getPrivacySettings: op<PrivacySettings>()(),
  updatePrivacySettings: op<PrivacySettings>()(PrivacySettings.partial()),
  /** My display name, for everyone who shares a conversation with me. */
  updateProfile: op<UserProfile>()(DisplayName),
  /** Current password, new password; my other sessions are signed out, this one stays. */
  changePassword: op<{ sessionsEnded: number }>()(z.string().min(1).max(LIMITS.passwordMax), Password),
  /** Owner and admins. */
  renameGroup: op<GroupInfo>()(GroupId, GroupName),

  // Profile and group pictures (issue 13, H7; rules in avatars.ts).
  /** Who has which picture (user id / group id → file id), as this device knows it. */
  getAvatars: op<AvatarDirectory>()(),
  /** A picture as a data URL (fetched once, then from the profile's cache). */
  getAvatarImage: op<string>()(FileId),
  /**
   * My picture: the small square the page drew (avatars.ts); none given removes it (an argument,
   * not null: the headless transport reads null as "not given").
   */
  setAvatar: op<UserProfile>()(AvatarDataUrl.optional()),
  /** Owner and admins: the group's picture; none given removes it. */
  setGroupAvatar: op<GroupInfo>()(GroupId, AvatarDataUrl.optional()),

  // Acknowledgements, reminders, "Waiting for me", mentions (issue 15; words in acks.ts).
  // messageId: Message.messageId of this device's history.
  /** I acknowledge a message that asks for it (kept in the outbox while offline; never undone by itself). */
  ackMessage: op<Message>()(LocalMessageId),
  /** Takes my ack back, within the server's undo window (needs the server now). */
  undoAckMessage: op<Message>()(LocalMessageId),
  /** The sender's panel: one tab (acked, read but not acked, not read), paged on `cursor`. */
  getMessageAcks: op<AckPage>()(
    LocalMessageId,
    AckState,
    z.number().int().min(1).max(ACK_LIMITS.ackPageMax).default(50),
    AckCursor.optional(),
  ),
  /** The sender reminds everyone who has not acknowledged (a notification on each of their devices). */
  remindUnacknowledged: op<ReminderResult>()(LocalMessageId),
  /** The sender's reminder schedule (every N minutes, at most K times); none given clears it. */
  setAckReminderSchedule: op<ReminderScheduleState | null>()(LocalMessageId, ReminderSchedule.optional()),
  /** "Waiting for me": messages asking me for an ack I have not given, newest first, across chats. */
  getPendingAckMessages: op<{ messages: Message[]; total: number }>()(
    z.number().int().min(1).max(ACK_LIMITS.pendingPageMax).default(50),
  ),
  /** The sender: per mentioned member, read / not yet / hidden ('@all': counts). */
  getMentionReads: op<MentionReads>()(LocalMessageId),
  /** The sender: the whole acknowledgement list as CSV (user, display name, state, time). */
  exportMessageAcks: op<{ fileName: string; csv: string }>()(LocalMessageId),
  /** The server's ack rules as of the last sync (null: not synced yet): the UI's Undo and reminder limits. */
  getAckSettings: op<{
    undoWindowMs: number
    remindersPerMember: number
    reminderIntervalMs: number
  } | null>()(),
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
  /** H1: messages deleted from this device's history (delete for me): drop them. */
  messagesDeleted: { conversation: Conversation; messageIds: string[] }
  conversationChanged: ConversationSummary[]
  groupChanged: { groupId: string; group: GroupInfo | null }
  /** The invitations to groups waiting for me, whole, each time they change. */
  groupInvitesChanged: GroupInvitation[]
  settingsChanged: AccountSettings
  /** The session ended (logout here, or revoked on the server). */
  sessionEnded: { reason: 'logout' | 'revoked' }
  /** A desktop notification of the host was clicked: open this chat (issue 13, H5). */
  notificationClicked: Conversation

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
  // Files and images (issue 13, H3)
  /** The uploads not yet sent (uploading or failed), whole, each time one changes. */
  uploadsChanged: UploadView[]
  transferProgress: TransferProgress

  // Typing, presence, profile (H4)
  /** Who types in a conversation now, whole (empty: nobody); indicators expire by themselves. */
  typingChanged: { conversation: Conversation; userIds: string[] }
  presenceChanged: PresenceInfo[]
  /** A user's display name changed (mine too, from another device). */
  userChanged: UserProfile
  /** My privacy settings changed (on another device, or here). */
  privacyChanged: PrivacySettings
  /** H7: who has which picture, whole, each time one changes. */
  avatarsChanged: AvatarDirectory

  // Acknowledgements (issue 15): ack state itself comes with messagesChanged.
  /** The sender reminds me to acknowledge `message` (the host notifies; quiet hours respected). */
  ackReminder: { message: Message; from: string; n: number }
  /** How many messages wait for my ack ("Waiting for me" badge), each time it changes. */
  pendingAcksChanged: { count: number }
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
  [K in Exclude<OperationName, 'sendFile'>]: (
    ...args: OperationArgs<K>
  ) => Promise<Result<OperationResult<K>>>
} & {
  /** The page passes the File; its host's bridge turns it into a FileSource (files: H3). */
  sendFile(
    conversation: Conversation,
    file: PickedFile,
    meta: z.input<typeof AttachmentMeta>,
    options?: z.input<typeof SendOptions>,
  ): Promise<Result<UploadView>>
} & {
  on<E extends EventName>(event: E, handler: (payload: IpcEvents[E]) => void): () => void
}

export { IPC_CALL_PREFIX, IPC_EVENT_CHANNEL } from './ipcNames'
