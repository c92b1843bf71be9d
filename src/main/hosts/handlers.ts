/**
 * The handler table: one entry per IPC operation of src/shared/ipc.ts. Both hosts (Electron's
 * ipcMain and the headless WebSocket) call `dispatch`, which validates the arguments with the
 * contract's zod tuple before any handler runs and turns every failure into a coded result.
 */
import { Code, CodedError, fail, ok, type Result } from '../../shared/codes'
import {
  ipcOperations,
  type NotificationRequest,
  type OperationName,
  type OperationResult,
  type ParsedOperationArgs,
} from '../../shared/ipc'
import type { Engine } from '../engine/engine'

/** A handler returns its data or throws a CodedError; dispatch turns both into a Result. */
type Handler<K extends OperationName> = (
  ...args: ParsedOperationArgs<K>
) => Promise<OperationResult<K>> | OperationResult<K>

export type HandlerTable = { [K in OperationName]: Handler<K> }

function unwrap<T>(r: Result<T>): T {
  if (r.code !== 0) throw new CodedError(r.code, r.msg)
  return r.data
}

/** What only a host can do (the Electron shell); the headless host has none of it. */
export interface HostHooks {
  /** Shows a desktop notification; false when it could not. */
  showNotification?(request: NotificationRequest): boolean
  /** Closes the notification shown with this tag, if it is still open (issue 15). */
  closeNotification?(tag: string): void
}

export function createHandlerTable(engine: Engine, host: HostHooks = {}): HandlerTable {
  return {
    getAppInfo: () => engine.appInfo(),
    // Files and images (issue 13, H3)
    stageFileChunk: (stageId, offset, base64) => engine.stageFileChunk(stageId, offset, base64),
    sendFile: (conversation, source, meta, options) => engine.sendFile(conversation, source, meta, options),
    getUploads: () => engine.getUploads(),
    cancelUpload: async (uploadId) => {
      await engine.cancelUpload(uploadId)
      return null
    },
    retryUpload: (uploadId, asFile) => {
      engine.retryUpload(uploadId, asFile ?? false)
      return null
    },
    downloadFile: (messageId) => engine.downloadFile(messageId),
    getDownload: (messageId) => engine.getDownload(messageId),
    getImageData: (messageId) => engine.getImageData(messageId),
    openDownload: async (messageId, action) => {
      await engine.openDownload(messageId, action)
      return null
    },
    register: async (input) => unwrap(await engine.register(input)),
    login: async (input) => unwrap(await engine.login(input)),
    logout: async () => unwrap(await engine.logout()),
    getCurrentUser: () => engine.currentUser(),
    getConnectionState: () => engine.connectionState,
    getSettings: () => engine.settings(),
    updateSettings: (patch) => engine.updateSettings(patch),
    getConversationList: () => engine.conversationList(),
    startPrivateChat: (userId) => engine.startPrivateChat(userId),
    setConversationReceiptSharing: (conversation, share) =>
      engine.setConversationReceiptSharing(conversation, share),
    getHistoryMessages: (conversation, options) =>
      engine.history(conversation, options.beforeSeq, options.count),
    sendMessage: (conversation, content, options) => engine.sendMessage(conversation, content, options),
    getUsers: (userIds) => engine.users(userIds),
    createGroup: (name, memberIds) => engine.groupOp('createGroup', { name, memberIds }),
    addGroupMembers: (groupId, userIds) => engine.groupOp('addGroupMembers', { groupId, userIds }),
    removeGroupMembers: (groupId, userIds) => engine.groupOp('removeGroupMembers', { groupId, userIds }),
    leaveGroup: (groupId) => engine.leaveGroup(groupId),
    transferGroupOwnership: (groupId, newOwnerId) => engine.transferGroupOwnership(groupId, newOwnerId),
    setGroupMemberRole: (groupId, userId, role) =>
      engine.groupOp('setGroupMemberRole', { groupId, userId, role }),
    getGroupMembers: (groupId) => engine.groupMembers(groupId),
    getGroupInfo: (groupId) => engine.groupInfo(groupId),
    getGroupInvites: () => engine.groupInvites(),
    // Message actions (issue 13, H1)
    editMessage: (messageId, text) => engine.editMessage(messageId, text),
    recallMessage: (messageId) => engine.recallMessage(messageId),
    deleteMessageForMe: (messageId) => engine.deleteMessageForMe(messageId),
    getMessageVersions: (messageId) => engine.messageVersions(messageId),
    getMessageActionSettings: () => engine.messageActionSettings(),
    // Search (issue 13, H2)
    searchMessages: (keyword, options) => engine.searchMessages(keyword, options),
    getMessagesAround: (conversation, messageId, count) =>
      engine.messagesAround(conversation, messageId, count),
    getNewerMessages: (conversation, afterSeq, count) => engine.newerMessages(conversation, afterSeq, count),
    searchUsers: (query, limit) => engine.searchUsers(query, limit),
    respondToGroupInvite: (groupId, accept) => engine.respondToGroupInvite(groupId, accept),
    ackMessageRead: (messageUId) => engine.ackMessageRead(messageUId),
    ackConversationRead: (conversation, upToSeq) => engine.ackConversationRead(conversation, upToSeq),
    ackGroupMessageRead: (messageUId, ext) => engine.ackGroupMessageRead(messageUId, ext),
    fetchGroupReadAcks: (messageUId, pageSize, startAckId) =>
      engine.fetchGroupReadAcks(messageUId, pageSize, startAckId),
    fetchGroupUnreadMembers: (messageUId, pageSize, startUserId) =>
      engine.fetchGroupUnreadMembers(messageUId, pageSize, startUserId),
    setGroupReceiptSettings: (groupId, settings) => engine.setGroupReceiptSettings(groupId, settings),
    sendReadReceiptRequest: (groupId, messageUId) => engine.sendReadReceiptRequest(groupId, messageUId),
    sendReadReceiptResponseV2: (groupId, messageList, channelId) =>
      engine.sendReadReceiptResponseV2(groupId, messageList, channelId),
    // Drafts and notifications (issue 13, H5)
    saveTextMessageDraft: (conversation, text) => engine.saveTextMessageDraft(conversation, text),
    getTextMessageDraft: (conversation) => engine.getTextMessageDraft(conversation),
    clearTextMessageDraft: (conversation) => engine.clearTextMessageDraft(conversation),
    setConversationNotificationStatus: (conversation, status) =>
      engine.setConversationNotificationStatus(conversation, status),
    getConversationNotificationStatus: (conversation) =>
      engine.getConversationNotificationStatus(conversation),
    showNotification: (request) => ({ shown: host.showNotification?.(request) ?? false }),
    closeNotification: (tag) => {
      host.closeNotification?.(tag)
      return null
    },
    // Typing, presence, profile (issue 13, H4)
    setTyping: (conversation, typing) => engine.setTyping(conversation, typing),
    getPresence: (userIds) => engine.getPresence(userIds),
    getPrivacySettings: () => engine.getPrivacySettings(),
    updatePrivacySettings: (patch) => engine.updatePrivacySettings(patch),
    updateProfile: (displayName) => engine.updateProfile(displayName),
    changePassword: (currentPassword, newPassword) => engine.changePassword(currentPassword, newPassword),
    renameGroup: (groupId, name) => engine.renameGroup(groupId, name),
    // Profile and group pictures (issue 13, H7)
    getAvatars: () => engine.getAvatars(),
    getAvatarImage: (fileId) => engine.getAvatarImage(fileId),
    setAvatar: (image) => engine.setAvatar(image ?? null),
    setGroupAvatar: (groupId, image) => engine.setGroupAvatar(groupId, image ?? null),
    // Acknowledgements, reminders, "Waiting for me", mentions (issue 15)
    ackMessage: (messageId) => engine.ackMessage(messageId),
    undoAckMessage: (messageId) => engine.undoAckMessage(messageId),
    getMessageAcks: (messageId, state, pageSize, cursor) =>
      engine.getMessageAcks(messageId, state, pageSize, cursor),
    remindUnacknowledged: (messageId) => engine.remindUnacknowledged(messageId),
    setAckReminderSchedule: (messageId, schedule) => engine.setAckReminderSchedule(messageId, schedule),
    getPendingAckMessages: (count) => engine.getPendingAckMessages(count),
    getMentionReads: (messageId) => engine.getMentionReads(messageId),
    exportMessageAcks: (messageId) => engine.exportMessageAcks(messageId),
    getAckSettings: () => engine.getAckSettings(),
  }
}

function describeIssue(issue: { path: PropertyKey[]; message: string }): string {
  const [index, ...rest] = issue.path
  const where = typeof index === 'number' ? `argument ${index + 1}` : 'arguments'
  return `${where}${rest.length ? ` (${rest.map(String).join('.')})` : ''}: ${issue.message}`
}

export type Dispatch = (op: string, args: unknown) => Promise<Result<unknown>>

export function createDispatcher(
  table: HandlerTable,
  log: (msg: string, err: unknown) => void = console.error,
): Dispatch {
  return async (op, args) => {
    if (!Object.hasOwn(ipcOperations, op))
      return fail(Code.UNKNOWN_OPERATION, `unknown operation "${String(op).slice(0, 64)}"`)
    const name = op as OperationName
    const parsed = ipcOperations[name].args.safeParse(Array.isArray(args) ? args : [])
    if (!Array.isArray(args) || !parsed.success) {
      const issue = parsed.success ? undefined : parsed.error.issues[0]
      return fail(Code.INVALID_ARGUMENT, issue ? describeIssue(issue) : 'arguments must be an array')
    }
    try {
      const handler = table[name] as (...a: unknown[]) => unknown
      return ok(await handler(...(parsed.data as unknown[])))
    } catch (err) {
      if (err instanceof CodedError) return fail(err.code, err.message)
      log(`operation ${name} failed:`, err)
      return fail(Code.INTERNAL, 'Something went wrong inside the app; the details are in its log.')
    }
  }
}
