/**
 * The headless host serves the engine's whole handler table to a browser, so it must admit only the
 * page it launched: loopback only, the per-launch token, its own Origin, and no file outside the
 * renderer build.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { Engine } from '../../src/main/engine/engine'
import { createDispatcher, createHandlerTable } from '../../src/main/hosts/handlers'
import { startHeadlessHost, type HeadlessHost } from '../../src/main/hosts/headless/host'
import { Code } from '../../src/shared/codes'
import { HEADLESS_IPC_PATH } from '../../src/shared/headless'

let dir: string
let engine: Engine
let host: HeadlessHost
let token: string
let origin: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-headless-sec-'))
  const renderer = join(dir, 'renderer')
  mkdirSync(join(renderer, 'assets'), { recursive: true })
  writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>app</title>')
  writeFileSync(join(renderer, 'assets', 'app.js'), 'console.log(1)')
  // Secrets beside the renderer folder, including one whose name starts like it.
  writeFileSync(join(dir, 'secret.txt'), 'top secret')
  mkdirSync(join(dir, 'renderer-private'))
  writeFileSync(join(dir, 'renderer-private', 'key.txt'), 'top secret')
  engine = new Engine({
    profileDir: join(dir, 'profile'),
    host: 'headless',
    version: 'test',
    defaultServerUrl: 'ws://127.0.0.1:1/ws',
  })
  host = await startHeadlessHost({
    engine,
    dispatch: createDispatcher(createHandlerTable(engine)),
    rendererDir: renderer,
  })
  token = new URL(host.url).hash.replace(/^#token=/, '')
  origin = `http://127.0.0.1:${host.port}`
})
afterAll(async () => {
  await host.close()
  await engine.shutdown()
  rmSync(dir, { recursive: true, force: true })
})

/** Resolves with the socket, or the HTTP status that refused the upgrade. */
function upgrade(
  path: string,
  headers: Record<string, string>,
): Promise<{ ws?: WebSocket; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${host.port}${path}`, { headers })
    ws.once('open', () => resolve({ ws }))
    ws.once('unexpected-response', (_req, res) => {
      res.resume()
      resolve({ status: res.statusCode })
    })
    ws.once('error', reject)
  })
}

/** A raw GET, so that the path reaches the server exactly as written (no URL normalisation). */
function rawGet(path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(host.port, '127.0.0.1')
    let response = ''
    socket.on('data', (chunk) => (response += chunk.toString()))
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0)
      resolve({ status, body: response.split('\r\n\r\n').slice(1).join('\r\n\r\n') })
    })
    socket.on('error', reject)
    socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
  })
}

describe('headless host', () => {
  it('listens on 127.0.0.1 only', async () => {
    expect(new URL(host.url).hostname).toBe('127.0.0.1')
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)
    if (!external) return // no other interface on this machine: nothing else to try
    const refused = await new Promise<string>((resolve) => {
      const socket = connect(host.port, external.address)
      socket.once('connect', () => {
        socket.destroy()
        resolve('connected')
      })
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    })
    expect(refused).toBe('ECONNREFUSED')
  })

  it('accepts its own page with the token, and answers calls', async () => {
    const { ws } = await upgrade(`${HEADLESS_IPC_PATH}?token=${token}`, { origin })
    expect(ws).toBeDefined()
    const reply = await new Promise<unknown>((resolve) => {
      ws?.once('message', (raw) => resolve(JSON.parse(String(raw))))
      ws?.send(JSON.stringify({ id: 1, op: 'getConnectionState', args: [] }))
    })
    expect(reply).toEqual({ type: 'result', id: 1, result: { code: 0, data: { state: 'signedOut' } } })
    ws?.close()
  })

  it('refuses an upgrade without the token, with a wrong one, or from another origin', async () => {
    const wrongToken = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
    const attempts: [string, Record<string, string>][] = [
      [HEADLESS_IPC_PATH, { origin }],
      [`${HEADLESS_IPC_PATH}?token=`, { origin }],
      [`${HEADLESS_IPC_PATH}?token=${wrongToken}`, { origin }],
      [`${HEADLESS_IPC_PATH}?token=${token}x`, { origin }],
      [`${HEADLESS_IPC_PATH}?token=${token}`, {}],
      [`${HEADLESS_IPC_PATH}?token=${token}`, { origin: 'http://evil.example' }],
      [`${HEADLESS_IPC_PATH}?token=${token}`, { origin: `http://127.0.0.1:${host.port + 1}` }],
      [`${HEADLESS_IPC_PATH}?token=${token}`, { origin: 'null' }],
      [`/other?token=${token}`, { origin }],
    ]
    for (const [path, headers] of attempts) {
      expect(await upgrade(path, headers), `${path} ${JSON.stringify(headers)}`).toEqual({ status: 403 })
    }
  })

  it('answers malformed IPC frames with a typed error and keeps the socket', async () => {
    const { ws } = await upgrade(`${HEADLESS_IPC_PATH}?token=${token}`, { origin })
    const replies: unknown[] = []
    const got = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => (replies.length >= n ? resolve() : ws?.once('message', onMessage))
        const onMessage = (raw: unknown) => {
          replies.push(JSON.parse(String(raw)))
          check()
        }
        check()
      })
    ws?.send('not json')
    ws?.send(JSON.stringify({ op: 'getConnectionState' }))
    ws?.send(JSON.stringify({ id: 2, op: 'dropTables', args: [] }))
    ws?.send(`[${'['.repeat(50_000)}${']'.repeat(50_000)}]`)
    await got(4)
    expect(replies).toEqual([
      { type: 'result', id: null, result: expect.objectContaining({ code: Code.BAD_FRAME }) },
      { type: 'result', id: null, result: expect.objectContaining({ code: Code.BAD_FRAME }) },
      { type: 'result', id: 2, result: expect.objectContaining({ code: Code.UNKNOWN_OPERATION }) },
      { type: 'result', id: null, result: expect.objectContaining({ code: Code.BAD_FRAME }) },
    ])
    expect(ws?.readyState).toBe(WebSocket.OPEN)
    ws?.close()
  })

  it('serves the renderer build and nothing outside it', async () => {
    expect((await rawGet('/')).status).toBe(200)
    const asset = await rawGet('/assets/app.js')
    expect(asset.status).toBe(200)
    expect(asset.body).toContain('console.log(1)')
    const traversals = [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/../../../../../../etc/passwd',
      '//etc/passwd',
      '/../renderer-private/key.txt',
      '/%2e%2e/renderer-private/key.txt',
      '/index.html%00.js',
      '/%E0%A4%A',
      'http://127.0.0.1/../secret.txt',
      '/..\\secret.txt',
    ]
    for (const path of traversals) {
      const response = await rawGet(path)
      expect(response.body, path).not.toContain('top secret')
      expect(response.body, path).not.toContain('root:')
      expect([400, 404, 500], path).toContain(response.status)
    }
    // Only GET: no other method reaches a file.
    expect((await rawGet('/index.html', 'POST')).status).toBe(404)
  })

  it('sends no-sniff and no-referrer headers with its files', async () => {
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port: host.port, path: '/' }, (res) => {
        res.resume()
        resolve(res.headers)
      })
        .on('error', reject)
        .end()
    })
    expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' })
  })
})
