/** ChatEndpoint over the bare relay (bench/lib/relayChild.ts): the same frames as ours, nothing stored. */
import WebSocket from 'ws'
import type { ChatEndpoint } from './load'

export class RelayEndpoint implements ChatEndpoint {
  onMessage: ChatEndpoint['onMessage'] = () => undefined
  onDelivered: ChatEndpoint['onDelivered'] = () => undefined
  onRead: ChatEndpoint['onRead'] = () => undefined

  private constructor(
    readonly name: string,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (raw) => {
      const f = JSON.parse(raw.toString()) as { kind: string; from: string; id?: string; ids?: string[] }
      if (f.kind === 'msg' && f.id) this.onMessage(f.from, f.id)
      else if (f.kind === 'delivered' && f.ids) this.onDelivered(f.ids)
      else if (f.kind === 'read' && f.ids) this.onRead(f.ids)
    })
  }

  static connect(port: number, name: string): Promise<RelayEndpoint> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/?id=${encodeURIComponent(name)}`, {
        perMessageDeflate: false,
      })
      ws.once('open', () => resolve(new RelayEndpoint(name, ws)))
      ws.once('error', reject)
    })
  }

  send(to: ChatEndpoint, id: string): void {
    this.ws.send(
      JSON.stringify({ to: to.name, from: this.name, kind: 'msg', id, content: { type: 'text', text: id } }),
    )
  }

  receipts(from: ChatEndpoint, ids: string[]): void {
    this.ws.send(JSON.stringify({ to: from.name, from: this.name, kind: 'delivered', ids }))
    this.ws.send(JSON.stringify({ to: from.name, from: this.name, kind: 'read', ids }))
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve()
      this.ws.once('close', () => resolve())
      this.ws.close()
    })
  }
}
