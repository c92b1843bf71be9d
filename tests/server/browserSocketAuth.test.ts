/**
 * Issue 16: how a web page signs in. Its login is a cross-origin JSON POST (CORS preflight answered
 * for `allowedOrigins` only) and its WebSocket carries the session in the subprotocol list, since a
 * browser cannot set headers on an upgrade (src/shared/browserSocketAuth.ts). Every refusal is typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { socketProtocols, SOCKET_SUBPROTOCOL } from '../../src/shared/browserSocketAuth'
import { Code } from '../../src/shared/codes'
import { http } from '../../src/shared/protocol'
import type { RunningServer } from '../../src/server/server'
import { registerAndLogin, startTestServer, uniqueId, type TestSession } from './helpers'

const PAGE = 'https://support.example.org'
const OTHER = 'https://attacker.example'

type Upgrade = { ws: WebSocket; protocol: string } | { status: number; body: { code: number; msg: string } }

/** A browser-like upgrade: subprotocols and an Origin, no Authorization and no device header. */
function browserUpgrade(server: RunningServer, protocols: string[], origin?: string): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(server.url, protocols, origin ? { origin } : {})
    ws.once('open', () => resolve({ ws, protocol: ws.protocol }))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(body) }))
    })
    ws.once('error', reject)
  })
}

function refused(upgrade: Upgrade): { status: number; code: number } {
  if ('ws' in upgrade) {
    upgrade.ws.close()
    throw new Error('the upgrade was accepted')
  }
  return { status: upgrade.status, code: upgrade.body.code }
}

describe('a web page signing in (issue 16)', () => {
  let server: RunningServer
  let session: TestSession
  beforeAll(async () => {
    server = await startTestServer({ allowedOrigins: [PAGE] })
    session = await registerAndLogin(server)
  })
  afterAll(async () => {
    await server.close()
  })

  it('opens a socket with the session in the subprotocols; the server echoes im.v1 only', async () => {
    const upgrade = await browserUpgrade(server, socketProtocols(session.token, session.deviceId), PAGE)
    if (!('ws' in upgrade)) throw new Error(`refused: ${JSON.stringify(upgrade)}`)
    expect(upgrade.protocol).toBe(SOCKET_SUBPROTOCOL)
    const reply = new Promise<{ code: number; data: { user: { userId: string } } }>((resolve) =>
      upgrade.ws.once('message', (raw) => resolve(JSON.parse(raw.toString()))),
    )
    upgrade.ws.send(JSON.stringify({ id: 1, op: 'syncState', data: {} }))
    expect(await reply).toMatchObject({ code: 0, data: { user: { userId: session.userId } } })
    upgrade.ws.close()
  })

  it('refuses a missing token, a wrong one, and another device’s, each with its code', async () => {
    const noToken = await browserUpgrade(server, [SOCKET_SUBPROTOCOL, `im.device.${session.deviceId}`], PAGE)
    expect(refused(noToken)).toEqual({ status: 401, code: Code.NOT_LOGGED_IN })
    const wrong = await browserUpgrade(server, socketProtocols('not-a-token', session.deviceId), PAGE)
    expect(refused(wrong)).toEqual({ status: 401, code: Code.TOKEN_INVALID })
    const noDevice = await browserUpgrade(server, [SOCKET_SUBPROTOCOL, `im.token.${session.token}`], PAGE)
    expect(refused(noDevice)).toEqual({ status: 401, code: Code.TOKEN_INVALID })
    const otherDevice = await browserUpgrade(server, socketProtocols(session.token, 'another-device-1'), PAGE)
    expect(refused(otherDevice)).toEqual({ status: 401, code: Code.TOKEN_INVALID })
  })

  it('refuses a page of an origin the operator did not allow, even with a good session', async () => {
    const upgrade = await browserUpgrade(server, socketProtocols(session.token, session.deviceId), OTHER)
    expect(refused(upgrade)).toEqual({ status: 403, code: Code.PERMISSION_DENIED })
  })

  it('selects no subprotocol for a client that does not offer im.v1, which then fails the socket', async () => {
    // As a browser does (RFC 6455 4.1): a session offered without the version is not spoken for.
    await expect(
      browserUpgrade(server, [`im.token.${session.token}`, `im.device.${session.deviceId}`], PAGE),
    ).rejects.toThrow(/no subprotocol/)
  })

  it('answers the CORS preflight of an allowed origin, and refuses another one', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.httpUrl}${http.login.path}`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      })
    const allowed = await preflight(PAGE)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(PAGE)
    expect(allowed.headers.get('access-control-allow-methods')).toContain('POST')
    expect(allowed.headers.get('access-control-allow-headers')).toContain('content-type')
    expect(allowed.headers.get('vary')).toContain('Origin')
    const other = await preflight(OTHER)
    expect(other.status).toBe(403)
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('lets an allowed page register and log in and read the answer; another origin is refused', async () => {
    const post = (origin: string, path: string, body: unknown) =>
      fetch(`${server.httpUrl}${path}`, {
        method: 'POST',
        headers: { origin, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const userId = uniqueId('web')
    const registered = await post(PAGE, http.register.path, { userId, password: 'web-password' })
    expect(registered.headers.get('access-control-allow-origin')).toBe(PAGE)
    expect(await registered.json()).toMatchObject({ code: 0 })
    const loggedIn = await post(PAGE, http.login.path, {
      userId,
      password: 'web-password',
      deviceId: 'web-device-1',
    })
    expect(loggedIn.headers.get('access-control-allow-origin')).toBe(PAGE)
    expect(await loggedIn.json()).toMatchObject({ code: 0, data: { token: expect.any(String) } })

    const evil = await post(OTHER, http.login.path, {
      userId,
      password: 'web-password',
      deviceId: 'web-device-2',
    })
    expect(evil.status).toBe(403)
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
    expect(await evil.json()).toMatchObject({ code: Code.PERMISSION_DENIED })
  })

  it('grants no CORS to the app’s own origins (null, file://): a sandboxed page anywhere says null', async () => {
    const reply = await fetch(`${server.httpUrl}${http.login.path}`, {
      method: 'OPTIONS',
      headers: { origin: 'null', 'access-control-request-method': 'POST' },
    })
    expect(reply.status).toBe(403)
    expect(reply.headers.get('access-control-allow-origin')).toBeNull()
  })
})
