/**
 * Issue 15: reminders that chase only who has not acknowledged. The sender reminds now
 * (remindUnacknowledged) or sets a schedule (every N minutes, at most K times) that the server runs
 * (src/server/ackScheduler.ts). Each run pushes ackReminder to every device of every current
 * recipient with no ack, live only (a device that was offline finds the message in "Waiting for me").
 *
 * Abuse limits (the operator's ackReminders settings, ackSettings.ts): one member is reminded of one
 * message at most remindersPerMember times (those at the limit are skipped and counted in
 * `limited`; when nobody could be reminded for that reason, REMINDER_LIMIT_REACHED), and two runs
 * of one message, manual or scheduled, are at least reminderIntervalMs apart (REMINDER_TOO_SOON).
 */
import { Code, CodedError } from '../../shared/codes'
import { ACK_LIMITS, type ReminderResult } from '../../shared/acks'
import type { ReminderRunRow, StoredMessage } from '../storage/types'
import { ackSettingsOf, conversationFor, ownAckMessage, readerQuery } from './acks'
import type { OpContext, OpHandler } from './context'

/**
 * One reminder run of `message` by its sender: every pending recipient under the limit gets one
 * more (one statement), and an ackReminder push on all their devices. Used by the op and the scheduler.
 */
export async function runReminders(
  ctx: OpContext,
  message: StoredMessage,
): Promise<ReminderResult & { pending: number }> {
  const settings = ackSettingsOf(ctx)
  const { reminded, pending } = await ctx.storage.remindPending(
    readerQuery(message),
    ctx.now,
    settings.remindersPerMember,
  )
  // One payload per reminder number, however many members share it.
  const byN = new Map<number, string[]>()
  for (const r of reminded) {
    const list = byN.get(r.n)
    if (list) list.push(r.userId)
    else byN.set(r.n, [r.userId])
  }
  for (const [n, userIds] of byN) {
    ctx.pushes.add(userIds, 'ackReminder', {
      // The recipient's name for the conversation: the group, or the sender's single chat.
      conversation: conversationFor(message, userIds[0] as string),
      messageUId: message.messageUId,
      from: message.senderId,
      at: ctx.now,
      n,
    })
  }
  await ctx.storage.setReminderRunAt(message.id, ctx.now)
  return { reminded: reminded.length, limited: pending - reminded.length, pending }
}

function tooSoon(ctx: OpContext, run: ReminderRunRow | undefined): boolean {
  return (
    run?.lastRunAt !== null &&
    run?.lastRunAt !== undefined &&
    ctx.now - run.lastRunAt < ackSettingsOf(ctx).reminderIntervalMs
  )
}

export const remindUnacknowledged: OpHandler<'remindUnacknowledged'> = async (ctx, data) => {
  const message = await ownAckMessage(ctx, data.messageUId)
  if (message.recalledAt !== undefined) throw new CodedError(Code.MESSAGE_RECALLED)
  if (tooSoon(ctx, await ctx.storage.getReminderRun(message.id))) throw new CodedError(Code.REMINDER_TOO_SOON)
  const result = await runReminders(ctx, message)
  // Everyone still pending was reminded as often as allowed (the run is rolled back with the error).
  if (result.reminded === 0 && result.limited > 0) throw new CodedError(Code.REMINDER_LIMIT_REACHED)
  return { reminded: result.reminded, limited: result.limited }
}

function scheduleState(row: ReminderRunRow) {
  if (row.everyMinutes === null || row.times === null) return null
  return { everyMinutes: row.everyMinutes, times: row.times, remaining: row.remaining, nextAt: row.nextAt }
}

export const setAckReminderSchedule: OpHandler<'setAckReminderSchedule'> = async (ctx, data) => {
  const message = await ownAckMessage(ctx, data.messageUId)
  if (data.schedule === null) {
    await ctx.storage.setReminderSchedule(message.id, null)
    return { schedule: null }
  }
  if (message.recalledAt !== undefined) throw new CodedError(Code.MESSAGE_RECALLED)
  const { everyMinutes, times } = data.schedule
  // The zod schema bounds both already (ACK_LIMITS); checked again for callers of the handler.
  if (times > ACK_LIMITS.scheduleTimesMax || everyMinutes > ACK_LIMITS.scheduleEveryMinutesMax)
    throw new CodedError(Code.INVALID_ARGUMENT, 'schedule: out of range')
  const row = await ctx.storage.setReminderSchedule(message.id, {
    everyMinutes,
    times,
    nextAt: ctx.now + everyMinutes * ackSettingsOf(ctx).minuteMs,
  })
  return { schedule: scheduleState(row) }
}
