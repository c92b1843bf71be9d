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

/** Every request operation of the protocol; the type makes a missing handler a compile error. */
export const handlers: OpTable = {
  sendMessage,
  syncState,
  pullMessages,
  syncEvents,
  getUsers,
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
}
