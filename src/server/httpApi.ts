import type { IncomingMessage, ServerResponse } from 'node:http'
import type { z } from 'zod'
import { Code, CodedError, codeDescriptions, codeName, type CodeValue } from '../shared/codes'
import { http, PROTOCOL_VERSION } from '../shared/protocol'
import type { Accounts } from './accounts'
import { clientAddress, RetryLaterError, type AuthGuard } from './authGuard'
import { healthProof } from './dataDir'
import type { FileApi } from './files/fileApi'
import { bearerToken, describeIssues } from './gateway'
import type { Hub } from './hub'
import type { Logger } from './log'
import type { ServerMetrics } from './metrics'
import type { Storage } from './storage/types'

const SERVER_NAME = 'receipts-messenger-server'

export interface HttpApiDeps {
  accounts: Accounts
  hub: Hub
  log: Logger
  maxBodyBytes: number
  /** Login and registration limits (authGuard.ts). */
  guard: AuthGuard
  /** The data folder's secret: /health?challenge=… answers its HMAC, so launch scripts know it is us. */
  secret: Buffer
  /** GET /metrics (Prometheus text); absent: metrics are off and /metrics is 404 like any unknown path. */
  metrics?: Pick<ServerMetrics, 'authorized' | 'text' | 'contentType'>
  /** /ready asks it whether the database answers. */
  storage: Pick<Storage, 'ping'>
  /** /api/files: uploads and downloads (issue 13, H3; files/fileApi.ts). */
  files?: Pick<FileApi, 'handle'>
}

interface ApiBody {
  code: CodeValue
  msg?: string
  data?: unknown
}

/** Transport-level failures get an HTTP status too; typed failures of an operation are 200 with a code. */
const statusOfCode: Partial<Record<CodeValue, number>> = {
  [Code.BAD_FRAME]: 400,
  [Code.RATE_LIMITED]: 429,
  [Code.SERVER_BUSY]: 503,
  [Code.UNAVAILABLE]: 503,
  [Code.FRAME_TOO_LARGE]: 413,
  [Code.UNKNOWN_OPERATION]: 404,
  [Code.INTERNAL]: 500,
}

export function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(payload)),
    'cache-control': 'no-store',
    ...extraHeaders,
  })
  res.end(payload)
}

export function sendError(
  res: ServerResponse,
  code: Exclude<CodeValue, 0>,
  msg?: string,
  headers?: Record<string, string>,
): void {
  const body: ApiBody = { code, msg: msg ?? codeDescriptions[codeName(code) ?? 'INTERNAL'] }
  send(res, statusOfCode[code] ?? 200, body, headers)
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new CodedError(Code.FRAME_TOO_LARGE, `request body exceeds ${limit} bytes`)
    if (Number(req.headers['content-length'] ?? 0) > limit) return reject(tooLarge())
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (chunk: Buffer) => {
      if (done) return
      size += chunk.length
      if (size > limit) {
        done = true
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (done) return
      done = true
      resolve(Buffer.concat(chunks).toString('utf8'))
    })
    req.on('error', () => {
      if (done) return
      done = true
      reject(new CodedError(Code.BAD_FRAME, 'the request body could not be read'))
    })
  })
}

export async function readJson<S extends z.ZodType>(
  req: IncomingMessage,
  schema: S,
  limit: number,
): Promise<z.output<S>> {
  const text = await readBody(req, limit)
  let value: unknown = {}
  if (text.trim() !== '') {
    try {
      value = JSON.parse(text)
    } catch {
      throw new CodedError(Code.BAD_FRAME, 'the request body is not valid JSON')
    }
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new CodedError(Code.INVALID_ARGUMENT, describeIssues(parsed.error))
  return parsed.data
}

/**
 * GET /metrics: the Prometheus text format, behind `Authorization: Bearer <metricsToken>` when the
 * server has one (401 otherwise). The browser guard (Host, Origin) has already passed.
 */
function serveMetrics(
  metrics: NonNullable<HttpApiDeps['metrics']>,
  req: IncomingMessage,
  res: ServerResponse,
  log: Logger,
): void {
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return send(res, 405, { code: Code.UNKNOWN_OPERATION, msg: 'use GET /metrics' }, { allow: 'GET, HEAD' })
  if (!metrics.authorized(req.headers.authorization)) {
    const body = { code: Code.NOT_LOGGED_IN, msg: '/metrics needs Authorization: Bearer <metrics token>' }
    return send(res, 401, body, { 'www-authenticate': 'Bearer realm="metrics"' })
  }
  metrics.text().then(
    (text) => {
      res.writeHead(200, {
        'content-type': metrics.contentType,
        'content-length': String(Buffer.byteLength(text)),
        'cache-control': 'no-store',
      })
      res.end(text)
    },
    (error: unknown) => {
      log.error('metrics failed', { error })
      sendError(res, Code.INTERNAL)
    },
  )
}

/** /health, /ready, /metrics, /api/register, /api/login, /api/logout. */
export function createHttpHandler(deps: HttpApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const { accounts, hub, log, maxBodyBytes, guard } = deps

  const routes: Record<string, (req: IncomingMessage) => Promise<unknown>> = {
    [http.register.path]: async (req) => {
      const body = await readJson(req, http.register.body, maxBodyBytes)
      const result = await guard.register(clientAddress(req), () => accounts.register(body))
      log.info('registered', { userId: result.user.userId })
      return result
    },
    [http.login.path]: async (req) => {
      const body = await readJson(req, http.login.body, maxBodyBytes)
      const result = await guard.login(clientAddress(req), body.userId, () => accounts.login(body))
      log.info('logged in', { userId: body.userId, deviceId: body.deviceId })
      return result
    },
    [http.logout.path]: async (req) => {
      await readJson(req, http.logout.body, maxBodyBytes)
      const token = bearerToken(req.headers.authorization)
      if (!token) throw new CodedError(Code.NOT_LOGGED_IN, 'logout needs Authorization: Bearer <token>')
      const session = await accounts.logout(token)
      hub.endSession(session.tokenHash)
      log.info('logged out', { userId: session.userId, deviceId: session.deviceId })
      return {}
    },
    // H4: limited as login is, per account and address (a wrong current password is a failed login).
    [http.changePassword.path]: async (req) => {
      const body = await readJson(req, http.changePassword.body, maxBodyBytes)
      const token = bearerToken(req.headers.authorization)
      const session = token ? await accounts.authenticate(token) : undefined
      if (!session) throw new CodedError(Code.TOKEN_INVALID)
      const ended = await guard.login(clientAddress(req), session.userId, () =>
        accounts.changePassword(session, body),
      )
      for (const tokenHash of ended) hub.endSession(tokenHash)
      log.info('password changed', { userId: session.userId, sessionsEnded: ended.length })
      return { sessionsEnded: ended.length }
    },
  }

  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/health') {
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendError(res, Code.UNKNOWN_OPERATION, 'use GET /health')
      const challenge = new URL(req.url ?? '/', 'http://localhost').searchParams.get('challenge')
      const proof = challenge && challenge.length <= 128 ? { proof: healthProof(deps.secret, challenge) } : {}
      return send(res, 200, { ok: true, name: SERVER_NAME, protocol: PROTOCOL_VERSION, ...proof })
    }
    if (path === '/ready') {
      // Readiness for a load balancer: this node serves and its database answers.
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return sendError(res, Code.UNKNOWN_OPERATION, 'use GET /ready')
      deps.storage.ping().then(
        () => send(res, 200, { ok: true }),
        () => sendError(res, Code.UNAVAILABLE, codeDescriptions.UNAVAILABLE, { 'retry-after': '1' }),
      )
      return
    }
    if (path === '/metrics' && deps.metrics) return serveMetrics(deps.metrics, req, res, log)
    if (deps.files?.handle(req, res, path)) return
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined
    if (!route) return sendError(res, Code.UNKNOWN_OPERATION, `no endpoint ${path}`)
    if (req.method !== 'POST') {
      return send(res, 405, { code: Code.UNKNOWN_OPERATION, msg: `use POST ${path}` }, { allow: 'POST' })
    }
    route(req).then(
      (data) => send(res, 200, { code: Code.OK, data }),
      (error: unknown) => {
        if (error instanceof RetryLaterError) {
          const body = { code: error.code, msg: error.message, retryAfterMs: error.retryAfterMs }
          return send(res, statusOfCode[error.code] ?? 429, body, {
            'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))),
          })
        }
        if (error instanceof CodedError) {
          // Stop reading an oversized body: close the connection once the answer is out.
          const headers: Record<string, string> =
            error.code === Code.FRAME_TOO_LARGE ? { connection: 'close' } : {}
          return sendError(res, error.code, error.message, headers)
        }
        log.error('http request failed', { path, error })
        sendError(res, Code.INTERNAL)
      },
    )
  }
}
