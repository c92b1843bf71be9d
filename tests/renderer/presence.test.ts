// @vitest-environment happy-dom
/**
 * Typing, presence, avatars and profile in the renderer (issue 13, H4), against the fake window.im:
 * what is shown for each state, in English and Chinese, and "hidden" never shown as "offline".
 */
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, fail, ok } from '../../src/shared/codes'
import ChatPane from '@renderer/components/ChatPane.vue'
import ConversationItem from '@renderer/components/ConversationItem.vue'
import GroupRenameForm from '@renderer/components/GroupRenameForm.vue'
import PresencePrivacySettings from '@renderer/components/PresencePrivacySettings.vue'
import ProfileSettings from '@renderer/components/ProfileSettings.vue'
import UserAvatar from '@renderer/components/UserAvatar.vue'
import type { AppLocale } from '@renderer/i18n'
import { AVATAR_PALETTE, AVATAR_TEXT, avatarColor, contrastRatio, initials } from '@renderer/lib/avatar'
import { useConversationsStore } from '@renderer/stores/conversations'
import { useGroupsStore } from '@renderer/stores/groups'
import { usePresenceStore } from '@renderer/stores/presence'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeGroupInfo, makeSummary, ME, PEER, privateChat } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

async function signedIn(locale: AppLocale = 'en') {
  im.respond('getCurrentUser', () =>
    ok({ user: { userId: ME, displayName: 'Alice' }, serverUrl: 'ws://127.0.0.1:7700/ws', deviceId: 'd1' }),
  )
  im.respond('getConversationList', () => ok([makeSummary({ title: 'Bob' })]))
  // The composer's pending uploads (H3) are asked for when a chat opens: none here.
  im.respond('getUploads', () => ok([]))
  const app = createTestApp(locale)
  await useSessionStore().init()
  await useConversationsStore().start()
  useGroupsStore().start()
  usePresenceStore().start()
  return app
}

describe('avatars', () => {
  it('have a colour of their own id, with text at 4.5:1 or more on every colour', () => {
    for (const colour of AVATAR_PALETTE)
      expect(contrastRatio(colour, AVATAR_TEXT)).toBeGreaterThanOrEqual(4.5)
    expect(avatarColor('bob')).toBe(avatarColor('bob'))
    expect(new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map(avatarColor)).size).toBeGreaterThan(2)
  })

  it('show initials of the first and last words, graphemes whole', () => {
    expect(initials('alice smith')).toBe('AS')
    expect(initials('  Bob ')).toBe('B')
    expect(initials('张三')).toBe('张')
    expect(initials('👩‍💻 dev')).toBe('👩‍💻D')
    expect(initials('')).toBe('?')
  })

  it('take a picture when one is given, and say "online" beside the dot', async () => {
    const app = await signedIn()
    const pictured = app.mount(UserAvatar, { id: 'bob', name: 'Bob', imageUrl: 'blob:x', online: true })
    expect(pictured.find('img').attributes('src')).toBe('blob:x')
    expect(pictured.find('[data-testid="online-dot"]').text()).toBe('online')
  })
})

describe('typing', () => {
  it('says who types in the chat list row and the header, then nothing once they stop', async () => {
    const app = await signedIn()
    const row = app.mount(ConversationItem, { summary: makeSummary({ title: 'Bob' }), active: false })
    const pane = app.mount(ChatPane, { conversation: privateChat })
    im.emit('typingChanged', { conversation: privateChat, userIds: [PEER] })
    await flushPromises()
    expect(row.find('[data-testid="conversation-typing"]').text()).toBe('Bob is typing…')
    expect(pane.find('[data-testid="typing-indicator"]').text()).toBe('Bob is typing…')
    im.emit('typingChanged', { conversation: privateChat, userIds: [] })
    await flushPromises()
    expect(row.find('[data-testid="conversation-typing"]').exists()).toBe(false)
    expect(pane.find('[data-testid="typing-indicator"]').exists()).toBe(false)
  })

  it('in a group names one or two, and counts three or more, in Chinese too', async () => {
    im.respond('getGroupMembers', () =>
      ok(
        ['bob', 'carol', 'dave'].map((userId) => ({
          userId,
          displayName: userId[0]?.toUpperCase() + userId.slice(1),
          role: 'member' as const,
          joinedAt: 1,
        })),
      ),
    )
    const app = await signedIn('zh-CN')
    await useGroupsStore().loadMembers(groupChat.targetId)
    const row = app.mount(ConversationItem, {
      summary: makeSummary({ conversation: groupChat, title: 'Team' }),
      active: false,
    })
    const say = async (userIds: string[]) => {
      im.emit('typingChanged', { conversation: groupChat, userIds })
      await flushPromises()
      return row.find('[data-testid="conversation-typing"]').text()
    }
    expect(await say(['bob'])).toBe('Bob 正在输入…')
    expect(await say(['bob', 'carol'])).toBe('Bob 和 Carol 正在输入…')
    expect(await say(['bob', 'carol', 'dave'])).toBe('3 人正在输入…')
  })

  it('the composer tells the engine while the person types and when the box empties', async () => {
    const app = await signedIn()
    const pane = app.mount(ChatPane, { conversation: privateChat })
    const box = pane.find('[data-testid="composer-input"]')
    await box.setValue('h')
    await box.setValue('he')
    await box.setValue('')
    await flushPromises()
    expect(im.callsOf('setTyping')).toEqual([
      [privateChat, true],
      [privateChat, false],
    ])
  })
})

describe('presence', () => {
  const states = {
    online: { state: 'online' as const, lastSeenAt: null },
    hidden: { state: 'hidden' as const, lastSeenAt: null },
    offline: { state: 'offline' as const, lastSeenAt: Date.now() - 60_000 },
  }

  it('asks again, once connected, for people the engine knew nothing of while offline', async () => {
    const app = await signedIn()
    app.mount(ChatPane, { conversation: privateChat })
    await flushPromises()
    expect(im.callsOf('getPresence')).toEqual([[[PEER]]])
    im.respond('getPresence', () => ok([{ userId: PEER, state: 'online' as const, lastSeenAt: null }]))
    im.emit('connectionState', { state: 'connected' })
    await flushPromises()
    expect(im.callsOf('getPresence')).toEqual([[[PEER]], [[PEER]]])
    expect(usePresenceStore().presenceOf(PEER)?.state).toBe('online')
  })

  it('asks again when a first message makes a hidden stranger a contact', async () => {
    im.respond('getPresence', () => ok([{ userId: PEER, state: 'hidden' as const, lastSeenAt: null }]))
    const app = await signedIn()
    app.mount(ChatPane, { conversation: privateChat })
    await flushPromises()
    im.respond('getPresence', () => ok([{ userId: PEER, state: 'online' as const, lastSeenAt: null }]))
    im.emit('conversationChanged', [makeSummary({ title: 'Bob', lastSeq: 2 })])
    await flushPromises()
    expect(im.callsOf('getPresence')).toHaveLength(1)
    im.emit('conversationChanged', [makeSummary({ title: 'Bob', lastSeq: 1 })])
    await flushPromises()
    expect(im.callsOf('getPresence')).toHaveLength(2)
    expect(usePresenceStore().presenceOf(PEER)?.state).toBe('online')
  })

  it('the header says online, last seen, or "last seen hidden", never "offline"', async () => {
    const app = await signedIn()
    const pane = app.mount(ChatPane, { conversation: privateChat })
    await flushPromises()
    expect(im.callsOf('getPresence')).toEqual([[[PEER]]])
    const line = () => pane.find('[data-testid="presence-line"]')
    expect(line().exists()).toBe(false)
    for (const [name, state] of Object.entries(states)) {
      im.emit('presenceChanged', [{ userId: PEER, ...state }])
      await flushPromises()
      expect(line().attributes('data-state')).toBe(name)
      expect(line().text()).not.toMatch(/offline|离线/i)
    }
    expect(line().text()).toMatch(/^last seen today at /)
    im.emit('presenceChanged', [{ userId: PEER, ...states.hidden }])
    await flushPromises()
    expect(line().text()).toBe('last seen hidden')
    expect(pane.find('[data-testid="online-dot"]').exists()).toBe(false)
    im.emit('presenceChanged', [{ userId: PEER, ...states.online }])
    await flushPromises()
    expect(line().text()).toBe('online')
    expect(pane.find('[data-testid="online-dot"]').exists()).toBe(true)
  })
})

describe('profile and privacy settings', () => {
  it('saves the display name; the session shows it', async () => {
    im.respond('updateProfile', (displayName) => ok({ userId: ME, displayName }))
    const app = await signedIn()
    const form = app.mount(ProfileSettings)
    await form.find('[data-testid="profile-display-name"]').setValue('Alice Liddell')
    await form.find('[data-testid="profile-name-form"]').trigger('submit')
    await flushPromises()
    expect(im.callsOf('updateProfile')).toEqual([['Alice Liddell']])
    expect(useSessionStore().session?.user.displayName).toBe('Alice Liddell')
    expect(form.find('[role="status"]').text()).toBe('Name saved.')
  })

  it('a wrong current password is said in words; mismatched new ones are not sent', async () => {
    im.respond('changePassword', () => fail(Code.AUTH_FAILED, 'the current password is wrong'))
    const app = await signedIn()
    const form = app.mount(ProfileSettings)
    await form.find('[data-testid="profile-current-password"]').setValue('wrong one')
    await form.find('[data-testid="profile-new-password"]').setValue('a new password')
    await form.find('[data-testid="profile-confirm-password"]').setValue('another one!')
    expect(form.find('[data-testid="profile-password-problem"]').text()).toBe(
      'The two new passwords are not the same.',
    )
    expect(form.find('[data-testid="profile-change-password"]').attributes('disabled')).toBeDefined()
    await form.find('[data-testid="profile-confirm-password"]').setValue('a new password')
    await form.find('[data-testid="profile-password-form"]').trigger('submit')
    await flushPromises()
    expect(im.callsOf('changePassword')).toEqual([['wrong one', 'a new password']])
    expect(form.find('[data-testid="profile-password-error"]').text()).not.toBe('')
  })

  it('the privacy choices show what the engine holds and change it', async () => {
    im.respond('updatePrivacySettings', (patch) => ok({ typing: 'everyone', presence: 'contacts', ...patch }))
    const app = await signedIn()
    const section = app.mount(PresencePrivacySettings)
    await flushPromises()
    const presence = section.find<HTMLSelectElement>('[data-testid="privacy-presence"]')
    expect(presence.element.value).toBe('contacts')
    await presence.setValue('nobody')
    await flushPromises()
    expect(im.callsOf('updatePrivacySettings')).toEqual([[{ presence: 'nobody' }]])
    expect(section.text()).toContain('Contacts are people you have a single chat with')
  })

  it('follow a change made on another device', async () => {
    const app = await signedIn()
    const section = app.mount(PresencePrivacySettings)
    await flushPromises()
    im.emit('privacyChanged', { typing: 'nobody', presence: 'everyone' })
    await flushPromises()
    expect(section.find<HTMLSelectElement>('[data-testid="privacy-typing"]').element.value).toBe('nobody')
    expect(section.find<HTMLSelectElement>('[data-testid="privacy-presence"]').element.value).toBe('everyone')
  })

  it('renaming a group shows the engine’s refusal in words', async () => {
    im.respond('getGroupInfo', () => ok(makeGroupInfo({ name: 'Team' })))
    im.respond('renameGroup', () =>
      fail(Code.PERMISSION_DENIED, 'only the owner and admins may rename the group'),
    )
    const app = await signedIn()
    await useGroupsStore().loadInfo(groupChat.targetId)
    const form = app.mount(GroupRenameForm, { groupId: groupChat.targetId })
    const input = form.find<HTMLInputElement>('[data-testid="group-rename-input"]')
    expect(input.element.value).toBe('Team')
    await input.setValue('Dream team')
    await form.find('form').trigger('submit')
    await flushPromises()
    expect(im.callsOf('renameGroup')).toEqual([[groupChat.targetId, 'Dream team']])
    expect(form.find('[data-testid="group-rename-error"]').text()).not.toBe('')
  })
})
