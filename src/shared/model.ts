/**
 * Domain schemas shared by the wire protocol and the IPC contract.
 * Names follow the two seed SDKs (RongCloud: messageUId, messageDirection, readReceiptInfo;
 * Easemob: isNeedGroupAck, groupAckCount, isDelivered, isReceiverRead, isUnread).
 */
import { z } from 'zod'

export const LIMITS = {
  userIdMax: 32,
  passwordMin: 8,
  passwordMax: 128,
  displayNameMax: 64,
  groupNameMax: 64,
  textMax: 4000,
  groupMembersPerCall: 500,
  /** Users looked up per getUsers call (enumeration: lookups of strangers are also rate-limited). */
  userLookupMax: 100,
  historyPageMax: 200,
  pullPageMax: 1000,
  ackBatchMax: 1000,
  extMax: 256,
  channelIdMax: 64,
  // files and images (H3)
  fileNameMax: 255,
  /** Characters of an image message's thumbnail data URL (about 12 KB of JPEG). */
  thumbnailMax: 16_000,
  // search (H2): people found per searchUsers call (a small page: strangers cost lookups)
  userSearchMax: 20,
  /** Members one message may mention by name (issue 15). */
  mentionMax: 50,
} as const

export const UserId = z
  .string()
  .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, "_", "." and "-" only')
  .min(1)
  .max(LIMITS.userIdMax)

/**
 * An object keyed by user id, e.g. a RongCloud messageList. z.record cannot be used: it drops a key
 * named "__proto__" (assigning it on a plain object sets the prototype), so a user of that valid id
 * would silently vanish. This keeps every own key, each checked as a UserId, in an object without a
 * prototype, where no user id ("constructor", "toString", "__proto__") meets an inherited property.
 */
export function byUserId<V extends z.ZodType>(value: V) {
  return z
    .custom<Record<string, z.input<V>>>(
      (input) => typeof input === 'object' && input !== null && !Array.isArray(input),
      'expected an object keyed by user id',
    )
    .transform((input, ctx) => {
      const out = Object.create(null) as Record<string, z.output<V>>
      for (const key of Object.keys(input)) {
        if (!UserId.safeParse(key).success) {
          ctx.addIssue({ code: 'custom', message: 'not a user id', path: [key] })
          continue
        }
        // The own property's value, never anything inherited or computed by a getter.
        const parsed = value.safeParse(Object.getOwnPropertyDescriptor(input, key)?.value)
        if (parsed.success) out[key] = parsed.data
        else
          for (const issue of parsed.error.issues)
            ctx.addIssue({ code: 'custom', message: issue.message, path: [key, ...issue.path] })
      }
      return out
    })
}
export const GroupId = z
  .string()
  .regex(/^g_[A-Za-z0-9]+$/, 'a group id starts with g_')
  .max(40)
export const MessageUId = z
  .string()
  .regex(/^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/, 'a messageUId looks like BS4S-U34I-T4G6-9GPP')
export const ClientMsgId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/)
export const ChannelId = z.string().max(LIMITS.channelIdMax).default('')
export const Password = z.string().min(LIMITS.passwordMin).max(LIMITS.passwordMax)

/**
 * Characters no name may contain (issue #11): C0/C1 controls; format characters (Cf): bidi
 * overrides, embeddings, isolates and marks, which reorder what follows so that one name reads as
 * another, and invisible ones such as zero-width spaces and joiners, word joiners, soft hyphens and
 * tag characters; line and paragraph separators; and the Hangul fillers, which look like nothing.
 * Two emoji uses of format characters stay allowed: a zero-width joiner between pictographs
 * (👩‍💻) and a flag's tag sequence (🏴 + tags + cancel tag).
 */
const HIDDEN_IN_NAMES = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0]/u
const EMOJI_JOINER =
  /(?<=[\p{Extended_Pictographic}\p{Emoji_Modifier}\uFE0F])\u200D(?=\p{Extended_Pictographic})/gu
const FLAG_TAG_SEQUENCE = /\u{1F3F4}[\u{E0020}-\u{E007E}]+\u{E007F}/gu

/** True when `name` holds a character of HIDDEN_IN_NAMES outside those two emoji sequences. */
export function hasHiddenCharacters(name: string): boolean {
  return HIDDEN_IN_NAMES.test(name.replace(FLAG_TAG_SEQUENCE, '\u{1F3F4}').replace(EMOJI_JOINER, ''))
}

/** The words of that refusal, on the wire (INVALID_ARGUMENT "name: …") and in the forms. */
const HIDDEN_CHARACTERS_MESSAGE = 'control, bidi-override or invisible characters are not allowed'

/** A name as stored and shown: NFC, trimmed, between `min` and `max` characters, nothing hidden. */
function visibleName(min: number, max: number) {
  return z
    .string()
    .transform((text) => text.normalize('NFC').trim())
    .pipe(
      z
        .string()
        .min(min)
        .max(max)
        .refine((text) => !hasHiddenCharacters(text), HIDDEN_CHARACTERS_MESSAGE),
    )
}

export const DisplayName = visibleName(1, LIMITS.displayNameMax)
/** At sign-up the display name may be left empty (the user id is shown instead). */
export const OptionalDisplayName = visibleName(0, LIMITS.displayNameMax)
export const GroupName = visibleName(1, LIMITS.groupNameMax)
export const Seq = z.number().int().nonnegative()

export const ConversationType = z.enum(['private', 'group'])
export type ConversationType = z.infer<typeof ConversationType>

/** A conversation as the seeds name it: the peer's user id, or the group id. */
export const Conversation = z.discriminatedUnion('type', [
  z.object({ type: z.literal('private'), targetId: UserId }),
  z.object({ type: z.literal('group'), targetId: GroupId }),
])
export type Conversation = z.infer<typeof Conversation>

export function conversationKey(c: Conversation): string {
  return `${c.type}:${c.targetId}`
}

const TextContent = z.object({
  type: z.literal('text'),
  text: z.string().min(1).max(LIMITS.textMax),
})
/**
 * What stays of a message recalled by its sender (issue 13, H1): the content is gone from the
 * server and every device; nobody can send it (server and engine refuse it in sendMessage).
 */
const RecalledContent = z.object({ type: z.literal('recalled') })
// Files and images (issue 13, H3): the message names a file uploaded to the server over HTTP
// (src/server/files), which serves it only to members who can see the message.
export const FileId = z.string().regex(/^f_[A-Za-z0-9_-]{22}$/, 'a file id looks like f_ and 22 characters')
/** A file's name: a visible name (no bidi overrides: "gpj.exe" must not pass as "exe.jpg"), no path. */
export const FileName = visibleName(1, LIMITS.fileNameMax).refine(
  (name) => !/[/\\]/.test(name) && name !== '.' && name !== '..',
  'a file name has no / or \\',
)
export const MimeType = z
  .string()
  .max(127)
  .regex(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i, 'a MIME type like image/png')
/** A small preview carried in the message itself: a JPEG, PNG or WebP data URL. */
export const Thumbnail = z
  .string()
  .max(LIMITS.thumbnailMax)
  .regex(/^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/]+={0,2}$/, 'a data:image/…;base64 URL')
const AttachedFile = {
  fileId: FileId,
  name: FileName,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  mime: MimeType,
}
const FileContent = z.object({ type: z.literal('file'), ...AttachedFile })
const ImageContent = z.object({
  type: z.literal('image'),
  ...AttachedFile,
  mime: MimeType.refine((mime) => mime.toLowerCase().startsWith('image/'), 'an image/… type'),
  width: z.number().int().min(1).max(100_000),
  height: z.number().int().min(1).max(100_000),
  thumbnail: Thumbnail,
})
export type AttachmentContent = z.infer<typeof FileContent> | z.infer<typeof ImageContent>
export const MessageContent = z.discriminatedUnion('type', [
  TextContent,
  RecalledContent,
  FileContent,
  ImageContent,
])
export type MessageContent = z.infer<typeof MessageContent>

export const GroupRole = z.enum(['owner', 'admin', 'member'])
export type GroupRole = z.infer<typeof GroupRole>

export const GroupMember = z.object({
  userId: UserId,
  displayName: z.string(),
  role: GroupRole,
  joinedAt: z.number(),
  /** H7: the member's picture (absent: none). */
  avatarFileId: FileId.optional(),
})
export type GroupMember = z.infer<typeof GroupMember>

/**
 * Group read-receipt limits (SPEC E8, the Easemob table): server defaults, overridable per group by
 * its owner. They govern both models (Easemob acks and RongCloud request/response).
 */
export const GroupReceiptSettings = z.object({
  /** Feature switch. */
  enabled: z.boolean(),
  /** Who may ask for receipts on their messages. */
  whoMayRequest: z.enum(['all', 'ownerAndAdmins']),
  /** Messages older than this get no acks (default 3 days). */
  validityMs: z.number().int().positive(),
  /** Groups with more members than this get no acks (default 200). */
  maxGroupSize: z.number().int().positive(),
  /** Who may see a message's read count and reader list. */
  countVisibility: z.enum(['sender', 'all']),
  /** Issue 15: acks of messages older than this are refused (ACK_EXPIRED); absent: no expiry. */
  ackValidityMs: z.number().int().positive().optional(),
})
export type GroupReceiptSettings = z.infer<typeof GroupReceiptSettings>

export const GroupInfo = z.object({
  groupId: GroupId,
  name: z.string(),
  ownerId: UserId,
  memberCount: z.number().int(),
  createdAt: z.number(),
  /** The caller's own role; absent once the caller has left or was removed. */
  myRole: GroupRole.optional(),
  /** The effective receipt limits of this group (server defaults merged with its overrides). */
  receiptSettings: GroupReceiptSettings,
  /** Current members who do not share read receipts here (absent: none): counted apart, never as "not read". */
  membersHidingReceipts: z.number().int().optional(),
  /** H7: the group's picture (a file id; absent: none). */
  avatarFileId: FileId.optional(),
})
export type GroupInfo = z.infer<typeof GroupInfo>

export const UserProfile = z.object({
  userId: UserId,
  displayName: z.string(),
  /** H7: the user's picture (a file id; absent: none, initials are shown) where the sender knows it. */
  avatarFileId: FileId.optional(),
})

/** Search (H2): what searchUsers looks for in ids and display names (NFC, trimmed, 1–64 characters). */
export const UserSearchQuery = z
  .string()
  .transform((text) => text.normalize('NFC').trim())
  .pipe(z.string().min(1).max(LIMITS.displayNameMax))

/**
 * An invitation to a group, waiting for me to accept or decline (on servers whose operator set
 * groupInvites to 'accept': nobody is made a member of a group without consent).
 */
export const GroupInvitation = z.object({
  groupId: GroupId,
  name: z.string(),
  invitedBy: UserId,
  at: z.number(),
})
export type GroupInvitation = z.infer<typeof GroupInvitation>
export type UserProfile = z.infer<typeof UserProfile>

/** RongCloud MessageDirection: SEND = 1, RECEIVE = 2. */
export const MessageDirection = { SEND: 1, RECEIVE: 2 } as const
export type MessageDirection = (typeof MessageDirection)[keyof typeof MessageDirection]

/**
 * Per-message receipt information as RongCloud 5.9.4+ carries it on history messages (R5),
 * extended with the reader list on the sender's side.
 */
const ReadReceiptInfo = z.object({
  isReceiptRequestMessage: z.boolean(),
  hasRespond: z.boolean(),
  /** Sender side: who answered the request, with the time of their answer (ms). */
  readerList: byUserId(z.number()).optional(),
  readCount: z.number().int().optional(),
  /** Members who could read the message when it was sent (the sender excluded). */
  totalCount: z.number().int().optional(),
})

/**
 * RongCloud MentionedInfo (issue 15, acks.ts): everyone of the group ('all'), or the members
 * listed ('some'). Here rather than in acks.ts because Message carries it.
 */
export const MentionedInfo = z
  .object({
    type: z.enum(['all', 'some']),
    userIdList: z.array(UserId).max(LIMITS.mentionMax).default([]),
  })
  .refine((m) => m.type === 'all' || m.userIdList.length > 0, 'a mention of some names at least one member')
export type MentionedInfo = z.infer<typeof MentionedInfo>

/** A quoted message as a reply shows it (issue 13, H1): who wrote it and its first words. */
export const MessageQuote = z.object({
  messageUId: MessageUId,
  state: z.enum(['ok', 'recalled', 'missing']),
  senderUserId: UserId.optional(),
  excerpt: z.string().optional(),
  /** The quoted message's local id here, to jump to it. */
  messageId: z.string().optional(),
})
export type MessageQuote = z.infer<typeof MessageQuote>

export const MessageStatus = z.enum(['sending', 'sent', 'failed'])
export type MessageStatus = z.infer<typeof MessageStatus>

/** A message as the renderer sees it (IPC): one row of the engine's SQLite history. */
export const Message = z.object({
  /** Stable local identity on this device: the engine's row id (not the client message id). */
  messageId: z.string(),
  /**
   * The engine bumps it on every change of this message's row (status, receipts, read flag, readers).
   * Of two copies of one message, the one with the higher revision is the current one.
   */
  revision: z.number().int(),
  /** Server id, null until the server has accepted the message. */
  messageUId: MessageUId.nullable(),
  conversation: Conversation,
  channelId: z.string(),
  senderUserId: UserId,
  messageDirection: z.union([z.literal(1), z.literal(2)]),
  content: MessageContent,
  /** Server timestamp (ms); the local write time until the server answers. */
  sentTime: z.number(),
  /** Per-conversation sequence number, null until sent. */
  seq: z.number().int().nullable(),
  status: MessageStatus,
  /** Why the server refused it, when status is 'failed' (a code of codes.ts and its words). */
  failure: z.object({ code: z.number().int(), msg: z.string() }).optional(),
  /**
   * Single chat: whether the message asked for a delivery receipt / a read receipt, as the server
   * stamped it when it accepted the message (the sender's Settings then, and for delivery the
   * pair's receipt budget). False in groups, and on my message until the server has accepted it.
   * A message that did not ask never gets that receipt: the UI says "receipts off", not "not yet".
   */
  needDeliveryAck: z.boolean(),
  needReadAck: z.boolean(),
  isDelivered: z.boolean(),
  deliveredTime: z.number().nullable(),
  isReceiverRead: z.boolean(),
  readTime: z.number().nullable(),
  /** Received side: not yet read by me. */
  isUnread: z.boolean(),
  /**
   * When this device wrote the message (mine, written here) or stored it (received): local time,
   * ms. Null for my messages written on another device, and for messages stored by older versions.
   */
  storedTime: z.number().nullable(),
  /**
   * Received side: when this device marked it read (I read it here, or heard that I read it on
   * another device). Null while unread, and for messages read before this version.
   */
  readByMeTime: z.number().nullable(),
  isNeedGroupAck: z.boolean(),
  groupAckCount: z.number().int(),
  /** Denominator for group counts: members who could read it at send time (sender excluded). */
  groupMemberCount: z.number().int(),
  readReceiptInfo: ReadReceiptInfo,
  // Reply, edit, recall (issue 13, H1); absent on a message that has none of them.
  /** The message this one quotes, as this device knows it (state 'missing': not stored here). */
  replyTo: MessageQuote.optional(),
  /** Edited by its sender: when last, and how many times (the current text is version editCount + 1). */
  editedTime: z.number().optional(),
  editCount: z.number().int().positive().optional(),
  /** Recalled by its sender: the content is gone (content.type 'recalled'). */
  recalledTime: z.number().optional(),
  // Acknowledgements and mentions (issue 15, acks.ts).
  /** The sender asks each recipient to acknowledge it. */
  needAck: z.boolean(),
  /** needAck, sender side: recipients who acknowledged so far (of groupMemberCount, or 1). */
  ackCount: z.number().int(),
  /** needAck, received side: when I acknowledged it (on any of my devices); null: not yet. */
  myAckTime: z.number().nullable(),
  /** Group: the members it mentions (RongCloud MentionedInfo). */
  mentionedInfo: MentionedInfo.optional(),
  /** Received side: it mentions me (by name, or everyone). */
  mentionsMe: z.boolean().optional(),
  /** Sender side: mentioned members who have read it, with when (live from mentionRead). */
  mentionReadBy: byUserId(z.number()).optional(),
})
export type Message = z.infer<typeof Message>

/**
 * RongCloud NotificationStatus, in words: 'notify' (OPEN) or 'doNotDisturb' (CLOSE, Easemob's "do
 * not disturb"). A muted chat still counts unread in its own row, but neither notifies, sounds nor
 * adds to the dock badge. A later level, mentions only, will be added here as a third value.
 */
export const NotificationStatus = z.enum(['notify', 'doNotDisturb'])
export type NotificationStatus = z.infer<typeof NotificationStatus>

export const ConversationSummary = z.object({
  conversation: Conversation,
  /** Peer display name or group name. */
  title: z.string(),
  lastMessage: Message.nullable(),
  unreadCount: z.number().int(),
  /** Highest server sequence known for the conversation. */
  lastSeq: z.number().int(),
  updatedAt: z.number(),
  /** My override of "send read receipts" here; null follows the account setting. */
  shareReadReceipts: z.boolean().nullable(),
  /**
   * Single chat: read receipts flow both ways (both share). Group: my reads are shared. When false,
   * the UI says receipts are hidden, never "not read".
   */
  readReceiptsShared: z.boolean(),
  // Drafts and notifications (issue 13, H5): kept on this device only.
  /** What was typed here and not sent (RongCloud getTextMessageDraft); '' when none. */
  draft: z.string(),
  /** Whether new messages here notify (RongCloud getConversationNotificationStatus). */
  notificationStatus: NotificationStatus,
})
export type ConversationSummary = z.infer<typeof ConversationSummary>

export const GroupReadAck = z.object({
  ackId: z.string(),
  messageUId: MessageUId,
  groupId: GroupId,
  from: UserId,
  timestamp: z.number(),
  ext: z.string().optional(),
  /** The message's ack count after this ack. */
  count: z.number().int(),
})
export type GroupReadAck = z.infer<typeof GroupReadAck>
