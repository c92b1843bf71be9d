/**
 * The names of the IPC contract, without its schemas: what the preload needs to expose
 * `window.im`, kept free of zod so the sandboxed preload stays small. ipc.ts checks at compile
 * time that these lists match the contract exactly.
 */
export const operationNames = [
  'getAppInfo',
  'register',
  'login',
  'logout',
  'getCurrentUser',
  'getConnectionState',
  'getSettings',
  'updateSettings',
  'getConversationList',
  'startPrivateChat',
  'setConversationReceiptSharing',
  'getHistoryMessages',
  'sendMessage',
  'getUsers',
  'createGroup',
  'addGroupMembers',
  'removeGroupMembers',
  'leaveGroup',
  'setGroupMemberRole',
  'transferGroupOwnership',
  'getGroupMembers',
  'getGroupInfo',
  'getGroupInvites',
  'respondToGroupInvite',
  'ackMessageRead',
  'ackConversationRead',
  'ackGroupMessageRead',
  'fetchGroupReadAcks',
  'fetchGroupUnreadMembers',
  'setGroupReceiptSettings',
  'sendReadReceiptRequest',
  'sendReadReceiptResponseV2',
] as const

export const eventNames = [
  'connectionState',
  'syncProgress',
  'messageReceived',
  'messagesChanged',
  'conversationChanged',
  'groupChanged',
  'groupInvitesChanged',
  'settingsChanged',
  'sessionEnded',
  'messageDelivered',
  'messageRead',
  'conversationRead',
  'groupMessageRead',
  'MESSAGE_RECEIPT_REQUEST',
  'MESSAGE_RECEIPT_RESPONSE',
] as const

/** Electron channel names: one per operation, one for all events. */
export const IPC_CALL_PREFIX = 'im:'
export const IPC_EVENT_CHANNEL = 'im:event'
