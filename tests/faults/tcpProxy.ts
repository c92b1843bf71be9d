/**
 * A TCP proxy between an engine and the server that can cut the network without closing anything:
 * while cut, bytes in both directions are held (not delivered, as on a dead link), closes are not
 * passed on, and new connections are accepted but not connected through. `restore()` delivers what
 * was held and passes on the closes that happened meanwhile; `reset()` destroys every connection.
 */
import { EventEmitter } from 'node:events'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'

interface Pair {
  client: Socket
  upstream: Socket | undefined
  toUpstream: Buffer[]
  toClient: Buffer[]
  clientGone: boolean
  upstreamGone: boolean
}

export interface ProxyEvents {
  /** The server closed a connection while the network was cut (e.g. its heartbeat gave up). */
  upstreamClosedWhileCut: []
  connection: []
}

export class TcpProxy extends EventEmitter<ProxyEvents> {
  private readonly pairs = new Set<Pair>()
  private isCut = false
  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
  ) {
    super()
  }

  static async start(targetPort: number): Promise<TcpProxy> {
    const server = createServer((client) => proxy.accept(client))
    const proxy = new TcpProxy(server, targetPort)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return proxy
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  /** ws://127.0.0.1:<proxy port>/ws for a server URL. */
  urlFor(serverUrl: string): string {
    const url = new URL(serverUrl)
    url.port = String(this.port)
    return url.toString()
  }

  get connections(): number {
    return this.pairs.size
  }

  private accept(client: Socket): void {
    const pair: Pair = {
      client,
      upstream: undefined,
      toUpstream: [],
      toClient: [],
      clientGone: false,
      upstreamGone: false,
    }
    this.pairs.add(pair)
    client.on('error', () => undefined)
    client.on('data', (chunk: Buffer) => {
      if (this.isCut || !pair.upstream) pair.toUpstream.push(chunk)
      else pair.upstream.write(chunk)
    })
    client.on('close', () => {
      pair.clientGone = true
      if (!this.isCut) this.drop(pair)
    })
    if (!this.isCut) this.connectUpstream(pair)
    this.emit('connection')
  }

  private connectUpstream(pair: Pair): void {
    const upstream = connect(this.targetPort, '127.0.0.1')
    pair.upstream = upstream
    upstream.on('error', () => undefined)
    upstream.on('data', (chunk: Buffer) => {
      if (this.isCut) pair.toClient.push(chunk)
      else pair.client.write(chunk)
    })
    upstream.on('close', () => {
      pair.upstreamGone = true
      if (this.isCut) this.emit('upstreamClosedWhileCut')
      else this.drop(pair)
    })
    for (const chunk of pair.toUpstream.splice(0)) upstream.write(chunk)
  }

  private drop(pair: Pair): void {
    pair.client.destroy()
    pair.upstream?.destroy()
    this.pairs.delete(pair)
  }

  cut(): void {
    this.isCut = true
  }

  restore(): void {
    this.isCut = false
    for (const pair of [...this.pairs]) {
      if (pair.clientGone || pair.upstreamGone) {
        this.drop(pair)
        continue
      }
      if (!pair.upstream) {
        this.connectUpstream(pair)
      } else {
        for (const chunk of pair.toUpstream.splice(0)) pair.upstream.write(chunk)
      }
      for (const chunk of pair.toClient.splice(0)) pair.client.write(chunk)
    }
  }

  /** Every connection reset at once, as when a router reboots. */
  reset(): void {
    for (const pair of [...this.pairs]) {
      pair.client.resetAndDestroy()
      pair.upstream?.resetAndDestroy()
      this.pairs.delete(pair)
    }
  }

  async close(): Promise<void> {
    this.reset()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
