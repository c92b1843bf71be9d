/** ChatEndpoint over our protocol (bench/lib/wire.ts): sendMessage, ackDelivered, ackMessageRead. */
import type { ChatEndpoint } from './load'
import type { Push, WireClient } from './wire'

export class OursEndpoint implements ChatEndpoint {
  onMessage: ChatEndpoint['onMessage'] = () => undefined
  onDelivered: ChatEndpoint['onDelivered'] = () => undefined
  onRead: ChatEndpoint['onRead'] = () => undefined
  onFailure: ChatEndpoint['onFailure']
  /** messageUId → workload id of the messages this endpoint sent */
  private readonly sent = new Map<string, string>()
  /** workload id → messageUId of the messages it received and has not confirmed yet */
  private readonly received = new Map<string, string>()
  private seq = 0

  constructor(readonly client: WireClient) {
    client.onPush = (p: Push) => this.push(p)
  }

  get name(): string {
    return this.client.account.userId
  }

  send(to: ChatEndpoint, id: string): void {
    this.client.requestRetrying(
      'sendMessage',
      {
        clientMsgId: `${id}-${this.name}-${this.seq++}`.replace(/[^A-Za-z0-9_-]/g, '_'),
        conversation: { type: 'private', targetId: to.name },
        channelId: '',
        content: { type: 'text', text: id },
      },
      (r) => {
        const m = (r.data as { message?: { messageUId: string } } | undefined)?.message
        if (r.code !== 0 || !m) return this.failed(`sendMessage failed: ${r.code} ${r.msg ?? ''}`)
        this.sent.set(m.messageUId, id)
      },
    )
  }

  receipts(_from: ChatEndpoint, ids: string[]): void {
    const uids: string[] = []
    for (const id of ids) {
      const uid = this.received.get(id)
      if (uid === undefined) continue
      uids.push(uid)
      this.received.delete(id)
    }
    for (const op of ['ackDelivered', 'ackMessageRead'])
      this.client.requestRetrying(op, { messageUIds: uids }, (r) => {
        if (r.code !== 0) this.failed(`${op} failed: ${r.code} ${r.msg ?? ''}`)
      })
  }

  private failed(message: string): void {
    const error = new Error(`${this.name}: ${message}`)
    if (!this.onFailure) throw error
    this.onFailure(error)
  }

  private push(p: Push): void {
    if (p.event === 'message') {
      const m = p.data as { messageUId: string; senderId: string; content: { text: string } }
      this.received.set(m.content.text, m.messageUId)
      this.onMessage(m.senderId, m.content.text)
    } else if (p.event === 'messageDelivered' || p.event === 'messageRead') {
      const uids = (p.data as { messageUIds: string[] }).messageUIds
      const ids = uids.map((u) => this.sent.get(u)).filter((x): x is string => x !== undefined)
      if (p.event === 'messageDelivered') this.onDelivered(ids)
      else {
        for (const u of uids) this.sent.delete(u)
        this.onRead(ids)
      }
    }
  }

  close(): Promise<void> {
    return this.client.close()
  }
}
