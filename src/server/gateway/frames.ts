/**
 * The gateway's frames on the wire: reading a WebSocket message, checking what a request frame asks
 * for (JSON, the envelope, the operation's data schema), and the text of a reply. Also `Job`, one
 * frame's work for the group commit (gateway.ts).
 */
import type { RawData } from 'ws'
import type { z } from 'zod'
import { Code, codeDescriptions, codeName, type CodeValue } from '../../shared/codes'
import { RequestEnvelope, requests, type RequestOp } from '../../shared/protocol'
import type { Connection } from '../connection'

/** One frame's work: an operation to run in the next group commit, or an answer already known. */
export type Job = OperationJob | { connection: Connection; reply: string }

/** A frame that asks for an operation. */
export interface OperationJob {
  connection: Connection
  id: number
  op: RequestOp
  data: unknown
  reply?: undefined
  /** performance.now() when the frame was read (0 without metrics): the operation's latency. */
  readAt: number
}

export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : 'data'}: ${issue.message}`)
    .join('; ')
}

export function rawToString(raw: RawData): string {
  if (Array.isArray(raw)) return Buffer.concat(raw).toString('utf8')
  if (raw instanceof ArrayBuffer) return Buffer.from(raw).toString('utf8')
  return raw.toString('utf8')
}

export function rawSize(raw: RawData): number {
  if (Array.isArray(raw)) return raw.reduce((sum, chunk) => sum + chunk.length, 0)
  return raw.byteLength
}

/**
 * The id of a frame that is refused before parsing (rate limits): read from its first characters,
 * where every client of ours puts it (`{"id":12,…`), so the refusal can still be matched.
 */
export function leadingRequestId(text: string): number | null {
  const match = /^\s*\{\s*"id"\s*:\s*(\d{1,15})\s*[,}]/.exec(text.slice(0, 48))
  return match?.[1] ? Number(match[1]) : null
}

/** The request id, if a frame carries a usable one, so even a rejected frame's reply can be matched. */
function requestIdOf(value: unknown): number | null {
  if (typeof value !== 'object' || value === null || !('id' in value)) return null
  const { id } = value
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null
}

export function replyFrame(
  id: number | null,
  code: CodeValue,
  msg?: string,
  data?: unknown,
  retryAfterMs?: number,
): string {
  if (code === Code.OK) return JSON.stringify({ type: 'reply', id, code, data })
  const words = msg ?? codeDescriptions[codeName(code) ?? 'INTERNAL']
  return JSON.stringify(
    retryAfterMs === undefined
      ? { type: 'reply', id, code, msg: words }
      : { type: 'reply', id, code, msg: words, retryAfterMs },
  )
}

/**
 * What a frame that passed the rate limits asks for: the operation to run with its parsed data, or
 * the reply that refuses it (not JSON, a bad envelope, an unknown operation, invalid data) and the
 * code it refuses with (`refused`, for the metrics).
 */
export function parseFrame(
  text: string,
): { id: number; op: RequestOp; data: unknown; reply?: undefined } | { reply: string; refused: CodeValue } {
  const answer = (
    replyId: number | null,
    code: CodeValue,
    msg?: string,
  ): { reply: string; refused: CodeValue } => ({
    reply: replyFrame(replyId, code, msg),
    refused: code,
  })
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return answer(null, Code.BAD_FRAME, 'the frame is not valid JSON')
  }
  const id = requestIdOf(value)

  const envelope = RequestEnvelope.safeParse(value)
  if (!envelope.success) return answer(id, Code.BAD_FRAME, describeIssues(envelope.error))
  const { op } = envelope.data
  if (!Object.hasOwn(requests, op)) {
    return answer(envelope.data.id, Code.UNKNOWN_OPERATION, `unknown operation ${op}`)
  }
  const input = requests[op as RequestOp].data.safeParse(envelope.data.data ?? {})
  if (!input.success) return answer(envelope.data.id, Code.INVALID_ARGUMENT, describeIssues(input.error))
  return { id: envelope.data.id, op: op as RequestOp, data: input.data }
}
