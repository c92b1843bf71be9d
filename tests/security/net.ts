/**
 * Raw HTTP and WebSocket clients for the hostile suites: any Host, Origin or content type, and any
 * loopback source address (127.0.0.2, 127.0.0.3, …: Linux routes all of 127/8 to lo), so that limits
 * per address can tell an attacker from a bystander on one machine.
 */
import { request } from 'node:http'
import { WebSocket } from 'ws'
import { DEVICE_HEADER, http } from '../../src/shared/protocol'
import type { RunningServer } from '../../src/server/server'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** The parsed JSON body (every answer of the server is JSON). */
  body: { code: number; msg?: string; data?: unknown; retryAfterMs?: number }
}

export interface RawInit {
  method?: string
  /** Sent as is; JSON.stringify(body) with content-type application/json unless `contentType` says otherwise. */
  body?: unknown
  rawBody?: string
  contentType?: string | null
  headers?: Record<string, string>
  from?: string
}

export function raw(server: RunningServer, path: string, init: RawInit = {}): Promise<RawResponse> {
  const payload = init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body))
  const contentType = init.contentType === undefined ? 'application/json' : init.contentType
  return new Promise((resolve, reject) => {
    const req = request(
      `${server.httpUrl}${path}`,
      {
        method: init.method ?? (payload === undefined ? 'GET' : 'POST'),
        localAddress: init.from ?? '127.0.0.1',
        agent: false,
        headers: {
          ...(payload !== undefined && contentType !== null ? { 'content-type': contentType } : {}),
          ...(payload !== undefined ? { 'content-length': String(Buffer.byteLength(payload)) } : {}),
          ...init.headers,
        },
      },
      (res) => {
        let text = ''
        res.on('data', (chunk: Buffer) => (text += chunk.toString()))
        res.on('end', () => {
          try {
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: JSON.parse(text) as RawResponse['body'],
            })
          } catch {
            reject(new Error(`not JSON (HTTP ${res.statusCode}): ${text.slice(0, 200)}`))
          }
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

export function loginFrom(
  server: RunningServer,
  from: string,
  body: { userId: string; password: string; deviceId?: string },
): Promise<RawResponse> {
  return raw(server, http.login.path, { from, body: { deviceId: 'device-of-a-test', ...body } })
}

export function registerFrom(
  server: RunningServer,
  from: string,
  body: { userId: string; password: string; inviteCode?: string },
): Promise<RawResponse> {
  return raw(server, http.register.path, { from, body })
}

export type UpgradeResult =
  | { ws: WebSocket; status?: undefined; body?: undefined }
  | { ws?: undefined; status: number; body: { code?: number; msg?: string } }

/** Opens a socket from `from` with these headers; resolves with it, or with the refusal. */
export function upgradeFrom(
  url: string,
  headers: Record<string, string>,
  from = '127.0.0.1',
): Promise<UpgradeResult> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, localAddress: from })
    ws.once('open', () => resolve({ ws }))
    ws.once('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => {
        let body: { code?: number; msg?: string } = {}
        try {
          body = JSON.parse(text) as typeof body
        } catch {
          // not JSON: the status says enough
        }
        resolve({ status: res.statusCode ?? 0, body })
      })
    })
    ws.once('error', reject)
  })
}

export function sessionHeaders(session: { token: string; deviceId: string }): Record<string, string> {
  return { authorization: `Bearer ${session.token}`, [DEVICE_HEADER]: session.deviceId }
}

/** Resolves when `check` holds, polling on every turn of the event loop (no fixed sleeps). */
export async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}
