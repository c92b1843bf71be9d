// @vitest-environment happy-dom
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import type { GroupInfo, GroupReceiptSettings } from '../../src/shared/model'
import MemberPanel from '@renderer/components/MemberPanel.vue'
import { useGroupsStore } from '@renderer/stores/groups'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeGroupInfo } from './fixtures'
import { createTestApp } from './mountHelpers'

const DAY = 24 * 60 * 60 * 1000
const groupId = groupChat.targetId

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

async function mountPanel(info: GroupInfo, locale: 'en' | 'zh-CN' = 'en') {
  im.respond('getGroupInfo', () => ok(info))
  const app = createTestApp(locale)
  useGroupsStore().start()
  const wrapper = app.mount(MemberPanel, { groupId })
  await flushPromises()
  return wrapper
}

const field = (w: VueWrapper, name: string) => w.get(`[data-testid="group-receipts-${name}"]`)
const valueOf = (w: VueWrapper, name: string) => (field(w, name).element as HTMLInputElement).value

describe('group receipt settings', () => {
  it('shows the group’s effective settings, read-only to a member', async () => {
    const wrapper = await mountPanel(
      makeGroupInfo({
        myRole: 'member',
        receiptSettings: {
          enabled: true,
          whoMayRequest: 'ownerAndAdmins',
          validityMs: 3 * DAY,
          maxGroupSize: 200,
          countVisibility: 'sender',
        },
      }),
    )
    expect(im.callsOf('getGroupInfo')).toEqual([[groupId]])
    expect((field(wrapper, 'enabled').element as HTMLInputElement).checked).toBe(true)
    expect(valueOf(wrapper, 'who')).toBe('ownerAndAdmins')
    expect(valueOf(wrapper, 'validity-days')).toBe('3')
    expect(valueOf(wrapper, 'max-size')).toBe('200')
    expect(valueOf(wrapper, 'visibility')).toBe('sender')
    for (const name of ['enabled', 'who', 'validity-days', 'max-size', 'visibility']) {
      expect(field(wrapper, name).attributes('disabled'), name).toBeDefined()
    }
    expect(wrapper.find('[data-testid="group-receipts-save"]').exists()).toBe(false)
    expect(wrapper.text()).toContain('Only the group owner can change these.')
  })

  it('lets the owner change and save them, sending only what changed', async () => {
    const info = makeGroupInfo({ myRole: 'owner' })
    im.respond('setGroupReceiptSettings', (_id, patch) =>
      ok({ ...info, receiptSettings: { ...info.receiptSettings, ...patch } }),
    )
    const wrapper = await mountPanel(info)
    const save = () => field(wrapper, 'save')
    expect(save().attributes('disabled')).toBeDefined()

    await field(wrapper, 'enabled').setValue(false)
    await field(wrapper, 'who').setValue('ownerAndAdmins')
    await field(wrapper, 'validity-days').setValue('7')
    await field(wrapper, 'visibility').setValue('sender')
    expect(save().attributes('disabled')).toBeUndefined()
    await save().trigger('click')
    await flushPromises()

    const expected: Partial<GroupReceiptSettings> = {
      enabled: false,
      whoMayRequest: 'ownerAndAdmins',
      validityMs: 7 * DAY,
      countVisibility: 'sender',
    }
    expect(im.callsOf('setGroupReceiptSettings')).toEqual([[groupId, expected]])
    expect(useGroupsStore().info(groupId)?.receiptSettings).toMatchObject(expected)
    expect(wrapper.get('[data-testid="group-receipts-saved"]').text()).toBe('Saved.')
    expect(wrapper.find('[data-testid="member-error"]').exists()).toBe(false)
    expect(save().attributes('disabled')).toBeDefined()
  })

  it('says in words why a change was refused, or why a value is not valid', async () => {
    const wrapper = await mountPanel(makeGroupInfo({ myRole: 'owner' }))
    im.respond('setGroupReceiptSettings', () => ({ code: Code.PERMISSION_DENIED, msg: 'owner only' }))
    await field(wrapper, 'max-size').setValue('50')
    await field(wrapper, 'save').trigger('click')
    await flushPromises()
    expect(im.callsOf('setGroupReceiptSettings')).toEqual([[groupId, { maxGroupSize: 50 }]])
    // A refused save is said beside the Save button, not as the panel's error line.
    expect(wrapper.get('[data-testid="group-receipts-error"]').text()).toBe(
      'Only the group owner or an admin can do this.',
    )
    expect(wrapper.find('[data-testid="member-error"]').exists()).toBe(false)
    expect(wrapper.find('[data-testid="group-receipts-saved"]').exists()).toBe(false)

    // A value that is not valid is said beside its own field, which is marked invalid and points at it.
    await field(wrapper, 'validity-days').setValue('0')
    await field(wrapper, 'save').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="group-receipts-validity-error"]').text()).toBe(
      'Enter a number of days greater than 0.',
    )
    const validity = field(wrapper, 'validity-days')
    expect(validity.attributes('aria-invalid')).toBe('true')
    const errorId = wrapper.get('[data-testid="group-receipts-validity-error"]').attributes('id')
    expect(validity.attributes('aria-describedby')?.split(' ')).toContain(errorId)
    expect(wrapper.find('[data-testid="group-receipts-max-size-error"]').exists()).toBe(false)
    await field(wrapper, 'validity-days').setValue('3')
    await flushPromises()
    // Fixed: its error goes at once.
    expect(wrapper.find('[data-testid="group-receipts-validity-error"]').exists()).toBe(false)
    expect(field(wrapper, 'validity-days').attributes('aria-invalid')).toBeUndefined()
    await field(wrapper, 'max-size').setValue('2.5')
    await field(wrapper, 'save').trigger('click')
    await flushPromises()
    expect(wrapper.get('[data-testid="group-receipts-max-size-error"]').text()).toBe(
      'Enter a whole number of members, at least 1.',
    )
    expect(field(wrapper, 'max-size').attributes('aria-invalid')).toBe('true')
    expect(im.callsOf('setGroupReceiptSettings')).toHaveLength(1)
  })

  it('follows changes pushed by groupChanged', async () => {
    const info = makeGroupInfo({ myRole: 'admin' })
    const wrapper = await mountPanel(info)
    expect(valueOf(wrapper, 'visibility')).toBe('all')
    im.emit('groupChanged', {
      groupId,
      group: {
        ...info,
        receiptSettings: { ...info.receiptSettings, countVisibility: 'sender', maxGroupSize: 30 },
      },
    })
    await flushPromises()
    expect(valueOf(wrapper, 'visibility')).toBe('sender')
    expect(valueOf(wrapper, 'max-size')).toBe('30')
  })

  it('reports a group the engine does not know, and has words in Chinese', async () => {
    im.respond('getGroupInfo', () => ({ code: Code.GROUP_NOT_FOUND, msg: 'no group' }))
    const app = createTestApp('zh-CN')
    const wrapper = app.mount(MemberPanel, { groupId })
    await flushPromises()
    expect(wrapper.get('[data-testid="member-error"]').text()).not.toBe('')
    expect(wrapper.find('[data-testid="group-receipts-enabled"]').exists()).toBe(false)
    wrapper.unmount()

    const owner = await mountPanel(makeGroupInfo({ myRole: 'owner' }), 'zh-CN')
    expect(owner.get('[data-testid="group-receipts"]').text()).toContain('已读回执')
    expect(field(owner, 'save').text()).toBe('保存')
  })
})
