import { useDocumentVisibility, useEventListener, useWindowFocus } from '@vueuse/core'
import { onScopeDispose } from 'vue'
import { useI18n } from 'vue-i18n'
import type { NotificationRequest } from '../../../shared/ipc'
import { conversationKey, type Conversation, type Message } from '../../../shared/model'
import { callIm } from '../lib/im'
import { notificationPrefs, notifyingByChat, type Attention } from '../lib/notify'
import { quietNow } from '../lib/quietHours'
import { playMessageSound } from '../lib/sound'
import { useConversationsStore } from '../stores/conversations'
import { useGroupsStore } from '../stores/groups'
import { useSessionStore } from '../stores/session'

/** The longest message text a notification shows; the rest is in the app. */
const BODY_MAX = 200
/** A chat notifies at most once per this pause; what arrives meanwhile is said in one notification after it. */
const BURST_PAUSE_MS = 3000

/**
 * Desktop notifications and their sound (issue 13). The unread total of the window title is App.vue's
 * and of the dock badge the Electron host's (desktopNotifications.ts), both by notifiedUnreadTotal.
 *
 * The renderer decides, since it knows what the person is looking at: a received message notifies
 * unless its chat is open in a focused, visible window, or the chat is muted (lib/notify.ts). The
 * Electron host shows it as a system notification (showNotification); the headless host has none,
 * so the page shows it with the browser's Notification API. A click brings the window forward and
 * opens that chat, and only then does the read policy acknowledge what comes on screen: a
 * notification itself never reads anything.
 */
export function useNotifications(): void {
  const { t } = useI18n()
  const conversations = useConversationsStore()
  const groups = useGroupsStore()
  const focused = useWindowFocus()
  const visibility = useDocumentVisibility()
  /** Browser notifications still open, by chat: a click on one opens its chat; closed on logout. */
  const open = new Map<string, Notification>()

  const attention = (): Attention => ({
    activeKey: conversations.activeKey,
    attending: focused.value && visibility.value === 'visible',
  })

  function words(key: string, list: readonly Message[]): NotificationRequest {
    const last = list[list.length - 1]
    const summary = conversations.get(key)
    const group = last.conversation.type === 'group'
    const sender = group
      ? (groups.displayName(last.conversation.targetId, last.senderUserId) ?? last.senderUserId)
      : summary?.title || last.senderUserId
    const chat = summary?.title || last.conversation.targetId
    const title = group ? t('everyday.notify.titleGroup', { sender, chat }) : sender
    let body: string
    if (!notificationPrefs.value.showText)
      body = t('everyday.notify.hidden', { count: list.length }, list.length)
    else {
      const text = last.content.type === 'text' ? last.content.text : t('everyday.notify.hidden', 1)
      body = text.length > BODY_MAX ? `${text.slice(0, BODY_MAX)}…` : text
      if (list.length > 1) body = `${t('everyday.notify.more', { count: list.length }, list.length)} ${body}`
    }
    return { conversation: last.conversation, title, body }
  }

  function openChat(conversation: Conversation): void {
    conversations.open(conversation)
  }

  function showInPage(key: string, request: NotificationRequest): void {
    if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return
    open.get(key)?.close()
    // One per chat (tag): a newer message replaces the older notification instead of piling up.
    const notification = new Notification(request.title, { body: request.body, tag: key })
    notification.onclick = () => {
      window.focus()
      openChat(request.conversation)
      notification.close()
    }
    notification.onclose = () => {
      if (open.get(key) === notification) open.delete(key)
    }
    open.set(key, notification)
  }

  /** When each chat last notified, and what arrived since, held for one notification at the end of the pause. */
  const lastShown = new Map<string, number>()
  const held = new Map<string, { list: Message[]; timer: ReturnType<typeof setTimeout> }>()

  async function show(key: string, list: readonly Message[]): Promise<void> {
    lastShown.set(key, Date.now())
    if (notificationPrefs.value.sound) playMessageSound()
    const request = words(key, list)
    const result = await callIm(() => window.im.showNotification(request))
    if (result.code !== 0 || !result.data.shown) showInPage(key, request)
  }

  /** The held messages of a chat, once its pause is over: unless it was read or looked at meanwhile. */
  function flush(key: string): void {
    const entry = held.get(key)
    held.delete(key)
    if (!entry || !notificationPrefs.value.enabled || quietNow() || conversations.get(key)?.unreadCount === 0)
      return
    const still = notifyingByChat(entry.list, (k) => conversations.get(k), attention()).get(key)
    if (still) void show(key, still)
  }

  function notify(messages: Message[]): void {
    // Quiet hours (issue 15): no notification and no sound; the messages still count as unread.
    if (!notificationPrefs.value.enabled || quietNow()) return
    const byChat = notifyingByChat(messages, (key) => conversations.get(key), attention())
    for (const [key, list] of byChat) {
      // A burst in one chat is one notification (and one sound) per pause, not one per message.
      const since = Date.now() - (lastShown.get(key) ?? 0)
      const waiting = held.get(key)
      if (waiting) waiting.list.push(...list)
      else if (since >= BURST_PAUSE_MS) void show(key, list)
      else held.set(key, { list: [...list], timer: setTimeout(() => flush(key), BURST_PAUSE_MS - since) })
    }
  }

  // The browser asks once (headless host); Electron's notifications need no permission of the page.
  if (
    useSessionStore().appInfo?.host !== 'electron' &&
    typeof Notification !== 'undefined' &&
    Notification.permission === 'default'
  )
    void Notification.requestPermission().catch(() => undefined)

  // Coming back to the window closes the page's notifications of the chat now on screen.
  useEventListener(window, 'focus', () => {
    const key = conversations.activeKey
    if (key) open.get(key)?.close()
  })

  const unsubscribers = [
    window.im.on('messageReceived', notify),
    window.im.on('notificationClicked', (conversation) => {
      const key = conversationKey(conversation)
      open.get(key)?.close()
      openChat(conversation)
    }),
  ]
  onScopeDispose(() => {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    for (const notification of open.values()) notification.close()
    open.clear()
    for (const { timer } of held.values()) clearTimeout(timer)
    held.clear()
  })
}
