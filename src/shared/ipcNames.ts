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
  // message actions (H1)
  'editMessage',
  'recallMessage',
  'deleteMessageForMe',
  'getMessageVersions',
  'getMessageActionSettings',
  // search (H2)
  'searchMessages',
  'getMessagesAround',
  'getNewerMessages',
  'searchUsers',
  // Drafts and notifications (issue 13, H5)
  'saveTextMessageDraft',
  'getTextMessageDraft',
  'clearTextMessageDraft',
  'setConversationNotificationStatus',
  'getConversationNotificationStatus',
  'showNotification',
  // Files and images (issue 13, H3)
  'stageFileChunk',
  'sendFile',
  'getUploads',
  'cancelUpload',
  'retryUpload',
  'downloadFile',
  'getDownload',
  'getImageData',
  'openDownload',
  // typing, presence, profile (H4)
  'setTyping',
  'getPresence',
  'getPrivacySettings',
  'updatePrivacySettings',
  'updateProfile',
  'changePassword',
  'renameGroup',
  // profile and group pictures (H7)
  'getAvatars',
  'getAvatarImage',
  'setAvatar',
  'setGroupAvatar',
  // acknowledgements, reminders, "Waiting for me", mentions (issue 15)
  'ackMessage',
  'undoAckMessage',
  'getMessageAcks',
  'remindUnacknowledged',
  'setAckReminderSchedule',
  'getPendingAckMessages',
  'getMentionReads',
  'exportMessageAcks',
  'getAckSettings',
  'closeNotification',
] as const

export const eventNames = [
  'connectionState',
  'syncProgress',
  'messageReceived',
  'messagesChanged',
  'messagesDeleted',
  'conversationChanged',
  'groupChanged',
  'groupInvitesChanged',
  'settingsChanged',
  'sessionEnded',
  'notificationClicked',
  'messageDelivered',
  'messageRead',
  'conversationRead',
  'groupMessageRead',
  'MESSAGE_RECEIPT_REQUEST',
  'MESSAGE_RECEIPT_RESPONSE',
  // Files and images (issue 13, H3)
  'uploadsChanged',
  'transferProgress',
  // typing, presence, profile (H4)
  'typingChanged',
  'presenceChanged',
  'userChanged',
  'privacyChanged',
  // profile and group pictures (H7)
  'avatarsChanged',
  // acknowledgements (issue 15)
  'ackReminder',
  'pendingAcksChanged',
] as const

/** Electron channel names: one per operation, one for all events. */
export const IPC_CALL_PREFIX = 'im:'
export const IPC_EVENT_CHANNEL = 'im:event'
