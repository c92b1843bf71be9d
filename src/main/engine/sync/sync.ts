/**
 * Sync of one session: after each connection, the server's view (syncState), every missing message
 * (pullMessages, a few conversations at a time), then the receipt events missed (syncEvents).
 * Pushes go through `onPush`, which closes any gap in the event sequence by replaying the log.
 *
 * The server keeps receipt events for a while only (its retention). When the events this device
 * missed are gone (syncEvents answers prunedThrough), it does a full resync: syncState again, the
 * peers' read marks applied, and every message it stored before pulled again, since a pulled copy
 * carries its receipt state (WireMessage deliveredAt, readAt, groupAckCount, receiptRequested).
 * Messages the server no longer keeps (pullMessages prunedSeq) count as synced.
 *
 * Runs go one at a time. The server's `resync` push (pushes may have been lost between its nodes)
 * queues one more run: every resync push that arrives before that run starts is covered by it. Gaps
 * seen in pushes are closed at once (a pull, a replay), and catch-up work the server refuses while
 * the link is up is retried by a later run.
 */
import { conversationKey, LIMITS, type Conversation } from '../../../shared/model'
import type { ConversationState, PushFrame, ReplyData, WireMessage } from '../../../shared/protocol'
import { visibleUpTo } from '../../../shared/receipts'
import { emitChanged, emitConversations, request, requireOk, type EngineContext } from '../context'
import { announceDeletedForMe } from '../ops/deleteForMe'
import { notePendingAcks } from '../ops/acks'
import { ACK_LIMITS } from '../../../shared/acks'
import { noteGroupAvatars, noteUserAvatars } from '../files/avatars'
import { applyPush } from './pushes'

/** "Waiting for me" read from the server after a sync: at most this many pages (of ACK_LIMITS.pendingPageMax). */
const PENDING_ACK_PAGES_MAX = 100
/** Conversations pulled at the same time while syncing a backlog. */
const SYNC_PARALLEL_CONVERSATIONS = 4
/** Pauses before a resync run after failed catch-up work: doubling from the first to the last. */
const RETRY_MIN_MS = 500
const RETRY_MAX_MS = 30_000

interface Progress {
  done: number
  total: number
}

export class Sync {
  private readonly pulling = new Map<string, Promise<void>>()
  /** Conversations asked to pull again while their pull was running (it may have passed the gap). */
  private readonly pullWanted = new Set<string>()
  /** Pulls asked to reach at least this seq, by conversation key. */
  private readonly pullThrough = new Map<string, number>()
  /** The run going on (or queued last); runs go one after another. */
  private active: Promise<void> | undefined
  /** A resync run is queued and has not started: later resync pushes need no run of their own. */
  private resyncQueued = false
  /** A resync run after failed catch-up work (retryLater), and the pause before it. */
  private retryTimer: NodeJS.Timeout | undefined
  private retryMs = 0
  private catchUp: Promise<void> | undefined
  /** A replay was asked for while one ran: it asks once more before it ends. */
  private catchUpWanted = false
  /**
   * While run() is going: how far each conversation was synced when it began. A full resync pulls
   * again only those messages; the ones pulled in this run already carry their receipt state.
   */
  private storedBeforeRun: Map<string, number> | undefined

  constructor(
    readonly ctx: EngineContext,
    private readonly options: { pullPageSize?: number | undefined; onRevoked(): void },
  ) {}

  /** Runs after every (re)connection. Throws CodedError when the server refused a step. */
  run(): Promise<void> {
    return this.enqueue()
  }

  /**
   * The server's `resync` push: the catch-up of a connection again (syncState, pulls by seq, events by
   * eventSeq), after the run going on if any. A run that fails is run again later (retryLater).
   */
  resync(): void {
    if (this.resyncQueued || !this.ctx.isCurrent()) return
    this.resyncQueued = true
    this.enqueue(() => (this.resyncQueued = false)).catch(() => this.retryLater())
  }

  /** One run at a time, each after the one before it. */
  private enqueue(onStart?: () => void): Promise<void> {
    const before = this.active
    const run = (async () => {
      await before?.catch(() => undefined)
      onStart?.()
      if (!this.ctx.isCurrent()) return
      this.storedBeforeRun = this.syncedMarks()
      try {
        await this.runSteps()
      } finally {
        this.storedBeforeRun = undefined
      }
    })()
    this.active = run
    const settled = (): void => {
      if (this.active === run) this.active = undefined
    }
    run.then(settled, settled)
    return run
  }

  private async runSteps(): Promise<void> {
    const { ctx } = this
    const st = await requireOk(ctx, 'syncState', {})
    await this.applyState(st)

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
    this.applyPeerReadMarks(st)
    await this.catchUpEvents()
    await this.fillPendingAcks(st)
    await this.refreshInvites()
    this.retryMs = 0
  }

  /**
   * The peers' read marks over my messages, once those are pulled: a mark that arrived before some
   * of the messages it covers (their pushes lost between server nodes, or sent from my other device)
   * found nothing to mark then, and the store keeps no peer mark for messages stored later.
   */
  private applyPeerReadMarks(st: ReplyData<'syncState'>): void {
    for (const c of st.conversations) {
      if (c.conversation.type !== 'private' || c.peerReadSeq === 0 || !this.ctx.isCurrent()) continue
      // The time of a conversation read mark is not kept: "read by now" is what is known.
      const changed = this.ctx.store.applyPeerConversationRead(c.conversation, c.peerReadSeq, st.serverTime)
      emitChanged(this.ctx, changed)
      if (changed.length > 0) this.ctx.emit('messageRead', changed)
    }
  }

  /**
   * Issue 15, "Waiting for me" after being away: the server's list (listPendingAcks, every page),
   * after the pulls and the event replay. Messages it lists that are not here are stored; the store
   * then agrees with it (store/acks.ts reconcile: acked or taken back on another device while the
   * events saying so were pruned). Acks of mine still in the outbox are kept: they go out next.
   */
  private async fillPendingAcks(st: ReplyData<'syncState'>): Promise<void> {
    const { ctx } = this
    if (st.pendingAcks === undefined) return
    const listed = new Set<string>()
    let cursor: string | undefined
    let whole = false
    for (let page = 0; page < PENDING_ACK_PAGES_MAX && ctx.isCurrent(); page++) {
      const res = await requireOk(ctx, 'listPendingAcks', {
        pageSize: ACK_LIMITS.pendingPageMax,
        ...(cursor ? { cursor } : {}),
      })
      const missing = res.messages.filter((m) => !ctx.store.messageByUid(m.messageUId))
      if (missing.length > 0) this.ingest(missing, false)
      for (const m of res.messages) listed.add(m.messageUId)
      cursor = res.nextCursor
      if (!cursor) {
        whole = true
        break
      }
    }
    if (!ctx.isCurrent()) return
    if (whole) emitChanged(ctx, ctx.store.acks.reconcile(listed, st.serverTime))
    notePendingAcks(ctx)
  }

  /**
   * Catch-up work outside a run failed while the link is up (the server refused or timed out, e.g.
   * RATE_LIMITED under a burst): a resync run later, after a pause that grows while runs fail. A
   * lost link needs nothing: the next connection's run catches up.
   */
  retryLater(): void {
    if (this.retryTimer || !this.ctx.isCurrent() || !this.ctx.link()?.isOpen) return
    this.retryMs = Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.retryMs * 2))
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (this.ctx.link()?.isOpen) this.resync()
    }, this.retryMs)
    this.retryTimer.unref()
  }

  /** Invitations to groups (they are not in the event log): the whole list, after each change. */
  async refreshInvites(): Promise<void> {
    const res = await request(this.ctx, 'listGroupInvites', {})
    if (res.code === 0 && this.ctx.isCurrent()) this.ctx.emit('groupInvitesChanged', res.data.invites)
  }

  /** The server's view of the account: users, settings, groups, conversations and their marks. */
  private async applyState(st: ReplyData<'syncState'>): Promise<void> {
    const { ctx } = this
    const now = ctx.now()
    ctx.store.upsertUsers([st.user])
    ctx.store.setSettings(st.settings)
    if (st.recallWindowMs !== undefined) ctx.store.setRecallWindow(st.recallWindowMs)
    if (st.ackSettings) ctx.store.acks.setSettings(st.ackSettings)
    for (const g of st.groups) ctx.store.upsertGroup(g, now)
    // H7: pictures changed while I was away (the lists are whole: who is left out has none).
    noteGroupAvatars(ctx, st.groups, true)
    if (st.avatars)
      noteUserAvatars(
        ctx,
        st.avatars.map((a) => ({ userId: a.userId, avatarFileId: a.fileId })),
        true,
      )
    // H8: the chats I muted on any device, unless this snapshot is older than an event applied here
    // already (a push from another server node overtook the reply): it would undo that change.
    const marksCurrent = st.lastEventSeq >= ctx.store.lastEventSeq()
    for (const c of st.conversations) {
      emitChanged(ctx, ctx.store.applyConversationState(c, now))
      // Told below with every summary.
      if (c.notificationStatus && marksCurrent)
        ctx.store.applyServerNotificationStatus(c.conversation, c.notificationStatus)
    }
    await this.learnUsers(
      st.conversations.filter((c) => c.conversation.type === 'private').map((c) => c.conversation.targetId),
    )
    ctx.emit('settingsChanged', st.settings)
    ctx.emit('conversationChanged', ctx.store.listConversations())
  }

  /** How far each stored conversation is synced, by conversation key. */
  private syncedMarks(): Map<string, number> {
    const marks = new Map<string, number>()
    for (const { conversation } of this.ctx.store.listConversations()) {
      marks.set(conversationKey(conversation), this.ctx.store.conversation(conversation)?.syncedSeq ?? 0)
    }
    return marks
  }

  /**
   * The receipt events this device missed were pruned on the server: what they said comes from a
   * fresh syncState (my read marks, the peers' read marks) and from pulling again the messages stored
   * here before (their copies carry delivery, read, read count and receipt requests).
   */
  private async fullResync(): Promise<void> {
    const { ctx } = this
    const stored = this.storedBeforeRun ?? this.syncedMarks()
    const st = await requireOk(ctx, 'syncState', {})
    await this.applyState(st)
    for (const c of st.conversations) {
      if (!ctx.isCurrent()) return
      if (c.conversation.type === 'private' && c.peerReadSeq > 0) {
        // The time of a conversation read mark is not kept: "read by now" is what is known.
        emitChanged(ctx, ctx.store.applyPeerConversationRead(c.conversation, c.peerReadSeq, st.serverTime))
      }
      const upTo = Math.min(
        stored.get(conversationKey(c.conversation)) ?? 0,
        visibleUpTo(c.lastSeq, c.leftSeq),
      )
      await this.pullAgain(c, upTo)
    }
  }

  /** Pulls the conversation's messages after its join up to `upTo` again (they are stored already). */
  private async pullAgain(c: ConversationState, upTo: number): Promise<void> {
    const pageSize = this.options.pullPageSize ?? 500
    let afterSeq = c.joinedSeq
    while (afterSeq < upTo && this.ctx.isCurrent()) {
      const res = await requireOk(this.ctx, 'pullMessages', {
        conversation: c.conversation,
        afterSeq,
        limit: pageSize,
      })
      if (res.prunedSeq !== undefined) this.ctx.store.skipPrunedMessages(c.conversation, res.prunedSeq)
      if (res.messages.length > 0) this.ingest(res.messages, false)
      // H6: what I deleted for me on another device, if its event was among those pruned.
      if (res.throughSeq !== undefined) {
        const deleted = this.ctx.store.dropDeletedElsewhere(
          c.conversation,
          Math.max(afterSeq, res.prunedSeq ?? 0),
          res.throughSeq,
          new Set(res.messages.map((m) => m.seq)),
          this.ctx.now(),
        )
        if (deleted.length > 0) announceDeletedForMe(this.ctx, deleted)
      }
      const last = res.messages.at(-1)
      if (!last) return
      afterSeq = last.seq
      if (!res.hasMore) return
    }
  }

  /** Settles when every running pull and run has ended. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.pulling.values(), this.active])
  }

  /**
   * Pulls every missing message of a conversation, one pull in flight per conversation. Asked again
   * while it runs (a push showed a gap it may already have passed), it goes on once more at its end.
   * `through`: pull at least up to that seq, even past the last one known here (a peer's read mark).
   */
  pullConversation(c: Conversation, progress?: Progress, through?: number): Promise<void> {
    const k = conversationKey(c)
    if (through !== undefined) this.pullThrough.set(k, Math.max(this.pullThrough.get(k) ?? 0, through))
    const running = this.pulling.get(k)
    if (running) {
      this.pullWanted.add(k)
      return running
    }
    // Started on the next microtask, so that it is registered before it can end.
    const run = Promise.resolve().then(() => this.pullLoop(c, k, progress))
    this.pulling.set(k, run)
    return run
  }

  private async pullLoop(c: Conversation, k: string, progress: Progress | undefined): Promise<void> {
    const pageSize = this.options.pullPageSize ?? 500
    try {
      for (;;) {
        this.pullWanted.delete(k)
        const row = this.ctx.store.conversation(c)
        if (!row || !this.ctx.isCurrent()) return
        const through = row.leftSeq === null ? (this.pullThrough.get(k) ?? 0) : 0
        if (row.syncedSeq >= Math.max(visibleUpTo(row.lastSeq, row.leftSeq), through)) return
        const res = await requireOk(this.ctx, 'pullMessages', {
          conversation: c,
          afterSeq: row.syncedSeq,
          limit: pageSize,
        })
        if (!this.ctx.isCurrent()) return
        // Messages the server no longer keeps: synced for good, or they would be asked for forever.
        if (res.prunedSeq !== undefined) this.ctx.store.skipPrunedMessages(c, res.prunedSeq)
        if (res.messages.length > 0) this.ingest(res.messages, progress === undefined)
        // H6: seqs left out because I deleted them for me (on any device) are no gap to pull again.
        if (res.throughSeq !== undefined) this.ctx.store.markSyncedThrough(c, res.throughSeq)
        if (res.messages.length === 0 && !this.pullWanted.has(k)) return
        if (progress) {
          progress.done = Math.min(progress.total, progress.done + res.messages.length)
          this.ctx.emit('syncProgress', { ...progress })
        }
        if (!res.hasMore && !this.pullWanted.has(k)) return
      }
    } finally {
      // At once, not a microtask later: a call from now on starts a pull of its own.
      this.pulling.delete(k)
      this.pullWanted.delete(k)
      this.pullThrough.delete(k)
    }
  }

  /**
   * A peer read the single chat up to `seq` but not all of my messages up to it are here (their
   * pushes were lost between server nodes, or they came from my other device and have not arrived):
   * the store keeps no peer read mark for messages stored later, so they are pulled, then marked.
   */
  peerReadAfterPull(c: Conversation, seq: number, at: number): void {
    this.pullConversation(c, undefined, seq)
      .then(() => {
        if (!this.ctx.isCurrent()) return
        const changed = this.ctx.store.applyPeerConversationRead(c, seq, at)
        emitChanged(this.ctx, changed)
        if (changed.length > 0) this.ctx.emit('messageRead', changed)
      })
      .catch(() => this.retryLater())
  }

  /** Stores server messages and tells the renderer; `live`: pushed, not pulled in a sync. */
  ingest(messages: readonly WireMessage[], live: boolean): void {
    const { ctx } = this
    const batch = ctx.store.storeServerMessages(ctx.me, messages, ctx.now(), { collectInserted: live })
    if (batch.inserted.length > 0 && live) ctx.emit('messageReceived', batch.inserted)
    emitChanged(ctx, batch.changed)
    emitConversations(ctx, batch.conversations)
    // Issue 15: a message asking me for an ack is one more in "Waiting for me".
    if (messages.some((m) => m.needAck)) notePendingAcks(ctx)
    if (ctx.store.outboxSize() > 0) ctx.kickOutbox()
  }

  async learnUsers(userIds: readonly string[]): Promise<void> {
    const unknown = [...new Set(userIds)].filter((id) => this.ctx.store.displayName(id) === undefined)
    for (let i = 0; i < unknown.length; i += LIMITS.userLookupMax) {
      const res = await request(this.ctx, 'getUsers', { userIds: unknown.slice(i, i + LIMITS.userLookupMax) })
      if (res.code === 0) this.ctx.store.upsertUsers(res.data.users)
      if (res.code === 0) noteUserAvatars(this.ctx, res.data.users)
    }
  }

  /**
   * Replays receipt events from the last one applied; one replay at a time. Asked again while it
   * runs (a push past a gap it may already have read beyond), it asks the server once more at its end.
   */
  catchUpEvents(): Promise<void> {
    if (this.catchUp) {
      this.catchUpWanted = true
      return this.catchUp
    }
    // Started on the next microtask, so that it is registered before it can end.
    this.catchUp = Promise.resolve().then(() => this.replayEvents())
    return this.catchUp
  }

  private async replayEvents(): Promise<void> {
    const { store } = this.ctx
    try {
      for (;;) {
        this.catchUpWanted = false
        const res = await requireOk(this.ctx, 'syncEvents', {
          afterEventSeq: store.lastEventSeq(),
          limit: 500,
        })
        if (res.prunedThrough !== undefined) {
          // The events from here to prunedThrough are gone: resync in full, then go on after them.
          if (res.prunedThrough <= store.lastEventSeq()) return
          await this.fullResync()
          if (!this.ctx.isCurrent()) return
          store.advanceEventSeq(res.prunedThrough)
          continue
        }
        for (const frame of res.events) applyPush(this, frame)
        const last = res.events.at(-1)?.eventSeq
        if (last !== undefined) store.advanceEventSeq(last)
        if ((!res.hasMore || res.events.length === 0) && !this.catchUpWanted) return
      }
    } finally {
      // At once, not a microtask later: a call from now on starts a replay of its own.
      this.catchUp = undefined
      this.catchUpWanted = false
    }
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
      else if (frame.eventSeq > last) this.catchUpEvents().catch(() => this.retryLater())
    }
  }

  /** Membership changed: re-read the conversation's marks, then pull what became visible. */
  async refreshConversation(c: Conversation): Promise<void> {
    const res = await request(this.ctx, 'syncState', {})
    if (res.code !== 0 || !this.ctx.isCurrent()) return
    const st = res.data.conversations.find((x) => conversationKey(x.conversation) === conversationKey(c))
    if (st) emitChanged(this.ctx, this.ctx.store.applyConversationState(st, this.ctx.now()))
    emitConversations(this.ctx, [c])
    // Issue 15: messages of a group I left no longer wait for my ack.
    notePendingAcks(this.ctx)
    await this.pullConversation(c).catch(() => this.retryLater())
  }

  /** The server ended this session (revoked elsewhere). */
  revoked(): void {
    this.options.onRevoked()
  }
}
