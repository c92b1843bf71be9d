/**
 * ChatEndpoint over XMPP (@xmpp/client): a chat message carries an XEP-0184 receipt request and an
 * XEP-0333 markable; the receiver answers each message with <received/> (XEP-0184 is per message)
 * and, once per event-loop turn, one <displayed/> for the newest message, which by XEP-0333 marks
 * every earlier one from that sender as displayed (the coalescing a good XMPP client does).
 */
import { client, xml, type Element, type XmppClient } from '@xmpp/client'
import type { ChatEndpoint } from './load'

const RECEIPTS = 'urn:xmpp:receipts'
const MARKERS = 'urn:xmpp:chat-markers:0'

export class XmppEndpoint implements ChatEndpoint {
  onMessage: ChatEndpoint['onMessage'] = () => undefined
  onDelivered: ChatEndpoint['onDelivered'] = () => undefined
  onRead: ChatEndpoint['onRead'] = () => undefined
  /** Ids sent, in order, per receiver: a displayed marker covers every one up to its id. */
  private readonly outstanding = new Map<string, string[]>()
  stanzasSent = 0

  private constructor(
    readonly name: string,
    readonly jid: string,
    private readonly x: XmppClient,
  ) {
    x.on('stanza', (s: Element) => this.stanza(s))
  }

  static async connect(port: number, domain: string, user: string, password: string): Promise<XmppEndpoint> {
    const x = client({
      service: `xmpp://127.0.0.1:${port}`,
      domain,
      username: user,
      password,
      resource: 'bench',
    })
    x.on('error', () => undefined)
    x.reconnect.stop()
    const jid = await x.start()
    await x.send(xml('presence'))
    return new XmppEndpoint(user, jid.bare().toString(), x)
  }

  send(to: ChatEndpoint, id: string): void {
    const peer = to as XmppEndpoint
    const list = this.outstanding.get(peer.jid) ?? []
    list.push(id)
    this.outstanding.set(peer.jid, list)
    this.stanzasSent++
    void this.x.send(
      xml(
        'message',
        { to: peer.jid, id, type: 'chat' },
        xml('body', {}, id),
        xml('request', { xmlns: RECEIPTS }),
        xml('markable', { xmlns: MARKERS }),
      ),
    )
  }

  receipts(from: ChatEndpoint, ids: string[]): void {
    const peer = (from as XmppEndpoint).jid
    const stanzas = ids.map((id) =>
      xml('message', { to: peer, id: `r-${id}` }, xml('received', { xmlns: RECEIPTS, id })),
    )
    const last = ids.at(-1)
    if (last !== undefined)
      stanzas.push(
        xml(
          'message',
          { to: peer, id: `d-${last}`, type: 'chat' },
          xml('displayed', { xmlns: MARKERS, id: last }),
        ),
      )
    this.stanzasSent += stanzas.length
    void this.x.sendMany(stanzas)
  }

  private stanza(s: Element): void {
    if (!s.is('message')) return
    const from = (s.attrs.from ?? '').split('/')[0] as string
    const received = s.getChild('received', RECEIPTS)
    if (received?.attrs.id) return this.onDelivered([received.attrs.id])
    const displayed = s.getChild('displayed', MARKERS)
    if (displayed?.attrs.id) {
      const list = this.outstanding.get(from) ?? []
      const upTo = list.indexOf(displayed.attrs.id)
      if (upTo >= 0) this.onRead(list.splice(0, upTo + 1))
      return
    }
    const body = s.getChildText('body')
    if (body !== null && s.attrs.id) this.onMessage(from, s.attrs.id)
  }

  async close(): Promise<void> {
    await this.x.stop().catch(() => undefined)
  }
}
