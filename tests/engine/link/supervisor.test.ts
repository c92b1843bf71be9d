/**
 * The connection supervisor over several nodes (issue 10): real local WebSocket servers stand in for
 * the nodes. A node that goes away or does not answer is left for the next one at once; the backoff
 * waits for a whole failed round; a refused token on any node ends the session. Where a test proves
 * that something happens "at once", the backoff is a minute long: a pause would time the test out.
 */
import { createServer as createTcpServer, type AddressInfo } from 'node:net'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { WebSocketServer, type WebSocket } from 'ws'
import type { ConnectionStateName } from '../../../src/shared/ipc'
import { Supervisor, type SupervisorHooks } from '../../../src/main/engine/link/supervisor'

interface Node {
  url: string
  port: number
  /** Upgrades this node accepted. */
  accepted: number
  sockets: Set<WebSocket>
  /** Closes every socket as a stopping server does (1001) and stops listening. */
  stop(): Promise<void>
}

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn()
  vi.restoreAllMocks()
})

async function startNode(
  options: { port?: number; refuse401?: boolean; closeAtOnce?: boolean } = {},
): Promise<Node> {
  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: options.port ?? 0,
    ...(options.refuse401 ? { verifyClient: (_info, cb) => cb(false, 401) } : {}),
  })
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()))
  const port = (wss.address() as AddressInfo).port
  let stopped: Promise<void> | undefined
  const node: Node = {
    url: `ws://127.0.0.1:${port}/ws`,
    port,
    accepted: 0,
    sockets: new Set(),
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const ws of node.sockets) ws.close(1001, 'server shutting down')
        wss.close(() => resolve())
      })),
  }
  wss.on('connection', (ws) => {
    node.accepted++
    node.sockets.add(ws)
    ws.on('close', () => node.sockets.delete(ws))
    if (options.closeAtOnce) ws.close(1011, 'going away at once')
  })
  cleanups.push(() => node.stop())
  return node
}

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createTcpServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

interface Seen {
  state: ConnectionStateName
  node?: string | undefined
  retryAt?: number | undefined
  detail?: string | undefined
}

function supervise(urls: string[], options: { firstNode?: number; minMs?: number; maxMs?: number } = {}) {
  const seen: Seen[] = []
  const connectedTo: string[] = []
  let unauthorized = 0
  const waiters = new Set<() => void>()
  const changed = (): void => waiters.forEach((w) => w())
  const hooks: SupervisorHooks = {
    state(state, extra = {}) {
      seen.push({ state, ...extra })
      changed()
    },
    connected(conn) {
      connectedTo.push(conn.url)
      seen.push({ state: 'connected', node: conn.url })
      changed()
      return Promise.resolve()
    },
    unauthorized() {
      unauthorized++
      changed()
    },
  }
  const supervisor = new Supervisor(
    {
      urls,
      token: 't',
      deviceId: 'device-1',
      ...(options.firstNode !== undefined ? { firstNode: options.firstNode } : {}),
    },
    { minMs: options.minMs ?? 60_000, maxMs: options.maxMs ?? 60_000 },
    hooks,
  )
  cleanups.push(() => supervisor.stop())
  supervisor.start()
  return {
    supervisor,
    seen,
    connectedTo,
    get unauthorized() {
      return unauthorized
    },
    /** Resolves once `check` holds, re-checked on every state the supervisor reports. */
    until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
      return new Promise((resolve, reject) => {
        const done = (fn: () => void): void => {
          clearTimeout(timer)
          waiters.delete(evaluate)
          fn()
        }
        const evaluate = (): void => {
          if (check()) done(resolve)
        }
        const timer = setTimeout(
          () =>
            done(() => reject(new Error(`timed out waiting for ${what}; states: ${JSON.stringify(seen)}`))),
          timeoutMs,
        )
        waiters.add(evaluate)
        evaluate()
      })
    },
  }
}

describe('supervisor over several nodes', () => {
  it('starts at the chosen node and, when that node goes away, moves to the next one at once', async () => {
    const nodes = [await startNode(), await startNode(), await startNode()]
    const s = supervise(
      nodes.map((n) => n.url),
      { firstNode: 1 },
    )
    await s.until('connected to node 2', () => s.connectedTo.length === 1)
    expect(s.connectedTo).toEqual([nodes[1]?.url])

    // Round robin: 2 → 3 → 1, each move with no pause (the backoff here is a minute).
    await nodes[1]?.stop()
    await s.until('moved to node 3', () => s.connectedTo.length === 2)
    await nodes[2]?.stop()
    await s.until('moved to node 1', () => s.connectedTo.length === 3)
    expect(s.connectedTo).toEqual([nodes[1]?.url, nodes[2]?.url, nodes[0]?.url])
    expect(s.seen.map((x) => x.state)).not.toContain('disconnected')
    // Each attempt names its node.
    expect(s.seen.filter((x) => x.state === 'connecting').map((x) => x.node)).toEqual(s.connectedTo)
  })

  it('passes over nodes that do not answer without waiting, and stays on the node that works', async () => {
    const live = await startNode()
    const dead = [`ws://127.0.0.1:${await freePort()}/ws`, `ws://127.0.0.1:${await freePort()}/ws`]
    const s = supervise([dead[0] as string, dead[1] as string, live.url], { firstNode: 0 })
    await s.until('connected', () => s.connectedTo.length === 1)
    expect(s.seen.map((x) => [x.state, x.node])).toEqual([
      ['connecting', dead[0]],
      ['connecting', dead[1]],
      ['connecting', live.url],
      ['connected', live.url],
    ])
    expect(live.accepted).toBe(1)
  })

  it('backs off only after a whole round failed, then tries the nodes again in turn', async () => {
    const ports = [await freePort(), await freePort()]
    const urls = ports.map((p) => `ws://127.0.0.1:${p}/ws`)
    const s = supervise(urls, { firstNode: 0, minMs: 20, maxMs: 40 })
    await s.until('a failed round', () => s.seen.some((x) => x.state === 'disconnected'))
    const firstRound = s.seen.slice(0, s.seen.findIndex((x) => x.state === 'disconnected') + 1)
    expect(firstRound.map((x) => [x.state, x.node])).toEqual([
      ['connecting', urls[0]],
      ['connecting', urls[1]],
      ['disconnected', urls[1]],
    ])
    expect(firstRound[2]?.retryAt).toBeGreaterThan(0)
    expect(firstRound[2]?.detail).toMatch(
      /no server of the list answered \(last: ws:\/\/127\.0\.0\.1:\d+\/ws: /,
    )

    // A node of the list comes up: the next round finds it.
    const back = await startNode({ port: ports[1] })
    await s.until('connected to the node that came up', () => s.connectedTo.length === 1)
    expect(s.connectedTo).toEqual([back.url])
  })

  it('ends the session when any node refuses the token (the nodes share one database)', async () => {
    const refusing = await startNode({ refuse401: true })
    const live = await startNode()
    const s = supervise([refusing.url, live.url], { firstNode: 0 })
    await s.until('unauthorized', () => s.unauthorized === 1)
    await s.supervisor.stop()
    expect(live.accepted).toBe(0)
    expect(s.connectedTo).toEqual([])
  })

  it('pauses once per round when every node accepts and then drops the link at once', async () => {
    const nodes = [await startNode({ closeAtOnce: true }), await startNode({ closeAtOnce: true })]
    const s = supervise(
      nodes.map((n) => n.url),
      { firstNode: 0, minMs: 5_000 },
    )
    await s.until('a pause', () => s.seen.some((x) => x.state === 'disconnected'))
    await s.supervisor.stop()
    expect(nodes.map((n) => n.accepted)).toEqual([1, 1])
    expect(s.seen.find((x) => x.state === 'disconnected')?.retryAt).toBeGreaterThan(Date.now())
  })

  it('starts from a random node, so that engines spread over the nodes', async () => {
    const nodes = [await startNode(), await startNode(), await startNode()]
    vi.spyOn(Math, 'random').mockReturnValue(0.9)
    const s = supervise(nodes.map((n) => n.url))
    await s.until('connected', () => s.connectedTo.length === 1)
    expect(s.connectedTo).toEqual([nodes[2]?.url])
  })
})

describe('supervisor with one server URL', () => {
  it('reconnects to it after a lost link, after the short pause it always made', async () => {
    const node = await startNode()
    const s = supervise([node.url], { minMs: 20, maxMs: 40 })
    await s.until('connected', () => s.connectedTo.length === 1)
    const port = node.port
    await node.stop()
    await s.until('disconnected', () => s.seen.some((x) => x.state === 'disconnected'))
    expect(s.seen.find((x) => x.state === 'disconnected')).toMatchObject({ node: node.url })
    const again = await startNode({ port })
    await s.until('reconnected', () => s.connectedTo.length === 2)
    expect(s.connectedTo).toEqual([node.url, again.url])
  })

  it('says why an attempt failed, without naming a list', async () => {
    const url = `ws://127.0.0.1:${await freePort()}/ws`
    const s = supervise([url], { minMs: 60_000 })
    await s.until('disconnected', () => s.seen.some((x) => x.state === 'disconnected'))
    const failed = s.seen.find((x) => x.state === 'disconnected')
    expect(failed?.detail).toMatch(/ECONNREFUSED/)
    expect(failed?.detail).not.toMatch(/list/)
  })
})
