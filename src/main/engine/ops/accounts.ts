/** The HTTP side of accounts: register, login and logout happen before (or after) any socket. */
import { Code, fail, type Result } from '../../../shared/codes'

/** The server's HTTP base for its WebSocket URL (ws → http, wss → https). */
function httpBase(serverUrl: string): string {
  const u = new URL(serverUrl)
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:'
  u.pathname = ''
  u.search = ''
  return u.toString().replace(/\/$/, '')
}

/** 127/8, ::1 and localhost names: traffic to them never leaves this machine. */
function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  )
}

/**
 * A password (and then the session token) must not cross the network in clear: ws:// or http:// is
 * refused unless the server is on this machine, or the user opted in.
 */
function refuseInClear(serverUrl: string, allowInsecure: boolean): Result<unknown> | undefined {
  let url: URL
  try {
    url = new URL(serverUrl)
  } catch {
    return undefined // fetch says what is wrong with it
  }
  if (url.protocol === 'wss:' || url.protocol === 'https:' || allowInsecure || isLoopbackHost(url.hostname))
    return undefined
  return fail(
    Code.INSECURE_TRANSPORT,
    `${url.protocol}//${url.host} is not encrypted and not on this machine: the password would cross the network in clear. Use wss://${url.host}${url.pathname}, or start the app with --allow-insecure.`,
  )
}

/** POSTs JSON and reads the server's coded result; network and non-IM answers become coded too. */
export async function postJson(
  serverUrl: string,
  path: string,
  body: unknown,
  options: { token?: string | undefined; timeoutMs: number; allowInsecure?: boolean },
): Promise<Result<unknown>> {
  const refused = refuseInClear(serverUrl, options.allowInsecure ?? false)
  if (refused) return refused
  let response: Response
  try {
    response = await fetch(httpBase(serverUrl) + path, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    })
  } catch (err) {
    return fail(Code.SERVER_UNREACHABLE, `cannot reach ${serverUrl}: ${(err as Error).message}`)
  }
  try {
    const json = (await response.json()) as Result<unknown>
    if (typeof json?.code !== 'number') return fail(Code.INTERNAL, `unexpected answer from ${serverUrl}`)
    return json
  } catch {
    return fail(
      Code.SERVER_UNREACHABLE,
      `${serverUrl} did not answer like an IM server (HTTP ${response.status})`,
    )
  }
}
