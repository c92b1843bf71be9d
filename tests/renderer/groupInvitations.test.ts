// @vitest-environment happy-dom
/** Invitations to groups in the sidebar: listed from the engine, accepted or declined in one click. */
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import GroupInvitations from '@renderer/components/GroupInvitations.vue'
import { ok } from '../../src/shared/codes'
import { installFakeIm } from './fakeIm'
import { createTestApp } from './mountHelpers'

beforeEach(() => {
  document.body.innerHTML = ''
})

const invite = { groupId: 'g_launch', name: 'Launch', invitedBy: 'alice', at: 1 }

describe('group invitations', () => {
  it('lists the invitations the engine reports and hides itself when there are none', async () => {
    const im = installFakeIm()
    const wrapper = createTestApp().mount(GroupInvitations)
    await flushPromises()
    expect(wrapper.find('[data-testid="group-invites"]').exists()).toBe(false)
    im.emit('groupInvitesChanged', [invite])
    await flushPromises()
    expect(wrapper.get('[data-testid="group-invite"]').text()).toContain('alice invites you to “Launch”')
  })

  it('accepts and declines with one call each; the invitation leaves the list', async () => {
    const im = installFakeIm()
    im.respond('getGroupInvites', () => ok([invite, { ...invite, groupId: 'g_spam', name: 'Spam' }]))
    im.respond('respondToGroupInvite', () => ok(null))
    const wrapper = createTestApp().mount(GroupInvitations)
    await flushPromises()
    expect(wrapper.findAll('[data-testid="group-invite"]')).toHaveLength(2)
    await wrapper.get('[data-group-id="g_launch"] [data-testid="group-invite-accept"]').trigger('click')
    await wrapper.get('[data-group-id="g_spam"] [data-testid="group-invite-decline"]').trigger('click')
    await flushPromises()
    expect(im.calls.filter((c) => c.name === 'respondToGroupInvite').map((c) => c.args)).toEqual([
      ['g_launch', true],
      ['g_spam', false],
    ])
    expect(wrapper.find('[data-testid="group-invite"]').exists()).toBe(false)
  })
})
