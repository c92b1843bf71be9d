/**
 * The headless host's wire contract: the frames that carry the IPC contract (ipc.ts) over the
 * local WebSocket between the headless host (src/main/hosts/headless/host.ts) and the browser
 * bridge that defines `window.im` outside Electron (src/renderer/src/bridge/headless.ts).
 * One JSON object per WebSocket message:
 *
 *   page → host  { type: 'call', id, op, args }       one operation; `id` is echoed in its result
 *   host → page  { type: 'result', id, result }       `result` is the operation's { code, msg?, data? };
 *                                                     `id` is null when the call frame was unreadable
 *   host → page  { type: 'event', event, payload }    one engine event, to every connected page
 *
 * Each side validates what it receives with these schemas. An operation's arguments are not
 * checked here: the host's dispatcher validates them with the operation's own zod tuple.
 */
import { z } from 'zod'
import type { CodeValue, Result } from './codes'
import { eventNames } from './ipcNames'

/** The WebSocket path of the host's IPC endpoint (`?token=<per-launch token>`). */
export const HEADLESS_IPC_PATH = '/ipc'

/**
 * Page → host: one call. `type` may be left out: the host has always read a frame without it as a
 * call (the first bridge sent none), so its input type keeps it optional; the bridge always sends it.
 */
export const HeadlessCallFrame = z.object({
  type: z.literal('call').default('call'),
  id: z.number(),
  op: z.string(),
  args: z.array(z.unknown()),
})
export type HeadlessCallFrame = z.output<typeof HeadlessCallFrame>

/**
 * A failure's code: any non-zero integer, not only the codes this build lists, since the engine
 * passes on the server's codes as they come.
 */
const FailureCode = z.custom<Exclude<CodeValue, 0>>(
  (value) => typeof value === 'number' && Number.isInteger(value) && value !== 0,
  'a failure code is a non-zero integer',
)

/** An operation's result as codes.ts defines it. JSON drops `data: undefined`, so it may be absent. */
const OperationResult: z.ZodType<Result<unknown>, unknown> = z.union([
  z
    .object({ code: z.literal(0), data: z.unknown().optional() })
    .transform(({ data }) => ({ code: 0 as const, data })),
  z.object({ code: FailureCode, msg: z.string() }),
])

/** Host → page: the result of the call with this id (null: the call frame itself was malformed). */
const ResultFrame = z.object({
  type: z.literal('result'),
  id: z.number().nullable(),
  result: OperationResult,
})

/** Host → page: one engine event of the IPC contract; its payload is the engine's, unchecked. */
const EventFrame = z.object({
  type: z.literal('event'),
  event: z.enum(eventNames),
  payload: z.unknown(),
})

/** Everything the host sends to a page. */
export const HeadlessHostFrame = z.discriminatedUnion('type', [ResultFrame, EventFrame])
export type HeadlessHostFrame = z.output<typeof HeadlessHostFrame>

/** The `id` of a frame that failed validation, if it has a usable one, so its answer can name it. */
export function headlessFrameId(value: unknown): number | null {
  const id = typeof value === 'object' && value !== null ? (value as { id?: unknown }).id : undefined
  return typeof id === 'number' ? id : null
}
