/**
 * The outbox's job kinds. Each has the schema of its payload (checked when the job is read back,
 * so a damaged row is dropped with a reason instead of sent as garbage), its sender, and its retry
 * policy: how many refusals by a live server (RATE_LIMITED, TIMEOUT, INTERNAL) it survives before it
 * is given up. A lost connection is not a refusal: jobs wait for the next one, however long.
 */
import type { z } from 'zod'
import { Code } from '../../../shared/codes'
import { DELETE_FOR_ME_BATCH_MAX } from '../../../shared/protocol'
import { LIMITS, type Conversation, type Message } from '../../../shared/model'
import { notePendingAcks } from '../ops/acks'
import { request, type EngineContext } from '../context'
import { conversationOf } from '../store/rows'
import type { OutboxRow } from '../store/types'
import { jobPayloads, type JobPayload, type OutboxKind } from './payloads'

/** Codes after which the same request may succeed later. */
const TRANSIENT = new Set<number>([
  Code.SERVER_UNREACHABLE,
  Code.TIMEOUT,
  Code.RATE_LIMITED,
  Code.INTERNAL,
  Code.UNAVAILABLE,
])

export interface Job<P> {
  id: number
  ref: string
  payload: P
  attempts: number
}

/** What a sender did with the jobs it was given. */
export interface Outcome {
  /** Sent, or refused for good (and dealt with): removed from the outbox. */
  done: number[]
  /** Refused for now: kept, an attempt counted, the pass stops and is retried later. */
  refused: number[]
  /** The last refusal, for the give-up message. */
  reason?: { code: number; msg: string }
  /** Messages the sends changed (sent, failed): told once their jobs are gone from the outbox. */
  changed?: Message[]
  /** Conversations whose summaries changed, told likewise. */
  conversations?: Conversation[]
}

export interface JobKind<P> {
  kind: OutboxKind
  payload: z.ZodType<P, unknown>
  /** Jobs read per step. */
  batch: number
  /** Refusals by a live server before the job is given up. */
  maxAttempts: number
  send(ctx: EngineContext, jobs: Job<P>[]): Promise<Outcome>
  /**
   * Called for a job given up (too many refusals, or an unreadable payload), before it is removed;
   * returns the message it changed, if any, to tell once the job is gone.
   */
  giveUp(
    ctx: EngineContext,
    job: Pick<OutboxRow, 'id' | 'ref'>,
    reason: { code: number; msg: string },
  ): Message | undefined
}

function dropAck(kind: OutboxKind) {
  return (
    _ctx: EngineContext,
    job: Pick<OutboxRow, 'ref'>,
    reason: { code: number; msg: string },
  ): undefined => {
    // The message stays as it is here; its sender misses this receipt (the server is told of reads
    // again by the next conversation read mark).
    console.warn(`outbox: gave up ${kind} for ${job.ref}: ${reason.msg}`)
    return undefined
  }
}

function refusal(code: number, msg: string): { code: number; msg: string } {
  return { code, msg }
}

/** My messages: pipelined (the server handles one connection's frames in order, so seqs follow). */
const send: JobKind<JobPayload<'send'>> = {
  kind: 'send',
  payload: jobPayloads.send,
  batch: 50,
  maxAttempts: 20,
  async send(ctx, jobs) {
    const outcome: Outcome = { done: [], refused: [], changed: [], conversations: [] }
    await Promise.all(
      jobs.map(async (job) => {
        const localId = Number(job.ref)
        const res = await request(ctx, 'sendMessage', job.payload)
        if (!ctx.isCurrent()) return
        if (res.code === 0) {
          const stored = ctx.store.storeServerMessages(ctx.me, [res.data.message], ctx.now())
          outcome.changed?.push(...stored.changed)
          outcome.conversations?.push(conversationOf(ctx.me, res.data.message))
          outcome.done.push(job.id)
        } else if (TRANSIENT.has(res.code)) {
          outcome.refused.push(job.id)
          outcome.reason = refusal(res.code, res.msg)
        } else {
          const failed = ctx.store.markFailed(localId, res.code, res.msg)
          if (failed) outcome.changed?.push(failed)
          outcome.done.push(job.id)
        }
      }),
    )
    return outcome
  },
  giveUp(ctx, job, reason) {
    return ctx.store.markFailed(Number(job.ref), reason.code, reason.msg)
  },
}

/**
 * Sends one frame per group of jobs, in order. The first refusal for now refuses its group and every
 * later one (they wait for the next pass, in order); any other answer, accepted or refused for good
 * (unknown message, not the receiver: retrying cannot help), settles its group.
 */
async function sendInFrames<P>(
  groups: Iterable<Job<P>[]>,
  send: (jobs: Job<P>[]) => Promise<{ code: number; msg?: string }>,
): Promise<Outcome> {
  const outcome: Outcome = { done: [], refused: [] }
  for (const list of groups) {
    const ids = list.map((j) => j.id)
    if (outcome.refused.length > 0) {
      outcome.refused.push(...ids)
      continue
    }
    const res = await send(list)
    if (res.code !== 0 && TRANSIENT.has(res.code)) {
      outcome.refused.push(...ids)
      outcome.reason = refusal(res.code, res.msg ?? '')
    } else outcome.done.push(...ids)
  }
  return outcome
}

function groupedBy<P>(jobs: Job<P>[], key: (job: Job<P>) => string): Job<P>[][] {
  const groups = new Map<string, Job<P>[]>()
  for (const j of jobs) {
    const list = groups.get(key(j))
    if (list) list.push(j)
    else groups.set(key(j), [j])
  }
  return [...groups.values()]
}

/** One frame for every queued receipt of the kind. */
function uidAck(kind: 'ackDelivered' | 'ackMessageRead'): JobKind<JobPayload<typeof kind>> {
  return {
    kind,
    payload: jobPayloads[kind],
    batch: 1000,
    maxAttempts: 20,
    send: (ctx, jobs) =>
      sendInFrames([jobs], (list) =>
        request(ctx, kind, { messageUIds: [...new Set(list.map((r) => r.ref))] }),
      ),
    giveUp: dropAck(kind),
  }
}

/** Easemob group read acks: one frame per group. */
const ackGroupMessageRead: JobKind<JobPayload<'ackGroupMessageRead'>> = {
  kind: 'ackGroupMessageRead',
  payload: jobPayloads.ackGroupMessageRead,
  batch: 1000,
  maxAttempts: 20,
  send: (ctx, jobs) =>
    sendInFrames(
      groupedBy(jobs, (j) => j.payload.groupId),
      (list) => {
        const acks = new Map<string, { messageUId: string; ext?: string }>()
        for (const j of list)
          if (!acks.has(j.ref))
            acks.set(j.ref, { messageUId: j.ref, ...(j.payload.ext ? { ext: j.payload.ext } : {}) })
        const groupId = list[0]?.payload.groupId ?? ''
        return request(ctx, 'ackGroupMessageRead', { groupId, acks: [...acks.values()] })
      },
    ),
  giveUp: dropAck('ackGroupMessageRead'),
}

/** RongCloud read receipt responses: one frame per answer written. */
const receiptResponse: JobKind<JobPayload<'receiptResponse'>> = {
  kind: 'receiptResponse',
  payload: jobPayloads.receiptResponse,
  batch: 100,
  maxAttempts: 20,
  send: (ctx, jobs) =>
    sendInFrames(
      jobs.map((j) => [j]),
      ([job]) => request(ctx, 'sendReadReceiptResponse', (job as Job<JobPayload<'receiptResponse'>>).payload),
    ),
  giveUp: dropAck('receiptResponse'),
}

/** My read marks: only the highest one per conversation goes out. */
const ackConversationRead: JobKind<JobPayload<'ackConversationRead'>> = {
  kind: 'ackConversationRead',
  payload: jobPayloads.ackConversationRead,
  batch: 1000,
  maxAttempts: 20,
  send: (ctx, jobs) =>
    sendInFrames(
      groupedBy(jobs, (j) => j.ref),
      (list) => {
        const latest = list.reduce((a, b) => (b.payload.seq > a.payload.seq ? b : a))
        return request(ctx, 'ackConversationRead', latest.payload)
      },
    ),
  giveUp: dropAck('ackConversationRead'),
}

/**
 * H6: messages I deleted for me, so my other devices delete them too: one frame per
 * DELETE_FOR_ME_BATCH_MAX. A message the server refuses (no longer kept, never visible to me) has
 * nothing left to delete elsewhere, so any answer but a transient one settles its jobs.
 */
const deleteForMe: JobKind<JobPayload<'deleteForMe'>> = {
  kind: 'deleteForMe',
  payload: jobPayloads.deleteForMe,
  batch: 1000,
  maxAttempts: 20,
  send: (ctx, jobs) => {
    const frames: Job<JobPayload<'deleteForMe'>>[][] = []
    for (let i = 0; i < jobs.length; i += DELETE_FOR_ME_BATCH_MAX)
      frames.push(jobs.slice(i, i + DELETE_FOR_ME_BATCH_MAX))
    return sendInFrames(frames, (list) =>
      request(ctx, 'deleteMessagesForMe', { messageUIds: [...new Set(list.map((j) => j.ref))] }),
    )
  },
  giveUp(_ctx, job, reason) {
    // Deleted here all the same; my other devices keep it until I delete it there.
    console.warn(`outbox: gave up deleteForMe for ${job.ref}: ${reason.msg}`)
    return undefined
  },
}

/**
 * H8: chats I muted or unmuted here, so my other devices follow. Only the latest change per
 * conversation goes out (the earlier ones are settled with it). A conversation the server does not
 * know as mine (a chat never sent to) stays muted here only: any answer but a transient one settles.
 */
const notificationStatus: JobKind<JobPayload<'notificationStatus'>> = {
  kind: 'notificationStatus',
  payload: jobPayloads.notificationStatus,
  batch: 1000,
  maxAttempts: 20,
  send: (ctx, jobs) =>
    sendInFrames(
      groupedBy(jobs, (j) => j.ref),
      (list) => {
        // Jobs come in id order: the last one is the latest change.
        const latest = list[list.length - 1] as Job<JobPayload<'notificationStatus'>>
        return request(ctx, 'setConversationNotificationStatus', latest.payload)
      },
    ),
  giveUp(_ctx, job, reason) {
    // Muted (or not) here all the same; my other devices keep their mark until I change it there.
    console.warn(`outbox: gave up notificationStatus for ${job.ref}: ${reason.msg}`)
    return undefined
  },
}

/**
 * Issue 15: my acknowledgements, one frame per LIMITS.ackBatchMax. The server takes each (keeping
 * the first time of a repeated one) or refuses it for good (not a recipient, expired, unknown):
 * a taken ack gets the server's time here, a refused one is cleared, so the message is back in
 * "Waiting for me" (or out of it for good, when it no longer asks me). A whole frame refused for
 * now waits for the next pass, in order.
 */
const ack: JobKind<JobPayload<'ack'>> = {
  kind: 'ack',
  payload: jobPayloads.ack,
  batch: LIMITS.ackBatchMax,
  maxAttempts: 20,
  async send(ctx, jobs) {
    const changed: Message[] = []
    const outcome = await sendInFrames([jobs], async (list) => {
      const res = await request(ctx, 'ackMessage', { messageUIds: [...new Set(list.map((j) => j.ref))] })
      if (!ctx.isCurrent()) return res
      if (res.code === 0) {
        for (const a of res.data.accepted) {
          const m = ctx.store.acks.applyMyAck(a.messageUId, a.at)
          if (m) changed.push(m)
        }
        for (const r of res.data.rejected) {
          console.warn(`outbox: the server refused my ack of ${r.messageUId}: ${r.msg}`)
          const m = ctx.store.acks.clearMyAck(r.messageUId)
          if (m) changed.push(m)
        }
      } else if (!TRANSIENT.has(res.code)) {
        for (const j of list) {
          const m = ctx.store.acks.clearMyAck(j.ref)
          if (m) changed.push(m)
        }
      }
      return res
    })
    if (changed.length > 0) notePendingAcks(ctx)
    return { ...outcome, changed }
  },
  giveUp(ctx, job, reason) {
    // Not acknowledged after all: the message is back in "Waiting for me".
    console.warn(`outbox: gave up ack of ${job.ref}: ${reason.msg}`)
    const m = ctx.store.acks.clearMyAck(job.ref)
    notePendingAcks(ctx)
    return m
  },
}

/** In the order a pass sends them: messages first, then my acks, receipts, read marks last. */
export const jobKinds: readonly JobKind<unknown>[] = [
  send,
  // Issue 15: an ack is a deliberate act (and counts as a read on the server): before the receipts.
  ack,
  uidAck('ackDelivered'),
  uidAck('ackMessageRead'),
  ackGroupMessageRead,
  receiptResponse,
  ackConversationRead,
  deleteForMe,
  notificationStatus,
] as unknown as JobKind<unknown>[]
