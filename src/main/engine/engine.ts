/**
 * The client engine: plain Node, shared by the Electron host and the headless host.
 * It owns the profile's SQLite store, the connection to the IM server (reconnect with backoff,
 * resync from sequence numbers), the durable outbox, and the receipt logic of SPEC.md.
 * Hosts call its operations through the handler table (handlers.ts) and forward its events.
 */
import { newClientMsgId } from '../../shared/clientMsgId'
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { Code, CodedError, fail, ok, type Result } from '../../shared/codes'
import type {
  AppInfo,
  ConnectionState,
  ConnectionStateName,
  GroupReadAckPage,
  GroupUnreadPage,
  IpcEvents,
  SessionInfo,
} from '../../shared/ipc'
import {
  conversationKey,
  type Conversation,
  type ConversationSummary,
  type GroupInfo,
  type GroupMember,
  type GroupReceiptSettings,
  type Message,
  type MessageContent,
  type UserProfile,
} from '../../shared/model'
import {
  AccountSettings,
  http,
  type PushFrame,
  type ReplyData,
  type RequestData,
  type RequestOp,
  type WireMessage,
} from '../../shared/protocol'
import { ServerConnection, UnauthorizedError } from './connection'
import { Profile, type StoredSession } from './profile'
import { openProfileStore, type ProfileNotice } from './profileDatabase'
import { LocalStore, conversationOf, type MessageRow, type OutboxRow } from './store'

export interface EngineOptions {
  profileDir: string
  host: AppInfo['host']
  version: string
  defaultServerUrl: string
  /** Reconnect backoff bounds (ms). */
  backoff?: { minMs: number; maxMs: number }
  requestTimeoutMs?: number
  /**
   * Silence after which the link to the server counts as dead and is dropped (the server pings every
   * 30 s by default; default 75 s). Tests use small values to detect a cut network quickly.
   */
  silenceTimeoutMs?: number
  /** Messages per pull request while syncing a backlog. */
  pullPageSize?: number
  /** Path of a better-sqlite3 addon built for this runtime (Electron), when not the default one. */
  nativeBinding?: string
}

type EventArgs = { [E in keyof IpcEvents]: [IpcEvents[E]] }

/** Codes after which resending the same message can never succeed. */
const TRANSIENT = new Set<number>([Code.SERVER_UNREACHABLE, Code.TIMEOUT, Code.RATE_LIMITED, Code.INTERNAL])

/** Conversations pulled at the same time while syncing a backlog. */
const SYNC_PARALLEL_CONVERSATIONS = 4

const DEFAULT_SETTINGS: AccountSettings = { requireDeliveryAck: false, requireReadAck: false }

/** The server enforces these too; checking here gives the user the reason before anything is written. */
function checkMayAskForReceipts(g: GroupInfo): void {
  const rs = g.receiptSettings
  if (!rs.enabled) throw new CodedError(Code.GROUP_ACK_DISABLED)
  if (rs.whoMayRequest === 'ownerAndAdmins' && g.myRole === 'member')
    throw new CodedError(Code.GROUP_ACK_NOT_ALLOWED)
  if (g.memberCount > rs.maxGroupSize) throw new CodedError(Code.GROUP_TOO_LARGE)
}

export function httpBase(serverUrl: string): string {
  const u = new URL(serverUrl)
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:'
  u.pathname = ''
  u.search = ''
  return u.toString().replace(/\/$/, '')
}

interface Session extends StoredSession {
  store: LocalStore
  /** Told to the user with the login result and every connection state of this session. */
  notice?: ProfileNotice
}

export class Engine extends EventEmitter<EventArgs> {
  readonly profile: Profile
  private session: Session | undefined
  private conn: ServerConnection | undefined
  private state: ConnectionState = { state: 'signedOut' }
  private supervisor: Promise<void> | undefined
  private stopRequested = false
  private wake: (() => void) | undefined
  private flushTail: Promise<void> = Promise.resolve()
  private queuedFlush: Promise<void> | undefined
  private readonly pulling = new Map<string, Promise<void>>()
  private eventCatchUp: Promise<void> | undefined
  /** A pass that a live connection refused for now (rate limit, timeout) is retried after this. */
  private outboxRetry: NodeJS.Timeout | undefined
  private outboxRetryMs = 0

  constructor(private readonly options: EngineOptions) {
    super()
    this.profile = new Profile(options.profileDir)
  }

  /**
   * Resumes the stored session, if any, and starts connecting. A profile database this app cannot
   * open (PROFILE_DATABASE_TOO_NEW) leaves the engine signed out, with the reason as the state detail.
   */
  start(): void {
    const s = this.profile.session
    if (!s || s.expiresAt <= Date.now()) return
    try {
      this.openSession(s)
    } catch (err) {
      if (!(err instanceof CodedError)) throw err
      this.setState('signedOut', { detail: err.message })
    }
  }

  async shutdown(): Promise<void> {
    await this.closeSession()
  }

  // ---- state ------------------------------------------------------------------------------

  get connectionState(): ConnectionState {
    return this.state
  }

  get userId(): string | undefined {
    return this.session?.userId
  }

  /** The open store; tests and benchmarks read it directly. */
  get store(): LocalStore | undefined {
    return this.session?.store
  }

  private setState(state: ConnectionStateName, extra: Omit<ConnectionState, 'state'> = {}): void {
    const notice = this.session?.notice
    this.state = { state, ...(notice && state !== 'signedOut' ? { detail: notice.msg } : {}), ...extra }
    this.emit('connectionState', this.state)
  }

  appInfo(): AppInfo {
    return {
      version: this.options.version,
      host: this.options.host,
      profile: this.profile.name,
      defaultServerUrl: this.profile.session?.serverUrl ?? this.options.defaultServerUrl,
    }
  }

  currentUser(): SessionInfo | null {
    const s = this.session
    if (!s) return null
    return {
      user: { userId: s.userId, displayName: s.store.displayName(s.userId) ?? s.displayName },
      serverUrl: s.serverUrl,
      deviceId: this.profile.deviceId,
      ...(s.notice ? { notice: s.notice } : {}),
    }
  }

  // ---- accounts ---------------------------------------------------------------------------

  async register(input: {
    serverUrl: string
    userId: string
    password: string
    displayName?: string | undefined
  }): Promise<Result<UserProfile>> {
    const res = await this.postJson(input.serverUrl, http.register.path, {
      userId: input.userId,
      password: input.password,
      ...(input.displayName ? { displayName: input.displayName } : {}),
    })
    if (res.code !== 0) return res
    const parsed = http.register.reply.safeParse(res.data)
    return parsed.success ? ok(parsed.data.user) : fail(Code.INTERNAL, 'malformed register reply')
  }

  async login(input: { serverUrl: string; userId: string; password: string }): Promise<Result<SessionInfo>> {
    const res = await this.postJson(input.serverUrl, http.login.path, {
      userId: input.userId,
      password: input.password,
      deviceId: this.profile.deviceId,
    })
    if (res.code !== 0) return res
    const parsed = http.login.reply.safeParse(res.data)
    if (!parsed.success) return fail(Code.INTERNAL, 'malformed login reply')
    await this.closeSession()
    const stored: StoredSession = {
      serverUrl: input.serverUrl,
      userId: parsed.data.user.userId,
      displayName: parsed.data.user.displayName,
      token: parsed.data.token,
      expiresAt: parsed.data.expiresAt,
    }
    try {
      this.openSession(stored)
    } catch (err) {
      if (!(err instanceof CodedError)) throw err
      // The local history cannot be opened: the new token is of no use, end it on the server too.
      await this.postJson(input.serverUrl, http.logout.path, {}, stored.token).catch(() => undefined)
      return fail(err.code, err.message)
    }
    this.profile.setSession(stored)
    const info = this.currentUser()
    return info ? ok(info) : fail(Code.INTERNAL)
  }

  async logout(): Promise<Result<null>> {
    const s = this.session
    if (!s) return ok(null)
    // Best effort: the token dies on the server; locally it is forgotten whatever the answer.
    await this.postJson(s.serverUrl, http.logout.path, {}, s.token).catch(() => undefined)
    this.profile.setSession(null)
    await this.closeSession()
    this.emit('sessionEnded', { reason: 'logout' })
    return ok(null)
  }

  /** Throws CodedError(PROFILE_DATABASE_TOO_NEW) when the profile's database is from a newer app. */
  private openSession(stored: StoredSession): void {
    const binding = this.options.nativeBinding
    const { store, notice } = openProfileStore(this.profile.databaseFile(stored.serverUrl, stored.userId), {
      ...(binding && existsSync(binding) ? { nativeBinding: binding } : {}),
    })
    if (notice) console.warn(notice.msg)
    store.upsertUsers([{ userId: stored.userId, displayName: stored.displayName }])
    this.session = { ...stored, store, ...(notice ? { notice } : {}) }
    this.stopRequested = false
    this.supervisor = this.supervise(this.session)
  }

  private async closeSession(): Promise<void> {
    const s = this.session
    if (!s) return
    this.stopRequested = true
    this.wake?.()
    clearTimeout(this.outboxRetry)
    this.outboxRetry = undefined
    this.conn?.close()
    await this.supervisor
    await this.flushTail
    await Promise.allSettled([...this.pulling.values()])
    this.session = undefined
    s.store.close()
    this.setState('signedOut')
  }

  private async postJson(
    serverUrl: string,
    path: string,
    body: unknown,
    token?: string,
  ): Promise<Result<unknown>> {
    let response: Response
    try {
      response = await fetch(httpBase(serverUrl) + path, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? 15_000),
      })
    } catch (err) {
      return fail(Code.SERVER_UNREACHABLE, `cannot reach ${serverUrl}: ${(err as Error).message}`)
    }
    try {
      const json = (await response.json()) as Result<unknown>
      if (typeof json?.code !== 'number') return fail(Code.INTERNAL, `unexpected answer from ${serverUrl}`)
      return json
    } catch {
      return fail(
        Code.SERVER_UNREACHABLE,
        `${serverUrl} did not answer like an IM server (HTTP ${response.status})`,
      )
    }
  }

  // ---- connection supervisor --------------------------------------------------------------

  private async supervise(s: Session): Promise<void> {
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 500, maxMs: 30_000 }
    let attempt = 0
    while (!this.stopRequested && this.session === s) {
      this.setState('connecting')
      const conn = new ServerConnection({
        url: s.serverUrl,
        token: s.token,
        deviceId: this.profile.deviceId,
        ...(this.options.requestTimeoutMs ? { requestTimeoutMs: this.options.requestTimeoutMs } : {}),
        ...(this.options.silenceTimeoutMs ? { silenceTimeoutMs: this.options.silenceTimeoutMs } : {}),
      })
      this.conn = conn
      const closed = new Promise<void>((resolve) => conn.once('close', () => resolve()))
      try {
        await conn.connect()
      } catch (err) {
        if (err instanceof UnauthorizedError) {
          this.setState('unauthorized', {
            detail: 'The server no longer accepts this session: sign in again.',
          })
          this.profile.setSession(null)
          this.emit('sessionEnded', { reason: 'revoked' })
          return
        }
        if (this.stopRequested) return
        const delay = Math.min(maxMs, minMs * 2 ** attempt) * (0.75 + Math.random() * 0.5)
        attempt++
        this.setState('disconnected', { retryAt: Date.now() + delay, detail: (err as Error).message })
        await this.pause(delay)
        continue
      }
      attempt = 0
      conn.on('push', (frame) => this.onPush(s, frame))
      try {
        await this.sync(s)
        if (conn.isOpen) {
          this.setState('connected')
          void this.flushOutbox()
        }
      } catch (err) {
        // A failed sync is retried from the last synced sequence on the next connection.
        conn.close()
        if (!(err instanceof CodedError)) console.error('sync failed:', err)
      }
      await closed
      if (this.stopRequested) return
      this.setState('disconnected', { retryAt: Date.now() + minMs })
      await this.pause(minMs)
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }

  private async request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<Result<ReplyData<Op>>> {
    const conn = this.conn
    if (!conn) return fail(Code.SERVER_UNREACHABLE, 'not connected to the server')
    return conn.request(op, data)
  }

  private async requireOk<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<ReplyData<Op>> {
    const res = await this.request(op, data)
    if (res.code !== 0) throw new CodedError(res.code, res.msg)
    return res.data
  }

  // ---- sync -------------------------------------------------------------------------------

  private async sync(s: Session): Promise<void> {
    this.setState('syncing')
    const st = await this.requireOk('syncState', {})
    const now = Date.now()
    s.store.upsertUsers([st.user])
    s.store.setKv('settings', JSON.stringify(st.settings))
    for (const g of st.groups) s.store.upsertGroup(g, now)
    for (const c of st.conversations) s.store.applyConversationState(c, now)
    await this.learnUsers(
      s,
      st.conversations.filter((c) => c.conversation.type === 'private').map((c) => c.conversation.targetId),
    )
    this.emit('settingsChanged', st.settings)
    this.emit('conversationChanged', s.store.listConversations())

    const behind = s.store.conversationsBehind()
    const total = behind.reduce((n, b) => n + (b.upTo - b.afterSeq), 0)
    const progress = { done: 0, total }
    if (total > 0) this.emit('syncProgress', { ...progress })
    // A few conversations at a time (each one page after another): the server reads the next page
    // while this process stores the last one. One at a time, a 100k-message backlog synced at ~60k
    // messages/s (bench scenario s2).
    const queue = [...behind]
    await Promise.all(
      Array.from({ length: Math.min(SYNC_PARALLEL_CONVERSATIONS, queue.length) }, async () => {
        for (let b = queue.shift(); b; b = queue.shift())
          await this.pullConversation(s, b.conversation, progress)
      }),
    )
    if (total > 0) this.emit('syncProgress', { done: total, total })

    await this.catchUpEvents(s)
  }

  /** Pulls every missing message of a conversation, one in flight per conversation. */
  private pullConversation(
    s: Session,
    c: Conversation,
    progress?: { done: number; total: number },
  ): Promise<void> {
    const k = conversationKey(c)
    const running = this.pulling.get(k)
    if (running) return running
    const run = (async () => {
      const pageSize = this.options.pullPageSize ?? 500
      for (;;) {
        const row = s.store.conversationRow(c)
        if (!row || this.session !== s) return
        const upTo = row.left_seq === null ? row.last_seq : Math.min(row.last_seq, row.left_seq)
        if (row.synced_seq >= upTo) return
        const res = await this.requireOk('pullMessages', {
          conversation: c,
          afterSeq: row.synced_seq,
          limit: pageSize,
        })
        if (res.messages.length === 0) return
        this.ingest(s, res.messages, progress === undefined)
        if (progress) {
          progress.done = Math.min(progress.total, progress.done + res.messages.length)
          this.emit('syncProgress', { ...progress })
        }
        if (!res.hasMore) return
      }
    })().finally(() => this.pulling.delete(k))
    this.pulling.set(k, run)
    return run
  }

  /** Stores server messages and tells the renderer; queues what the senders asked for. */
  private ingest(s: Session, messages: readonly WireMessage[], live: boolean): void {
    const batch = s.store.storeServerMessages(s.userId, messages, Date.now(), { collectInserted: live })
    if (batch.inserted.length > 0 && live) this.emit('messageReceived', batch.inserted)
    if (batch.receiptsApplied.length > 0) this.emit('messageStatusChanged', batch.receiptsApplied)
    if (batch.conversations.size > 0) {
      this.emit(
        'conversationChanged',
        [...batch.conversations].flatMap((k) => {
          const [type, ...rest] = k.split(':')
          const summary = s.store.summary({ type, targetId: rest.join(':') } as Conversation)
          return summary ? [summary] : []
        }),
      )
    }
    if (s.store.outboxSize() > 0) void this.flushOutbox()
  }

  private async learnUsers(s: Session, userIds: readonly string[]): Promise<void> {
    const unknown = [...new Set(userIds)].filter((id) => s.store.displayName(id) === undefined)
    for (let i = 0; i < unknown.length; i += 500) {
      const res = await this.request('getUsers', { userIds: unknown.slice(i, i + 500) })
      if (res.code === 0) s.store.upsertUsers(res.data.users)
    }
  }

  private catchUpEvents(s: Session): Promise<void> {
    if (this.eventCatchUp) return this.eventCatchUp
    this.eventCatchUp = (async () => {
      for (;;) {
        const res = await this.requireOk('syncEvents', { afterEventSeq: s.store.lastEventSeq, limit: 500 })
        for (const frame of res.events) this.applyPush(s, frame)
        const last = res.events.at(-1)?.eventSeq
        if (last !== undefined) s.store.lastEventSeq = last
        if (!res.hasMore || res.events.length === 0) return
      }
    })().finally(() => {
      this.eventCatchUp = undefined
    })
    return this.eventCatchUp
  }

  // ---- pushes -----------------------------------------------------------------------------

  private onPush(s: Session, frame: PushFrame): void {
    if (this.session !== s) return
    try {
      this.applyPush(s, frame)
    } catch (err) {
      console.error(`applying ${frame.event} failed:`, err)
      return
    }
    if (frame.eventSeq !== undefined) {
      // Receipt events are idempotent, so a gap is closed by replaying from the log.
      if (frame.eventSeq === s.store.lastEventSeq + 1) s.store.lastEventSeq = frame.eventSeq
      else if (frame.eventSeq > s.store.lastEventSeq) void this.catchUpEvents(s).catch(() => undefined)
    }
  }

  private applyPush(s: Session, frame: PushFrame): void {
    const now = Date.now()
    switch (frame.event) {
      case 'message': {
        const m = frame.data
        const c = conversationOf(s.userId, m)
        const before = s.store.conversationRow(c)
        this.ingest(s, [m], true)
        if (c.type === 'private' && s.store.displayName(c.targetId) === undefined) {
          void this.learnUsers(s, [c.targetId]).then(() => this.emitConversation(s, c))
        }
        if (before && m.seq > before.synced_seq + 1) void this.pullConversation(s, c).catch(() => undefined)
        return
      }
      case 'messageDelivered':
      case 'messageRead': {
        const kind = frame.event === 'messageDelivered' ? 'delivered' : 'read'
        const changed = s.store.applyReceipts(kind, frame.data.messageUIds, frame.data.by, frame.data.at)
        if (changed.length > 0)
          this.emit(
            frame.event,
            changed.map((r) => s.store.toMessage(r)),
          )
        return
      }
      case 'conversationRead': {
        const { conversation, from, to, seq, at } = frame.data
        s.store.ensureConversation(conversation, '', now)
        if (from === s.userId) {
          if (s.store.applyReadWatermark(conversation, seq)) this.emitConversation(s, conversation)
        } else if (conversation.type === 'private') {
          const changed = s.store.applyPeerConversationRead(conversation, seq, at)
          if (changed.length > 0)
            this.emit(
              'messageRead',
              changed.map((r) => s.store.toMessage(r)),
            )
        }
        this.emit('conversationRead', { conversation, from, to, seq })
        return
      }
      case 'groupChanged': {
        const { groupId, group } = frame.data
        if (group) s.store.upsertGroup(group, now)
        this.emit('groupChanged', { groupId, group })
        const c = { type: 'group', targetId: groupId } as Conversation
        // Membership changes move joined/left marks: re-read them, then pull what became visible.
        void this.refreshConversation(s, c)
        return
      }
      case 'settingsChanged':
        s.store.setKv('settings', JSON.stringify(frame.data.settings))
        this.emit('settingsChanged', frame.data.settings)
        return
      case 'sessionRevoked':
        this.profile.setSession(null)
        void this.closeSession().then(() => this.emit('sessionEnded', { reason: 'revoked' }))
        return
      case 'groupMessageRead': {
        const changed = s.store.applyGroupReadAcks(frame.data.acks)
        this.emit('groupMessageRead', frame.data.acks)
        if (changed.length > 0)
          this.emit(
            'messageStatusChanged',
            changed.map((r) => s.store.toMessage(r)),
          )
        return
      }
      case 'receiptRequest': {
        const { groupId, channelId, messageUId, senderUserId, at } = frame.data
        const changed = s.store.markReceiptRequested(messageUId, at)
        const conversation = { type: 'group', targetId: groupId } as Conversation
        this.emit('MESSAGE_RECEIPT_REQUEST', { conversation, messageUId, senderUserId, channelId })
        if (changed) this.emit('messageStatusChanged', [s.store.toMessage(changed)])
        return
      }
      case 'receiptResponse': {
        const { groupId, channelId, receivedUserId, messageUIdList, at } = frame.data
        const changed = s.store.applyReceiptResponse(messageUIdList, receivedUserId, at)
        const conversation = { type: 'group', targetId: groupId } as Conversation
        this.emit('MESSAGE_RECEIPT_RESPONSE', { conversation, receivedUserId, messageUIdList, channelId })
        if (changed.length > 0)
          this.emit(
            'messageStatusChanged',
            changed.map((r) => s.store.toMessage(r)),
          )
        return
      }
    }
  }

  private async refreshConversation(s: Session, c: Conversation): Promise<void> {
    const res = await this.request('syncState', {})
    if (res.code !== 0 || this.session !== s) return
    const st = res.data.conversations.find((x) => conversationKey(x.conversation) === conversationKey(c))
    if (st) s.store.applyConversationState(st, Date.now())
    this.emitConversation(s, c)
    await this.pullConversation(s, c).catch(() => undefined)
  }

  private emitConversation(s: Session, c: Conversation): void {
    const summary = s.store.summary(c)
    if (summary) this.emit('conversationChanged', [summary])
  }

  // ---- outbox -----------------------------------------------------------------------------

  /**
   * Sends what the outbox holds. Passes run one at a time; a call made while a pass is running
   * queues one more pass (shared by every caller until it starts), so nothing written is left
   * behind, and awaiting the result means a pass that started after the call has finished.
   */
  flushOutbox(): Promise<void> {
    const s = this.session
    if (!s || this.state.state !== 'connected') return Promise.resolve()
    if (this.queuedFlush) return this.queuedFlush
    const run = this.flushTail.then(() => {
      this.queuedFlush = undefined
      return this.drainOutbox(s)
    })
    this.queuedFlush = run
    this.flushTail = run.catch((err: unknown) => console.error('outbox flush failed:', err))
    return this.flushTail
  }

  private async drainOutbox(s: Session): Promise<void> {
    if (this.session !== s || !this.conn?.isOpen) return
    // Stops at the first transient failure. A lost connection starts a new pass on the next one; a
    // refusal on a live connection (RATE_LIMITED, TIMEOUT, INTERNAL) gets a retry after a pause that
    // grows while refusals continue, or nothing would wake the outbox until the next user action.
    const complete = (await this.flushSends(s)) && (await this.flushAcks(s))
    if (complete) this.outboxRetryMs = 0
    else if (this.session === s && this.conn?.isOpen && !this.stopRequested) this.retryOutboxLater()
  }

  private retryOutboxLater(): void {
    if (this.outboxRetry) return
    const { minMs, maxMs } = this.options.backoff ?? { minMs: 500, maxMs: 30_000 }
    this.outboxRetryMs = Math.min(maxMs, Math.max(minMs, this.outboxRetryMs * 2))
    this.outboxRetry = setTimeout(() => {
      this.outboxRetry = undefined
      void this.flushOutbox()
    }, this.outboxRetryMs)
  }

  /** Returns false when the connection failed mid-way (the rest waits for the next connection). */
  private async flushSends(s: Session): Promise<boolean> {
    for (;;) {
      const rows = s.store.outbox('send', 50)
      if (rows.length === 0) return true
      // Pipelined: the server handles frames of one connection in order, so seqs follow send order.
      const results = await Promise.all(rows.map((row) => this.sendOne(s, row)))
      if (results.includes(false)) return false
    }
  }

  private async sendOne(s: Session, row: OutboxRow): Promise<boolean> {
    const localId = Number(row.ref)
    const res = await this.request('sendMessage', JSON.parse(row.payload) as RequestData<'sendMessage'>)
    if (this.session !== s) return false
    if (res.code === 0) {
      const updated = s.store.markSent(localId, res.data.message)
      s.store.removeFromOutbox([row.id])
      if (updated) this.emit('messageStatusChanged', [s.store.toMessage(updated)])
      const summary = s.store.summary(conversationOf(s.userId, res.data.message))
      if (summary) this.emit('conversationChanged', [summary])
      return true
    }
    if (TRANSIENT.has(res.code)) {
      s.store.countAttempt(row.id)
      return false
    }
    const failed = s.store.markFailed(localId, res.code, res.msg)
    s.store.removeFromOutbox([row.id])
    if (failed) this.emit('messageStatusChanged', [s.store.toMessage(failed)])
    return true
  }

  /** Acks coalesce: one frame per kind per flush (and one per conversation for read marks). */
  private async flushAcks(s: Session): Promise<boolean> {
    for (const kind of ['ackDelivered', 'ackMessageRead'] as const) {
      for (;;) {
        const rows = s.store.outbox(kind, 1000)
        if (rows.length === 0) break
        const res = await this.request(kind, { messageUIds: [...new Set(rows.map((r) => r.ref))] })
        if (res.code !== 0 && TRANSIENT.has(res.code)) return false
        // Rejections are final (unknown message, not the receiver): retrying cannot help.
        s.store.removeFromOutbox(rows.map((r) => r.id))
      }
    }
    for (;;) {
      const rows = s.store.outbox('ackGroupMessageRead', 1000)
      if (rows.length === 0) break
      const byGroup = new Map<string, { messageUId: string; ext?: string }[]>()
      for (const r of rows) {
        const p = JSON.parse(r.payload) as { groupId: string; ext?: string }
        const list = byGroup.get(p.groupId) ?? []
        if (!list.some((a) => a.messageUId === r.ref))
          list.push({ messageUId: r.ref, ...(p.ext ? { ext: p.ext } : {}) })
        byGroup.set(p.groupId, list)
      }
      for (const [groupId, acks] of byGroup) {
        const res = await this.request('ackGroupMessageRead', { groupId, acks })
        if (res.code !== 0 && TRANSIENT.has(res.code)) return false
      }
      s.store.removeFromOutbox(rows.map((r) => r.id))
    }
    for (;;) {
      const rows = s.store.outbox('receiptResponse', 100)
      if (rows.length === 0) break
      for (const r of rows) {
        const res = await this.request(
          'sendReadReceiptResponse',
          JSON.parse(r.payload) as RequestData<'sendReadReceiptResponse'>,
        )
        if (res.code !== 0 && TRANSIENT.has(res.code)) return false
        s.store.removeFromOutbox([r.id])
      }
    }
    const reads = s.store.outbox('ackConversationRead', 1000)
    const latest = new Map<string, { conversation: Conversation; seq: number }>()
    for (const r of reads) {
      const p = JSON.parse(r.payload) as { conversation: Conversation; seq: number }
      const prev = latest.get(r.ref)
      if (!prev || prev.seq < p.seq) latest.set(r.ref, p)
    }
    for (const p of latest.values()) {
      const res = await this.request('ackConversationRead', p)
      if (res.code !== 0 && TRANSIENT.has(res.code)) return false
    }
    s.store.removeFromOutbox(reads.map((r) => r.id))
    return true
  }

  // ---- operations -------------------------------------------------------------------------

  private requireSession(): Session {
    const s = this.session
    if (!s) throw new CodedError(Code.NOT_LOGGED_IN)
    return s
  }

  settings(): AccountSettings {
    const s = this.requireSession()
    const stored = s.store.getKv('settings')
    const parsed = stored ? AccountSettings.safeParse(JSON.parse(stored)) : undefined
    return parsed?.success ? parsed.data : DEFAULT_SETTINGS
  }

  async updateSettings(patch: Partial<AccountSettings>): Promise<AccountSettings> {
    const s = this.requireSession()
    const res = await this.requireOk('updateSettings', patch)
    s.store.setKv('settings', JSON.stringify(res.settings))
    this.emit('settingsChanged', res.settings)
    return res.settings
  }

  conversationList(): ConversationSummary[] {
    return this.requireSession().store.listConversations()
  }

  async startPrivateChat(userId: string): Promise<ConversationSummary> {
    const s = this.requireSession()
    if (userId === s.userId) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
    const known = s.store.displayName(userId)
    if (known === undefined) {
      const res = await this.requireOk('getUsers', { userIds: [userId] })
      const user = res.users.find((u) => u.userId === userId)
      if (!user) throw new CodedError(Code.USER_NOT_FOUND, `No user with the id "${userId}".`)
      s.store.upsertUsers([user])
    }
    const c = { type: 'private', targetId: userId } as Conversation
    s.store.ensureConversation(c, s.store.displayName(userId) ?? userId, Date.now())
    const summary = s.store.summary(c)
    if (!summary) throw new CodedError(Code.INTERNAL)
    this.emit('conversationChanged', [summary])
    return summary
  }

  history(
    c: Conversation,
    beforeSeq: number | undefined,
    count: number,
  ): { list: Message[]; hasMore: boolean } {
    const s = this.requireSession()
    const { rows, hasMore } = s.store.getHistory(c, beforeSeq, count)
    return { list: rows.map((r) => s.store.toMessage(r)), hasMore }
  }

  sendMessage(
    c: Conversation,
    content: MessageContent,
    options: { isNeedGroupAck: boolean; channelId: string },
  ): Message {
    const s = this.requireSession()
    if (c.type === 'private' && c.targetId === s.userId) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
    if (c.type === 'group') {
      const g = s.store.group(c.targetId)
      if (!g) throw new CodedError(Code.GROUP_NOT_FOUND)
      if (!g.myRole) throw new CodedError(Code.NOT_A_MEMBER, 'You are no longer a member of this group.')
      if (options.isNeedGroupAck) checkMayAskForReceipts(g)
    }
    const now = Date.now()
    const row: MessageRow = s.store.insertOutgoing({
      me: s.userId,
      clientMsgId: newClientMsgId(now),
      conversation: c,
      channelId: options.channelId,
      content,
      isNeedGroupAck: c.type === 'group' && options.isNeedGroupAck,
      now,
      title: c.type === 'private' ? (s.store.displayName(c.targetId) ?? c.targetId) : '',
    })
    this.emitConversation(s, c)
    void this.flushOutbox()
    return s.store.toMessage(row)
  }

  async users(userIds: string[]): Promise<UserProfile[]> {
    const s = this.requireSession()
    const res = await this.requireOk('getUsers', { userIds })
    s.store.upsertUsers(res.users)
    return res.users
  }

  async groupOp<
    Op extends
      | 'createGroup'
      | 'addGroupMembers'
      | 'removeGroupMembers'
      | 'setGroupMemberRole'
      | 'setGroupReceiptSettings',
  >(op: Op, data: RequestData<Op>): Promise<GroupInfo> {
    const s = this.requireSession()
    const res = (await this.requireOk(op, data)) as { group: GroupInfo }
    s.store.upsertGroup(res.group, Date.now())
    this.emit('groupChanged', { groupId: res.group.groupId, group: res.group })
    this.emitConversation(s, { type: 'group', targetId: res.group.groupId } as Conversation)
    return res.group
  }

  async leaveGroup(groupId: string): Promise<null> {
    const s = this.requireSession()
    await this.requireOk('leaveGroup', { groupId })
    const g = s.store.group(groupId)
    if (g) {
      const { myRole: _left, ...rest } = g
      s.store.upsertGroup(rest, Date.now())
      this.emit('groupChanged', { groupId, group: rest })
    }
    return null
  }

  groupInfo(groupId: string): GroupInfo {
    const g = this.requireSession().store.group(groupId)
    if (!g) throw new CodedError(Code.GROUP_NOT_FOUND)
    return g
  }

  async groupMembers(groupId: string): Promise<GroupMember[]> {
    const s = this.requireSession()
    const res = await this.requireOk('getGroupMembers', { groupId })
    s.store.upsertUsers(res.members.map((m) => ({ userId: m.userId, displayName: m.displayName })))
    return res.members
  }

  /** Easemob ackMessageRead: marks a received message read and tells its sender, if it asked. */
  ackMessageRead(messageUId: string): null {
    const s = this.requireSession()
    const row = s.store.messageByUid(messageUId)
    if (!row) throw new CodedError(Code.MESSAGE_NOT_FOUND)
    if (row.direction !== 2) throw new CodedError(Code.NOT_MESSAGE_RECEIVER)
    const now = Date.now()
    this.readLocally(s, row, now, () => {
      if (row.conv_type === 'private' && row.need_read_ack === 1)
        s.store.enqueue('ackMessageRead', messageUId, {}, now)
    })
    return null
  }

  /**
   * Marks a received message read here, queues its receipt (if any), and moves the read mark (for
   * my other devices) once every message up to it is read.
   */
  private readLocally(s: Session, row: MessageRow, now: number, queueAck: () => void): void {
    const c = { type: row.conv_type, targetId: row.target_id } as Conversation
    s.store.db.transaction(() => {
      const marked = s.store.markMessageReadLocally(row.message_uid as string)
      if (!marked?.changed) return
      queueAck()
      if (row.seq !== null && s.store.allReadUpTo(c, row.seq)) {
        s.store.applyReadWatermark(c, row.seq)
        s.store.enqueue('ackConversationRead', conversationKey(c), { conversation: c, seq: row.seq }, now)
      }
    })()
    const updated = s.store.messageByUid(row.message_uid as string)
    if (updated) this.emit('messageStatusChanged', [s.store.toMessage(updated)])
    this.emitConversation(s, c)
    void this.flushOutbox()
  }

  /** Easemob ackGroupMessageRead(message, ext): once per member, for group messages that asked. */
  ackGroupMessageRead(messageUId: string, ext: string | undefined): null {
    const s = this.requireSession()
    const row = s.store.messageByUid(messageUId)
    if (!row) throw new CodedError(Code.MESSAGE_NOT_FOUND)
    if (row.direction !== 2) throw new CodedError(Code.NOT_MESSAGE_RECEIVER)
    if (row.conv_type !== 'group' || row.is_need_group_ack !== 1) {
      throw new CodedError(Code.RECEIPT_NOT_APPLICABLE, 'This message did not ask for group read acks.')
    }
    const now = Date.now()
    // Acked once per member, whether or not the message was already marked read here (a read mark
    // from another device marks it read without acking it): hasRespond records the ack.
    if (row.has_respond === 0) {
      s.store.db.transaction(() => {
        s.store.markResponded([messageUId])
        s.store.enqueue(
          'ackGroupMessageRead',
          messageUId,
          { groupId: row.target_id, ...(ext ? { ext } : {}) },
          now,
        )
      })()
    }
    this.readLocally(s, row, now, () => undefined)
    return null
  }

  async fetchGroupReadAcks(
    messageUId: string,
    pageSize: number,
    startAckId: string | undefined,
  ): Promise<GroupReadAckPage> {
    const s = this.requireSession()
    const res = await this.requireOk('fetchGroupReadAcks', {
      messageUId,
      pageSize,
      ...(startAckId ? { startAckId } : {}),
    })
    const changed = s.store.applyGroupReadAcks(res.acks.map((a) => ({ ...a, count: res.count })))
    if (changed.length > 0)
      this.emit(
        'messageStatusChanged',
        changed.map((r) => s.store.toMessage(r)),
      )
    return res
  }

  async fetchGroupUnreadMembers(
    messageUId: string,
    pageSize: number,
    startUserId: string | undefined,
  ): Promise<GroupUnreadPage> {
    this.requireSession()
    return this.requireOk('fetchGroupUnreadMembers', {
      messageUId,
      pageSize,
      ...(startUserId ? { startUserId } : {}),
    })
  }

  /** RongCloud sendReadReceiptRequest: asks the group who has read one of my messages. */
  async sendReadReceiptRequest(groupId: string, messageUId: string): Promise<null> {
    const s = this.requireSession()
    const row = s.store.messageByUid(messageUId)
    if (!row || row.conv_type !== 'group' || row.target_id !== groupId)
      throw new CodedError(Code.MESSAGE_NOT_FOUND)
    if (row.direction !== 1) throw new CodedError(Code.NOT_MESSAGE_SENDER)
    await this.requireOk('sendReadReceiptRequest', { groupId, messageUId })
    const changed = s.store.markReceiptRequested(messageUId, Date.now())
    if (changed) this.emit('messageStatusChanged', [s.store.toMessage(changed)])
    return null
  }

  /**
   * RongCloud sendReadReceiptResponseV2. Without a messageList, answers every unanswered request of
   * the conversation (R6, built from SQLite by an indexed query). The answer is durable (outbox) and
   * hasRespond turns true at once, so a second call sends nothing.
   */
  sendReadReceiptResponseV2(
    groupId: string,
    messageList: Record<string, string[]> | undefined,
    channelId: string | undefined,
  ): { messageList: Record<string, string[]> } {
    const s = this.requireSession()
    const c = { type: 'group', targetId: groupId } as Conversation
    const channel = channelId ?? ''
    const now = Date.now()
    let sent: Record<string, string[]> = {}
    const changed = s.store.db.transaction(() => {
      const candidate = messageList ?? s.store.buildUnrespondedMessageList(c, channel)
      const rows: MessageRow[] = []
      for (const [sender, uids] of Object.entries(candidate)) {
        const fresh: string[] = []
        for (const uid of uids) {
          const row = s.store.messageByUid(uid)
          // Messages I do not have yet are passed on as given: the server decides about them.
          if (row && (row.has_respond === 1 || row.direction !== 2)) continue
          fresh.push(uid)
        }
        if (fresh.length > 0) sent = { ...sent, [sender]: fresh }
        rows.push(...s.store.markResponded(fresh))
      }
      if (Object.keys(sent).length > 0) {
        s.store.enqueue('receiptResponse', groupId, { groupId, channelId: channel, messageList: sent }, now)
      }
      for (const row of rows) {
        s.store.markMessageReadLocally(row.message_uid as string)
      }
      return rows
    })()
    if (changed.length > 0) {
      this.emit(
        'messageStatusChanged',
        changed.map((r) => s.store.toMessage(s.store.messageByLocalId(r.local_id) ?? r)),
      )
      this.emitConversation(s, c)
      void this.flushOutbox()
    }
    return { messageList: sent }
  }

  async setGroupReceiptSettings(
    groupId: string,
    settings: Partial<GroupReceiptSettings>,
  ): Promise<GroupInfo> {
    return this.groupOp('setGroupReceiptSettings', { groupId, settings })
  }

  /** Easemob ackConversationRead: everything in the conversation is read, on every device. */
  ackConversationRead(c: Conversation): null {
    const s = this.requireSession()
    const row = s.store.conversationRow(c)
    if (!row) throw new CodedError(Code.NOT_A_MEMBER, 'No such conversation.')
    const seq = row.left_seq === null ? row.last_seq : Math.min(row.last_seq, row.left_seq)
    if (seq === 0 || (row.read_seq >= seq && row.unread_count === 0)) return null
    s.store.db.transaction(() => {
      s.store.applyReadWatermark(c, seq)
      s.store.enqueue('ackConversationRead', conversationKey(c), { conversation: c, seq }, Date.now())
    })()
    this.emitConversation(s, c)
    void this.flushOutbox()
    return null
  }
}
