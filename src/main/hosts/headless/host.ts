/**
 * The headless host: the same handler table as the Electron host, served to the same renderer
 * build over a local WebSocket. It listens on loopback only, requires a per-launch token, and
 * accepts WebSocket upgrades only from its own origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { WebSocketServer, type WebSocket } from 'ws'
import { Code, fail } from '../../../shared/codes'
import {
  HEADLESS_IPC_PATH,
  HeadlessCallFrame,
  headlessFrameId,
  type HeadlessHostFrame,
} from '../../../shared/headless'
import { eventNames } from '../../../shared/ipc'
import type { Dispatch } from '../handlers'
import type { Engine } from '../../engine/engine'

export interface HeadlessHost {
  /** The URL to open in a browser; the token travels in the fragment, never in a request line. */
  url: string
  port: number
  close(): Promise<void>
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
}

function sameToken(given: string | null, token: string): boolean {
  if (!given) return false
  const a = Buffer.from(given)
  const b = Buffer.from(token)
  return a.length === b.length && timingSafeEqual(a, b)
}

export async function startHeadlessHost(options: {
  engine: Engine
  dispatch: Dispatch
  rendererDir: string
  port?: number
}): Promise<HeadlessHost> {
  const token = randomBytes(24).toString('base64url')
  const root = resolve(options.rendererDir)
  let origins: Set<string> = new Set()

  const serveStatic = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)
    const file = normalize(join(root, path === '/' ? 'index.html' : path))
    if (!file.startsWith(root + sep) || req.method !== 'GET') {
      res.writeHead(404).end()
      return
    }
    try {
      const body = await readFile(file)
      res.writeHead(200, {
        'content-type': MIME[extname(file)] ?? 'application/octet-stream',
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
        // The page's own CSP is a meta tag (it must also work from file:// in Electron); the
        // directives a meta tag cannot carry are sent here.
        'content-security-policy': "frame-ancestors 'none'",
        'x-frame-options': 'DENY',
      })
      res.end(body)
    } catch {
      res.writeHead(404).end()
    }
  }

  const server = createServer((req, res) => {
    serveStatic(req, res).catch(() => res.writeHead(500).end())
  })
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 })

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x')
    const allowed =
      url.pathname === HEADLESS_IPC_PATH &&
      sameToken(url.searchParams.get('token'), token) &&
      origins.has(req.headers.origin ?? '')
    if (!allowed) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req))
  })

  const send = (ws: WebSocket, frame: HeadlessHostFrame): void => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
  }

  wss.on('connection', (ws) => {
    ws.on('message', (raw) => {
      let data: unknown
      try {
        data = JSON.parse(raw.toString())
      } catch {
        send(ws, { type: 'result', id: null, result: fail(Code.BAD_FRAME, 'not JSON') })
        return
      }
      const parsed = HeadlessCallFrame.safeParse(data)
      if (!parsed.success) {
        const result = fail(Code.BAD_FRAME, 'a call is {type: "call", id, op, args}')
        send(ws, { type: 'result', id: headlessFrameId(data), result })
        return
      }
      const { id, op } = parsed.data
      // JSON has no undefined: an omitted optional argument arrives as null (Electron's IPC keeps
      // undefined). No operation takes a null argument, so null means "not given", as it does there.
      const args = parsed.data.args.map((a) => (a === null ? undefined : a))
      void options.dispatch(op, args).then((result) => send(ws, { type: 'result', id, result }))
    })
  })

  const unsubscribers = eventNames.map((event) => {
    const forward = (payload: unknown): void => {
      for (const ws of wss.clients) send(ws, { type: 'event', event, payload })
    }
    options.engine.on(event, forward)
    return () => options.engine.off(event, forward)
  })

  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolveListen())
  })
  const port = (server.address() as AddressInfo).port
  origins = new Set([`http://127.0.0.1:${port}`, `http://localhost:${port}`])

  return {
    url: `http://127.0.0.1:${port}/#token=${token}`,
    port,
    async close() {
      for (const off of unsubscribers) off()
      for (const ws of wss.clients) ws.terminate()
      wss.close()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
