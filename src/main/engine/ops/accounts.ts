/**
 * The HTTP side of accounts: register, login and logout happen before (or after) any socket.
 * The server may be several nodes of one deployment (a comma-separated list, serverList.ts): a call
 * goes to one node, and to the next while a node does not answer (SERVER_UNREACHABLE); any answer
 * from a node is final, since the nodes share one database.
 */
import { Code, fail, type Result } from '../../../shared/codes'
import { parseServerList } from '../../../shared/serverList'

/** The server's HTTP base for its WebSocket URL (ws → http, wss → https). */
export function httpBase(serverUrl: string): string {
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
 * refused unless the server is on this machine, or the user opted in. Checked for every node of a
 * list before any of them is asked anything.
 */
function refuseInClear(serverUrl: string, allowInsecure: boolean): Result<unknown> | undefined {
  let url: URL
  try {
    url = new URL(serverUrl)
  } catch {
    return undefined // the list check (parseServerList) says what is wrong with it
  }
  if (url.protocol === 'wss:' || url.protocol === 'https:' || allowInsecure || isLoopbackHost(url.hostname))
    return undefined
  return fail(
    Code.INSECURE_TRANSPORT,
    `${url.protocol}//${url.host} is not encrypted and not on this machine: the password would cross the network in clear. Use wss://${url.host}${url.pathname}, or start the app with --allow-insecure.`,
  )
}

/** POSTs JSON to one node and reads its coded result; network and non-IM answers become coded too. */
async function postToNode(
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

/**
 * POSTs JSON to the server (one URL or a comma-separated list of nodes): every URL of the list must
 * be safe to send a password to (INSECURE_TRANSPORT otherwise), the list must be valid
 * (INVALID_ARGUMENT), then the nodes are tried in turn from a random one (`firstNode` to choose)
 * until one answers.
 */
export async function postJson(
  serverUrl: string,
  path: string,
  body: unknown,
  options: {
    token?: string | undefined
    timeoutMs: number
    allowInsecure?: boolean
    firstNode?: number
  },
): Promise<Result<unknown>> {
  for (const url of serverUrl.split(',')) {
    const refused = refuseInClear(url.trim(), options.allowInsecure ?? false)
    if (refused) return refused
  }
  const parsed = parseServerList(serverUrl)
  if (parsed.code !== 0) return parsed
  const urls = parsed.data
  const first = options.firstNode ?? Math.floor(Math.random() * urls.length)
  let last: Result<unknown> = fail(Code.SERVER_UNREACHABLE)
  for (let i = 0; i < urls.length; i++) {
    last = await postToNode(urls[(first + i) % urls.length] as string, path, body, options)
    if (last.code !== Code.SERVER_UNREACHABLE) return last
  }
  if (urls.length === 1) return last
  return fail(Code.SERVER_UNREACHABLE, `none of the ${urls.length} servers answered (last: ${last.msg})`)
}
