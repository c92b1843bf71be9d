import { defineStore } from 'pinia'
import { ref, shallowReactive } from 'vue'
import type { Result } from '../../../shared/codes'
import { conversationKey, type Conversation, type UserProfile } from '../../../shared/model'
import type { PresenceInfo, PrivacySettings } from '../../../shared/presence'
import { callIm } from '../lib/im'
import { useGroupsStore } from './groups'
import { useSessionStore } from './session'

/**
 * Who types where and who is online (issue 13, H4): a copy of what the engine tells, which keeps it
 * in memory (typing expires there by itself). Presence is asked for once per user shown (`watch`),
 * then kept by the engine's presenceChanged; names that change (userChanged) reach the lists that
 * hold them.
 */
export const usePresenceStore = defineStore('presence', () => {
  const session = useSessionStore()
  const groups = useGroupsStore()
  const presenceById = shallowReactive(new Map<string, PresenceInfo>())
  const typingByKey = shallowReactive(new Map<string, string[]>())
  /** Users asked for already (or being asked for): asked once per session. */
  const asked = new Set<string>()
  /** Asked for while not connected: asked again once connected (the engine knew nothing of them). */
  const unanswered = new Set<string>()
  /** My privacy settings as the server holds them; null until loaded (Settings loads them). */
  const privacy = ref<PrivacySettings | null>(null)
  let unsubscribers: Array<() => void> = []

  function setPresence(list: PresenceInfo[]): void {
    for (const info of list) presenceById.set(info.userId, info)
  }

  function userChanged(user: UserProfile): void {
    const current = session.session
    if (current && user.userId === current.user.userId)
      session.session = { ...current, user: { ...current.user, displayName: user.displayName } }
    // Member lists hold names: those that list this user are loaded again.
    for (const groupId of groups.loadedGroupIds())
      if (groups.members(groupId)?.some((m) => m.userId === user.userId)) void groups.loadMembers(groupId)
  }

  function start(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      window.im.on('presenceChanged', setPresence),
      window.im.on('typingChanged', ({ conversation, userIds }) => {
        const key = conversationKey(conversation)
        if (userIds.length > 0) typingByKey.set(key, userIds)
        else typingByKey.delete(key)
      }),
      window.im.on('userChanged', userChanged),
      window.im.on('privacyChanged', (next) => {
        privacy.value = next
      }),
      // A single chat's first message makes the two contacts: what was hidden from a stranger may
      // show now, so a peer seen as hidden is asked again then (not on every later message).
      window.im.on('conversationChanged', (summaries) => {
        const peers = summaries
          .filter((c) => c.conversation.type === 'private' && c.lastSeq === 1)
          .map((c) => c.conversation.targetId)
          .filter((id) => presenceById.get(id)?.state === 'hidden')
        for (const id of peers) asked.delete(id)
        watch(peers)
      }),
      window.im.on('connectionState', ({ state }) => {
        if (state !== 'connected' || unanswered.size === 0) return
        const again = [...unanswered]
        unanswered.clear()
        for (const id of again) asked.delete(id)
        watch(again)
      }),
    ]
  }

  /** Makes sure the presence of these users is known (asked for once; pushes keep it). */
  function watch(userIds: readonly string[]): void {
    const wanted = [...new Set(userIds)].filter((id) => id !== session.userId && !asked.has(id))
    if (wanted.length === 0) return
    for (const id of wanted) asked.add(id)
    for (let i = 0; i < wanted.length; i += 100) {
      const page = wanted.slice(i, i + 100)
      void callIm(() => window.im.getPresence(page)).then((result) => {
        if (result.code !== 0) return
        setPresence(result.data)
        // Not connected: the engine answers what it knew, nothing of the rest; asked again once connected.
        const known = new Set(result.data.map((p) => p.userId))
        for (const id of page) if (!known.has(id)) unanswered.add(id)
      })
    }
  }

  function presenceOf(userId: string): PresenceInfo | undefined {
    return presenceById.get(userId)
  }

  function typingIn(conversation: Conversation): string[] {
    return typingByKey.get(conversationKey(conversation)) ?? []
  }

  async function loadPrivacy(): Promise<Result<PrivacySettings>> {
    const result = await callIm(() => window.im.getPrivacySettings())
    if (result.code === 0) privacy.value = result.data
    return result
  }

  async function updatePrivacy(patch: Partial<PrivacySettings>): Promise<Result<PrivacySettings>> {
    const result = await callIm(() => window.im.updatePrivacySettings(patch))
    if (result.code === 0) privacy.value = result.data
    return result
  }

  async function updateDisplayName(displayName: string): Promise<Result<UserProfile>> {
    const result = await callIm(() => window.im.updateProfile(displayName))
    if (result.code === 0) userChanged(result.data)
    return result
  }

  function changePassword(current: string, next: string): Promise<Result<{ sessionsEnded: number }>> {
    return callIm(() => window.im.changePassword(current, next))
  }

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    presenceById.clear()
    typingByKey.clear()
    asked.clear()
    unanswered.clear()
    privacy.value = null
  }

  return {
    start,
    stop,
    watch,
    presenceOf,
    typingIn,
    privacy,
    loadPrivacy,
    updatePrivacy,
    updateDisplayName,
    changePassword,
  }
})
