/**
 * One handler per server push (and per replayed event: syncEvents returns the same frames). Each
 * writes through the store, which decides receipt state, then emits the state event
 * (`messagesChanged`) and the SDK-named notification for API users.
 */
import type { Conversation } from '../../../shared/model'
import type { PushData, PushEvent, PushFrame } from '../../../shared/protocol'
import { emitChanged, emitConversations } from '../context'
import { announceDeletedForMe } from '../ops/deleteForMe'
import { notePendingAcks } from '../ops/acks'
import { noteGroupAvatars } from '../files/avatars'
import * as presence from '../ops/presence'
import { conversationOf } from '../store/rows'
import type { Sync } from './sync'

type Handlers = { [E in PushEvent]: (sync: Sync, data: PushData<E>) => void }

const handlers: Handlers = {
  message(sync, m) {
    const { ctx } = sync
    const c = conversationOf(ctx.me, m)
    const before = ctx.store.conversation(c)
    sync.ingest([m], true)
    presence.messageArrived(ctx, c, m.senderId)
    if (c.type === 'private' && ctx.store.displayName(c.targetId) === undefined) {
      void sync.learnUsers([c.targetId]).then(() => emitConversations(ctx, [c]))
    }
    // A gap before this message (a push lost while reconnecting, or between server nodes): pull it.
    if (before && m.seq > before.syncedSeq + 1) sync.pullConversation(c).catch(() => sync.retryLater())
    else if (!before && m.seq > 1) {
      // A conversation new here that began before this message: a single chat has no join mark;
      // a group's comes with the server's view of it.
      if (c.type === 'private') sync.pullConversation(c).catch(() => sync.retryLater())
      else void sync.refreshConversation(c)
    }
  },

  messageDelivered(sync, { messageUIds, by, at }) {
    const changed = sync.ctx.store.applyReceipts('delivered', messageUIds, by, at)
    emitChanged(sync.ctx, changed)
    if (changed.length > 0) sync.ctx.emit('messageDelivered', changed)
  },

  messageRead(sync, { messageUIds, by, at }) {
    const changed = sync.ctx.store.applyReceipts('read', messageUIds, by, at)
    emitChanged(sync.ctx, changed)
    if (changed.length > 0) sync.ctx.emit('messageRead', changed)
  },

  conversationRead(sync, { conversation, from, to, seq, at }) {
    const { ctx } = sync
    ctx.store.ensureConversation(conversation, '', ctx.now())
    if (from === ctx.me) {
      // My read mark, from another of my devices.
      const read = ctx.store.readConversation(conversation, seq, ctx.now(), false)
      emitChanged(ctx, read.changed)
      if (read.conversationChanged) emitConversations(ctx, [conversation])
    } else if (conversation.type === 'private') {
      const changed = ctx.store.applyPeerConversationRead(conversation, seq, at)
      emitChanged(ctx, changed)
      if (changed.length > 0) ctx.emit('messageRead', changed)
      // Some messages it covers are not here yet: they are marked once pulled.
      if ((ctx.store.conversation(conversation)?.syncedSeq ?? 0) < seq)
        sync.peerReadAfterPull(conversation, seq, at)
    }
    ctx.emit('conversationRead', { conversation, from, to, seq })
  },

  groupMessageRead(sync, { acks }) {
    emitChanged(sync.ctx, sync.ctx.store.applyGroupReadAcks(acks))
    sync.ctx.emit('groupMessageRead', acks)
  },

  groupReadCount(sync, { counts }) {
    emitChanged(sync.ctx, sync.ctx.store.applyGroupReadCounts(counts))
  },

  receiptRequest(sync, { groupId, channelId, messageUId, senderUserId, at }) {
    const changed = sync.ctx.store.markReceiptRequested(messageUId, at)
    if (changed) emitChanged(sync.ctx, [changed])
    const conversation: Conversation = { type: 'group', targetId: groupId }
    sync.ctx.emit('MESSAGE_RECEIPT_REQUEST', { conversation, messageUId, senderUserId, channelId })
  },

  receiptResponse(sync, { groupId, channelId, receivedUserId, messageUIdList, at }) {
    emitChanged(sync.ctx, sync.ctx.store.applyReceiptResponse(messageUIdList, receivedUserId, at))
    const conversation: Conversation = { type: 'group', targetId: groupId }
    sync.ctx.emit('MESSAGE_RECEIPT_RESPONSE', { conversation, receivedUserId, messageUIdList, channelId })
  },

  // Reply, edit, recall (H1): the store keeps only the newest edit, and a recall deletes the text.
  messageEdited(sync, { messageUId, content, editedAt, editCount }) {
    const changed = sync.ctx.store.applyEdit(messageUId, content, editedAt, editCount)
    emitChanged(sync.ctx, changed)
    emitConversations(sync.ctx, new Set(changed.map((m) => m.conversation)))
  },

  messageRecalled(sync, { messageUId, recalledAt }) {
    const changed = sync.ctx.store.applyRecall(messageUId, recalledAt)
    emitChanged(sync.ctx, changed)
    emitConversations(sync.ctx, new Set(changed.map((m) => m.conversation)))
    // Issue 15: a recalled message no longer waits for my ack.
    if (changed.some((m) => m.needAck)) notePendingAcks(sync.ctx)
  },

  // Acknowledgements and mentions (issue 15, store/acks.ts).
  messageAcked(sync, { messageUId, by, at, undone, count }) {
    const { ctx } = sync
    if (by === ctx.me) {
      // My ack (or its undo) on another device of mine, or this one's echo. An undo of an older ack
      // leaves a newer one of mine that still waits in the outbox.
      const changed = undone
        ? ctx.store.acks.clearMyAck(messageUId, true)
        : ctx.store.acks.applyMyAck(messageUId, at)
      if (changed) emitChanged(ctx, [changed])
      notePendingAcks(ctx)
    } else if (count !== undefined) {
      const changed = ctx.store.acks.setAckCount(messageUId, count)
      if (changed) emitChanged(ctx, [changed])
    }
  },

  ackReminder(sync, { conversation, messageUId, from, n }) {
    const { ctx } = sync
    const remind = (): boolean => {
      const row = ctx.store.messageByUid(messageUId)
      const message = row && ctx.store.view(row.localId)
      if (!message) return false
      // Acknowledged here already (the ack may still be on its way): nothing to remind of.
      if (message.myAckTime === null) ctx.emit('ackReminder', { message, from, n })
      return true
    }
    // A reminder of a message not here yet (its push was lost): pulled first, then told.
    if (!remind())
      sync
        .pullConversation(conversation)
        .then(() => ctx.isCurrent() && remind())
        .catch(() => sync.retryLater())
  },

  mentionRead(sync, { messageUId, userId, at }) {
    const changed = sync.ctx.store.acks.addMentionRead(messageUId, userId, at)
    if (changed) emitChanged(sync.ctx, [changed])
  },

  // H6: I deleted these for me on another device.
  messagesDeletedForMe(sync, { messageUIds }) {
    announceDeletedForMe(sync.ctx, sync.ctx.store.applyDeletedForMe(messageUIds, sync.ctx.now()))
  },

  // H8: I muted or unmuted a chat on another device (events come in the server's order).
  conversationNotificationStatusChanged(sync, { conversation, status }) {
    sync.ctx.store.ensureConversation(conversation, '', sync.ctx.now())
    if (sync.ctx.store.applyServerNotificationStatus(conversation, status))
      emitConversations(sync.ctx, [conversation])
  },

  groupChanged(sync, { groupId, group }) {
    if (group) sync.ctx.store.upsertGroup(group, sync.ctx.now())
    if (group) noteGroupAvatars(sync.ctx, [group])
    sync.ctx.emit('groupChanged', { groupId, group })
    // Membership changes move joined/left marks: re-read them, then pull what became visible.
    void sync.refreshConversation({ type: 'group', targetId: groupId })
  },

  settingsChanged(sync, { settings }) {
    sync.ctx.store.setSettings(settings)
    sync.ctx.emit('settingsChanged', settings)
  },

  sessionRevoked(sync) {
    sync.revoked()
  },

  resync(sync) {
    sync.resync()
  },

  groupInvitation(sync) {
    void sync.refreshInvites()
  },

  // Typing, presence, profile (H4): live state, kept in memory by ops/presence.ts.
  typing(sync, data) {
    presence.onTyping(sync.ctx, data)
  },

  presence(sync, info) {
    presence.onPresence(sync.ctx, info)
  },

  userChanged(sync, { user }) {
    presence.onUserChanged(sync.ctx, user)
  },

  privacyChanged(sync, { privacy }) {
    sync.ctx.emit('privacyChanged', privacy)
  },

  receiptSharingChanged(sync, { conversation, shareReadReceipts, readReceiptsShared }) {
    sync.ctx.store.ensureConversation(conversation, '', sync.ctx.now())
    if (sync.ctx.store.setReceiptSharing(conversation, shareReadReceipts, readReceiptsShared))
      emitConversations(sync.ctx, [conversation])
  },
}

export function applyPush(sync: Sync, frame: PushFrame): void {
  const handle = handlers[frame.event] as (sync: Sync, data: unknown) => void
  handle(sync, frame.data)
}
