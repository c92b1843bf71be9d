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

/** POSTs JSON and reads the server's coded result; network and non-IM answers become coded too. */
export async function postJson(
  serverUrl: string,
  path: string,
  body: unknown,
  options: { token?: string | undefined; timeoutMs: number },
): Promise<Result<unknown>> {
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
