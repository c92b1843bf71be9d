/**
 * A frame from the server as a client of the wire protocol reads it, and a reply's result: shared by
 * the engine's link (link/connection.ts) and the web SDK (sdk/web/socket.ts), the two clients.
 */
import { Code, fail, ok, type Result } from './codes'
import { PushFrame, ReplyFrame, requests, type RequestOp } from './protocol'

/**
 * A push, a reply to one of this client's requests (id set), or undefined: not JSON, not a frame of
 * the protocol, or a reply to no request (id null). A server that sends garbage is ignored; the
 * request it was meant to answer times out.
 */
export function readServerFrame(
  text: string,
): { push: PushFrame } | { reply: ReplyFrame & { id: number } } | undefined {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return undefined
  }
  if ((json as { type?: unknown } | null)?.type === 'push') {
    const push = PushFrame.safeParse(json)
    return push.success ? { push: push.data } : undefined
  }
  const reply = ReplyFrame.safeParse(json)
  if (!reply.success || reply.data.id === null) return undefined
  return { reply: { ...reply.data, id: reply.data.id } }
}

/** The result of a request of `op` from its reply: the code and words, or the data checked by its schema. */
export function replyResult(op: RequestOp, reply: ReplyFrame): Result<unknown> {
  if (reply.code !== 0) return { code: reply.code, msg: reply.msg ?? 'request failed' } as Result<unknown>
  const data = requests[op].reply.safeParse(reply.data)
  return data.success ? ok(data.data) : fail(Code.INTERNAL, `malformed ${op} reply from the server`)
}
