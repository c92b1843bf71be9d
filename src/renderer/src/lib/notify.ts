/**
 * When a new message notifies, and the preferences that shape it (issue 13). Pure rules, so they
 * are tested without a window; useNotifications applies them. Nothing here reads a message: a
 * notification is never a read receipt.
 */
import { ref } from 'vue'
import {
  conversationKey,
  MessageDirection,
  type ConversationSummary,
  type Message,
} from '../../../shared/model'

export interface NotificationPrefs {
  /** Desktop notifications at all. */
  enabled: boolean
  /** Privacy: with false a notification says who wrote, never what. */
  showText: boolean
  /** A short sound with each notification. */
  sound: boolean
}

const DEFAULT_PREFS: NotificationPrefs = { enabled: true, showText: true, sound: true }
const PREFS_STORAGE_KEY = 'messenger.notifications'

function readStoredPrefs(): NotificationPrefs {
  try {
    const stored: unknown = JSON.parse(localStorage.getItem(PREFS_STORAGE_KEY) ?? '{}')
    if (typeof stored !== 'object' || stored === null) return { ...DEFAULT_PREFS }
    const prefs = { ...DEFAULT_PREFS }
    for (const key of Object.keys(DEFAULT_PREFS) as (keyof NotificationPrefs)[]) {
      const value = (stored as Record<string, unknown>)[key]
      if (typeof value === 'boolean') prefs[key] = value
    }
    return prefs
  } catch {
    // Unreadable or unavailable storage: the defaults.
    return { ...DEFAULT_PREFS }
  }
}

/** This profile's choice (localStorage is per profile in both hosts), shared by the whole window. */
export const notificationPrefs = ref<NotificationPrefs>(readStoredPrefs())

export function setNotificationPref(key: keyof NotificationPrefs, value: boolean): void {
  notificationPrefs.value = { ...notificationPrefs.value, [key]: value }
  try {
    localStorage.setItem(PREFS_STORAGE_KEY, JSON.stringify(notificationPrefs.value))
  } catch {
    // Not persisting is acceptable: the choice still holds for this window.
  }
}

export interface Attention {
  /** The chat on screen, by conversationKey (null: none). */
  activeKey: string | null
  /** The window has the focus and the page is visible: the open chat is being looked at. */
  attending: boolean
}

/**
 * Whether a message just received should notify: someone else's, still unread here (not read on
 * another of my devices meanwhile), in a chat that notifies, and not in the chat being looked at.
 * A mention of me (issue 15) notifies even in a muted chat; quiet hours (lib/quietHours) silence
 * everything, mentions too, and are checked where notifications are shown.
 */
export function shouldNotify(
  message: Message,
  summary: Pick<ConversationSummary, 'notificationStatus'> | undefined,
  attention: Attention,
): boolean {
  if (message.messageDirection !== MessageDirection.RECEIVE || !message.isUnread) return false
  if (summary?.notificationStatus === 'doNotDisturb' && message.mentionsMe !== true) return false
  return !(attention.attending && attention.activeKey === conversationKey(message.conversation))
}

/** The messages of one batch that notify, grouped by chat (one notification per chat, its newest last). */
export function notifyingByChat(
  messages: readonly Message[],
  summaryOf: (key: string) => Pick<ConversationSummary, 'notificationStatus'> | undefined,
  attention: Attention,
): Map<string, Message[]> {
  const byChat = new Map<string, Message[]>()
  for (const message of messages) {
    const key = conversationKey(message.conversation)
    if (!shouldNotify(message, summaryOf(key), attention)) continue
    const list = byChat.get(key)
    if (list) list.push(message)
    else byChat.set(key, [message])
  }
  for (const list of byChat.values()) list.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0))
  return byChat
}

/** The unread total of the dock badge and the window title: chats on do-not-disturb are left out. */
export function notifiedUnreadTotal(summaries: Iterable<ConversationSummary>): number {
  let total = 0
  for (const s of summaries) if (s.notificationStatus !== 'doNotDisturb') total += s.unreadCount
  return total
}
