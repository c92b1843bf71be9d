/**
 * What the engine's parts share during one signed-in session: the store, the live link to the
 * server (if any), the event sink and the outbox trigger. Ops, sync and outbox take it as their
 * first argument, so each can be tested with an in-memory store and a fake link, without sockets.
 */
import { Code, CodedError, fail, type Result } from '../../shared/codes'
import type { IpcEvents } from '../../shared/ipc'
import type { Conversation, Message } from '../../shared/model'
import type { ReplyData, RequestData, RequestOp } from '../../shared/protocol'
import type { EngineStore } from './store/types'

/** The server as the engine's parts see it: one request at a time, typed by the protocol. */
export interface Link {
  readonly isOpen: boolean
  request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<Result<ReplyData<Op>>>
}

type Emit = <E extends keyof IpcEvents>(event: E, payload: IpcEvents[E]) => void

export interface EngineContext {
  /** My user id. */
  readonly me: string
  readonly store: EngineStore
  /** The live link, while connected. */
  link(): Link | undefined
  emit: Emit
  /** Starts an outbox pass, after a job was written (a no-op while offline). */
  kickOutbox(): void
  /** False once this session has ended: background work stops. */
  isCurrent(): boolean
  now(): number
}

export async function request<Op extends RequestOp>(
  ctx: EngineContext,
  op: Op,
  data: RequestData<Op>,
): Promise<Result<ReplyData<Op>>> {
  const link = ctx.link()
  if (!link) return fail(Code.SERVER_UNREACHABLE, 'not connected to the server')
  return link.request(op, data)
}

export async function requireOk<Op extends RequestOp>(
  ctx: EngineContext,
  op: Op,
  data: RequestData<Op>,
): Promise<ReplyData<Op>> {
  const res = await request(ctx, op, data)
  if (res.code !== 0) throw new CodedError(res.code, res.msg)
  return res.data
}

/** The one state event for messages (see IpcEvents.messagesChanged). */
export function emitChanged(ctx: EngineContext, messages: readonly Message[]): void {
  if (messages.length > 0) ctx.emit('messagesChanged', [...messages])
}

export function emitConversations(ctx: EngineContext, conversations: Iterable<Conversation>): void {
  const summaries = []
  for (const c of conversations) {
    const s = ctx.store.summary(c)
    if (s) summaries.push(s)
  }
  if (summaries.length > 0) ctx.emit('conversationChanged', summaries)
}
