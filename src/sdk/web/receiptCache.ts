/**
 * The R7 cache (SPEC R7, the RongCloud seed's Web platform): per group conversation, the latest 30
 * read-receipt requests by request time, each valid for 24 hours, kept across page reloads.
 * `sendReadReceiptResponseV2` without a messageList answers every cached, unanswered request of the
 * conversation from here. A request that fell out (a 31st newer one came, or 24 h passed) is
 * forgotten and never answered, as RongCloud documents for its Web SDK: a browser has no message
 * database to rebuild the list from (the Electron platform's R6 has SQLite).
 *
 * Answered requests stay (marked) until they age or are pushed out, so a page reloaded after
 * answering still knows what it answered, and a replayed request does not come back unanswered.
 */
import type { KeyValueStore } from './storage'

export interface CachedReceiptRequest {
  groupId: string
  channelId: string
  messageUId: string
  /** Who sent the message and asked; the response is grouped by this user. */
  senderUserId: string
  /** When the sender asked (the server's time): the cache keeps the latest by this. */
  requestedAt: number
  /** When this browser answered it; absent while unanswered. */
  answeredAt?: number
}

export interface ReceiptCacheOptions {
  /** Requests kept per group conversation (RongCloud: 30). */
  maxPerConversation?: number
  /** How long a request stays answerable after it was made (RongCloud: 24 h). */
  ttlMs?: number
  /** The clock (tests pass a fake one). */
  now?: () => number
}

export const RECEIPT_CACHE_DEFAULTS = { maxPerConversation: 30, ttlMs: 24 * 60 * 60 * 1000 } as const

export class ReceiptRequestCache {
  private readonly max: number
  private readonly ttlMs: number
  private readonly now: () => number
  /** Reads and writes go one after another: pushes and a response may touch one group at once. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly store: KeyValueStore,
    /** Whose cache (the signed-in user): two accounts in one browser keep theirs apart. */
    private readonly userId: string,
    options: ReceiptCacheOptions = {},
  ) {
    this.max = options.maxPerConversation ?? RECEIPT_CACHE_DEFAULTS.maxPerConversation
    this.ttlMs = options.ttlMs ?? RECEIPT_CACHE_DEFAULTS.ttlMs
    this.now = options.now ?? Date.now
  }

  /** Caches a request; false when it is already too old or older than the latest `max` of its group. */
  add(request: Omit<CachedReceiptRequest, 'answeredAt'>): Promise<boolean> {
    return this.update(request.groupId, (list) => {
      if (!list.some((r) => r.messageUId === request.messageUId)) list.push({ ...request })
      return list
    }).then((kept) => kept.some((r) => r.messageUId === request.messageUId))
  }

  /** The live requests of a group, newest first (answered ones included, with answeredAt). */
  list(groupId: string): Promise<CachedReceiptRequest[]> {
    return this.update(groupId, (list) => list)
  }

  /** The live, unanswered requests of a group in one channel, newest first. */
  async unanswered(groupId: string, channelId: string): Promise<CachedReceiptRequest[]> {
    const list = await this.list(groupId)
    return list.filter((r) => r.answeredAt === undefined && r.channelId === channelId)
  }

  /** Marks requests of a group answered (those still cached; others are gone already). */
  async markAnswered(groupId: string, messageUIds: readonly string[], at = this.now()): Promise<void> {
    const answered = new Set(messageUIds)
    await this.update(groupId, (list) =>
      list.map((r) =>
        answered.has(r.messageUId) && r.answeredAt === undefined ? { ...r, answeredAt: at } : r,
      ),
    )
  }

  private key(groupId: string): string {
    return `receipts:${this.userId}:${groupId}`
  }

  /** Loads a group's list, applies `change`, evicts by age and count, and stores it if it changed. */
  private update(
    groupId: string,
    change: (list: CachedReceiptRequest[]) => CachedReceiptRequest[],
  ): Promise<CachedReceiptRequest[]> {
    const run = this.queue.then(async () => {
      const stored = (await this.store.get<CachedReceiptRequest[]>(this.key(groupId))) ?? []
      const kept = this.evict(change(stored.map((r) => ({ ...r }))))
      if (JSON.stringify(kept) !== JSON.stringify(stored)) {
        if (kept.length === 0) await this.store.delete(this.key(groupId))
        else await this.store.set(this.key(groupId), kept)
      }
      return kept
    })
    this.queue = run.catch(() => undefined)
    return run
  }

  /** Drops requests older than the TTL, then keeps the latest `max` by request time. */
  private evict(list: CachedReceiptRequest[]): CachedReceiptRequest[] {
    const oldest = this.now() - this.ttlMs
    return list
      .filter((r) => r.requestedAt > oldest)
      .sort((a, b) => b.requestedAt - a.requestedAt || a.messageUId.localeCompare(b.messageUId))
      .slice(0, this.max)
  }
}

/** The messageList of one response: message ids grouped by the user who sent them and asked. */
export function groupBySender(requests: readonly CachedReceiptRequest[]): Record<string, string[]> {
  const bySender: Record<string, string[]> = {}
  for (const r of requests) (bySender[r.senderUserId] ??= []).push(r.messageUId)
  return bySender
}
