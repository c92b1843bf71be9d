/**
 * The web SDK (issue 16, SPEC R7): a browser client of the IM server with RongCloud Web's API names.
 *
 *   import { IMClient, Events } from './im-web-sdk.js'
 *   const im = new IMClient({ serverUrl: 'https://chat.example.org' })
 *
 * See README.md in this folder. No Node, no SQLite: WebSocket, fetch and IndexedDB only.
 */
export { IMClient, type ClientOptions, type ConnectionStatus } from './client'
export { Events, type EventName, type EventPayloads, type Listener, type DisconnectReason } from './events'
export type { WebMessage, WebReadReceiptInfo } from './messages'
export { RECEIPT_CACHE_DEFAULTS, type CachedReceiptRequest, type ReceiptCacheOptions } from './receiptCache'
export type { WebSocketConstructor, WebSocketLike } from './socket'
export { IndexedDbStore, MemoryStore, type KeyValueStore } from './storage'
export { Code } from '../../shared/codes'
