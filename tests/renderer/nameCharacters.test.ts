// @vitest-environment happy-dom
/**
 * Names that hide or reorder text (issue #11, gap 8) are refused by the forms themselves, with the
 * words of the shared rule, before anything reaches the engine.
 */
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { beforeEach, expect, it } from 'vitest'
import AuthScreen from '@renderer/components/AuthScreen.vue'
import NewGroupDialog from '@renderer/components/NewGroupDialog.vue'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

const field = (wrapper: VueWrapper, testId: string) => wrapper.get(`[data-testid="${testId}"]`)
const RULE = 'A name cannot contain control, bidi-override or invisible characters.'

it('refuses a group name with a bidi override before calling the engine', async () => {
  const wrapper = createTestApp('en').mount(NewGroupDialog)
  await field(wrapper, 'new-group-name').setValue('admin\u202Egnp.exe')
  await wrapper.get('form').trigger('submit')
  await flushPromises()
  expect(field(wrapper, 'dialog-error').text()).toBe(RULE)
  expect(im.callsOf('createGroup')).toEqual([])
})

it('refuses a display name with a zero-width space at sign-up', async () => {
  const app = createTestApp('zh-CN')
  await useSessionStore().init()
  const wrapper = app.mount(AuthScreen)
  await field(wrapper, 'auth-mode-toggle').trigger('click')
  await field(wrapper, 'user-id').setValue('alice')
  await field(wrapper, 'password').setValue('long enough password')
  await field(wrapper, 'display-name').setValue('Ali\u200Bce')
  await field(wrapper, 'auth-submit').trigger('submit')
  await flushPromises()
  // The app's own words in the current locale (a missing translation would throw).
  expect(field(wrapper, 'auth-error').text()).not.toBe('')
  expect(im.callsOf('register')).toEqual([])
})
