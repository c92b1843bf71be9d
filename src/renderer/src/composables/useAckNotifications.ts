import { onScopeDispose } from 'vue'
import { useI18n } from 'vue-i18n'
import type { IpcEvents, NotificationRequest } from '../../../shared/ipc'
import type { Message } from '../../../shared/model'
import { contentText } from '../lib/contentText'
import { callIm } from '../lib/im'
import { notificationPrefs } from '../lib/notify'
import { quietNow } from '../lib/quietHours'
import { playMessageSound } from '../lib/sound'
import { useConversationsStore } from '../stores/conversations'
import { useGroupsStore } from '../stores/groups'
import { useMessagesStore } from '../stores/messages'

/** The longest message text a reminder shows; the rest is in the app. */
const BODY_MAX = 200

/**
 * Reminders to acknowledge (issue 15): each `ackReminder` is a notification saying who reminds me
 * of what, with the app's sound, unless notifications are off or it is quiet hours (the message
 * still waits in "Waiting for me"). Each stays until I acknowledge the message, here or on another
 * device: the engine then pushes the message with `myAckTime` set and the notification is closed
 * (the headless host's browser Notification is kept for that). A click opens the message in its chat.
 */
export function useAckNotifications(): void {
  const { t } = useI18n()
  const conversations = useConversationsStore()
  const groups = useGroupsStore()
  const messages = useMessagesStore()
  /** Reminder notifications the page shows (headless host), by messageId. */
  const open = new Map<string, Notification>()
  /** Reminders the host shows (Electron), by messageId: closed through closeNotification. */
  const hostShown = new Set<string>()
  const tagOf = (messageId: string) => `ack:${messageId}`

  function nameOf(message: Message, userId: string): string {
    if (message.conversation.type === 'group')
      return groups.displayName(message.conversation.targetId, userId) ?? userId
    return conversations.get(`private:${userId}`)?.title || userId
  }

  function words({ message, from }: IpcEvents['ackReminder']): NotificationRequest {
    const title = t('acks.notify.title', { name: nameOf(message, from) })
    let body = t('acks.notify.hidden')
    if (notificationPrefs.value.showText) {
      const text = contentText(message, t)
      body = text.length > BODY_MAX ? `${text.slice(0, BODY_MAX)}…` : text
    }
    return { conversation: message.conversation, title, body, tag: tagOf(message.messageId) }
  }

  function showInPage(message: Message, request: NotificationRequest): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return
    open.get(message.messageId)?.close()
    // One per message: a second reminder of it replaces the first.
    const notification = new Notification(request.title, { body: request.body, tag: request.tag })
    notification.onclick = () => {
      window.focus()
      conversations.open(message.conversation)
      void messages.jumpTo(message.conversation, message.messageId)
      notification.close()
    }
    notification.onclose = () => {
      if (open.get(message.messageId) === notification) open.delete(message.messageId)
    }
    open.set(message.messageId, notification)
  }

  async function remind(reminder: IpcEvents['ackReminder']): Promise<void> {
    const { message } = reminder
    if (!notificationPrefs.value.enabled || quietNow() || message.myAckTime !== null) return
    // The reminder names who reminds: in a group, from its member list.
    const { conversation } = message
    if (conversation.type === 'group' && !groups.members(conversation.targetId))
      await groups.loadMembers(conversation.targetId)
    if (notificationPrefs.value.sound) playMessageSound()
    const request = words(reminder)
    const result = await callIm(() => window.im.showNotification(request))
    if (result.code === 0 && result.data.shown) hostShown.add(message.messageId)
    else showInPage(message, request)
  }

  /** Acknowledged (on any device) or undone-and-gone: its reminder has nothing left to ask. */
  function closeAcknowledged(changed: Message[]): void {
    for (const message of changed) {
      if (message.myAckTime === null) continue
      open.get(message.messageId)?.close()
      open.delete(message.messageId)
      if (hostShown.delete(message.messageId))
        void callIm(() => window.im.closeNotification(tagOf(message.messageId)))
    }
  }

  const unsubscribers = [
    window.im.on('ackReminder', (reminder) => void remind(reminder)),
    window.im.on('messagesChanged', closeAcknowledged),
    window.im.on('messageReceived', closeAcknowledged),
  ]
  onScopeDispose(() => {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    for (const notification of open.values()) notification.close()
    open.clear()
  })
}
