import { computed, onBeforeUnmount, watch, type ComputedRef, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { conversationKey, type Conversation } from '../../../shared/model'
import { callIm } from '../lib/im'
import { useConversationsStore } from '../stores/conversations'
import { useGroupsStore } from '../stores/groups'
import { usePresenceStore } from '../stores/presence'

/** At most one setTyping call per this many ms while the text changes (the engine coalesces further). */
const CALL_EVERY_MS = 1000

/**
 * "Alice is typing…", "Alice and Bob are typing…", "3 people are typing…", or '' when nobody
 * types in the conversation (issue 13, H4).
 */
export function useTypingText(conversation: () => Conversation): ComputedRef<string> {
  const { t } = useI18n()
  const presence = usePresenceStore()
  const groups = useGroupsStore()
  const conversations = useConversationsStore()
  const nameOf = (userId: string): string => {
    const c = conversation()
    if (c.type === 'group') return groups.displayName(c.targetId, userId) ?? userId
    return conversations.get(conversationKey({ type: 'private', targetId: userId }))?.title || userId
  }
  return computed(() => {
    const who = presence.typingIn(conversation())
    if (who.length === 0) return ''
    if (who.length === 1) return t('presence.typingOne', { name: nameOf(who[0] as string) })
    if (who.length === 2)
      return t('presence.typingTwo', { first: nameOf(who[0] as string), second: nameOf(who[1] as string) })
    return t('presence.typingMany', { count: who.length })
  })
}

/**
 * Tells the engine that I type while the person edits the composer's text (`edited`, on its input
 * events: a draft restored on opening is not typing), and that I stopped once the text is empty
 * (sent or cleared) or the chat closes.
 */
export function useTypingNotifier(conversation: () => Conversation, text: Ref<string>): { edited(): void } {
  let lastCall = 0
  let typingIn: Conversation | null = null
  const stopped = (): void => {
    if (!typingIn) return
    const c = typingIn
    typingIn = null
    lastCall = 0
    void callIm(() => window.im.setTyping(c, false))
  }
  const edited = (): void => {
    if (text.value.trim() === '') return stopped()
    const now = Date.now()
    if (typingIn && now - lastCall < CALL_EVERY_MS) return
    typingIn = conversation()
    lastCall = now
    const c = typingIn
    void callIm(() => window.im.setTyping(c, true))
  }
  watch(conversation, stopped)
  watch(text, (now) => {
    if (now.trim() === '') stopped()
  })
  onBeforeUnmount(stopped)
  return { edited }
}
