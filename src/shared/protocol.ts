/**
 * The wire protocol between the client engine and the IM server.
 *
 * One JSON envelope per WebSocket frame, one operation per envelope (tinode-style):
 *   client → server  { id, op, data }                 a request; `id` is echoed in the reply
 *   server → client  { type: 'reply', id, code, msg?, data? }
 *   server → client  { type: 'push', event, data, eventSeq? }
 *
 * Authentication happens during the HTTP upgrade (Authorization: Bearer <token>), so there is no
 * login frame. Every request and push is validated with the zod schemas below on both ends.
 *
 * Longer than our ~400-line rule on purpose: it is the one table of the wire contract (every
 * request with its reply, every push), read top to bottom; split by topic, a reader would have to
 * assemble the protocol from several files.
 */
import { z } from 'zod'
import {
  byUserId,
  ChannelId,
  ClientMsgId,
  Conversation,
  ConversationType,
  DisplayName,
  FileId,
  GroupId,
  GroupInfo,
  GroupInvitation,
  GroupMember,
  GroupName,
  GroupReadAck,
  GroupReceiptSettings,
  GroupRole,
  LIMITS,
  MentionedInfo,
  MessageContent,
  MessageUId,
  NotificationStatus,
  OptionalDisplayName,
  Seq,
  UserId,
  UserProfile,
  UserSearchQuery,
} from './model'
import { PresenceInfo, PrivacySettings } from './presence'
import { UserAvatar } from './avatars'
import {
  ACK_LIMITS,
  AckCursor,
  AckListPage,
  AckListState,
  MentionReads,
  ReminderResult,
  ReminderSchedule,
  ReminderScheduleState,
} from './acks'

export const PROTOCOL_VERSION = 1

/** A message as the server stores and sends it. Conversation identity is viewer-independent. */
export const WireMessage = z.object({
  messageUId: MessageUId,
  clientMsgId: ClientMsgId,
  convType: ConversationType,
  senderId: UserId,
  /** The receiving user (private) or the group id (group). */
  to: z.string(),
  channelId: z.string(),
  seq: Seq,
  content: MessageContent,
  sentAt: z.number(),
  needDeliveryAck: z.boolean(),
  needReadAck: z.boolean(),
  isNeedGroupAck: z.boolean(),
  /** Members who could read it when it was sent, the sender excluded (1 in a single chat). */
  memberCount: z.number().int().nonnegative(),
  /**
   * Receipt state as of this copy, on pulled messages (absent: none yet). The same facts the receipt
   * events carry, so a device whose events were pruned still learns them (syncEvents prunedThrough).
   * Single chat, to the sender only: the receiver's first delivery and read.
   */
  deliveredAt: z.number().optional(),
  readAt: z.number().optional(),
  /** Group, to the sender only: readers so far (the read count of both group models). */
  groupAckCount: z.number().int().nonnegative().optional(),
  /** Group: the sender asked for read receipts after sending (sendReadReceiptRequest). */
  receiptRequested: z.literal(true).optional(),
  // Reply, edit, recall (issue 13, H1).
  /** The message this one quotes (same conversation, visible to its sender when sent). */
  replyTo: MessageUId.optional(),
  /** Edited by its sender: the last edit's time and how many edits (content is the latest). */
  editedAt: z.number().optional(),
  editCount: z.number().int().positive().optional(),
  /** Recalled by its sender: content is { type: 'recalled' }, the text is gone from the server. */
  recalledAt: z.number().optional(),
  // Acknowledgements and mentions (issue 15, acks.ts).
  /** The sender asks each recipient to acknowledge it. */
  needAck: z.literal(true).optional(),
  /** needAck, to the sender only: recipients who acknowledged so far (of memberCount). */
  ackCount: z.number().int().nonnegative().optional(),
  /** needAck, to a recipient only: when the caller acknowledged it (absent: not yet). */
  myAckAt: z.number().optional(),
  /** Group: the members it mentions (RongCloud MentionedInfo). */
  mentionedInfo: MentionedInfo.optional(),
})
export type WireMessage = z.infer<typeof WireMessage>

export const AccountSettings = z.object({
  requireDeliveryAck: z.boolean(),
  requireReadAck: z.boolean(),
  /**
   * Do senders learn that I read their messages? Off: my devices still share my read state and
   * unread counts, but no sender is told (a private read). Reciprocal in single chats: while either
   * side does not share, neither sees the other's read receipts. A conversation may override it.
   */
  shareReadReceipts: z.boolean(),
})
export type AccountSettings = z.infer<typeof AccountSettings>

/** One conversation of the caller, as syncState reports it. */
export const ConversationState = z.object({
  conversation: Conversation,
  title: z.string(),
  lastSeq: Seq,
  /** The caller's own read watermark (max-merged across devices). */
  readSeq: Seq,
  /** The caller's override of shareReadReceipts for this conversation; null follows the account. */
  shareReadReceipts: z.boolean().nullable(),
  /**
   * Single chat: read receipts flow between the two (both share). Group: the caller's reads are
   * shared with senders. False means "read" can never be shown here: say "hidden", not "unread".
   */
  readReceiptsShared: z.boolean(),
  /** Private chats: the peer's watermarks over the caller's messages. */
  peerReadSeq: Seq,
  peerDeliveredSeq: Seq,
  /** Messages with seq ≤ joinedSeq were sent before the caller joined and are not visible. */
  joinedSeq: Seq,
  /** Set once the caller left or was removed: later messages are not visible. */
  leftSeq: Seq.nullable(),
  unreadCount: z.number().int().nonnegative(),
  /** H8: whether the caller muted it (on any device of theirs); absent from older servers. */
  notificationStatus: NotificationStatus.optional(),
})
export type ConversationState = z.infer<typeof ConversationState>

/** One version of an edited message (H1): version 1 is the text as sent, at its send time. */
export const MessageVersion = z.object({
  version: z.number().int().positive(),
  content: MessageContent,
  at: z.number(),
})
export type MessageVersion = z.infer<typeof MessageVersion>

const AckRejection = z.object({ messageUId: z.string(), code: z.number().int(), msg: z.string() })

/** H6: messages one deleteMessagesForMe may delete (a selection of a few, or one job batch). */
export const DELETE_FOR_ME_BATCH_MAX = 100

/** Every request: its data schema and its reply data schema. */
export const requests = {
  sendMessage: {
    data: z.object({
      clientMsgId: ClientMsgId,
      conversation: Conversation,
      channelId: ChannelId,
      content: MessageContent,
      isNeedGroupAck: z.boolean().default(false),
      /** Quote this message of the same conversation (H1). */
      replyTo: MessageUId.optional(),
      /** Issue 15: each recipient is asked to acknowledge it. */
      needAck: z.boolean().default(false),
      /** Issue 15, groups only: the members it mentions (each must be a member). */
      mentionedInfo: MentionedInfo.optional(),
    }),
    reply: z.object({ message: WireMessage, duplicate: z.boolean() }),
  },
  // Acknowledgements, reminders, "Waiting for me", mentions (issue 15; words in acks.ts).
  /** A recipient acknowledges messages that ask for it (idempotent: a second ack keeps the first time). */
  ackMessage: {
    data: z.object({ messageUIds: z.array(MessageUId).min(1).max(LIMITS.ackBatchMax) }),
    reply: z.object({
      accepted: z.array(z.object({ messageUId: MessageUId, at: z.number() })),
      rejected: z.array(AckRejection),
    }),
  },
  /** The acker takes their ack back, within the server's ackUndoWindowMs of giving it. */
  undoAckMessage: {
    data: z.object({ messageUId: MessageUId }),
    reply: z.object({ messageUId: MessageUId, undoneAt: z.number() }),
  },
  /** The sender's panel: one tab, paged on a stable cursor, with the counts. */
  fetchMessageAcks: {
    data: z.object({
      messageUId: MessageUId,
      /** A tab, or 'hidden' (the export's list of those who hide their reads and have not acked). */
      state: AckListState,
      pageSize: z.number().int().min(1).max(ACK_LIMITS.ackPageMax),
      cursor: AckCursor.optional(),
    }),
    reply: AckListPage,
  },
  /** The sender reminds every recipient who has not acknowledged (each at most remindersPerMember times). */
  remindUnacknowledged: {
    data: z.object({ messageUId: MessageUId }),
    reply: ReminderResult,
  },
  /** The sender sets (or with null clears) a reminder schedule; the server runs it. */
  setAckReminderSchedule: {
    data: z.object({ messageUId: MessageUId, schedule: ReminderSchedule.nullable() }),
    reply: z.object({ schedule: ReminderScheduleState.nullable() }),
  },
  /** "Waiting for me": messages asking the caller for an ack not given yet, newest first. */
  listPendingAcks: {
    data: z.object({
      pageSize: z.number().int().min(1).max(ACK_LIMITS.pendingPageMax),
      cursor: AckCursor.optional(),
    }),
    reply: z.object({
      messages: z.array(WireMessage),
      nextCursor: AckCursor.optional(),
      total: z.number().int().nonnegative(),
    }),
  },
  /** The sender: per mentioned member, read / not yet / hidden; for '@all', counts. */
  fetchMentionReads: {
    data: z.object({ messageUId: MessageUId }),
    reply: MentionReads,
  },
  // Message actions (issue 13, H1): only the sender edits or recalls; every viewer hears it.
  /** A new text for my text message; its receipts stay. */
  editMessage: {
    data: z.object({ messageUId: MessageUId, text: z.string().min(1).max(LIMITS.textMax) }),
    reply: z.lazy(() => pushes.messageEdited),
  },
  /** Delete for everyone, within the server's recallWindowMs of sending: the content is deleted. */
  recallMessage: {
    data: z.object({ messageUId: MessageUId }),
    reply: z.lazy(() => pushes.messageRecalled),
  },
  /** Every version of a message I may see, oldest first (version 1 = as sent). */
  fetchMessageVersions: {
    data: z.object({ messageUId: MessageUId }),
    reply: z.object({ versions: z.array(MessageVersion) }),
  },
  // Delete for me on all my devices (issue 13, H6).
  /**
   * Messages I may see leave my history on every device of mine (pulls, unread counts); the other
   * members keep them and no receipt changes. Each one I may not see is rejected (MESSAGE_NOT_FOUND);
   * when all are, the request is refused with that code. Deleting one again is no error.
   */
  deleteMessagesForMe: {
    data: z.object({ messageUIds: z.array(MessageUId).min(1).max(DELETE_FOR_ME_BATCH_MAX) }),
    reply: z.object({ deleted: z.array(MessageUId), rejected: z.array(AckRejection) }),
  },
  // Mute per chat on all my devices (issue 13, H8).
  /** A conversation I am or was in; my other devices hear conversationNotificationStatusChanged. */
  setConversationNotificationStatus: {
    data: z.object({ conversation: Conversation, status: NotificationStatus }),
    reply: z.lazy(() => pushes.conversationNotificationStatusChanged),
  },
  syncState: {
    data: z.object({}),
    reply: z.object({
      user: UserProfile,
      settings: AccountSettings,
      conversations: z.array(ConversationState),
      groups: z.array(GroupInfo),
      /** Highest receipt-event sequence for the caller (see syncEvents). */
      lastEventSeq: Seq,
      serverTime: z.number(),
      /** H1: how long after sending a message may be recalled (the operator's setting; 0: never). */
      recallWindowMs: z.number().int().nonnegative().optional(),
      /** Issue 15: the operator's ack rules (how long an ack may be undone, reminders per member). */
      ackSettings: z
        .object({
          undoWindowMs: z.number().int().nonnegative(),
          remindersPerMember: z.number().int().positive(),
          /** The shortest pause between two reminders of one message (manual or scheduled). */
          reminderIntervalMs: z.number().int().nonnegative(),
        })
        .optional(),
      /** Issue 15: messages waiting for my ack (listPendingAcks pages them). */
      pendingAcks: z.number().int().nonnegative().optional(),
      /** H7: the pictures of everyone I share a current conversation with (me too); the rest have none. */
      avatars: z.array(UserAvatar).optional(),
    }),
  },
  pullMessages: {
    data: z.object({
      conversation: Conversation,
      afterSeq: Seq,
      limit: z.number().int().min(1).max(LIMITS.pullPageMax),
    }),
    reply: z.object({
      messages: z.array(WireMessage),
      hasMore: z.boolean(),
      /**
       * Messages up to this seq are no longer kept (the operator's retention) and afterSeq is below
       * it: the client counts them as synced and goes on after it. Seqs are never reused.
       */
      prunedSeq: Seq.optional(),
      /**
       * H6: every message the caller may see with seq in (afterSeq, throughSeq] is in this reply or
       * was deleted by the caller for themselves: the client counts them as synced (no gap to pull).
       */
      throughSeq: Seq.optional(),
    }),
  },
  syncEvents: {
    data: z.object({ afterEventSeq: Seq, limit: z.number().int().min(1).max(LIMITS.pullPageMax) }),
    reply: z.object({
      events: z.array(z.lazy(() => PushFrame)),
      hasMore: z.boolean(),
      /**
       * Receipt events up to this eventSeq are no longer kept and afterEventSeq is below it (no
       * events come with it): what they said must come from a full resync (syncState, then every
       * conversation pulled again from its start, the receipt state riding on the messages), after
       * which the client asks again from prunedThrough.
       */
      prunedThrough: Seq.optional(),
    }),
  },
  getUsers: {
    data: z.object({ userIds: z.array(UserId).min(1).max(LIMITS.userLookupMax) }),
    reply: z.object({ users: z.array(UserProfile) }),
  },
  /**
   * Search (H2): people whose id or display name contains `query` (case-insensitive), best first
   * (people I share a conversation with, then id and name prefixes). Only id and display name; each
   * stranger listed costs one lookup of the caller's budget, like getUsers.
   */
  searchUsers: {
    data: z.object({ query: UserSearchQuery, limit: z.number().int().min(1).max(LIMITS.userSearchMax) }),
    reply: z.object({ users: z.array(UserProfile) }),
  },
  updateSettings: {
    data: AccountSettings.partial(),
    reply: z.object({ settings: AccountSettings }),
  },
  createGroup: {
    data: z.object({
      name: GroupName,
      memberIds: z.array(UserId).max(LIMITS.groupMembersPerCall),
    }),
    reply: z.object({ group: GroupInfo }),
  },
  addGroupMembers: {
    data: z.object({ groupId: GroupId, userIds: z.array(UserId).min(1).max(LIMITS.groupMembersPerCall) }),
    reply: z.object({ group: GroupInfo }),
  },
  removeGroupMembers: {
    data: z.object({ groupId: GroupId, userIds: z.array(UserId).min(1).max(LIMITS.groupMembersPerCall) }),
    reply: z.object({ group: GroupInfo }),
  },
  leaveGroup: {
    data: z.object({ groupId: GroupId }),
    reply: z.object({}),
  },
  setGroupMemberRole: {
    data: z.object({ groupId: GroupId, userId: UserId, role: GroupRole.exclude(['owner']) }),
    reply: z.object({ group: GroupInfo }),
  },
  /**
   * Owner only: hands the group to another current member, who becomes its owner; the caller
   * becomes an admin (and may then leave). Every current member hears groupChanged.
   */
  transferGroupOwnership: {
    data: z.object({ groupId: GroupId, newOwnerId: UserId }),
    reply: z.object({ group: GroupInfo }),
  },
  /** Owner only: overrides the server's receipt limits for one group (SPEC E8). */
  setGroupReceiptSettings: {
    data: z.object({ groupId: GroupId, settings: GroupReceiptSettings.partial() }),
    reply: z.object({ group: GroupInfo }),
  },
  getGroupMembers: {
    data: z.object({ groupId: GroupId }),
    reply: z.object({ members: z.array(GroupMember) }),
  },

  // Receipts (SPEC E1–E8, R1–R4). Batched: one frame carries many acks.
  ackDelivered: {
    data: z.object({ messageUIds: z.array(MessageUId).min(1).max(LIMITS.ackBatchMax) }),
    reply: z.object({ accepted: z.array(MessageUId), rejected: z.array(AckRejection) }),
  },
  ackMessageRead: {
    data: z.object({ messageUIds: z.array(MessageUId).min(1).max(LIMITS.ackBatchMax) }),
    reply: z.object({ accepted: z.array(MessageUId), rejected: z.array(AckRejection) }),
  },
  ackConversationRead: {
    data: z.object({ conversation: Conversation, seq: Seq }),
    reply: z.object({ readSeq: Seq }),
  },
  ackGroupMessageRead: {
    data: z.object({
      groupId: GroupId,
      acks: z
        .array(z.object({ messageUId: MessageUId, ext: z.string().max(LIMITS.extMax).optional() }))
        .min(1)
        .max(LIMITS.ackBatchMax),
    }),
    reply: z.object({
      /**
       * The caller's own acks. `count` only where every member may see counts (countVisibility
       * 'all'); under 'sender' the read count is the sender's alone. `ackId` is opaque.
       */
      accepted: z.array(GroupReadAck.partial({ count: true })),
      rejected: z.array(AckRejection),
      /** Acks taken as private reads: the caller does not share read receipts in this group. */
      private: z.array(MessageUId).optional(),
    }),
  },
  fetchGroupReadAcks: {
    data: z.object({
      messageUId: MessageUId,
      pageSize: z.number().int().min(1).max(LIMITS.historyPageMax),
      startAckId: z.string().max(40).optional(),
    }),
    reply: z.object({
      acks: z.array(GroupReadAck),
      /** Cursor for the next page; absent on the last page. */
      nextAckId: z.string().optional(),
      count: z.number().int(),
      total: z.number().int(),
      /** Members who could read it but do not share read receipts: neither "read" nor "not read". */
      hidden: z.number().int(),
    }),
  },
  fetchGroupUnreadMembers: {
    data: z.object({
      messageUId: MessageUId,
      pageSize: z.number().int().min(1).max(LIMITS.historyPageMax),
      startUserId: UserId.optional(),
    }),
    reply: z.object({
      members: z.array(UserProfile),
      nextUserId: UserId.optional(),
      /** As in fetchGroupReadAcks: members who hide their read receipts, never listed here. */
      hidden: z.number().int(),
    }),
  },
  listGroupInvites: {
    data: z.object({}),
    reply: z.object({ invites: z.array(GroupInvitation) }),
  },
  respondToGroupInvite: {
    data: z.object({ groupId: GroupId, accept: z.boolean() }),
    /** The group when accepted; null when declined. */
    reply: z.object({ group: GroupInfo.nullable() }),
  },
  setConversationReceiptSharing: {
    data: z.object({ conversation: Conversation, shareReadReceipts: z.boolean().nullable() }),
    reply: z.object({ shareReadReceipts: z.boolean().nullable(), readReceiptsShared: z.boolean() }),
  },
  sendReadReceiptRequest: {
    data: z.object({ groupId: GroupId, messageUId: MessageUId }),
    reply: z.object({}),
  },
  sendReadReceiptResponse: {
    data: z.object({
      groupId: GroupId,
      channelId: ChannelId,
      messageList: byUserId(z.array(MessageUId).min(1).max(LIMITS.ackBatchMax)).refine(
        (m) => Object.keys(m).length > 0,
        'messageList is empty',
      ),
    }),
    reply: z.object({ accepted: z.array(MessageUId), rejected: z.array(AckRejection) }),
  },
  // Typing, presence and profile (issue 13, H4; rules in presence.ts).
  /** Coalesced by the client (TYPING_REFRESH_MS); fanned out to members my setting allows, never stored. */
  typing: {
    data: z.object({ conversation: Conversation, typing: z.boolean() }),
    reply: z.object({}),
  },
  /** Presence of users as their settings let me see it ('hidden' otherwise, strangers included). */
  getPresence: {
    data: z.object({ userIds: z.array(UserId).min(1).max(LIMITS.userLookupMax) }),
    reply: z.object({ presence: z.array(PresenceInfo) }),
  },
  getPrivacySettings: { data: z.object({}), reply: z.object({ privacy: PrivacySettings }) },
  updatePrivacySettings: {
    data: PrivacySettings.partial(),
    reply: z.object({ privacy: PrivacySettings }),
  },
  /** My display name; everyone who shares a conversation with me hears userChanged. */
  updateProfile: {
    data: z.object({ displayName: DisplayName }),
    reply: z.object({ user: UserProfile }),
  },
  /** Owner and admins: every current member hears groupChanged. */
  renameGroup: {
    data: z.object({ groupId: GroupId, name: GroupName }),
    reply: z.object({ group: GroupInfo }),
  },
  // Profile and group pictures (issue 13, H7; rules in avatars.ts).
  /** My picture (an image upload of mine, null: none); my devices and everyone who sees me hear userChanged. */
  setAvatar: {
    data: z.object({ fileId: FileId.nullable() }),
    reply: z.object({ user: UserProfile }),
  },
  /** Owner and admins set the group's picture (null: none); every current member hears groupChanged. */
  setGroupAvatar: {
    data: z.object({ groupId: GroupId, fileId: FileId.nullable() }),
    reply: z.object({ group: GroupInfo }),
  },
} as const

export type RequestOp = keyof typeof requests
export type RequestData<Op extends RequestOp> = z.input<(typeof requests)[Op]['data']>
export type ParsedRequestData<Op extends RequestOp> = z.output<(typeof requests)[Op]['data']>
export type ReplyData<Op extends RequestOp> = z.output<(typeof requests)[Op]['reply']>

export const requestOps = Object.keys(requests) as RequestOp[]

/** The envelope only; `data` is validated against the operation's own schema afterwards. */
export const RequestEnvelope = z.object({
  id: z.number().int().nonnegative(),
  op: z.string().max(64),
  data: z.unknown(),
})

export const ReplyFrame = z.object({
  type: z.literal('reply'),
  id: z.number().int().nonnegative().nullable(),
  code: z.number().int(),
  msg: z.string().optional(),
  data: z.unknown().optional(),
  /**
   * On RATE_LIMITED from the frame limits only: nothing of the frame ran, and the same frame passes
   * after this many ms. A client may send it again then (the engine and the web SDK do, a few times).
   */
  retryAfterMs: z.number().int().positive().optional(),
})
export type ReplyFrame = z.infer<typeof ReplyFrame>

/** Server pushes. `eventSeq` is set on receipt events, which are also kept for syncEvents. */
export const pushes = {
  message: WireMessage,
  messageDelivered: z.object({
    conversation: Conversation,
    messageUIds: z.array(MessageUId),
    by: UserId,
    at: z.number(),
  }),
  messageRead: z.object({
    conversation: Conversation,
    messageUIds: z.array(MessageUId),
    by: UserId,
    at: z.number(),
  }),
  /** Easemob onConversationRead(from, to): `from` read everything up to `seq`. */
  conversationRead: z.object({
    conversation: Conversation,
    from: UserId,
    to: z.string(),
    seq: Seq,
    at: z.number(),
  }),
  groupMessageRead: z.object({ acks: z.array(GroupReadAck) }),
  receiptRequest: z.object({
    groupId: GroupId,
    channelId: z.string(),
    messageUId: MessageUId,
    senderUserId: UserId,
    at: z.number(),
  }),
  receiptResponse: z.object({
    groupId: GroupId,
    channelId: z.string(),
    receivedUserId: UserId,
    messageUIdList: z.array(MessageUId),
    at: z.number(),
  }),
  /**
   * The read counts of group messages of others that asked for receipts, to the members who could
   * read them, only while the group's countVisibility is 'all' (the sender hears groupMessageRead
   * or receiptResponse instead). Counts only: who read stays with the reader panel.
   */
  groupReadCount: z.object({
    groupId: GroupId,
    counts: z.array(z.object({ messageUId: MessageUId, count: z.number().int().nonnegative() })),
  }),
  /** H1: a message was edited (to every member who can see it; logged for syncEvents). */
  messageEdited: z.object({
    messageUId: MessageUId,
    content: MessageContent,
    editedAt: z.number(),
    editCount: z.number().int().positive(),
  }),
  /**
   * Issue 15: an ack given (`undone` absent) or taken back, to the sender's devices (with the new
   * `count`) and to the acker's own devices (their ack state); logged for syncEvents.
   */
  messageAcked: z.object({
    conversation: Conversation,
    messageUId: MessageUId,
    by: UserId,
    at: z.number(),
    undone: z.literal(true).optional(),
    /** To the sender only: recipients who have acknowledged now. */
    count: z.number().int().nonnegative().optional(),
  }),
  /**
   * Issue 15: the sender reminds me to acknowledge (to every device of mine; live only: after a
   * reconnect "Waiting for me" still lists it). `n`: the how-manieth reminder of this message.
   */
  ackReminder: z.object({
    conversation: Conversation,
    messageUId: MessageUId,
    from: UserId,
    at: z.number(),
    n: z.number().int().positive(),
  }),
  /** Issue 15: a member I mentioned read my message (to my devices; logged for syncEvents). */
  mentionRead: z.object({
    conversation: Conversation,
    messageUId: MessageUId,
    userId: UserId,
    at: z.number(),
  }),
  /** H1: a message was recalled: delete its content here too (logged for syncEvents). */
  messageRecalled: z.object({ messageUId: MessageUId, recalledAt: z.number() }),
  /** H6: I deleted these for me on another device: delete them here too (logged for syncEvents). */
  messagesDeletedForMe: z.object({ messageUIds: z.array(MessageUId).min(1), at: z.number() }),
  /** H8: I muted or unmuted a chat on another device (logged for syncEvents). */
  conversationNotificationStatusChanged: z.object({
    conversation: Conversation,
    status: NotificationStatus,
    at: z.number(),
  }),
  // H4: typing and presence are live only (never logged for syncEvents; a reconnect asks again).
  /** `userId` started or stopped typing in `conversation` (as the recipient names it). */
  typing: z.object({ conversation: Conversation, userId: UserId, typing: z.boolean() }),
  presence: PresenceInfo,
  /** H4: a user's display name changed (to everyone who shares a conversation with them). */
  userChanged: z.object({ user: UserProfile }),
  /** H4: my privacy settings changed (on another of my devices). */
  privacyChanged: z.object({ privacy: PrivacySettings }),
  groupChanged: z.object({ groupId: GroupId, group: GroupInfo.nullable() }),
  groupInvitation: GroupInvitation,
  settingsChanged: z.object({ settings: AccountSettings }),
  sessionRevoked: z.object({}),
  /**
   * Pushes meant for this socket may have been lost between server nodes (their bus was down): pull
   * what is missing by seq and eventSeq, as after a reconnection. `reason` is for logs only.
   */
  resync: z.object({ reason: z.string().max(40).optional() }),
  /** Whether read receipts are shared in a conversation changed (either side's setting). */
  receiptSharingChanged: z.object({
    conversation: Conversation,
    shareReadReceipts: z.boolean().nullable(),
    readReceiptsShared: z.boolean(),
  }),
} as const

export type PushEvent = keyof typeof pushes
export type PushData<E extends PushEvent> = z.infer<(typeof pushes)[E]>

function pushFrame<E extends PushEvent>(event: E) {
  return z.object({
    type: z.literal('push'),
    event: z.literal(event),
    data: pushes[event],
    eventSeq: Seq.optional(),
  })
}

export const PushFrame = z.discriminatedUnion('event', [
  pushFrame('message'),
  pushFrame('messageDelivered'),
  pushFrame('messageRead'),
  pushFrame('conversationRead'),
  pushFrame('groupMessageRead'),
  pushFrame('receiptRequest'),
  pushFrame('receiptResponse'),
  pushFrame('groupReadCount'),
  pushFrame('messageEdited'),
  pushFrame('messageRecalled'),
  pushFrame('messageAcked'),
  pushFrame('ackReminder'),
  pushFrame('mentionRead'),
  pushFrame('messagesDeletedForMe'),
  pushFrame('conversationNotificationStatusChanged'),
  pushFrame('groupChanged'),
  pushFrame('settingsChanged'),
  pushFrame('sessionRevoked'),
  pushFrame('resync'),
  pushFrame('receiptSharingChanged'),
  pushFrame('groupInvitation'),
  pushFrame('typing'),
  pushFrame('presence'),
  pushFrame('userChanged'),
  pushFrame('privacyChanged'),
])
export type PushFrame = z.infer<typeof PushFrame>

/** HTTP endpoints beside the WebSocket (register, login, logout happen before any socket). */
export const http = {
  register: {
    path: '/api/register',
    body: z.object({
      userId: UserId,
      password: z.string().min(LIMITS.passwordMin).max(LIMITS.passwordMax),
      displayName: OptionalDisplayName.optional(),
      /** Needed when the server's registration is 'invite': a code from its operator. */
      inviteCode: z.string().min(1).max(64).optional(),
    }),
    reply: z.object({ user: UserProfile }),
  },
  login: {
    path: '/api/login',
    body: z.object({
      userId: UserId,
      password: z.string().min(1).max(LIMITS.passwordMax),
      deviceId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
    }),
    reply: z.object({ token: z.string(), user: UserProfile, expiresAt: z.number() }),
  },
  logout: { path: '/api/logout', body: z.object({}), reply: z.object({}) },
  /**
   * H4: with Authorization: Bearer <token>. Rate-limited as login (a wrong current password counts
   * as a failed login); every other session of the account is ended, this one stays.
   */
  changePassword: {
    path: '/api/password',
    body: z.object({
      currentPassword: z.string().min(1).max(LIMITS.passwordMax),
      newPassword: z.string().min(LIMITS.passwordMin).max(LIMITS.passwordMax),
    }),
    reply: z.object({ sessionsEnded: z.number().int().nonnegative() }),
  },
} as const

export const WS_PATH = '/ws'
export const DEVICE_HEADER = 'x-device-id'
