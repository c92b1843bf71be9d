// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import AppSidebar from '@renderer/components/AppSidebar.vue'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import { ME } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

describe('session notice', () => {
  it('tells the user in words when the profile database was set aside and rebuilt', async () => {
    im.respond('getCurrentUser', () =>
      ok({
        user: { userId: ME, displayName: 'Alice' },
        serverUrl: 'ws://127.0.0.1:7700/ws',
        deviceId: 'device-1',
        notice: { code: Code.PROFILE_DATABASE_CORRUPT, msg: 'raw engine text' },
      }),
    )
    const app = createTestApp('en')
    await useSessionStore().init()
    const wrapper = app.mount(AppSidebar)
    const notice = wrapper.get('[data-testid="session-notice"]')
    expect(notice.text()).not.toBe('')
    expect(notice.text()).not.toContain('raw engine text')
  })

  it('shows nothing when there is no notice', async () => {
    const app = createTestApp('en')
    await useSessionStore().init()
    expect(app.mount(AppSidebar).find('[data-testid="session-notice"]').exists()).toBe(false)
  })
})
