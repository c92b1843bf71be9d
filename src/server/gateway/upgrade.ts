/**
 * The checks of a WebSocket upgrade, before any socket exists: the path, the session's token, the
 * device it was issued to, and the socket caps (inboundLimits.ts); a refusal is a plain HTTP answer.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import { parseSocketProtocols } from '../../shared/browserSocketAuth'
import { Code, codeDescriptions, type CodeValue } from '../../shared/codes'
import { DEVICE_HEADER, WS_PATH } from '../../shared/protocol'
import type { Accounts, AuthenticatedSession } from '../accounts'
import { clientAddress } from '../authGuard'
import type { Logger } from '../log'
import { StorageUnavailableError } from '../storage/types'

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '')
  return match?.[1]
}

export function rejectUpgrade(socket: Duplex, status: number, code: CodeValue, msg: string): void {
  const body = JSON.stringify({ code, msg })
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  )
}

/** What the upgrade checks ask of the gateway. */
export interface UpgradeChecks {
  accounts: Accounts
  log: Logger
  /** True once the gateway is closing: no more sockets. */
  closing: () => boolean
  /** Why one more socket of this user from this address is refused, if it is. */
  crowded: (userId: string, address: string) => string | undefined
}

/**
 * Authenticates an upgrade and calls `accept` with its session and client address, or answers it
 * with the refusal. `accept` runs in the turn of the last check, so the caps cannot be raced as
 * long as it completes the upgrade in that turn.
 */
export function admitUpgrade(
  req: IncomingMessage,
  socket: Duplex,
  checks: UpgradeChecks,
  accept: (session: AuthenticatedSession, address: string) => void,
): void {
  // A client that vanishes mid-handshake must not become an unhandled 'error'.
  socket.on('error', () => socket.destroy())
  if (checks.closing()) return rejectUpgrade(socket, 503, Code.SERVER_UNREACHABLE, 'server is shutting down')
  const url = new URL(req.url ?? '/', 'http://localhost')
  if (url.pathname !== WS_PATH)
    return rejectUpgrade(socket, 404, Code.UNKNOWN_OPERATION, `no WebSocket at ${url.pathname}`)
  // Browsers cannot set headers on an upgrade: they offer the session as subprotocols instead
  // (browserSocketAuth.ts), which, unlike ?token=, stays out of access logs.
  const offered = parseSocketProtocols(req.headers['sec-websocket-protocol'])
  const token =
    bearerToken(req.headers.authorization) ?? offered.token ?? url.searchParams.get('token') ?? undefined
  if (!token) return rejectUpgrade(socket, 401, Code.NOT_LOGGED_IN, codeDescriptions.NOT_LOGGED_IN)
  checks.accounts.authenticate(token).then(
    (session) => {
      if (!session) return rejectUpgrade(socket, 401, Code.TOKEN_INVALID, codeDescriptions.TOKEN_INVALID)
      // Every token is bound to the device it was issued to, and the device must say who it is.
      const deviceId = req.headers[DEVICE_HEADER] ?? offered.deviceId
      if (deviceId !== session.deviceId) {
        const msg =
          typeof deviceId === 'string'
            ? 'the token was issued to another device'
            : `the ${DEVICE_HEADER} header (or im.device.<id> subprotocol) of the device the token was issued to is missing`
        return rejectUpgrade(socket, 401, Code.TOKEN_INVALID, msg)
      }
      if (checks.closing() || socket.destroyed) return socket.destroy()
      const address = clientAddress(req)
      const crowded = checks.crowded(session.userId, address)
      if (crowded) return rejectUpgrade(socket, 429, Code.RATE_LIMITED, crowded)
      accept(session, address)
    },
    (error: unknown) => {
      if (error instanceof StorageUnavailableError) {
        checks.log.warn('database unavailable: cannot check a session', { error: error.cause })
        return rejectUpgrade(socket, 503, Code.UNAVAILABLE, codeDescriptions.UNAVAILABLE)
      }
      checks.log.error('authentication failed', { error })
      rejectUpgrade(socket, 503, Code.SERVER_UNREACHABLE, 'the server cannot check sessions right now')
    },
  )
}
