// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import AppSidebar from '@renderer/components/AppSidebar.vue'
import ChatPane from '@renderer/components/ChatPane.vue'
import IconButton from '@renderer/components/IconButton.vue'
import NewChatDialog from '@renderer/components/NewChatDialog.vue'
import NewGroupDialog from '@renderer/components/NewGroupDialog.vue'
import SettingsDialog from '@renderer/components/SettingsDialog.vue'
import { ok } from '../../src/shared/codes'
import { installFakeIm, type FakeIm } from './fakeIm'
import { groupChat, makeGroupInfo } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

describe('icon buttons', () => {
  it('are named by their label, shown as the tooltip unless told otherwise', () => {
    const app = createTestApp('en')
    const plain = app.mount(IconButton, { icon: 'close', label: 'Close' }).get('button')
    expect(plain.attributes()).toMatchObject({ type: 'button', 'aria-label': 'Close', title: 'Close' })
    expect(plain.classes()).toEqual(['icon-btn'])
    expect(plain.get('svg').attributes('aria-hidden')).toBe('true')

    const quiet = app.mount(IconButton, { icon: 'close', label: 'Close', tooltip: null }).get('button')
    expect(quiet.attributes('title')).toBeUndefined()
    const active = app.mount(IconButton, { icon: 'checks', label: 'Ask', tooltip: 'Asking', active: true })
    expect(active.get('button').attributes()).toMatchObject({ 'aria-label': 'Ask', title: 'Asking' })
    expect(active.get('button').classes()).toContain('icon-btn--active')
  })

  it('keep the names, states and test ids the app and the e2e specs rely on', async () => {
    const app = createTestApp('en')
    const sidebar = app.mount(AppSidebar)
    const named = (testId: string) => sidebar.get(`[data-testid="${testId}"]`).attributes('aria-label')
    expect(named('settings-button')).toBe('Settings')
    expect(named('logout-button')).toBe('Log out')
    expect(named('new-chat-button')).toBe('New chat')
    expect(named('new-group-button')).toBe('New group')
    await sidebar.get('[data-testid="new-chat-button"]').trigger('click')
    expect(sidebar.emitted('newChat')).toHaveLength(1)

    im.respond('getGroupInfo', () => ok(makeGroupInfo({ myRole: 'owner' })))
    const chat = app.mount(ChatPane, { conversation: groupChat })
    await flushPromises()
    const members = () => chat.get('[data-testid="members-button"]')
    expect(members().attributes()).toMatchObject({ 'aria-label': 'Members', 'aria-expanded': 'false' })
    await members().trigger('click')
    expect(members().attributes('aria-expanded')).toBe('true')
    expect(members().classes()).toContain('icon-btn--active')
    expect(chat.get('aside').attributes('aria-label')).toBe('Members')
    expect(chat.get('aside header button[aria-label="Close"]').attributes('title')).toBeUndefined()
  })
})

describe('dialog footers', () => {
  it('a form dialog has Cancel and the button that submits its form', async () => {
    const app = createTestApp('en')
    for (const [dialog, form, testId, label] of [
      [NewChatDialog, 'new-chat-form', 'new-chat-submit', 'Start chat'],
      [NewGroupDialog, 'new-group-form', 'new-group-submit', 'Create group'],
    ] as const) {
      const wrapper = app.mount(dialog)
      const buttons = wrapper.findAll('footer button')
      expect(buttons.map((b) => b.text())).toEqual(['Cancel', label])
      expect(buttons[1].attributes()).toMatchObject({ type: 'submit', form, 'data-testid': testId })
      expect(wrapper.find(`form#${form}`).exists()).toBe(true)
      await buttons[0].trigger('click')
      expect(wrapper.emitted('close')).toHaveLength(1)
      // The header's close button is named, without a tooltip.
      expect(wrapper.get('[role="dialog"] header button').attributes()).toMatchObject({
        'aria-label': 'Close',
      })
      expect(wrapper.get('[role="dialog"] header button').attributes('title')).toBeUndefined()
      wrapper.unmount()
    }
  })

  it('a dialog with nothing to submit has one Close button', async () => {
    const wrapper = createTestApp('en').mount(SettingsDialog)
    const buttons = wrapper.findAll('footer button')
    expect(buttons.map((b) => b.text())).toEqual(['Close'])
    expect(buttons[0].attributes('data-testid')).toBe('settings-close')
    await buttons[0].trigger('click')
    expect(wrapper.emitted('close')).toHaveLength(1)
  })
})
