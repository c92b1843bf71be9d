/**
 * The dock / taskbar badge of the Electron host (issue 13): the unread messages of the chats that
 * notify; muted ones (do not disturb) are left out, as from the window title (renderer lib/notify.ts).
 */
import type { ConversationSummary } from '../../shared/model'

export function badgeCount(summaries: readonly ConversationSummary[]): number {
  let total = 0
  for (const s of summaries) if (s.notificationStatus !== 'doNotDisturb') total += s.unreadCount
  return total
}
