/**
 * CORS for the HTTP API, for the web pages an operator lists in `allowedOrigins` only (issue 16: a
 * page using the web SDK signs in with POST /api/login from its own origin). A JSON POST from
 * another origin needs a preflight; we answer one only for a listed origin, so a page elsewhere can
 * neither call the API nor read an answer (browserGuard.ts refuses its requests anyway). The
 * Electron app's own origins (`null`, `file://`) and the server's own origin need no CORS and get
 * none: a sandboxed iframe anywhere also says `null`.
 *
 * No credentials (cookies) are involved: the API authenticates with a bearer token the page holds.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The answer to a preflight is kept by the browser this long (seconds). */
const PREFLIGHT_MAX_AGE_S = 600

export class Cors {
  private readonly origins: Set<string>

  constructor(allowedOrigins: readonly string[] = []) {
    this.origins = new Set(allowedOrigins.map(normalizeOrigin))
  }

  /**
   * Adds the CORS headers for a listed origin to `res`, and answers a preflight (OPTIONS) itself.
   * Returns true when the request was answered here.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin
    const listed = origin !== undefined && this.origins.has(normalizeOrigin(origin))
    // Caches must not hand one origin's answer to another.
    res.setHeader('vary', 'Origin')
    if (listed) res.setHeader('access-control-allow-origin', origin)
    if (req.method !== 'OPTIONS') return false
    if (!listed) {
      res.writeHead(403, { 'content-length': '0', 'cache-control': 'no-store' })
      res.end()
      return true
    }
    res.writeHead(204, {
      'access-control-allow-methods': 'POST, GET',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': String(PREFLIGHT_MAX_AGE_S),
      'cache-control': 'no-store',
    })
    res.end()
    return true
  }
}

function normalizeOrigin(origin: string): string {
  return origin
    .trim()
    .toLowerCase()
    .replace(/([^/])\/$/, '$1')
}
