/**
 * Sync of one session: after each connection, the server's view (syncState), every missing message
 * (pullMessages, a few conversations at a time), then the receipt events missed (syncEvents).
 * Pushes go through `onPush`, which closes any gap in the event sequence by replaying the log.
 */
import { conversationKey, type Conversation } from '../../../shared/model'
import type { PushFrame, WireMessage } from '../../../shared/protocol'
import { visibleUpTo } from '../../../shared/receipts'
import { emitChanged, emitConversations, request, requireOk, type EngineContext } from '../context'
import { applyPush } from './pushes'

/** Conversations pulled at the same time while syncing a backlog. */
const SYNC_PARALLEL_CONVERSATIONS = 4

interface Progress {
  done: number
  total: number
}

export class Sync {
  private readonly pulling = new Map<string, Promise<void>>()
  private catchUp: Promise<void> | undefined

  constructor(
    readonly ctx: EngineContext,
    private readonly options: { pullPageSize?: number | undefined; onRevoked(): void },
  ) {}

  /** Runs after every (re)connection. Throws CodedError when the server refused a step. */
  async run(): Promise<void> {
    const { ctx } = this
    const st = await requireOk(ctx, 'syncState', {})
    const now = ctx.now()
    ctx.store.upsertUsers([st.user])
    ctx.store.setSettings(st.settings)
    for (const g of st.groups) ctx.store.upsertGroup(g, now)
    for (const c of st.conversations) emitChanged(ctx, ctx.store.applyConversationState(c, now))
    await this.learnUsers(
      st.conversations.filter((c) => c.conversation.type === 'private').map((c) => c.conversation.targetId),
    )
    ctx.emit('settingsChanged', st.settings)
    ctx.emit('conversationChanged', ctx.store.listConversations())

    const behind = ctx.store.conversationsBehind()
    const total = behind.reduce((n, b) => n + (b.upTo - b.afterSeq), 0)
    const progress = { done: 0, total }
    if (total > 0) ctx.emit('syncProgress', { ...progress })
    // A few conversations at a time (each one page after another): the server reads the next page
    // while this process stores the last one. One at a time, a 100k-message backlog synced at ~60k
    // messages/s (bench scenario s2).
    const queue = [...behind]
    await Promise.all(
      Array.from({ length: Math.min(SYNC_PARALLEL_CONVERSATIONS, queue.length) }, async () => {
        for (let b = queue.shift(); b; b = queue.shift())
          await this.pullConversation(b.conversation, progress)
      }),
    )
    if (total > 0) ctx.emit('syncProgress', { done: total, total })
    await this.catchUpEvents()
  }

  /** Settles when every running pull has ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pulling.values()])
  }

  /** Pulls every missing message of a conversation, one pull in flight per conversation. */
  pullConversation(c: Conversation, progress?: Progress): Promise<void> {
    const k = conversationKey(c)
    const running = this.pulling.get(k)
    if (running) return running
    const run = (async () => {
      const pageSize = this.options.pullPageSize ?? 500
      for (;;) {
        const row = this.ctx.store.conversation(c)
        if (!row || !this.ctx.isCurrent()) return
        if (row.syncedSeq >= visibleUpTo(row.lastSeq, row.leftSeq)) return
        const res = await requireOk(this.ctx, 'pullMessages', {
          conversation: c,
          afterSeq: row.syncedSeq,
          limit: pageSize,
        })
        if (res.messages.length === 0 || !this.ctx.isCurrent()) return
        this.ingest(res.messages, progress === undefined)
        if (progress) {
          progress.done = Math.min(progress.total, progress.done + res.messages.length)
          this.ctx.emit('syncProgress', { ...progress })
        }
        if (!res.hasMore) return
      }
    })().finally(() => this.pulling.delete(k))
    this.pulling.set(k, run)
    return run
  }

  /** Stores server messages and tells the renderer; `live`: pushed, not pulled in a sync. */
  ingest(messages: readonly WireMessage[], live: boolean): void {
    const { ctx } = this
    const batch = ctx.store.storeServerMessages(ctx.me, messages, ctx.now(), { collectInserted: live })
    if (batch.inserted.length > 0 && live) ctx.emit('messageReceived', batch.inserted)
    emitChanged(ctx, batch.changed)
    emitConversations(ctx, batch.conversations)
    if (ctx.store.outboxSize() > 0) ctx.kickOutbox()
  }

  async learnUsers(userIds: readonly string[]): Promise<void> {
    const unknown = [...new Set(userIds)].filter((id) => this.ctx.store.displayName(id) === undefined)
    for (let i = 0; i < unknown.length; i += 500) {
      const res = await request(this.ctx, 'getUsers', { userIds: unknown.slice(i, i + 500) })
      if (res.code === 0) this.ctx.store.upsertUsers(res.data.users)
    }
  }

  /** Replays receipt events from the last one applied; one replay at a time. */
  catchUpEvents(): Promise<void> {
    if (this.catchUp) return this.catchUp
    this.catchUp = (async () => {
      const { store } = this.ctx
      for (;;) {
        const res = await requireOk(this.ctx, 'syncEvents', {
          afterEventSeq: store.lastEventSeq(),
          limit: 500,
        })
        for (const frame of res.events) applyPush(this, frame)
        const last = res.events.at(-1)?.eventSeq
        if (last !== undefined) store.advanceEventSeq(last)
        if (!res.hasMore || res.events.length === 0) return
      }
    })().finally(() => {
      this.catchUp = undefined
    })
    return this.catchUp
  }

  onPush(frame: PushFrame): void {
    if (!this.ctx.isCurrent()) return
    try {
      applyPush(this, frame)
    } catch (err) {
      console.error(`applying ${frame.event} failed:`, err)
      return
    }
    if (frame.eventSeq !== undefined) {
      // Receipt events are idempotent, so a gap is closed by replaying from the log.
      const last = this.ctx.store.lastEventSeq()
      if (frame.eventSeq === last + 1) this.ctx.store.advanceEventSeq(frame.eventSeq)
      else if (frame.eventSeq > last) void this.catchUpEvents().catch(() => undefined)
    }
  }

  /** Membership changed: re-read the conversation's marks, then pull what became visible. */
  async refreshConversation(c: Conversation): Promise<void> {
    const res = await request(this.ctx, 'syncState', {})
    if (res.code !== 0 || !this.ctx.isCurrent()) return
    const st = res.data.conversations.find((x) => conversationKey(x.conversation) === conversationKey(c))
    if (st) emitChanged(this.ctx, this.ctx.store.applyConversationState(st, this.ctx.now()))
    emitConversations(this.ctx, [c])
    await this.pullConversation(c).catch(() => undefined)
  }

  /** The server ended this session (revoked elsewhere). */
  revoked(): void {
    this.options.onRevoked()
  }
}
