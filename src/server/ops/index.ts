import type { OpTable } from './context'
import {
  addGroupMembers,
  createGroup,
  getGroupMembers,
  leaveGroup,
  removeGroupMembers,
  setGroupMemberRole,
  transferGroupOwnership,
} from './groups'
import { pullMessages, sendMessage } from './messages'
import { editMessage, fetchMessageVersions, recallMessage } from './messageActions'
import { deleteMessagesForMe } from './deleteForMe'
import {
  ackGroupMessageRead,
  fetchGroupReadAcks,
  fetchGroupUnreadMembers,
  sendReadReceiptRequest,
  sendReadReceiptResponse,
  setGroupReceiptSettings,
} from './groupReceipts'
import { ackConversationRead, ackDelivered, ackMessageRead } from './receipts'
import { setConversationReceiptSharing } from './receiptPrivacy'
import { listGroupInvites, respondToGroupInvite } from './groupInvites'
import { getUsers, syncEvents, syncState, updateSettings } from './sync'
import { getPresence, getPrivacySettings, typing, updatePrivacySettings } from './presence'
import { renameGroup, updateProfile } from './profile'
import { searchUsers } from './userSearch'
import { setAvatar, setGroupAvatar } from './avatars'
import { setConversationNotificationStatus } from './mutedConversations'
import { ackMessage, fetchMentionReads, fetchMessageAcks, listPendingAcks, undoAckMessage } from './acks'
import { remindUnacknowledged, setAckReminderSchedule } from './ackReminders'

/** Every request operation of the protocol; the type makes a missing handler a compile error. */
export const handlers: OpTable = {
  sendMessage,
  syncState,
  pullMessages,
  syncEvents,
  getUsers,
  searchUsers,
  updateSettings,
  createGroup,
  addGroupMembers,
  removeGroupMembers,
  leaveGroup,
  setGroupMemberRole,
  transferGroupOwnership,
  setGroupReceiptSettings,
  getGroupMembers,
  ackDelivered,
  ackMessageRead,
  ackConversationRead,
  ackGroupMessageRead,
  fetchGroupReadAcks,
  fetchGroupUnreadMembers,
  sendReadReceiptRequest,
  sendReadReceiptResponse,
  setConversationReceiptSharing,
  listGroupInvites,
  respondToGroupInvite,
  // typing, presence and profile (H4)
  typing,
  getPresence,
  getPrivacySettings,
  updatePrivacySettings,
  updateProfile,
  renameGroup,
  editMessage,
  recallMessage,
  fetchMessageVersions,
  // delete for me on all my devices (H6)
  deleteMessagesForMe,
  // profile and group pictures (H7)
  setAvatar,
  setGroupAvatar,
  // mute per chat on all my devices (H8)
  setConversationNotificationStatus,
  // acknowledgements, reminders, "Waiting for me", mentions (issue 15)
  ackMessage,
  undoAckMessage,
  fetchMessageAcks,
  remindUnacknowledged,
  setAckReminderSchedule,
  listPendingAcks,
  fetchMentionReads,
}
