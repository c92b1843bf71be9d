/** The small part of @xmpp/client (which ships no types) that the peer scenario uses. */
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events'

  export interface Element {
    name: string
    attrs: Record<string, string | undefined>
    children: (Element | string)[]
    getChild(name: string, xmlns?: string): Element | undefined
    getChildText(name: string, xmlns?: string): string | null
    is(name: string, xmlns?: string): boolean
  }

  export interface JID {
    toString(): string
    bare(): JID
    local: string
  }

  export interface XmppClient extends EventEmitter {
    jid: JID | null
    start(): Promise<JID>
    stop(): Promise<void>
    send(element: Element): Promise<void>
    sendMany(elements: Element[]): Promise<void>
    reconnect: { stop(): void; delay: number }
  }

  export function client(options: {
    service: string
    domain?: string
    username?: string
    password?: string
    resource?: string
  }): XmppClient

  export function xml(
    name: string,
    attrs?: Record<string, string>,
    ...children: (Element | string)[]
  ): Element
}
