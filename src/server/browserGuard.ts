/**
 * Keeps web pages out of the server (issue #11): a page in any browser on this machine can send
 * requests to 127.0.0.1:7700, and a page whose DNS name is rebound to 127.0.0.1 can even read the
 * answers. So, on every request and WebSocket upgrade:
 *
 * - Host must name us: a loopback name (`localhost`, `*.localhost`), an IP literal (a rebinding
 *   attack needs a DNS name), or one of `allowedHosts` (the server's public names);
 * - Origin, when a browser sends one, must be ours: `null` or `file://` (pages of the Electron app),
 *   the server's own origin, or one of `allowedOrigins`. Native clients (the engine, scripts) send
 *   none. Another web app on this machine (http://127.0.0.1:3000) is another origin too;
 * - a POST must be `application/json`: a form or a text/plain body goes without a CORS preflight,
 *   a JSON one cannot, and the server grants no preflight.
 */
import type { IncomingMessage } from 'node:http'
import { isIP } from 'node:net'
import { Code, type CodeValue } from '../shared/codes'

export interface BrowserGuardOptions {
  /** Host names besides loopback names and IP literals, e.g. `chat.example.org` (no port). */
  allowedHosts?: readonly string[]
  /** Origins besides the app's own, e.g. `https://chat.example.org`. */
  allowedOrigins?: readonly string[]
}

export interface Refusal {
  status: number
  code: Exclude<CodeValue, 0>
  msg: string
}

/** The host name of a Host header, lowercased, without port or IPv6 brackets. */
function hostName(header: string): string {
  const host = header.trim().toLowerCase()
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']'))
  const colon = host.lastIndexOf(':')
  return colon >= 0 ? host.slice(0, colon) : host
}

export class BrowserGuard {
  private readonly hosts: Set<string>
  private readonly origins: Set<string>

  constructor(options: BrowserGuardOptions = {}) {
    this.hosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()))
    this.origins = new Set(['null', 'file://', ...(options.allowedOrigins ?? []).map(normalizeOrigin)])
  }

  /** The server's own origins, once its port is known. */
  listening(port: number): void {
    for (const host of ['127.0.0.1', 'localhost', '[::1]']) this.origins.add(`http://${host}:${port}`)
  }

  /** A refusal for a request from where the server must not be reached, else undefined. */
  check(req: IncomingMessage): Refusal | undefined {
    const host = req.headers.host
    if (!host) return { status: 400, code: Code.BAD_FRAME, msg: 'a Host header is required' }
    const name = hostName(host)
    if (!(isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || this.hosts.has(name)))
      return {
        status: 403,
        code: Code.PERMISSION_DENIED,
        msg: `this server does not answer to the host ${name}`,
      }
    const origin = req.headers.origin
    if (origin !== undefined && !this.origins.has(normalizeOrigin(origin)))
      return {
        status: 403,
        code: Code.PERMISSION_DENIED,
        msg: 'requests from web pages of other origins are refused',
      }
    if (req.method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
      if (type !== 'application/json')
        return { status: 415, code: Code.BAD_FRAME, msg: 'the request body must be application/json' }
    }
    return undefined
  }
}

function normalizeOrigin(origin: string): string {
  return origin
    .trim()
    .toLowerCase()
    .replace(/([^/])\/$/, '$1')
}
