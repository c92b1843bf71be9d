/**
 * The web SDK's client: sign-in over HTTP, one WebSocket (socket.ts) that reconnects with backoff
 * and catches up by sequence numbers (sync.ts), and the RongCloud Web API by its names, every call
 * resolving to `{ code, msg?, data? }` (code 0: success; the codes of src/shared/codes.ts).
 */
import { z } from 'zod'
import { Code, fail, ok, type Result } from '../../shared/codes'
import {
  byUserId,
  ChannelId,
  Conversation,
  GroupId,
  LIMITS,
  MessageContent,
  MessageUId,
  type GroupInfo,
} from '../../shared/model'
import {
  http,
  WS_PATH,
  type ConversationState,
  type ReplyData,
  type RequestData,
  type RequestOp,
} from '../../shared/protocol'
import { Events, type EventName, type EventPayloads, type Listener } from './events'
import type { WebMessage } from './messages'
import {
  groupBySender,
  ReceiptRequestCache,
  type CachedReceiptRequest,
  type ReceiptCacheOptions,
} from './receiptCache'
import { SocketLink, type WebSocketConstructor } from './socket'
import { defaultStore, type KeyValueStore } from './storage'
import { WebSync } from './sync'

export interface ClientOptions {
  /** The server, as it prints itself (`ws://host:7700/ws`) or its HTTP base (`https://chat.example.org`). */
  serverUrl: string
  /** Default: the browser's WebSocket. Node tests pass the `ws` package's. */
  WebSocket?: WebSocketConstructor
  /** Default: the global fetch. */
  fetch?: typeof fetch
  /** Default: IndexedDB (memory where there is none). */
  storage?: KeyValueStore
  /** The R7 cache's limits: 30 requests per group and 24 h by default. */
  receiptCache?: ReceiptCacheOptions
  /** Reconnection backoff: from the first pause, doubling, up to the last (with ±20 % jitter). */
  reconnect?: { minDelayMs?: number; maxDelayMs?: number }
  requestTimeoutMs?: number
}

export type ConnectionStatus = 'idle' | 'connecting' | 'connected' | 'suspended' | 'disconnected'

/** Close codes of the server that mean the session is over (src/server/connection.ts). */
const SESSION_ENDED_CLOSE_CODES = new Set([4001, 4002])

const HistoryOptions = z.object({
  count: z.number().int().min(1).max(LIMITS.historyPageMax).default(20),
  /** Messages before this seq (default: the latest). */
  beforeSeq: z.number().int().positive().optional(),
})
const SendOptions = z.object({ isNeedGroupAck: z.boolean().default(false), channelId: ChannelId })
/** A RongCloud messageList: byUserId, not z.record (which drops a user named "__proto__"). */
const MessageList = byUserId(z.array(MessageUId).min(1).max(LIMITS.ackBatchMax))

function invalid<T>(error: z.ZodError): Result<T> {
  return fail(
    Code.INVALID_ARGUMENT,
    error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; '),
  )
}

function randomId(bytes = 16): string {
  const raw = crypto.getRandomValues(new Uint8Array(bytes))
  return btoa(String.fromCharCode(...raw))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

/** Both URLs of a server from either form of its address. */
function serverUrls(serverUrl: string): { ws: string; http: string } {
  const url = new URL(serverUrl)
  const secure = url.protocol === 'wss:' || url.protocol === 'https:'
  const base = `${url.host}${url.pathname.replace(/\/ws\/?$/, '').replace(/\/$/, '')}`
  return {
    ws: `${secure ? 'wss' : 'ws'}://${base}${WS_PATH}`,
    http: `${secure ? 'https' : 'http'}://${base}`,
  }
}

export class IMClient {
  private readonly urls: { ws: string; http: string }
  private readonly store: KeyValueStore
  private readonly listeners = new Map<EventName, Set<(payload: never) => void>>()
  private link: SocketLink | undefined
  private session: { token: string; deviceId: string } | undefined
  private sync: WebSync | undefined
  private cache: ReceiptRequestCache | undefined
  private userId: string | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private attempt = 0
  private status: ConnectionStatus = 'idle'

  constructor(private readonly options: ClientOptions) {
    this.urls = serverUrls(options.serverUrl)
    this.store = options.storage ?? defaultStore()
  }

  getConnectionStatus(): ConnectionStatus {
    return this.status
  }

  /** The signed-in user's id, once connected. */
  getCurrentUserId(): string | undefined {
    return this.userId
  }

  addEventListener<E extends EventName>(event: E, listener: Listener<E>): void {
    let set = this.listeners.get(event)
    if (!set) this.listeners.set(event, (set = new Set()))
    set.add(listener as (payload: never) => void)
  }

  removeEventListener<E extends EventName>(event: E, listener: Listener<E>): void {
    this.listeners.get(event)?.delete(listener as (payload: never) => void)
  }

  // Sign-in over HTTP (the server's /api; from another origin it needs that origin in allowedOrigins).

  register(
    userId: string,
    password: string,
    displayName?: string,
  ): Promise<Result<z.output<typeof http.register.reply>>> {
    const body = http.register.body.safeParse({ userId, password, ...(displayName ? { displayName } : {}) })
    if (!body.success) return Promise.resolve(invalid(body.error))
    return this.post(http.register.path, body.data, http.register.reply)
  }

  /** Logs in this browser as a device of its own (its id kept in the store) and returns the token. */
  async login(
    userId: string,
    password: string,
  ): Promise<Result<z.output<typeof http.login.reply> & { deviceId: string }>> {
    const deviceId = await this.deviceId()
    const body = http.login.body.safeParse({ userId, password, deviceId })
    if (!body.success) return invalid(body.error)
    const result = await this.post(http.login.path, body.data, http.login.reply)
    return result.code === 0 ? ok({ ...result.data, deviceId }) : result
  }

  /**
   * RongCloud connect(token): opens the socket, catches up, and reconnects by itself from then on.
   * `deviceId` defaults to this browser's (the one login used): a token works for its own device only.
   */
  async connect(token: string, deviceId?: string): Promise<Result<{ userId: string }>> {
    this.stop()
    this.session = { token, deviceId: deviceId ?? (await this.deviceId()) }
    this.setStatus('connecting')
    this.emit(Events.CONNECTING, { attempt: 0 })
    const result = await this.open()
    if (result.code !== 0) {
      // The first connection is the caller's to retry: no reconnection behind its back.
      this.stop()
      this.session = undefined
      this.setStatus('disconnected')
      return result
    }
    return ok({ userId: result.data })
  }

  /** Ends the session on the server (POST /api/logout) and disconnects. */
  async logout(): Promise<Result<null>> {
    const token = this.session?.token
    if (!token) return fail(Code.NOT_LOGGED_IN)
    const result = await this.post(http.logout.path, {}, http.logout.reply, token)
    this.disconnect()
    return result.code === 0 ? ok(null) : result
  }

  /** Closes the socket for good (no reconnection); the cache stays for the next sign-in. */
  disconnect(): void {
    const was = this.status
    this.stop()
    this.session = undefined
    this.setStatus('disconnected')
    if (was !== 'idle' && was !== 'disconnected') this.emit(Events.DISCONNECT, { reason: 'client' })
  }

  /** The caller's conversations and groups, as the last catch-up saw them. */
  getConversationList(): Result<{ conversations: ConversationState[]; groups: GroupInfo[] }> {
    const state = this.sync?.state
    if (!state) return fail(Code.NOT_LOGGED_IN)
    return ok({ conversations: state.conversations, groups: state.groups })
  }

  async sendMessage(
    conversation: Conversation,
    content: MessageContent,
    options: { isNeedGroupAck?: boolean; channelId?: string } = {},
  ): Promise<Result<WebMessage>> {
    const parsed = z
      .object({ conversation: Conversation, content: MessageContent, options: SendOptions })
      .safeParse({
        conversation,
        content,
        options,
      })
    if (!parsed.success) return invalid(parsed.error)
    const result = await this.request('sendMessage', {
      clientMsgId: randomId(),
      conversation: parsed.data.conversation,
      content: parsed.data.content,
      ...parsed.data.options,
    })
    if (result.code !== 0 || !this.sync) return result.code !== 0 ? result : fail(Code.NOT_LOGGED_IN)
    this.sync.noteSent(result.data.message)
    const [message] = await this.sync.webMessages([result.data.message])
    return message ? ok(message) : fail(Code.INTERNAL)
  }

  /**
   * RongCloud getHistoryMessages: up to `count` messages before `beforeSeq` (default: the latest),
   * oldest first, each with readReceiptInfo. Read from the server: the SDK keeps no messages.
   */
  async getHistoryMessages(
    conversation: Conversation,
    options: { count?: number; beforeSeq?: number } = {},
  ): Promise<Result<{ list: WebMessage[]; hasMore: boolean }>> {
    const conv = Conversation.safeParse(conversation)
    if (!conv.success) return invalid(conv.error)
    const opts = HistoryOptions.safeParse(options)
    if (!opts.success) return invalid(opts.error)
    if (!this.sync) return fail(Code.NOT_LOGGED_IN)
    const before = opts.data.beforeSeq ?? (this.sync.latestSeq(conv.data) ?? 0) + 1
    const afterSeq = Math.max(0, before - 1 - opts.data.count)
    const page = await this.request('pullMessages', {
      conversation: conv.data,
      afterSeq,
      limit: Math.min(opts.data.count, before - 1 - afterSeq) || 1,
    })
    if (page.code !== 0) return page
    const list = await this.sync.webMessages(page.data.messages.filter((m) => m.seq < before))
    // Nothing before the caller joined, or before what the server still keeps, is there to page to.
    const floor = Math.max(this.sync.joinedSeq(conv.data), page.data.prunedSeq ?? 0)
    return ok({ list, hasMore: afterSeq > floor })
  }

  /** RongCloud sendReadReceiptRequest (R1): asks the group who read one of my messages. */
  async sendReadReceiptRequest(targetId: string, messageUId: string): Promise<Result<null>> {
    const args = z
      .object({ groupId: GroupId, messageUId: MessageUId })
      .safeParse({ groupId: targetId, messageUId })
    if (!args.success) return invalid(args.error)
    const result = await this.request('sendReadReceiptRequest', args.data)
    return result.code === 0 ? ok(null) : result
  }

  /**
   * RongCloud sendReadReceiptResponseV2 (R3, R7). Without `messageList`, answers every cached,
   * unanswered request of the group (and channel) in one response, grouped by sender, and marks
   * them answered; requests that fell out of the cache are not answered. With one, sends it as is.
   * Returns what was answered, by sender; `rejected` lists what the server refused (those are not
   * asked again). Offline, nothing is sent or marked: call it again once connected.
   */
  async sendReadReceiptResponseV2(
    targetId: string,
    messageList?: Record<string, string[]>,
    channelId?: string,
  ): Promise<
    Result<{
      messageList: Record<string, string[]>
      rejected: { messageUId: string; code: number; msg: string }[]
    }>
  > {
    const args = z
      .object({ groupId: GroupId, channelId: ChannelId, messageList: MessageList.optional() })
      .safeParse({ groupId: targetId, channelId, messageList })
    if (!args.success) return invalid(args.error)
    const { groupId } = args.data
    if (!this.cache) return fail(Code.NOT_LOGGED_IN)
    const cached = await this.cache.unanswered(groupId, args.data.channelId)
    const list = args.data.messageList ?? groupBySender(cached)
    if (Object.keys(list).length === 0) return ok({ messageList: {}, rejected: [] })
    const result = await this.request('sendReadReceiptResponse', {
      groupId,
      channelId: args.data.channelId,
      messageList: list,
    })
    if (result.code !== 0) return result
    const { accepted, rejected } = result.data
    await this.cache.markAnswered(groupId, [...accepted, ...rejected.map((r) => r.messageUId)])
    const acceptedSet = new Set(accepted)
    const answered: Record<string, string[]> = {}
    for (const [sender, uids] of Object.entries(list)) {
      const kept = uids.filter((u) => acceptedSet.has(u))
      if (kept.length > 0) answered[sender] = kept
    }
    return ok({ messageList: answered, rejected })
  }

  /** The R7 cache of a group: live requests, newest first, answered ones with answeredAt. */
  async getReceiptRequests(targetId: string): Promise<Result<CachedReceiptRequest[]>> {
    const groupId = GroupId.safeParse(targetId)
    if (!groupId.success) return invalid(groupId.error)
    if (!this.cache) return fail(Code.NOT_LOGGED_IN)
    return ok(await this.cache.list(groupId.data))
  }

  // Internals.

  private emit<E extends EventName>(event: E, payload: EventPayloads[E]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        ;(listener as Listener<E>)(payload)
      } catch (error) {
        // One page handler's bug must not stop the others or the SDK.
        console.error(`web SDK: a ${event} listener threw`, error)
      }
    }
  }

  private setStatus(status: ConnectionStatus): void {
    this.status = status
  }

  private request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<Result<ReplyData<Op>>> {
    const link = this.link
    if (!link || this.status !== 'connected')
      return Promise.resolve(fail(Code.SERVER_UNREACHABLE, 'not connected to the server'))
    return link.request(op, data)
  }

  private async deviceId(): Promise<string> {
    const stored = await this.store.get<string>('device')
    if (stored) return stored
    const id = randomId()
    await this.store.set('device', id)
    return id
  }

  private async post<S extends z.ZodType>(
    path: string,
    body: unknown,
    reply: S,
    token?: string,
  ): Promise<Result<z.output<S>>> {
    let json: { code?: unknown; msg?: unknown; data?: unknown }
    try {
      const res = await (this.options.fetch ?? fetch)(`${this.urls.http}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
      })
      json = (await res.json()) as typeof json
    } catch {
      return fail(
        Code.SERVER_UNREACHABLE,
        'the server cannot be reached, or refused this page (its origin must be in the server’s allowedOrigins)',
      )
    }
    if (json.code !== 0) {
      const code = typeof json.code === 'number' && json.code !== 0 ? json.code : Code.INTERNAL
      return { code, msg: typeof json.msg === 'string' ? json.msg : 'request failed' } as Result<z.output<S>>
    }
    const data = reply.safeParse(json.data)
    return data.success ? ok(data.data) : fail(Code.INTERNAL, `malformed answer from ${path}`)
  }

  /** One socket: opens it, asks syncState, starts the sync on first use, catches up. Resolves the user id. */
  private async open(): Promise<Result<string>> {
    const session = this.session
    if (!session) return fail(Code.NOT_LOGGED_IN)
    const WebSocket =
      this.options.WebSocket ?? (globalThis.WebSocket as unknown as WebSocketConstructor | undefined)
    // Node 20 has none: its callers pass one (the `ws` package's).
    if (!WebSocket) return fail(Code.INVALID_ARGUMENT, 'no WebSocket here: pass one as the WebSocket option')
    const link: SocketLink = new SocketLink({
      url: this.urls.ws,
      token: session.token,
      deviceId: session.deviceId,
      WebSocket,
      requestTimeoutMs: this.options.requestTimeoutMs ?? 15_000,
      onPush: (frame) => this.sync?.push(frame),
      onClose: (info) => this.onClosed(link, info),
    })
    this.link = link
    if (!(await link.open()))
      return fail(
        Code.SERVER_UNREACHABLE,
        'the server refused the socket or cannot be reached (an invalid or expired token, and a page origin ' +
          'missing from the server’s allowedOrigins, are refused alike)',
      )
    const state = await link.request('syncState', {})
    if (state.code !== 0) {
      link.close()
      return state
    }
    const userId = state.data.user.userId
    if (userId !== this.userId || !this.sync) {
      this.userId = userId
      this.cache = new ReceiptRequestCache(this.store, userId, this.options.receiptCache)
      this.sync = new WebSync({
        userId,
        store: this.store,
        cache: this.cache,
        link: () => this.link,
        emit: (event, payload) => this.emit(event, payload),
        sessionEnded: () => this.sessionEnded(),
      })
    }
    this.setStatus('connected')
    try {
      await this.sync.run(state.data)
    } catch {
      link.close()
      return fail(Code.SERVER_UNREACHABLE, 'the connection failed while catching up')
    }
    if (this.link !== link) return fail(Code.SERVER_UNREACHABLE, 'disconnected while catching up')
    this.attempt = 0
    this.emit(Events.CONNECTED, { userId })
    return ok(userId)
  }

  private onClosed(link: SocketLink, info: { code: number; reason: string }): void {
    if (this.link !== link || !this.session) return
    if (SESSION_ENDED_CLOSE_CODES.has(info.code)) return this.sessionEnded()
    this.scheduleReconnect(info)
  }

  /** One pending reconnection at most: a link may drop while its open() is failing too. */
  private scheduleReconnect(info: { code: number; reason: string }): void {
    if (this.retryTimer !== undefined || !this.session) return
    const min = this.options.reconnect?.minDelayMs ?? 500
    const max = this.options.reconnect?.maxDelayMs ?? 30_000
    const base = Math.min(max, min * 2 ** this.attempt)
    const retryInMs = Math.round(base * (0.8 + Math.random() * 0.4))
    this.attempt++
    this.setStatus('suspended')
    this.emit(Events.SUSPEND, { ...info, retryInMs })
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (!this.session) return
      this.setStatus('connecting')
      this.emit(Events.CONNECTING, { attempt: this.attempt })
      this.open().then(
        (result) => {
          if (result.code !== 0 && this.session) this.scheduleReconnect({ code: 1006, reason: result.msg })
        },
        () => this.scheduleReconnect({ code: 1006, reason: 'reconnection failed' }),
      )
    }, retryInMs)
  }

  private sessionEnded(): void {
    this.stop()
    this.session = undefined
    this.setStatus('disconnected')
    this.emit(Events.DISCONNECT, { reason: 'sessionEnded' })
  }

  private stop(): void {
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    const link = this.link
    this.link = undefined
    link?.close()
  }
}
