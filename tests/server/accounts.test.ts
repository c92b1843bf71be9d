import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { DEVICE_HEADER, http } from '../../src/shared/protocol'
import type { RunningServer } from '../../src/server/server'
import { api, login, openSocket, registerAndLogin, startTestServer, TestClient, uniqueId } from './helpers'

describe('accounts over HTTP', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer()
  })
  afterAll(() => server.close())

  it('registers with the user id as the default display name', async () => {
    const userId = uniqueId()
    const { body } = await api(server, http.register.path, { userId, password: 'long enough' })
    expect(body).toEqual({ code: 0, data: { user: { userId, displayName: userId } } })
    const named = await api(server, http.register.path, {
      userId: uniqueId(),
      password: 'long enough',
      displayName: '  Dora  ',
    })
    expect((named.body.data as { user: { displayName: string } }).user.displayName).toBe('Dora')
  })

  it('refuses a taken user id, also when two registrations race', async () => {
    const userId = uniqueId()
    const results = await Promise.all(
      [1, 2, 3].map(() => api(server, http.register.path, { userId, password: 'long enough' })),
    )
    expect(results.map((r) => r.body.code).sort()).toEqual([0, Code.USER_EXISTS, Code.USER_EXISTS])
  })

  it('logs in with the right password only, and says the same for an unknown user', async () => {
    const session = await registerAndLogin(server)
    const wrong = await api(server, http.login.path, {
      userId: session.userId,
      password: 'not the password',
      deviceId: 'device-0001',
    })
    expect(wrong.body).toMatchObject({ code: Code.AUTH_FAILED })
    const unknown = await api(server, http.login.path, {
      userId: uniqueId(),
      password: 'whatever123',
      deviceId: 'device-0001',
    })
    expect(unknown.body).toEqual(wrong.body)
    const right = await api(server, http.login.path, {
      userId: session.userId,
      password: session.password,
      deviceId: 'device-0001',
    })
    expect(right.body.code).toBe(0)
    const data = http.login.reply.parse(right.body.data)
    expect(data.token).toMatch(/^[\w-]{43}$/)
    expect(data.expiresAt - Date.now()).toBeGreaterThan(29 * 24 * 3600 * 1000)
  })

  it('logout pushes sessionRevoked, closes that session’s sockets only, and the token stops working', async () => {
    const first = await registerAndLogin(server)
    const second = await login(server, first.userId, first.password)
    const revoked = await TestClient.connect(server, first)
    const otherDevice = await TestClient.connect(server, second)

    const { body } = await api(server, http.logout.path, {}, { token: first.token })
    expect(body.code).toBe(0)
    await revoked.nextPush('sessionRevoked')
    expect((await revoked.closed).code).toBe(4001)

    const retry = await openSocket(server.url, {
      authorization: `Bearer ${first.token}`,
      [DEVICE_HEADER]: first.deviceId,
    })
    expect(retry.status).toBe(401)
    expect((await api(server, http.logout.path, {}, { token: first.token })).body.code).toBe(
      Code.TOKEN_INVALID,
    )

    await otherDevice.call('syncState', {})
    expect(otherDevice.pushes).toEqual([])
    await otherDevice.close()
  })

  it('refuses logout without a token', async () => {
    expect((await api(server, http.logout.path, {})).body.code).toBe(Code.NOT_LOGGED_IN)
  })
})

describe('session expiry', () => {
  it('refuses an expired token at the upgrade', async () => {
    let now = Date.now()
    const server = await startTestServer({ now: () => now, sessionTtlMs: 60_000 })
    try {
      const session = await registerAndLogin(server)
      const client = await TestClient.connect(server, session)
      await client.close()
      now += 61_000
      const result = await openSocket(server.url, { authorization: `Bearer ${session.token}` })
      expect(result.status).toBe(401)
    } finally {
      await server.close()
    }
  })
})
