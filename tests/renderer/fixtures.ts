import type { Conversation, ConversationSummary, GroupInfo, Message } from '../../src/shared/model'

let counter = 0

function messageUIdFor(n: number): string {
  const digits = String(n).padStart(4, '0')
  return `TEST-0000-0000-${digits}`
}

export const ME = 'alice'
export const PEER = 'bob'
export const privateChat: Conversation = { type: 'private', targetId: PEER }
export const groupChat: Conversation = { type: 'group', targetId: 'g_team' }

/** A message with every field filled; by default one received from the peer in the private chat. */
export function makeMessage(overrides: Partial<Message> = {}): Message {
  counter += 1
  const seq = overrides.seq === undefined ? counter : overrides.seq
  return {
    messageId: `m${counter}`,
    revision: 1,
    messageUId: messageUIdFor(counter),
    conversation: privateChat,
    channelId: '',
    senderUserId: PEER,
    messageDirection: 2,
    content: { type: 'text', text: `message ${counter}` },
    sentTime: 1_700_000_000_000 + counter * 1000,
    seq,
    status: 'sent',
    needDeliveryAck: true,
    needReadAck: true,
    isDelivered: false,
    deliveredTime: null,
    isReceiverRead: false,
    readTime: null,
    isUnread: false,
    storedTime: null,
    readByMeTime: null,
    isNeedGroupAck: false,
    groupAckCount: 0,
    groupMemberCount: 0,
    readReceiptInfo: { isReceiptRequestMessage: false, hasRespond: false },
    // Issue 15: no acknowledgement asked, nobody mentioned.
    needAck: false,
    ackCount: 0,
    myAckTime: null,
    ...overrides,
  }
}

export function makeSent(overrides: Partial<Message> = {}): Message {
  return makeMessage({ senderUserId: ME, messageDirection: 1, ...overrides })
}

/**
 * One of my group messages that asked for read acks (Easemob), with its counts where the engine puts
 * them: readReceiptInfo.readCount / totalCount, and the same numbers as groupAckCount / groupMemberCount.
 */
export function makeGroupAckMessage(count: number, total: number, overrides: Partial<Message> = {}): Message {
  return makeSent({
    conversation: groupChat,
    isNeedGroupAck: true,
    groupAckCount: count,
    groupMemberCount: total,
    readReceiptInfo: {
      isReceiptRequestMessage: false,
      hasRespond: false,
      readCount: count,
      totalCount: total,
    },
    ...overrides,
  })
}

/** The engine's next copy of a message whose group read count grew (a new revision). */
export function withGroupReads(message: Message, count: number): Message {
  return {
    ...message,
    revision: message.revision + 1,
    groupAckCount: message.isNeedGroupAck ? count : message.groupAckCount,
    readReceiptInfo: { ...message.readReceiptInfo, readCount: count },
  }
}

export function makeSummary(overrides: Partial<ConversationSummary> = {}): ConversationSummary {
  return {
    conversation: privateChat,
    title: 'Bob',
    lastMessage: null,
    unreadCount: 0,
    lastSeq: 0,
    updatedAt: 1_700_000_000_000,
    shareReadReceipts: null,
    readReceiptsShared: true,
    draft: '',
    notificationStatus: 'notify',
    ...overrides,
  }
}

export function makeGroupInfo(overrides: Partial<GroupInfo> = {}): GroupInfo {
  return {
    groupId: groupChat.targetId,
    name: 'Team',
    ownerId: ME,
    memberCount: 3,
    createdAt: 1,
    receiptSettings: {
      enabled: true,
      whoMayRequest: 'all',
      validityMs: 3 * 24 * 3600 * 1000,
      maxGroupSize: 200,
      countVisibility: 'all',
    },
    ...overrides,
  }
}
