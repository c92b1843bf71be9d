// @vitest-environment happy-dom
/**
 * Issue 14, group controls: one "Ask who read" in the composer and on a sent message, with the
 * group's reason when it does not allow it and no stale errors; counts for members under
 * countVisibility 'all'; Transfer ownership instead of Leave for the owner; confirmations before
 * removing, leaving and logging out; refusals of a value in words; the composer's character counter.
 */
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import { LIMITS, type GroupInfo, type GroupMember } from '../../src/shared/model'
import AppSidebar from '@renderer/components/AppSidebar.vue'
import MemberPanel from '@renderer/components/MemberPanel.vue'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import MessageComposer from '@renderer/components/MessageComposer.vue'
import { useErrorText } from '@renderer/composables/useErrorText'
import { argumentProblem } from '@renderer/lib/argumentProblem'
import { useGroupsStore } from '@renderer/stores/groups'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeGroupInfo, makeMessage, makeSent, ME } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm
const groupId = groupChat.targetId
const testId = (w: VueWrapper, id: string) => w.find(`[data-testid="${id}"]`)

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

function signedIn(): void {
  useSessionStore().session = {
    user: { userId: ME, displayName: 'Alice' },
    serverUrl: 'ws://x/ws',
    deviceId: 'd',
  }
}

async function withGroup(info: GroupInfo, members?: GroupMember[]) {
  im.respond('getGroupInfo', () => ok(info))
  const groups = useGroupsStore()
  groups.start()
  await groups.loadInfo(groupId)
  if (members) {
    im.respond('getGroupMembers', () => ok(members))
    await groups.loadMembers(groupId)
  }
  return groups
}

const member = (userId: string, role: GroupMember['role'], joinedAt = 1): GroupMember => ({
  userId,
  displayName: userId === ME ? 'Alice' : userId[0]!.toUpperCase() + userId.slice(1),
  role,
  joinedAt,
})

describe('composer: one labelled "Ask who read" toggle', () => {
  it('says its state in words, and asks when on', async () => {
    const app = createTestApp('en')
    await withGroup(makeGroupInfo({ myRole: 'member' }))
    const wrapper = app.mount(MessageComposer, { conversation: groupChat, disabled: false })
    const toggle = () => wrapper.get('[data-testid="composer-group-ack"]')
    expect(toggle().text()).toBe('Ask who read off')
    expect(toggle().attributes('aria-pressed')).toBe('false')
    await toggle().trigger('click')
    expect(toggle().text()).toBe('Ask who read on')
    expect(toggle().attributes('aria-pressed')).toBe('true')
    expect(toggle().classes()).toContain('composer__ask--on')
    await wrapper.get('[data-testid="composer-input"]').setValue('who saw this?')
    await wrapper.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(im.callsOf('sendMessage')[0]?.[2]).toEqual({ isNeedGroupAck: true })
  })

  it('drops a refusal once the group’s settings change, or the refused text is edited', async () => {
    const app = createTestApp('en')
    const info = makeGroupInfo({ myRole: 'member' })
    await withGroup(info)
    im.respond('sendMessage', () => ({ code: Code.GROUP_ACK_NOT_ALLOWED, msg: 'refused' }))
    const wrapper = app.mount(MessageComposer, { conversation: groupChat, disabled: false })
    const sendAsking = async () => {
      await wrapper.get('[data-testid="composer-group-ack"]').trigger('click')
      await wrapper.get('[data-testid="composer-input"]').setValue('please read')
      await wrapper.get('[data-testid="composer-input"]').trigger('keydown', { key: 'Enter' })
      await flushPromises()
    }
    await sendAsking()
    expect(wrapper.get('[data-testid="composer-error"]').text()).toBe(
      'Only the group owner and admins can ask for read receipts in this group.',
    )
    // The owner lets everyone ask: the refusal is no longer true, so it goes.
    im.emit('groupChanged', {
      groupId,
      group: { ...info, receiptSettings: { ...info.receiptSettings, maxGroupSize: 150 } },
    })
    await flushPromises()
    expect(testId(wrapper, 'composer-error').exists()).toBe(false)

    await sendAsking()
    expect(testId(wrapper, 'composer-error').exists()).toBe(true)
    await wrapper.get('[data-testid="composer-input"]').setValue('please read, changed')
    await flushPromises()
    expect(testId(wrapper, 'composer-error').exists()).toBe(false)
  })

  it('counts characters near the limit and refuses, in words, to send a text over it', async () => {
    const wrapper = createTestApp('en').mount(MessageComposer, { conversation: groupChat, disabled: false })
    const input = wrapper.get('[data-testid="composer-input"]')
    await input.setValue('short')
    expect(testId(wrapper, 'composer-counter').exists()).toBe(false)
    await input.setValue('x'.repeat(LIMITS.textMax - 10))
    expect(wrapper.get('[data-testid="composer-counter"]').text()).toBe('10 characters left')
    expect(wrapper.get('[data-testid="composer-send"]').attributes('disabled')).toBeUndefined()
    await input.setValue('x'.repeat(LIMITS.textMax + 1))
    const counter = wrapper.get('[data-testid="composer-counter"]')
    expect(counter.text()).toBe(
      `1 character too long: a message can have at most ${LIMITS.textMax} characters. Shorten it to send.`,
    )
    expect(input.attributes('aria-invalid')).toBe('true')
    expect(input.attributes('aria-describedby')).toBe(counter.attributes('id'))
    expect(wrapper.get('[data-testid="composer-send"]').attributes('disabled')).toBeDefined()
    await input.trigger('keydown', { key: 'Enter' })
    await flushPromises()
    expect(im.callsOf('sendMessage')).toEqual([])
  })

  it('has the counter in Chinese too', async () => {
    const wrapper = createTestApp('zh-CN').mount(MessageComposer, {
      conversation: groupChat,
      disabled: false,
    })
    await wrapper.get('[data-testid="composer-input"]').setValue('x'.repeat(LIMITS.textMax + 3))
    expect(wrapper.get('[data-testid="composer-counter"]').text()).toContain('超出 3 个字符')
    expect(wrapper.get('[data-testid="composer-group-ack"]').text()).toBe('询问谁已读 关')
  })
})

describe('sent message: "Ask who read this"', () => {
  it('is named in words, and shows the group’s reason instead when the group does not allow it', async () => {
    const app = createTestApp('en')
    const info = makeGroupInfo({ myRole: 'member' })
    await withGroup(info)
    const message = makeSent({ conversation: groupChat, sentTime: Date.now() })
    const wrapper = app.mount(MessageBubble, { message, isGroup: true })
    expect(wrapper.get('[data-testid="request-receipts"]').text()).toBe('Ask who read this')
    expect(testId(wrapper, 'request-receipts-unavailable').exists()).toBe(false)

    im.emit('groupChanged', {
      groupId,
      group: { ...info, receiptSettings: { ...info.receiptSettings, whoMayRequest: 'ownerAndAdmins' } },
    })
    await flushPromises()
    expect(testId(wrapper, 'request-receipts').exists()).toBe(false)
    expect(wrapper.get('[data-testid="request-receipts-unavailable"]').text()).toBe(
      'Can’t ask who read this: Only the group owner and admins can ask for read receipts in this group.',
    )
  })

  it('drops a failed request’s error when the message changes or the settings do', async () => {
    const app = createTestApp('en')
    const info = makeGroupInfo({ myRole: 'member' })
    await withGroup(info)
    im.respond('sendReadReceiptRequest', () => ({ code: Code.RATE_LIMITED, msg: 'slow down' }))
    const message = makeSent({ conversation: groupChat, sentTime: Date.now() })
    const wrapper = app.mount(MessageBubble, { message, isGroup: true })
    await wrapper.get('[data-testid="request-receipts"]').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="message-error"]').text()).toBe(
      'Too many requests. Wait a moment and try again.',
    )
    // The request went through from another device: a new revision that asked.
    await wrapper.setProps({
      message: {
        ...message,
        revision: message.revision + 1,
        readReceiptInfo: { isReceiptRequestMessage: true, hasRespond: false, readCount: 0, totalCount: 2 },
      },
    })
    expect(testId(wrapper, 'message-error').exists()).toBe(false)
    expect(wrapper.get('[data-testid="message-group-reads"]').text()).toBe('0 of 2 read')

    await wrapper.setProps({ message })
    await wrapper.get('[data-testid="request-receipts"]').trigger('click')
    await flushPromises()
    expect(testId(wrapper, 'message-error').exists()).toBe(true)
    im.emit('groupChanged', {
      groupId,
      group: { ...info, receiptSettings: { ...info.receiptSettings, enabled: false } },
    })
    await flushPromises()
    expect(testId(wrapper, 'message-error').exists()).toBe(false)
  })
})

describe('countVisibility: who sees "n of m read" on others’ messages', () => {
  const theirs = () =>
    makeMessage({
      conversation: groupChat,
      senderUserId: 'bob',
      isNeedGroupAck: true,
      groupAckCount: 1,
      groupMemberCount: 2,
      // As the engine gives it: the count in Easemob's names, no sender-side readReceiptInfo counts.
      readReceiptInfo: { isReceiptRequestMessage: false, hasRespond: true },
    })

  it('shows a member the count of another member’s message that asked when it is all', async () => {
    const app = createTestApp('en')
    await withGroup(makeGroupInfo({ myRole: 'member' }))
    const wrapper = app.mount(MessageBubble, { message: theirs(), isGroup: true })
    expect(wrapper.get('[data-testid="message-group-reads"]').text()).toBe('1 of 2 read')
    // A RongCloud request on someone else's message counts the same way.
    const requested = makeMessage({
      conversation: groupChat,
      senderUserId: 'bob',
      groupAckCount: 2,
      groupMemberCount: 2,
      readReceiptInfo: { isReceiptRequestMessage: true, hasRespond: true },
    })
    const other = app.mount(MessageBubble, { message: requested, isGroup: true })
    expect(other.get('[data-testid="message-group-reads"]').text()).toBe('Read by everyone')
  })

  it('shows nothing of it when it is the sender only, and hides it as soon as it changes to that', async () => {
    const app = createTestApp('en')
    const info = makeGroupInfo({ myRole: 'member' })
    await withGroup(info)
    const wrapper = app.mount(MessageBubble, { message: theirs(), isGroup: true })
    expect(testId(wrapper, 'message-group-reads').exists()).toBe(true)
    im.emit('groupChanged', {
      groupId,
      group: { ...info, receiptSettings: { ...info.receiptSettings, countVisibility: 'sender' } },
    })
    await flushPromises()
    expect(testId(wrapper, 'message-group-reads').exists()).toBe(false)
    // A plain message of theirs never shows a count.
    const plain = app.mount(MessageBubble, {
      message: makeMessage({ conversation: groupChat }),
      isGroup: true,
    })
    expect(testId(plain, 'message-group-reads').exists()).toBe(false)
  })
})

describe('member panel: ownership and confirmations', () => {
  const team = [member(ME, 'owner'), member('bob', 'member', 2), member('carol', 'member', 3)]

  it('offers the owner Transfer ownership instead of Leave, transfers after a yes, then lets them leave', async () => {
    const app = createTestApp('en')
    signedIn()
    await withGroup(makeGroupInfo({ myRole: 'owner' }), team)
    const wrapper = app.mount(MemberPanel, { groupId })
    await flushPromises()
    expect(testId(wrapper, 'leave-group').exists()).toBe(false)
    expect(wrapper.get('[data-testid="owner-leave-hint"]').text()).toContain(
      'Transfer ownership to another member first',
    )

    await wrapper.get('[data-testid="transfer-ownership"]').trigger('click')
    const dialog = wrapper.get('[data-testid="confirm-dialog"]')
    expect(dialog.get('[role="dialog"]').attributes('aria-label')).toBe('Transfer ownership')
    await dialog.get('[data-testid="transfer-owner-select"]').setValue('carol')
    expect(dialog.get('[data-testid="confirm-message"]').text()).toContain(
      'Carol will become the group’s owner',
    )

    // Cancel changes nothing.
    await dialog.get('[data-testid="confirm-cancel"]').trigger('click')
    expect(testId(wrapper, 'confirm-dialog').exists()).toBe(false)
    expect(im.callsOf('transferGroupOwnership')).toEqual([])

    im.respond('transferGroupOwnership', (_g, newOwnerId) =>
      ok(makeGroupInfo({ myRole: 'admin', ownerId: newOwnerId })),
    )
    const after = [member(ME, 'admin'), member('bob', 'member', 2), member('carol', 'owner', 3)]
    im.respond('getGroupMembers', () => ok(after))
    await wrapper.get('[data-testid="transfer-ownership"]').trigger('click')
    await wrapper.get('[data-testid="transfer-owner-select"]').setValue('carol')
    await wrapper.get('[data-testid="confirm-accept"]').trigger('click')
    await flushPromises()
    expect(im.callsOf('transferGroupOwnership')).toEqual([[groupId, 'carol']])
    expect(testId(wrapper, 'confirm-dialog').exists()).toBe(false)
    expect(testId(wrapper, 'transfer-ownership').exists()).toBe(false)
    expect(wrapper.get('[data-testid="member-item"][data-user-id="carol"]').attributes('data-role')).toBe(
      'owner',
    )

    // Now an admin: Leave, after a yes.
    await wrapper.get('[data-testid="leave-group"]').trigger('click')
    expect(wrapper.get('[data-testid="confirm-message"]').text()).toContain('Leave this group?')
    expect(im.callsOf('leaveGroup')).toEqual([])
    im.respond('leaveGroup', () => ok(null))
    await wrapper.get('[data-testid="confirm-accept"]').trigger('click')
    await flushPromises()
    expect(im.callsOf('leaveGroup')).toEqual([[groupId]])
    expect(wrapper.emitted('close')).toHaveLength(1)
  })

  it('keeps the transfer dialog open with the refusal in words', async () => {
    const app = createTestApp('en')
    signedIn()
    await withGroup(makeGroupInfo({ myRole: 'owner' }), team)
    im.respond('transferGroupOwnership', () => ({ code: Code.NEW_OWNER_NOT_A_MEMBER, msg: 'bob left' }))
    const wrapper = app.mount(MemberPanel, { groupId })
    await flushPromises()
    await wrapper.get('[data-testid="transfer-ownership"]').trigger('click')
    await wrapper.get('[data-testid="confirm-accept"]').trigger('click')
    await flushPromises()
    expect(im.callsOf('transferGroupOwnership')).toEqual([[groupId, 'bob']])
    expect(wrapper.get('[data-testid="confirm-error"]').text()).toBe(
      'Ownership can only go to someone who is a member of the group now.',
    )
    expect(testId(wrapper, 'confirm-dialog').exists()).toBe(true)
  })

  it('removes a member only after a yes', async () => {
    const app = createTestApp('en')
    signedIn()
    await withGroup(makeGroupInfo({ myRole: 'owner' }), team)
    im.respond('removeGroupMembers', () => ok(makeGroupInfo({ myRole: 'owner', memberCount: 2 })))
    const wrapper = app.mount(MemberPanel, { groupId })
    await flushPromises()
    await wrapper
      .get('[data-testid="member-item"][data-user-id="bob"] [data-testid="remove-member"]')
      .trigger('click')
    expect(wrapper.get('[data-testid="confirm-message"]').text()).toBe(
      'Remove Bob from the group? They will no longer see new messages.',
    )
    expect(document.activeElement?.getAttribute('data-testid')).toBe('confirm-cancel')
    expect(im.callsOf('removeGroupMembers')).toEqual([])
    await wrapper.get('[data-testid="confirm-accept"]').trigger('click')
    await flushPromises()
    expect(im.callsOf('removeGroupMembers')).toEqual([[groupId, ['bob']]])
    expect(testId(wrapper, 'confirm-dialog').exists()).toBe(false)
  })

  it('a plain member leaves only after a yes; Escape is a no', async () => {
    const app = createTestApp('en')
    signedIn()
    await withGroup(makeGroupInfo({ myRole: 'member', ownerId: 'bob' }), [
      member('bob', 'owner'),
      member(ME, 'member', 2),
    ])
    const wrapper = app.mount(MemberPanel, { groupId })
    await flushPromises()
    expect(testId(wrapper, 'transfer-ownership').exists()).toBe(false)
    await wrapper.get('[data-testid="leave-group"]').trigger('click')
    expect(testId(wrapper, 'confirm-dialog').exists()).toBe(true)
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    await flushPromises()
    expect(testId(wrapper, 'confirm-dialog').exists()).toBe(false)
    expect(im.callsOf('leaveGroup')).toEqual([])
  })
})

describe('log out', () => {
  it('asks first; Cancel keeps the session, the button logs out', async () => {
    const app = createTestApp('en')
    signedIn()
    im.respond('logout', () => ok(null))
    const sidebar = app.mount(AppSidebar)
    await sidebar.get('[data-testid="logout-button"]').trigger('click')
    expect(sidebar.get('[data-testid="confirm-message"]').text()).toContain('Log out on this device?')
    await sidebar.get('[data-testid="confirm-cancel"]').trigger('click')
    expect(im.callsOf('logout')).toEqual([])
    expect(useSessionStore().session).not.toBeNull()
    await sidebar.get('[data-testid="logout-button"]').trigger('click')
    await sidebar.get('[data-testid="confirm-accept"]').trigger('click')
    await flushPromises()
    expect(im.callsOf('logout')).toEqual([[]])
    expect(useSessionStore().session).toBeNull()
  })
})

describe('refused values in words', () => {
  it('reads both shapes of INVALID_ARGUMENT', () => {
    expect(argumentProblem('argument 2 (text): Too big: expected string to have <=4000 characters')).toEqual({
      field: 'text',
      problem: 'tooBig',
      kind: 'string',
      limit: 4000,
    })
    expect(argumentProblem('settings.maxGroupSize: Too small: expected number to be >=1')).toEqual({
      field: 'maxGroupSize',
      problem: 'tooSmall',
      kind: 'number',
      limit: 1,
    })
    expect(argumentProblem('argument 1: Invalid input')).toMatchObject({ field: null, problem: 'invalid' })
    expect(argumentProblem('memberIds.3: Invalid string: must match pattern /x/')).toMatchObject({
      field: 'memberIds',
      problem: 'invalid',
    })
    expect(argumentProblem('something else entirely')).toBeNull()
  })

  it('never shows the validator’s text to a person, in English or Chinese', () => {
    const cases: Array<[string, string, string]> = [
      [
        'argument 2 (text): Too big: expected string to have <=4000 characters',
        'The message is too long: at most 4000 characters.',
        '消息太长：最多 4000 个字符。',
      ],
      [
        'argument 1: Too big: expected string to have <=64 characters',
        'Some input is too long: at most 64 characters.',
        '输入的内容太长：最多 64 个字符。',
      ],
      [
        'settings.maxGroupSize: Too small: expected number to be >=1',
        'The largest group size is too small: at least 1.',
        '最大群人数太小：至少为 1。',
      ],
      [
        'argument 2 (newOwnerId): Invalid string: must match pattern /^[a-z]+$/',
        'The new owner is not valid.',
        '新群主无效。',
      ],
      ['garbled', 'Some input is not valid.', '输入的内容无效。'],
    ]
    for (const locale of ['en', 'zh-CN'] as const) {
      const app = createTestApp(locale)
      let errorText: ReturnType<typeof useErrorText> | undefined
      app.mount({
        setup() {
          errorText = useErrorText()
          return () => null
        },
      })
      for (const [msg, en, zh] of cases) {
        const words = errorText!({ code: Code.INVALID_ARGUMENT, msg })
        expect(words).toBe(locale === 'en' ? en : zh)
        expect(words).not.toMatch(/argument|expected|Too big|pattern/)
      }
    }
  })
})
