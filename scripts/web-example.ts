/**
 * npm run web-example [-- --server <url>] [--port 7800] [--host 127.0.0.1] [--data <dir>]
 *
 * Serves the web SDK's example page (src/sdk/web/example: plain HTML and JavaScript) with the SDK
 * built from source, at http://<host>:<port>. A person signs in there, sees their groups and
 * answers receipt requests (issue 16).
 *
 * --server <url>: the IM server the page talks to (`ws://127.0.0.1:7700/ws`, the one `npm start`
 * runs, or any other). The page is another origin than the server, so the server must list it in
 * `allowedOrigins` (its --config file); the script checks and prints what to set when it is not.
 * Without --server it starts a server of its own in this process (data in --data, default a
 * temporary folder), allowing the page's origin.
 *
 * Prints one line once serving: `web example at http://… for the IM server at ws://…/ws`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { extname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { startServer, type RunningServer } from '../src/server/server'
import { buildWebSdk, WEB_SDK_FILE } from './build-web-sdk'

const root = resolve(import.meta.dirname, '..')
const { values } = parseArgs({
  options: {
    server: { type: 'string' },
    port: { type: 'string', default: '7800' },
    host: { type: 'string', default: '127.0.0.1' },
    data: { type: 'string' },
  },
})

const sdkDir = mkdtempSync(join(tmpdir(), 'im-web-example-'))
await buildWebSdk(sdkDir)
const files: Record<string, string> = {
  '/': join(root, 'src/sdk/web/example/index.html'),
  '/index.html': join(root, 'src/sdk/web/example/index.html'),
  '/app.js': join(root, 'src/sdk/web/example/app.js'),
  '/style.css': join(root, 'src/sdk/web/example/style.css'),
  [`/${WEB_SDK_FILE}`]: join(sdkDir, WEB_SDK_FILE),
  [`/${WEB_SDK_FILE}.map`]: join(sdkDir, `${WEB_SDK_FILE}.map`),
}
const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
}

let serverUrl = values.server
const http = createServer((req, res) => {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  if (path === '/config.json') return send(res, 'application/json', JSON.stringify({ serverUrl }))
  // No icon: an empty answer rather than a 404 in the page's console.
  if (path === '/favicon.ico') return send(res, 'image/x-icon', '', 204)
  const file = files[path]
  if (!file || req.method !== 'GET') return send(res, 'text/plain', 'not found', 404)
  send(res, types[extname(file)] ?? 'application/octet-stream', readFileSync(file))
})

function send(res: ServerResponse, type: string, body: string | Buffer, status = 200): void {
  const server = serverUrl ? new URL(serverUrl) : undefined
  const wsOrigin = server ? `${server.protocol}//${server.host}` : ''
  const httpOrigin = server ? `${server.protocol.replace('ws', 'http')}//${server.host}` : ''
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    // The page may talk to its IM server and load nothing but its own files.
    'content-security-policy': `default-src 'self'; connect-src 'self' ${wsOrigin} ${httpOrigin}; frame-ancestors 'none'`,
  })
  res.end(body)
}

await new Promise<void>((done) => http.listen(Number(values.port), values.host, done))
const { port } = http.address() as AddressInfo
const host = values.host.includes(':') ? `[${values.host}]` : values.host
const origin = `http://${host}:${port}`

let own: RunningServer | undefined
let ownData: string | undefined
if (!serverUrl) {
  ownData = values.data ?? mkdtempSync(join(tmpdir(), 'im-web-example-server-'))
  own = await startServer({ port: 0, dataDir: ownData, allowedOrigins: [origin], logLevel: 'warn' })
  serverUrl = own.url
} else {
  await checkOrigin(serverUrl)
}
console.log(`web example at ${origin} for the IM server at ${serverUrl}`)

/** Tells the operator what to set when the server refuses this page's origin. */
async function checkOrigin(url: string): Promise<void> {
  const base = new URL(url)
  const health = `${base.protocol.replace('ws', 'http')}//${base.host}/health`
  try {
    const res = await fetch(health, { headers: { origin } })
    if (res.status !== 403) return
  } catch {
    console.error(`the IM server at ${url} does not answer: start it first (npm start, or npm run server)`)
    return
  }
  console.error(
    `the IM server at ${url} refuses pages from ${origin}: add it to the server's allowedOrigins, e.g. ` +
      `a server.json of {"allowedOrigins": ["${origin}"]} and npm run server -- --config server.json ` +
      '(then restart it); or run npm run web-example without --server to get a server that allows it',
  )
}

const stop = async (): Promise<void> => {
  http.close()
  await own?.close()
  if (ownData && !values.data) rmSync(ownData, { recursive: true, force: true })
  rmSync(sdkDir, { recursive: true, force: true })
  process.exit(0)
}
process.once('SIGINT', () => void stop())
process.once('SIGTERM', () => void stop())
