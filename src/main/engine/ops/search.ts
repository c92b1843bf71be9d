/**
 * Search (issue 13, H2): this device's history by full text (store/search.ts), the history page
 * around a result and the pages after it (store/historyWindow.ts), and people on the server.
 */
import { Code, CodedError } from '../../../shared/codes'
import type { HistoryPage, MessageSearchPage } from '../../../shared/ipc'
import type { Conversation, UserProfile } from '../../../shared/model'
import { requireOk, type EngineContext } from '../context'

/**
 * New messages indexed per slice in the background: some 10–20 ms of work each (bench s8), so IPC
 * calls and pushes are never held up for long while a large backlog is indexed.
 */
export const INDEX_SLICE = 2_000
const indexing = new WeakSet<EngineContext>()

/**
 * Indexes what a sync brought (a backlog of any size) for full-text search, a slice at a time with
 * the event loop free in between, so neither the sync nor the first search waits for all of it.
 * Stops when the index is up to date or the session ends; one run per session at a time.
 */
export function indexInBackground(ctx: EngineContext): void {
  if (indexing.has(ctx)) return
  indexing.add(ctx)
  const step = () => {
    if (!ctx.isCurrent()) return void indexing.delete(ctx)
    if (ctx.store.indexForSearch(INDEX_SLICE) < INDEX_SLICE) return void indexing.delete(ctx)
    setImmediate(step)
  }
  setImmediate(step)
}

export function searchMessages(
  ctx: EngineContext,
  keyword: string,
  options: { conversation?: Conversation | undefined; count: number; cursor?: number | undefined },
): MessageSearchPage {
  return ctx.store.searchMessages({ keyword, ...options })
}

export function messagesAround(
  ctx: EngineContext,
  c: Conversation,
  messageId: string,
  count: number,
): HistoryPage {
  const page = ctx.store.historyAround(c, Number(messageId), count)
  if (!page) throw new CodedError(Code.MESSAGE_NOT_FOUND, 'That message is not in this chat on this device.')
  return page
}

export function newerMessages(
  ctx: EngineContext,
  c: Conversation,
  afterSeq: number,
  count: number,
): HistoryPage {
  return ctx.store.historyAfter(c, afterSeq, count)
}

/**
 * People on the server whose id or name contains `query`. The names are kept (as getUsers does), so
 * a chat started with one of them is titled at once.
 */
export async function searchUsers(ctx: EngineContext, query: string, limit: number): Promise<UserProfile[]> {
  const res = await requireOk(ctx, 'searchUsers', { query, limit })
  ctx.store.upsertUsers(res.users)
  return res.users
}
