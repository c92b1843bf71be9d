/**
 * The server field as a list of nodes (issue 10): the parser the form, the IPC contract, the CLI and
 * the engine share; the profile's database name for a list; the HTTP calls trying node after node.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../../src/shared/codes'
import { ipcOperations } from '../../../src/shared/ipc'
import { parseServerList, SERVER_LIST_MAX } from '../../../src/shared/serverList'
import { postJson } from '../../../src/main/engine/ops/accounts'
import { Profile } from '../../../src/main/engine/profile'

const urls = (n: number, from = 7701) => Array.from({ length: n }, (_, i) => `ws://127.0.0.1:${from + i}/ws`)

describe('parseServerList', () => {
  it('takes one URL as it always did', () => {
    expect(parseServerList('ws://127.0.0.1:7700/ws')).toEqual({ code: 0, data: ['ws://127.0.0.1:7700/ws'] })
    expect(parseServerList('  wss://chat.example.com/ws ')).toEqual({
      code: 0,
      data: ['wss://chat.example.com/ws'],
    })
    expect(parseServerList('ws://[::1]:7700').code).toBe(0)
  })

  it('splits a list on commas, whitespace around them allowed, keeping the order given', () => {
    expect(parseServerList('ws://127.0.0.1:7701/ws,ws://127.0.0.1:7702/ws , \n wss://c.example/ws')).toEqual({
      code: 0,
      data: ['ws://127.0.0.1:7701/ws', 'ws://127.0.0.1:7702/ws', 'wss://c.example/ws'],
    })
    expect(parseServerList(urls(SERVER_LIST_MAX).join(',')).code).toBe(0)
  })

  it('refuses, with INVALID_ARGUMENT saying what is wrong: empty, not ws(s), empty entries, duplicates, too many', () => {
    const cases: [string, RegExp][] = [
      ['', /required/],
      ['   ', /required/],
      ['http://127.0.0.1:7700/ws', /"http:\/\/127\.0\.0\.1:7700\/ws" is not a server URL/],
      ['ws://127.0.0.1:7701/ws, 127.0.0.1:7702', /"127\.0\.0\.1:7702" is not a server URL/],
      ['ws://a b/ws', /is not a server URL/],
      ['ws://127.0.0.1:7701/ws,', /empty entry/],
      ['ws://127.0.0.1:7701/ws,,ws://127.0.0.1:7702/ws', /empty entry/],
      ['ws://127.0.0.1:7701/ws, ws://127.0.0.1:7701/ws', /ws:\/\/127\.0\.0\.1:7701\/ws is listed twice/],
      // The same node however it is spelled.
      ['ws://LOCALHOST:80/ws,ws://localhost/ws', /is listed twice/],
      [urls(SERVER_LIST_MAX + 1).join(','), new RegExp(`at most ${SERVER_LIST_MAX}`)],
      [`ws://${'a'.repeat(200)}/ws`, /is not a server URL/],
    ]
    for (const [value, msg] of cases) {
      const res = parseServerList(value)
      expect(res.code, value).toBe(Code.INVALID_ARGUMENT)
      expect(res.msg, value).toMatch(msg)
    }
  })

  it('is the rule of the IPC contract, so the renderer cannot send what the engine refuses', () => {
    const login = (serverUrl: string) =>
      ipcOperations.login.args.safeParse([{ serverUrl, userId: 'alice', password: 'secret-pw' }])
    expect(login(urls(3).join(', ')).success).toBe(true)
    expect(login(urls(SERVER_LIST_MAX).join(',')).success).toBe(true)
    for (const bad of [
      'ws://127.0.0.1:7701/ws,ws://127.0.0.1:7701/ws',
      'ws://127.0.0.1:7701/ws,',
      'http://x',
    ])
      expect(login(bad).success, bad).toBe(false)
  })
})

describe('the profile database of a list of nodes', () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))
  const profile = () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-serverlist-'))
    dirs.push(dir)
    return new Profile(dir)
  }

  it('keeps the file name of a single URL (existing profiles keep their history)', () => {
    const p = profile()
    expect(p.databaseFile('ws://127.0.0.1:7700/ws', 'alice')).toBe(
      join(p.dir, '127.0.0.1_7700_ws--alice.sqlite'),
    )
    expect(basename(p.databaseFile('wss://chat.example.com:443/im', 'bob'))).toBe(
      'chat.example.com_443_im--bob.sqlite',
    )
  })

  it('names a list by its sorted nodes: reordering or respacing the list keeps the same file', () => {
    const p = profile()
    const [a, b, c] = urls(3)
    const file = p.databaseFile(`${a},${b},${c}`, 'alice')
    expect(basename(file)).toBe('127.0.0.1_7701_ws+127.0.0.1_7702_ws+127.0.0.1_7703_ws--alice.sqlite')
    expect(p.databaseFile(`${c} , ${a},${b}`, 'alice')).toBe(file)
    expect(p.databaseFile(`${b},${a}`, 'alice')).not.toBe(file)
    expect(p.databaseFile(`${a},${b},${c}`, 'bob')).not.toBe(file)
    expect(p.databaseFile(a as string, 'alice')).not.toBe(file)
  })

  it('hashes a list too long for a file name, still independent of the order', () => {
    const p = profile()
    const list = urls(SERVER_LIST_MAX).map((u) => u.replace('127.0.0.1', 'node.example.com'))
    const file = basename(p.databaseFile(list.join(','), 'alice'))
    expect(file).toMatch(/^nodes-[0-9a-f]{32}--alice\.sqlite$/)
    expect(basename(p.databaseFile([...list].reverse().join(', '), 'alice'))).toBe(file)
    expect(basename(p.databaseFile(list.slice(1).join(','), 'alice'))).not.toBe(file)
  })
})

describe('HTTP calls to a list of nodes', () => {
  const servers: Server[] = []
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
  })

  /** A node answering every POST with `answer` (JSON, or HTML as a proxy in front of a dead node does). */
  async function node(answer: object | string, status = 200): Promise<{ url: string; hits: string[] }> {
    const hits: string[] = []
    const server = createServer((req, res) => {
      hits.push(req.url ?? '')
      req.resume()
      res.writeHead(status, { 'content-type': typeof answer === 'string' ? 'text/html' : 'application/json' })
      res.end(typeof answer === 'string' ? answer : JSON.stringify(answer))
    })
    servers.push(server)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`, hits }
  }

  /** A port nothing listens on. */
  async function deadUrl(): Promise<string> {
    const probe = createTcpServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port } = probe.address() as AddressInfo
    await new Promise((resolve) => probe.close(resolve))
    return `ws://127.0.0.1:${port}/ws`
  }

  const options = { timeoutMs: 5000 }

  it('goes on to the next node while one does not answer, from the node chosen first', async () => {
    const dead = await deadUrl()
    const proxy = await node('<html>502 Bad Gateway</html>', 502)
    const live = await node({ code: 0, data: { ok: true } })
    const res = await postJson(
      `${dead},${proxy.url},${live.url}`,
      '/api/login',
      {},
      { ...options, firstNode: 0 },
    )
    expect(res).toEqual({ code: 0, data: { ok: true } })
    expect(proxy.hits).toEqual(['/api/login'])
    expect(live.hits).toEqual(['/api/login'])
    // Starting at the live node, nothing else is asked.
    const again = await postJson(
      `${dead},${proxy.url},${live.url}`,
      '/api/login',
      {},
      { ...options, firstNode: 2 },
    )
    expect(again.code).toBe(0)
    expect(proxy.hits).toHaveLength(1)
  })

  it('takes any answer of a node as final (the nodes share one database)', async () => {
    const refusing = await node({ code: Code.AUTH_FAILED, msg: 'Wrong user id or password.' })
    const other = await node({ code: 0, data: {} })
    const res = await postJson(`${refusing.url},${other.url}`, '/api/login', {}, { ...options, firstNode: 0 })
    expect(res.code).toBe(Code.AUTH_FAILED)
    expect(other.hits).toEqual([])
  })

  it('says SERVER_UNREACHABLE once no node of the list answered', async () => {
    const res = await postJson(`${await deadUrl()},${await deadUrl()}`, '/api/login', {}, options)
    expect(res.code).toBe(Code.SERVER_UNREACHABLE)
    expect(res.msg).toMatch(/none of the 2 servers answered/)
  })

  it('refuses a list with any node reached in clear over the network, before asking any node', async () => {
    const live = await node({ code: 0, data: {} })
    const res = await postJson(
      `${live.url}, ws://192.0.2.10:7700/ws`,
      '/api/login',
      {},
      { ...options, firstNode: 0 },
    )
    expect(res.code).toBe(Code.INSECURE_TRANSPORT)
    expect(res.msg).toMatch(/192\.0\.2\.10:7700/)
    expect(live.hits).toEqual([])
    const invalid = await postJson(`${live.url},${live.url}`, '/api/login', {}, options)
    expect(invalid.code).toBe(Code.INVALID_ARGUMENT)
    expect(live.hits).toEqual([])
  })
})
