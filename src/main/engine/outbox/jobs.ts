/**
 * The outbox's job kinds. Each has the schema of its payload (checked when the job is read back,
 * so a damaged row is dropped with a reason instead of sent as garbage), its sender, and its retry
 * policy: how many refusals by a live server (RATE_LIMITED, TIMEOUT, INTERNAL) it survives before it
 * is given up. A lost connection is not a refusal: jobs wait for the next one, however long.
 */
import type { z } from 'zod'
import { Code } from '../../../shared/codes'
import type { Conversation, Message } from '../../../shared/model'
import { request, type EngineContext } from '../context'
import { conversationOf } from '../store/rows'
import type { OutboxRow } from '../store/types'
import { jobPayloads, type JobPayload, type OutboxKind } from './payloads'

/** Codes after which the same request may succeed later. */
const TRANSIENT = new Set<number>([Code.SERVER_UNREACHABLE, Code.TIMEOUT, Code.RATE_LIMITED, Code.INTERNAL])

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

/** One frame for every queued receipt of the kind: rejections are final (unknown message, not mine). */
function uidAck(kind: 'ackDelivered' | 'ackMessageRead'): JobKind<JobPayload<typeof kind>> {
  return {
    kind,
    payload: jobPayloads[kind],
    batch: 1000,
    maxAttempts: 20,
    async send(ctx, jobs) {
      const res = await request(ctx, kind, { messageUIds: [...new Set(jobs.map((j) => j.ref))] })
      const ids = jobs.map((j) => j.id)
      if (res.code !== 0 && TRANSIENT.has(res.code))
        return { done: [], refused: ids, reason: refusal(res.code, res.msg) }
      return { done: ids, refused: [] }
    },
    giveUp: dropAck(kind),
  }
}

/** Easemob group read acks: one frame per group. */
const ackGroupMessageRead: JobKind<JobPayload<'ackGroupMessageRead'>> = {
  kind: 'ackGroupMessageRead',
  payload: jobPayloads.ackGroupMessageRead,
  batch: 1000,
  maxAttempts: 20,
  async send(ctx, jobs) {
    const byGroup = new Map<string, Job<JobPayload<'ackGroupMessageRead'>>[]>()
    for (const j of jobs) byGroup.set(j.payload.groupId, [...(byGroup.get(j.payload.groupId) ?? []), j])
    const outcome: Outcome = { done: [], refused: [] }
    for (const [groupId, list] of byGroup) {
      if (outcome.refused.length > 0) {
        outcome.refused.push(...list.map((j) => j.id))
        continue
      }
      const acks = new Map<string, { messageUId: string; ext?: string }>()
      for (const j of list)
        if (!acks.has(j.ref))
          acks.set(j.ref, { messageUId: j.ref, ...(j.payload.ext ? { ext: j.payload.ext } : {}) })
      const res = await request(ctx, 'ackGroupMessageRead', { groupId, acks: [...acks.values()] })
      if (res.code !== 0 && TRANSIENT.has(res.code)) {
        outcome.refused.push(...list.map((j) => j.id))
        outcome.reason = refusal(res.code, res.msg)
      } else outcome.done.push(...list.map((j) => j.id))
    }
    return outcome
  },
  giveUp: dropAck('ackGroupMessageRead'),
}

/** RongCloud read receipt responses: one frame per answer written. */
const receiptResponse: JobKind<JobPayload<'receiptResponse'>> = {
  kind: 'receiptResponse',
  payload: jobPayloads.receiptResponse,
  batch: 100,
  maxAttempts: 20,
  async send(ctx, jobs) {
    const outcome: Outcome = { done: [], refused: [] }
    for (const job of jobs) {
      if (outcome.refused.length > 0) {
        outcome.refused.push(job.id)
        continue
      }
      const res = await request(ctx, 'sendReadReceiptResponse', job.payload)
      if (res.code !== 0 && TRANSIENT.has(res.code)) {
        outcome.refused.push(job.id)
        outcome.reason = refusal(res.code, res.msg)
      } else outcome.done.push(job.id)
    }
    return outcome
  },
  giveUp: dropAck('receiptResponse'),
}

/** My read marks: only the highest one per conversation goes out. */
const ackConversationRead: JobKind<JobPayload<'ackConversationRead'>> = {
  kind: 'ackConversationRead',
  payload: jobPayloads.ackConversationRead,
  batch: 1000,
  maxAttempts: 20,
  async send(ctx, jobs) {
    const byRef = new Map<string, Job<JobPayload<'ackConversationRead'>>[]>()
    for (const j of jobs) byRef.set(j.ref, [...(byRef.get(j.ref) ?? []), j])
    const outcome: Outcome = { done: [], refused: [] }
    for (const list of byRef.values()) {
      if (outcome.refused.length > 0) {
        outcome.refused.push(...list.map((j) => j.id))
        continue
      }
      const latest = list.reduce((a, b) => (b.payload.seq > a.payload.seq ? b : a))
      const res = await request(ctx, 'ackConversationRead', latest.payload)
      if (res.code !== 0 && TRANSIENT.has(res.code)) {
        outcome.refused.push(...list.map((j) => j.id))
        outcome.reason = refusal(res.code, res.msg)
      } else outcome.done.push(...list.map((j) => j.id))
    }
    return outcome
  },
  giveUp: dropAck('ackConversationRead'),
}

/** In the order a pass sends them: messages first, then receipts, read marks last. */
export const jobKinds: readonly JobKind<unknown>[] = [
  send,
  uidAck('ackDelivered'),
  uidAck('ackMessageRead'),
  ackGroupMessageRead,
  receiptResponse,
  ackConversationRead,
] as unknown as JobKind<unknown>[]
