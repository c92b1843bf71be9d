/**
 * Catching up, as the engine's sync/sync.ts does it but without a message database: the SDK keeps
 * only cursors (how far each conversation's messages and the receipt events were seen), in the
 * page's store so a reload goes on from there. After each connection: syncState, the messages after
 * each cursor (pullMessages by seq, handed out as MESSAGES), then the receipt events missed
 * (syncEvents by eventSeq), receipt requests among them going into the R7 cache. A push that skips a
 * sequence number closes the gap the same way; the server's `resync` push runs the catch-up again.
 *
 * A browser signing in for the first time starts at the server's current marks: it learns what
 * happens from then on (the requests it can answer are those it saw, as on RongCloud's Web SDK).
 * Everything runs one step after another on one queue, so a push never overtakes a catch-up.
 */
import { conversationKey, LIMITS, type Conversation } from '../../shared/model'
import type { PushFrame, ReplyData, RequestData, RequestOp, WireMessage } from '../../shared/protocol'
import type { EventName, EventPayloads } from './events'
import { toWebMessage, type WebMessage } from './messages'
import type { ReceiptRequestCache } from './receiptCache'
import type { SocketLink } from './socket'
import type { KeyValueStore } from './storage'

/** Ids of messages sent from this page remembered (so a catch-up does not hand them out again). */
const SENT_HERE_MAX = 1000

interface Cursor {
  eventSeq: number
  /** The highest seq seen, by conversation key. */
  seqs: Record<string, number>
}

type SyncState = ReplyData<'syncState'>

export interface SyncDeps {
  userId: string
  store: KeyValueStore
  cache: ReceiptRequestCache
  link: () => SocketLink | undefined
  emit<E extends EventName>(event: E, payload: EventPayloads[E]): void
  /** The server ended the session (sessionRevoked): stop, do not reconnect. */
  sessionEnded(): void
}

/** Thrown out of a step the server refused; the client treats the connection as failed. */
class SyncError extends Error {}

/** The conversation of a message as its viewer names it (the peer, or the group). */
function conversationOf(message: WireMessage, me: string): Conversation {
  if (message.convType === 'group') return { type: 'group', targetId: message.to }
  return { type: 'private', targetId: message.senderId === me ? message.to : message.senderId }
}

export class WebSync {
  private cursor: Cursor | undefined
  private queue: Promise<void> = Promise.resolve()
  /** The last syncState answer: the conversations and groups the page lists. */
  state: SyncState | undefined
  /** Messages sent from this page: not handed out again when a catch-up pulls them. */
  private readonly sentHere = new Set<string>()

  constructor(private readonly deps: SyncDeps) {}

  private get cursorKey(): string {
    return `cursor:${this.deps.userId}`
  }

  /** The catch-up of a connection, starting from the syncState it already asked for. */
  run(state: SyncState): Promise<void> {
    return this.enqueue(() => this.catchUp(state))
  }

  push(frame: PushFrame): void {
    this.enqueue(() => this.onPush(frame)).catch(() => undefined)
  }

  /** The highest seq known of a conversation (for history pages), or undefined. */
  latestSeq(conversation: Conversation): number | undefined {
    const key = conversationKey(conversation)
    const fromState = this.state?.conversations.find((c) => conversationKey(c.conversation) === key)?.lastSeq
    const seen = this.cursor?.seqs[key]
    if (fromState === undefined) return seen
    return Math.max(fromState, seen ?? 0)
  }

  /** Messages with seq ≤ this were sent before the caller joined (0 for a conversation not known). */
  joinedSeq(conversation: Conversation): number {
    const key = conversationKey(conversation)
    return this.state?.conversations.find((c) => conversationKey(c.conversation) === key)?.joinedSeq ?? 0
  }

  /** A message this page sent: its seq moves the cursor on if nothing is missing before it. */
  noteSent(message: WireMessage): void {
    this.sentHere.add(message.messageUId)
    // Only a catch-up soon after sending can pull it again: the oldest ids may go.
    if (this.sentHere.size > SENT_HERE_MAX)
      this.sentHere.delete(this.sentHere.values().next().value as string)
    this.enqueue(async () => {
      const key = conversationKey(conversationOf(message, this.deps.userId))
      if (this.cursor && this.cursor.seqs[key] === message.seq - 1) {
        this.cursor.seqs[key] = message.seq
        await this.save()
      }
    }).catch(() => undefined)
  }

  async webMessages(messages: readonly WireMessage[]): Promise<WebMessage[]> {
    const out: WebMessage[] = []
    for (const m of messages) {
      const cached =
        m.convType === 'group' && m.senderId !== this.deps.userId
          ? (await this.deps.cache.list(m.to)).find((r) => r.messageUId === m.messageUId)
          : undefined
      out.push(toWebMessage(m, this.deps.userId, cached))
    }
    return out
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step)
    this.queue = run.catch(() => undefined)
    return run
  }

  private async request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<ReplyData<Op>> {
    const link = this.deps.link()
    const result = link ? await link.request(op, data) : undefined
    if (!result || result.code !== 0) throw new SyncError(result?.msg ?? 'not connected')
    return result.data
  }

  private async catchUp(state: SyncState): Promise<void> {
    this.state = state
    this.cursor ??= await this.deps.store.get<Cursor>(this.cursorKey)
    if (!this.cursor) {
      this.cursor = {
        eventSeq: state.lastEventSeq,
        seqs: Object.fromEntries(
          state.conversations.map((c) => [conversationKey(c.conversation), c.lastSeq]),
        ),
      }
      return this.save()
    }
    for (const c of state.conversations) {
      const known = this.cursor.seqs[conversationKey(c.conversation)] ?? c.joinedSeq
      if (c.lastSeq > known) await this.pull(c.conversation, known)
    }
    await this.replayEvents()
  }

  /** Pulls and hands out every message after `afterSeq`, page by page. */
  private async pull(conversation: Conversation, afterSeq: number): Promise<void> {
    const key = conversationKey(conversation)
    for (let after = afterSeq, more = true; more;) {
      const page = await this.request('pullMessages', {
        conversation,
        afterSeq: after,
        limit: LIMITS.historyPageMax,
      })
      const last = page.messages.at(-1)?.seq ?? 0
      after = Math.max(after, last, page.throughSeq ?? 0, page.prunedSeq ?? 0)
      more = page.hasMore && page.messages.length > 0
      if (this.cursor) this.cursor.seqs[key] = Math.max(this.cursor.seqs[key] ?? 0, after)
      const fresh = page.messages.filter((m) => !this.sentHere.has(m.messageUId))
      if (fresh.length > 0) this.deps.emit('MESSAGES', { messages: await this.webMessages(fresh) })
    }
    await this.save()
  }

  /** Replays the receipt events after the cursor; events the server no longer keeps are skipped. */
  private async replayEvents(): Promise<void> {
    for (let more = true; more && this.cursor;) {
      const page = await this.request('syncEvents', {
        afterEventSeq: this.cursor.eventSeq,
        limit: LIMITS.historyPageMax,
      })
      if (page.prunedThrough !== undefined) {
        this.cursor.eventSeq = Math.max(this.cursor.eventSeq, page.prunedThrough)
        continue
      }
      for (const event of page.events) {
        await this.apply(event)
        this.cursor.eventSeq = Math.max(this.cursor.eventSeq, event.eventSeq ?? 0)
      }
      more = page.hasMore && page.events.length > 0
    }
    await this.save()
  }

  private async onPush(frame: PushFrame): Promise<void> {
    const cursor = this.cursor
    if (frame.eventSeq !== undefined && cursor) {
      if (frame.eventSeq <= cursor.eventSeq) return
      if (frame.eventSeq > cursor.eventSeq + 1) return this.replayEvents()
      await this.apply(frame)
      cursor.eventSeq = frame.eventSeq
      return this.save()
    }
    if (frame.event === 'message') {
      const message = frame.data
      const conversation = conversationOf(message, this.deps.userId)
      const key = conversationKey(conversation)
      const known = cursor?.seqs[key]
      if (!this.knows(conversation)) await this.refreshList()
      if (known !== undefined && message.seq <= known) return
      if (known !== undefined && message.seq > known + 1) return this.pull(conversation, known)
      // The cursor first: a listener may ask for the history at once.
      if (cursor) cursor.seqs[key] = message.seq
      this.deps.emit('MESSAGES', { messages: await this.webMessages([message]) })
      return this.save()
    }
    if (frame.event === 'resync') return this.catchUp(await this.request('syncState', {}))
    if (frame.event === 'groupChanged') return this.refreshList()
    return this.apply(frame)
  }

  private knows(conversation: Conversation): boolean {
    const key = conversationKey(conversation)
    return this.state?.conversations.some((c) => conversationKey(c.conversation) === key) ?? false
  }

  /** A group appeared, changed or went: the list again (syncState; cheap, and what the server says). */
  private async refreshList(): Promise<void> {
    this.state = await this.request('syncState', {})
    this.deps.emit('CONVERSATION', { conversations: this.state.conversations, groups: this.state.groups })
  }

  private async apply(frame: PushFrame): Promise<void> {
    switch (frame.event) {
      case 'receiptRequest': {
        const { groupId, channelId, messageUId, senderUserId, at } = frame.data
        await this.deps.cache.add({ groupId, channelId, messageUId, senderUserId, requestedAt: at })
        this.deps.emit('MESSAGE_RECEIPT_REQUEST', {
          conversation: { type: 'group', targetId: groupId },
          messageUId,
          senderUserId,
          channelId,
        })
        return
      }
      case 'receiptResponse': {
        const { groupId, channelId, receivedUserId, messageUIdList } = frame.data
        this.deps.emit('MESSAGE_RECEIPT_RESPONSE', {
          conversation: { type: 'group', targetId: groupId },
          receivedUserId,
          messageUIdList,
          channelId,
        })
        return
      }
      case 'sessionRevoked':
        return this.deps.sessionEnded()
      default:
        // Other pushes (typing, presence, edits, …) are the engine's business; this SDK leaves them.
        return
    }
  }

  private save(): Promise<void> {
    return this.cursor ? this.deps.store.set(this.cursorKey, this.cursor) : Promise.resolve()
  }
}
