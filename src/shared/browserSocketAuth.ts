/**
 * How a browser signs its WebSocket in (issue 16). A page cannot set headers on a WebSocket upgrade,
 * and a token in the URL ends up in access logs and proxy logs, so a browser offers its session in
 * the `Sec-WebSocket-Protocol` list instead:
 *
 *   new WebSocket(url, ['im.v1', 'im.token.<token>', 'im.device.<deviceId>'])
 *
 * The server takes the token and device from there (when no Authorization and device header came)
 * and echoes `im.v1` only, never the token. Tokens are base64url and device ids `[A-Za-z0-9_-]`,
 * both valid in a subprotocol name. Plain TypeScript: the server and the web SDK share it.
 */
export const SOCKET_SUBPROTOCOL = 'im.v1'
const TOKEN_PREFIX = 'im.token.'
const DEVICE_PREFIX = 'im.device.'

/** The subprotocol list a browser offers for this session. */
export function socketProtocols(token: string, deviceId: string): string[] {
  return [SOCKET_SUBPROTOCOL, `${TOKEN_PREFIX}${token}`, `${DEVICE_PREFIX}${deviceId}`]
}

export interface OfferedSession {
  /** Whether `im.v1` was offered: the only subprotocol the server ever selects. */
  versioned: boolean
  token?: string
  deviceId?: string
}

/** Reads a `Sec-WebSocket-Protocol` header (comma-separated names); the first token and device win. */
export function parseSocketProtocols(header: string | undefined): OfferedSession {
  const offered: OfferedSession = { versioned: false }
  for (const raw of (header ?? '').split(',')) {
    const name = raw.trim()
    if (name === SOCKET_SUBPROTOCOL) offered.versioned = true
    else if (name.startsWith(TOKEN_PREFIX) && offered.token === undefined)
      offered.token = name.slice(TOKEN_PREFIX.length) || undefined
    else if (name.startsWith(DEVICE_PREFIX) && offered.deviceId === undefined)
      offered.deviceId = name.slice(DEVICE_PREFIX.length) || undefined
  }
  return offered
}
