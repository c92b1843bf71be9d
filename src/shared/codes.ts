/**
 * Result codes shared by the wire protocol and the IPC contract.
 * Every operation resolves to `{ code, msg?, data? }`; `code 0` is success.
 * The table in docs/CODES.md is generated from (and tested against) this object.
 */
export const Code = {
  OK: 0,

  // 1xxx: the request itself is wrong
  INVALID_ARGUMENT: 1001,
  BAD_FRAME: 1002,
  UNKNOWN_OPERATION: 1003,
  FRAME_TOO_LARGE: 1004,
  RATE_LIMITED: 1005,

  // 2xxx: identity and session
  NOT_LOGGED_IN: 2001,
  AUTH_FAILED: 2002,
  USER_EXISTS: 2003,
  USER_NOT_FOUND: 2004,
  TOKEN_INVALID: 2005,
  SERVER_UNREACHABLE: 2006,
  REGISTRATION_CLOSED: 2007,
  INVITE_INVALID: 2008,
  INSECURE_TRANSPORT: 2009,

  // 3xxx: conversations and groups
  NOT_A_MEMBER: 3001,
  GROUP_NOT_FOUND: 3002,
  PERMISSION_DENIED: 3003,
  CANNOT_CHAT_WITH_SELF: 3004,
  OWNER_CANNOT_LEAVE: 3005,
  NEW_OWNER_NOT_A_MEMBER: 3006,
  ALREADY_OWNER: 3007,
  // 31xx: message actions (issue 13, H1: reply, edit, recall)
  MESSAGE_RECALLED: 3101,
  RECALL_WINDOW_PASSED: 3102,
  MESSAGE_NOT_EDITABLE: 3103,

  // 33xx: files and images (H3)
  FILE_NOT_FOUND: 3301,
  FILE_TOO_LARGE: 3302,
  IMAGE_TOO_LARGE: 3303,
  UPLOAD_OFFSET_MISMATCH: 3304,
  UPLOAD_INCOMPLETE: 3305,
  LOCAL_FILE_UNREADABLE: 3306,
  // profile and group pictures (H7)
  AVATAR_NOT_IMAGE: 3307,
  AVATAR_TOO_LARGE: 3308,

  // 34xx: profile, typing and presence (H4)
  SAME_PASSWORD: 3401,

  // 4xxx: messages and receipts
  MESSAGE_NOT_FOUND: 4001,
  NOT_MESSAGE_RECEIVER: 4002,
  NOT_MESSAGE_SENDER: 4003,
  RECEIPT_NOT_APPLICABLE: 4004,
  GROUP_ACK_DISABLED: 4101,
  GROUP_ACK_NOT_ALLOWED: 4102,
  GROUP_ACK_EXPIRED: 4103,
  GROUP_TOO_LARGE: 4104,
  GROUP_ACK_COUNT_HIDDEN: 4105,
  RECEIPT_REQUEST_EXPIRED: 4106,
  QUOTA_EXCEEDED: 4201,
  // 43xx: acknowledgements, reminders and mentions (issue 15, acks.ts)
  ACK_NOT_REQUESTED: 4301,
  NOT_AN_ACK_RECIPIENT: 4302,
  ACK_NOT_FOUND: 4303,
  ACK_UNDO_WINDOW_PASSED: 4304,
  REMINDER_LIMIT_REACHED: 4305,
  REMINDER_TOO_SOON: 4306,
  ACK_EXPIRED: 4307,
  MENTION_NOT_A_MEMBER: 4308,

  // 5xxx: this side failed
  INTERNAL: 5000,
  TIMEOUT: 5001,
  SERVER_BUSY: 5002,
  UNAVAILABLE: 5003,

  // 6xxx: the local profile
  PROFILE_DATABASE_TOO_NEW: 6001,
  PROFILE_DATABASE_CORRUPT: 6002,
} as const

export type CodeName = keyof typeof Code
export type CodeValue = (typeof Code)[CodeName]

/** What each code means, in words a user (or a developer reading a log) can act on. */
export const codeDescriptions: Record<CodeName, string> = {
  OK: 'Success.',
  INVALID_ARGUMENT: 'An argument is missing or has the wrong type or size; msg names it.',
  BAD_FRAME: 'A frame could not be parsed as a protocol envelope.',
  UNKNOWN_OPERATION: 'The operation name is not part of the protocol.',
  FRAME_TOO_LARGE: 'The frame exceeds the server maxPayload; the connection is closed.',
  RATE_LIMITED: 'Too many requests in a short time; retry later.',
  NOT_LOGGED_IN: 'No session: log in first.',
  AUTH_FAILED: 'Wrong user id or password.',
  USER_EXISTS: 'That user id is already registered.',
  USER_NOT_FOUND: 'No user with that id.',
  TOKEN_INVALID: 'The session token is unknown, expired or revoked: log in again.',
  SERVER_UNREACHABLE: 'The IM server did not answer.',
  REGISTRATION_CLOSED: 'This server does not take new accounts; ask its operator for one.',
  INVITE_INVALID:
    'Registering here needs an invite code from the operator; this one is missing, unknown, used or expired.',
  INSECURE_TRANSPORT:
    'The server address is ws:// or http:// to another machine: the password would cross the network in clear. Use wss://, or opt in to an unencrypted connection.',
  NOT_A_MEMBER: 'The caller is not a member of that conversation.',
  GROUP_NOT_FOUND: 'No group with that id.',
  PERMISSION_DENIED: 'The caller’s role does not allow this (owner or admin needed).',
  CANNOT_CHAT_WITH_SELF: 'A single chat needs another user.',
  OWNER_CANNOT_LEAVE:
    'The group owner cannot leave the group: transfer ownership to another member first (transferGroupOwnership).',
  NEW_OWNER_NOT_A_MEMBER: 'Ownership can pass only to a current member of the group.',
  ALREADY_OWNER: 'That member already owns the group: choose another member.',
  MESSAGE_RECALLED: 'That message was recalled by its sender: it can no longer be edited, quoted or read.',
  RECALL_WINDOW_PASSED:
    'Too late to recall this message for everyone: the server allows it only for a while after sending (recallWindowMs). Delete it for me instead.',
  MESSAGE_NOT_EDITABLE: 'Only text messages can be edited.',
  FILE_NOT_FOUND:
    'No such file, or not one you may see: a file is served to its uploader and to the members who can see the message that carries it.',
  FILE_TOO_LARGE: 'The file is larger than this server accepts (its max file size setting).',
  IMAGE_TOO_LARGE:
    'The image is larger than this server accepts for images (its max image size setting); send it as a file.',
  UPLOAD_OFFSET_MISMATCH:
    'The chunk does not start where the upload stands: ask the upload for its offset and send from there.',
  UPLOAD_INCOMPLETE: 'The file has not been uploaded completely yet, so no message can carry it.',
  LOCAL_FILE_UNREADABLE:
    'The file on this computer could not be read (moved, deleted or changed while uploading).',
  AVATAR_NOT_IMAGE: 'A picture must be a WebP, JPEG or PNG image uploaded as an image: choose another file.',
  AVATAR_TOO_LARGE:
    'The picture is larger than a profile picture may be (256 KiB): let the app shrink it first.',
  SAME_PASSWORD: 'The new password is the current one: choose another (nothing was changed).',
  MESSAGE_NOT_FOUND: 'No message with that id (or it is no longer kept).',
  NOT_MESSAGE_RECEIVER: 'Only a receiver of the message may acknowledge it.',
  NOT_MESSAGE_SENDER: 'Only the sender of the message may do this.',
  RECEIPT_NOT_APPLICABLE:
    'This receipt does not apply to that message (wrong conversation type or not requested).',
  GROUP_ACK_DISABLED: 'Group read acks are switched off on this server or group.',
  GROUP_ACK_NOT_ALLOWED: 'Only the group owner and admins may ask for read acks in this group.',
  GROUP_ACK_EXPIRED: 'The message is older than the read-ack validity period.',
  GROUP_TOO_LARGE: 'The group has more members than the read-ack size limit.',
  GROUP_ACK_COUNT_HIDDEN: 'Only the sender may see read acks of this message.',
  RECEIPT_REQUEST_EXPIRED: 'Read receipts can be requested only shortly after sending.',
  QUOTA_EXCEEDED:
    'This account has reached its daily quota (messages, bytes of content or new groups); nothing was stored. It resets at 00:00 UTC.',
  ACK_NOT_REQUESTED: 'That message does not ask for an acknowledgement.',
  NOT_AN_ACK_RECIPIENT:
    'Only the recipients of a message (the members when it was sent, not its sender) acknowledge it.',
  ACK_NOT_FOUND: 'There is no acknowledgement of yours on that message to take back.',
  ACK_UNDO_WINDOW_PASSED: 'An acknowledgement can be taken back only shortly after giving it.',
  REMINDER_LIMIT_REACHED:
    'Everyone who has not acknowledged was already reminded of this message as many times as allowed.',
  REMINDER_TOO_SOON: 'A reminder for this message was sent a moment ago; wait before sending another.',
  ACK_EXPIRED: "This group's settings no longer take acknowledgements of a message this old.",
  MENTION_NOT_A_MEMBER: 'Only current members of a group can be mentioned in it.',
  INTERNAL: 'Unexpected failure; the details are in the log.',
  TIMEOUT: 'The server did not answer in time.',
  SERVER_BUSY: 'The server is too busy to check passwords right now; retry in a moment.',
  UNAVAILABLE:
    'The server cannot reach its database right now; nothing was saved. The connection stays open: retry in a moment.',
  PROFILE_DATABASE_TOO_NEW:
    'This profile’s history was written by a newer version of the app: update the app (the file is left as it is).',
  PROFILE_DATABASE_CORRUPT:
    'This profile’s history could not be read; it was set aside (renamed, not deleted) and is downloaded again from the server.',
}

const nameByValue = new Map<number, CodeName>(
  (Object.keys(Code) as CodeName[]).map((name) => [Code[name], name]),
)

export function codeName(code: number): CodeName | undefined {
  return nameByValue.get(code)
}

/** The result shape of every operation, on the wire and over IPC. */
export type Result<T> =
  { code: 0; msg?: undefined; data: T } | { code: Exclude<CodeValue, 0>; msg: string; data?: undefined }

export function ok<T>(data: T): Result<T> {
  return { code: 0, data }
}

export function fail<T = never>(code: Exclude<CodeValue, 0>, msg?: string): Result<T> {
  return { code, msg: msg ?? codeDescriptions[codeName(code) ?? 'INTERNAL'] }
}

/** An error carrying a protocol code, for code paths that must unwind (inside a transaction, say). */
export class CodedError extends Error {
  constructor(
    readonly code: Exclude<CodeValue, 0>,
    message?: string,
  ) {
    super(message ?? codeDescriptions[codeName(code) ?? 'INTERNAL'])
    this.name = 'CodedError'
  }
}
