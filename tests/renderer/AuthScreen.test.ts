// @vitest-environment happy-dom
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, ok } from '../../src/shared/codes'
import AuthScreen from '@renderer/components/AuthScreen.vue'
import type { AppLocale } from '@renderer/i18n'
import { useSessionStore } from '@renderer/stores/session'
import { installFakeIm, type FakeIm } from './fakeIm'
import { createTestApp } from './mountHelpers'

let im: FakeIm

beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

/** As the app does: the session store has loaded the app info before the form appears. */
async function mountAuth(locale: AppLocale = 'en') {
  const app = createTestApp(locale)
  await useSessionStore().init()
  return app.mount(AuthScreen)
}

const field = (wrapper: VueWrapper, testId: string) => wrapper.get(`[data-testid="${testId}"]`)

async function submit(wrapper: VueWrapper) {
  await field(wrapper, 'auth-submit').trigger('submit')
  await flushPromises()
}

async function fill(wrapper: VueWrapper, values: Record<string, string>) {
  for (const [testId, value] of Object.entries(values)) await field(wrapper, testId).setValue(value)
}

describe('sign-in form', () => {
  it('prefills the server URL from the app info', async () => {
    const wrapper = await mountAuth()
    expect((field(wrapper, 'server-url').element as HTMLInputElement).value).toBe('ws://127.0.0.1:7700/ws')
    expect(wrapper.find('[data-testid="display-name"]').exists()).toBe(false)
  })

  it('checks the fields before calling the engine, in words of the current locale', async () => {
    const wrapper = await mountAuth('en')
    await fill(wrapper, { 'server-url': 'http://example.com', 'user-id': 'alice', password: 'pw' })
    await submit(wrapper)
    // A wrong server address is said next to the server field.
    expect(field(wrapper, 'server-url-error').text()).toBe(
      'Enter a server URL such as ws://127.0.0.1:7700/ws.',
    )
    expect(field(wrapper, 'server-url').attributes('aria-invalid')).toBe('true')
    expect(wrapper.find('[data-testid="auth-error"]').exists()).toBe(false)

    await fill(wrapper, { 'server-url': 'ws://127.0.0.1:7700/ws', 'user-id': 'not valid!' })
    await submit(wrapper)
    expect(wrapper.find('[data-testid="server-url-error"]').exists()).toBe(false)
    expect(field(wrapper, 'auth-error').text()).toContain('A user ID has 1 to 32 characters')
    expect(im.callsOf('login')).toHaveLength(0)
  })

  it('shows the same checks in Chinese', async () => {
    const wrapper = await mountAuth('zh-CN')
    await fill(wrapper, { 'user-id': 'alice' })
    await submit(wrapper)
    expect(field(wrapper, 'auth-error').text()).toBe('请输入密码。')
  })

  it('shows a failed sign-in as words for its code, in both locales', async () => {
    im.respond('login', () => ({ code: Code.AUTH_FAILED, msg: 'Wrong user id or password.' }))
    for (const [locale, text] of [
      ['en', 'Wrong user ID or password.'],
      ['zh-CN', '用户 ID 或密码错误。'],
    ] as const) {
      const wrapper = await mountAuth(locale)
      await fill(wrapper, { 'user-id': 'alice', password: 'wrong-password' })
      await submit(wrapper)
      expect(field(wrapper, 'auth-error').text()).toBe(text)
      wrapper.unmount()
    }
  })

  it('falls back to the engine message for a code this build does not know', async () => {
    im.respond(
      'login',
      () => ({ code: 9999, msg: 'Maintenance until noon.' }) as unknown as { code: 5000; msg: string },
    ) // a code outside the contract, on purpose
    const wrapper = await mountAuth()
    await fill(wrapper, { 'user-id': 'alice', password: 'secret-pw' })
    await submit(wrapper)
    expect(field(wrapper, 'auth-error').text()).toBe('Maintenance until noon.')
  })

  it('says why the session ended when the server revoked it', async () => {
    im.respond('getCurrentUser', () =>
      ok({
        user: { userId: 'alice', displayName: 'Alice' },
        serverUrl: 'ws://127.0.0.1:7700/ws',
        deviceId: 'd1',
      }),
    )
    const app = createTestApp('en')
    await useSessionStore().init()
    im.emit('sessionEnded', { reason: 'revoked' })
    const wrapper = app.mount(AuthScreen)
    expect(field(wrapper, 'auth-error').text()).toBe('Your session has expired. Sign in again.')
  })
})

describe('several nodes of one server in the server field', () => {
  const nodes = 'ws://127.0.0.1:7701/ws, ws://127.0.0.1:7702/ws ,ws://127.0.0.1:7703/ws'

  it('says under the field that several nodes may be given, comma-separated', async () => {
    const wrapper = await mountAuth('en')
    expect(field(wrapper, 'server-url-hint').text()).toBe(
      'Several nodes of one server: list their URLs, separated by commas.',
    )
    wrapper.unmount()
    const zh = await mountAuth('zh-CN')
    expect(field(zh, 'server-url-hint').text()).toBe('同一服务器的多个节点：填写各节点地址，用英文逗号分隔。')
  })

  it('signs in with the list as typed', async () => {
    im.respond('login', ({ userId, serverUrl }) =>
      ok({ user: { userId, displayName: 'Alice' }, serverUrl, deviceId: 'd1' }),
    )
    const wrapper = await mountAuth()
    await fill(wrapper, { 'server-url': nodes, 'user-id': 'alice', password: 'secret-pw' })
    await submit(wrapper)
    expect(wrapper.find('[data-testid="server-url-error"]').exists()).toBe(false)
    expect(im.callsOf('login')).toEqual([[{ serverUrl: nodes, userId: 'alice', password: 'secret-pw' }]])
    expect(useSessionStore().userId).toBe('alice')
  })

  it('names the wrong entry of a list next to the field, and calls nothing', async () => {
    const wrapper = await mountAuth()
    await fill(wrapper, { 'user-id': 'alice', password: 'secret-pw' })
    const cases: [string, string][] = [
      [
        'ws://127.0.0.1:7701/ws, http://127.0.0.1:7702/ws',
        '“http://127.0.0.1:7702/ws” is not a server URL. List URLs such as ws://127.0.0.1:7700/ws, separated by commas.',
      ],
      [
        'ws://127.0.0.1:7701/ws,,ws://127.0.0.1:7702/ws',
        'The server list has an empty entry between two commas.',
      ],
      ['ws://localhost:7701/ws, ws://LocalHost:7701/ws', 'ws://LocalHost:7701/ws is listed twice.'],
      [
        Array.from({ length: 17 }, (_, i) => `ws://127.0.0.1:${7701 + i}/ws`).join(','),
        'List at most 16 server URLs.',
      ],
    ]
    for (const [value, error] of cases) {
      await fill(wrapper, { 'server-url': value })
      await submit(wrapper)
      expect(field(wrapper, 'server-url-error').text(), value).toBe(error)
    }
    expect(im.callsOf('login')).toHaveLength(0)
  })
})

describe('sign-up form', () => {
  it('requires a longer password, then registers and signs in', async () => {
    im.respond('register', ({ userId }) => ok({ userId, displayName: 'Alice' }))
    im.respond('login', ({ userId, serverUrl }) =>
      ok({ user: { userId, displayName: 'Alice' }, serverUrl, deviceId: 'd1' }),
    )
    const wrapper = await mountAuth()
    await field(wrapper, 'auth-mode-toggle').trigger('click')
    await fill(wrapper, { 'user-id': 'alice', password: 'short', 'display-name': 'Alice' })
    await submit(wrapper)
    expect(field(wrapper, 'auth-error').text()).toBe('A password needs at least 8 characters.')

    await fill(wrapper, { password: 'long-enough' })
    await submit(wrapper)
    expect(wrapper.find('[data-testid="auth-error"]').exists()).toBe(false)
    expect(im.callsOf('register')).toEqual([
      [
        {
          serverUrl: 'ws://127.0.0.1:7700/ws',
          userId: 'alice',
          password: 'long-enough',
          displayName: 'Alice',
        },
      ],
    ])
    expect(im.callsOf('login')).toHaveLength(1)
    expect(useSessionStore().userId).toBe('alice')
  })

  it('shows USER_EXISTS in words', async () => {
    im.respond('register', () => ({ code: Code.USER_EXISTS, msg: 'That user id is already registered.' }))
    const wrapper = await mountAuth()
    await field(wrapper, 'auth-mode-toggle').trigger('click')
    await fill(wrapper, { 'user-id': 'alice', password: 'long-enough' })
    await submit(wrapper)
    expect(field(wrapper, 'auth-error').text()).toBe('That user ID is already taken.')
  })
})
