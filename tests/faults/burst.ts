/**
 * The server SIGKILLed in the middle of a burst of messages and receipts between several engines,
 * then restarted on the same port and data directory. Shared by the fault test (1–2k messages) and
 * the soak (10k).
 *
 * Traffic: every user has delivery and read receipts on; message i goes from user i mod n to a peer
 * or to a group of everyone (every other group message asks for read acks). Receivers react to what
 * arrives as a person would: some messages read one by one (ackMessageRead / ackGroupMessageRead),
 * some conversations read as a whole (ackConversationRead); deliveries are acked by the engine itself.
 *
 * Convergence (waited for, then asserted): for every engine and every conversation of its user,
 * exactly the server's messages (same ids, same order, none twice, none left unsent), the same read
 * marks, the same receipt state on its own messages, and an unread count equal both to a recount of
 * its own messages and to a recount from the server's tables.
 */
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect } from 'vitest'
import { eventNames } from '../../src/shared/ipc'
import type { Conversation, Message } from '../../src/shared/model'
import { data, engineDb, signIn, tempDir, type Device } from '../integration/harness'
import { ServerProcess } from './serverProcess'

export interface BurstOptions {
  users: number
  messages: number
  /** SIGKILL once this share of the messages has been stored by the server. */
  killAt: number
  /** Messages written while the server is down. */
  whileDown: number
  timeoutMs: number
}

export interface BurstReport {
  messages: number
  storedAtKill: number
  receiptCalls: number
  groupAcksOnServer: number
  readMarksOnServer: number
  ms: { burstToKill: number; restartToConverged: number; total: number }
}

/**
 * Resolves when `check` returns true, re-evaluated (at most once per event-loop turn) after any event
 * of any of the engines. Rejects after `timeoutMs` with the last `describe()`.
 */
function whenAll(
  devices: Device[],
  what: string,
  check: () => boolean,
  timeoutMs: number,
  describe: () => string = () => '',
): Promise<void> {
  return new Promise((resolve, reject) => {
    let scheduled = false
    let done = false
    const offs: (() => void)[] = []
    const finish = (error?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      for (const off of offs) off()
      if (error) reject(error)
      else resolve()
    }
    const evaluate = () => {
      scheduled = false
      if (done) return
      try {
        if (check()) finish()
      } catch (error) {
        finish(error as Error)
      }
    }
    const schedule = () => {
      if (scheduled) return
      scheduled = true
      setImmediate(evaluate)
    }
    const timer = setTimeout(
      () => finish(new Error(`timed out waiting for ${what}: ${describe().slice(0, 3000)}`)),
      timeoutMs,
    )
    for (const device of devices) {
      for (const event of eventNames) {
        device.engine.on(event, schedule)
        offs.push(() => device.engine.off(event, schedule))
      }
    }
    schedule()
  })
}

interface ServerMember {
  convId: number
  key: string
  type: 'private' | 'group'
  lastSeq: number
  joinedSeq: number
  leftSeq: number | null
  readSeq: number
}

interface ServerMessage {
  id: number
  uid: string
  seq: number
  senderId: string
  deliveredAt: number | null
  readAt: number | null
  needGroupAck: number
  groupAckCount: number
}

interface EngineMessage {
  message_uid: string | null
  seq: number | null
  direction: number
  status: string
  delivered_at: number | null
  read_at: number | null
  group_ack_count: number
  is_unread: number
}

function engineConversation(userId: string, m: ServerMember): Conversation {
  if (m.type === 'group') return { type: 'group', targetId: m.key.slice(2) }
  const [, a, b] = m.key.split(':')
  return { type: 'private', targetId: a === userId ? (b as string) : (a as string) }
}

/** Every way the engine differs from the server, in words; empty once it has converged. */
function differences(device: Device, server: Database.Database): string[] {
  const store = device.engine.store
  const userId = device.userId
  if (!store) return [`${userId}: no store`]
  const out: string[] = []
  if (store.outboxSize() > 0) out.push(`${userId}: ${store.outboxSize()} in the outbox`)
  if (device.engine.connectionState.state !== 'connected')
    out.push(`${userId}: ${device.engine.connectionState.state}`)
  const memberships = server
    .prepare<[string], ServerMember>(
      `SELECT c.id AS convId, c.key, c.type, c.last_seq AS lastSeq, m.joined_seq AS joinedSeq,
              m.left_seq AS leftSeq, m.read_seq AS readSeq
       FROM members m JOIN conversations c ON c.id = m.conv_id WHERE m.user_id = ?`,
    )
    .all(userId)
  const messagesOf = server.prepare<[number, number, number], ServerMessage>(
    `SELECT id, uid, seq, sender_id AS senderId, delivered_at AS deliveredAt, read_at AS readAt,
            need_group_ack AS needGroupAck, group_ack_count AS groupAckCount
     FROM messages WHERE conv_id = ? AND seq > ? AND seq <= ? ORDER BY seq`,
  )
  const serverUnread = server.prepare<[number, number, number, string, string], { n: number }>(
    `SELECT count(*) AS n FROM messages m
     WHERE m.conv_id = ? AND m.seq > ? AND m.seq <= ? AND m.sender_id != ? AND m.read_at IS NULL
       AND NOT EXISTS (SELECT 1 FROM group_read_acks a WHERE a.message_id = m.id AND a.user_id = ?)`,
  )
  const peerReadSeq = server.prepare<[number, string], { readSeq: number }>(
    'SELECT read_seq AS readSeq FROM members WHERE conv_id = ? AND user_id != ?',
  )
  const engineMessages = engineDb(device).prepare<[string, string], EngineMessage>(
    `SELECT message_uid, seq, direction, status, delivered_at, read_at, group_ack_count, is_unread
     FROM messages WHERE conv_type = ? AND target_id = ? ORDER BY seq`,
  )
  for (const m of memberships) {
    const c = engineConversation(userId, m)
    const where = `${userId} ${c.type}:${c.targetId}`
    const upTo = m.leftSeq ?? m.lastSeq
    const expected = messagesOf.all(m.convId, m.joinedSeq, upTo)
    const local = engineMessages.all(c.type, c.targetId)
    const unsent = local.filter((r) => r.status !== 'sent')
    if (unsent.length > 0) out.push(`${where}: ${unsent.length} not sent (${unsent[0]?.status})`)
    const localUids = local.filter((r) => r.seq !== null).map((r) => `${r.seq}:${r.message_uid}`)
    const serverUids = expected.map((r) => `${r.seq}:${r.uid}`)
    if (localUids.join() !== serverUids.join()) {
      out.push(`${where}: ${localUids.length} messages here, ${serverUids.length} on the server`)
      continue
    }
    const row = store.conversation(c)
    if (!row) {
      out.push(`${where}: no conversation row`)
      continue
    }
    if (row.readSeq !== m.readSeq)
      out.push(`${where}: read_seq ${row.readSeq} here, ${m.readSeq} on the server`)
    const recount = local.filter((r) => r.direction === 2 && r.is_unread === 1).length
    const fromServer =
      serverUnread.get(m.convId, Math.max(m.readSeq, m.joinedSeq), upTo, userId, userId)?.n ?? -1
    if (row.unreadCount !== recount || recount !== fromServer)
      out.push(`${where}: unread ${row.unreadCount}, recount ${recount}, server recount ${fromServer}`)
    // A peer's conversation read covers my messages up to its seq (they all asked for read receipts);
    // read implies delivered.
    const peer = c.type === 'private' ? (peerReadSeq.get(m.convId, userId)?.readSeq ?? -1) : 0
    const byUid = new Map(expected.map((r) => [r.uid, r]))
    for (const r of local) {
      if (r.direction !== 1 || r.message_uid === null) continue
      const s = byUid.get(r.message_uid)
      if (!s) continue
      if (c.type === 'private') {
        const read = s.readAt !== null || s.seq <= peer
        const delivered = read || s.deliveredAt !== null
        if ((r.read_at !== null) !== read || (r.delivered_at !== null) !== delivered)
          out.push(
            `${where}: ${r.message_uid} delivered/read ${r.delivered_at !== null}/${r.read_at !== null} here, ${delivered}/${read} from the server`,
          )
      } else if (s.needGroupAck === 1 && r.group_ack_count !== s.groupAckCount) {
        out.push(
          `${where}: ${r.message_uid} read by ${r.group_ack_count} here, ${s.groupAckCount} on the server`,
        )
      }
    }
  }
  return out
}

export async function serverKillBurst(options: BurstOptions): Promise<BurstReport> {
  const started = Date.now()
  const dataDir = tempDir('burst-server')
  let server = await ServerProcess.start(dataDir)
  const port = server.port
  try {
    const names = Array.from({ length: options.users }, (_, i) => `burst${i}`)
    const devices: Device[] = []
    for (const name of names) devices.push(await signIn(server, name))
    for (const d of devices)
      data(await d.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
    const group = data<{ groupId: string }>(
      await devices[0]?.dispatch('createGroup', ['burst', names.slice(1)]),
    )
    await whenAll(
      devices,
      'the group everywhere',
      () => devices.every((d) => d.engine.store?.group(group.groupId)),
      options.timeoutMs,
    )

    // Receivers read some of what arrives, one by one or a whole conversation at once.
    const receiptCalls: Promise<{ code: number; msg?: string }>[] = []
    for (const d of devices) {
      let k = 0
      d.engine.on('messageReceived', (messages: Message[]) => {
        for (const m of messages) {
          if (m.messageDirection !== 2 || m.messageUId === null) continue
          k++
          if (m.conversation.type === 'private' && k % 3 === 0)
            receiptCalls.push(d.dispatch('ackMessageRead', [m.messageUId]))
          if (m.conversation.type === 'group' && m.isNeedGroupAck && k % 2 === 0)
            receiptCalls.push(d.dispatch('ackGroupMessageRead', [m.messageUId]))
          if (k % 7 === 0) receiptCalls.push(d.dispatch('ackConversationRead', [m.conversation]))
        }
      })
    }

    let queued = 0
    const send = async (count: number): Promise<void> => {
      for (let n = 0; n < count; n++, queued++) {
        const i = queued
        const from = i % options.users
        const sender = devices[from] as Device
        const toGroup = i % 3 === 0
        const to = (from + 1 + (i % (options.users - 1))) % options.users
        const conversation: Conversation = toGroup
          ? { type: 'group', targetId: group.groupId }
          : { type: 'private', targetId: names[to] as string }
        data(
          await sender.dispatch('sendMessage', [
            conversation,
            { type: 'text', text: `m${i}` },
            { isNeedGroupAck: toGroup && i % 2 === 0 },
          ]),
        )
      }
    }
    const sentOnEngines = () =>
      devices.reduce(
        (n, d) =>
          n +
          ((
            (d.engine.store ? engineDb(d) : undefined)
              ?.prepare("SELECT count(*) AS n FROM messages WHERE direction = 1 AND status = 'sent'")
              .get() as { n: number } | undefined
          )?.n ?? 0),
        0,
      )
    const burstStart = Date.now()
    await send(options.messages)
    const killAt = Math.floor(options.messages * options.killAt)
    await whenAll(
      devices,
      `${killAt} messages stored`,
      () => sentOnEngines() >= killAt,
      options.timeoutMs,
      () => `${sentOnEngines()} sent`,
    )
    await server.stop('SIGKILL')
    const killedAt = Date.now()
    const storedAtKill = sentOnEngines()

    // The engines notice, and people keep writing while the server is away.
    await whenAll(
      devices,
      'every engine disconnected',
      () => devices.every((d) => d.engine.connectionState.state !== 'connected'),
      options.timeoutMs,
    )
    await send(options.whileDown)
    const total = options.messages + options.whileDown

    server = await ServerProcess.start(dataDir, { port })
    const restarted = Date.now()
    const serverDb = new Database(join(dataDir, 'server.sqlite'), { readonly: true })
    try {
      await whenAll(
        devices,
        'every message sent',
        () => sentOnEngines() === total,
        options.timeoutMs,
        () => `${sentOnEngines()} of ${total}`,
      )
      // Receipt calls made so far are queued; later ones follow as the last messages arrive.
      const describe = () => devices.flatMap((d) => differences(d, serverDb)).join('; ')
      for (let round = 0; ; round++) {
        await whenAll(
          devices,
          'convergence',
          () => devices.every((d) => differences(d, serverDb).length === 0),
          options.timeoutMs,
          describe,
        )
        const calls = receiptCalls.length
        for (const res of await Promise.all(receiptCalls)) expect(res, res.msg).toMatchObject({ code: 0 })
        if (calls === receiptCalls.length && devices.every((d) => differences(d, serverDb).length === 0))
          break
        expect(round).toBeLessThan(20)
      }
      const converged = Date.now()

      // Exactly once: every message written is on the server once, and nowhere twice.
      const onServer = serverDb
        .prepare(
          'SELECT count(*) AS n, count(DISTINCT sender_id || client_msg_id) AS distinctIds FROM messages',
        )
        .get() as { n: number; distinctIds: number }
      expect(onServer).toEqual({ n: total, distinctIds: total })
      for (const d of devices) {
        const dup = engineDb(d)
          .prepare('SELECT count(*) AS n, count(DISTINCT message_uid) AS u FROM messages')
          .get() as { n: number; u: number }
        expect(dup.n).toBe(dup.u)
        expect(differences(d, serverDb)).toEqual([])
      }
      const groupAcks = (serverDb.prepare('SELECT count(*) AS n FROM group_read_acks').get() as { n: number })
        .n
      const readMarks = (
        serverDb.prepare('SELECT count(*) AS n FROM messages WHERE read_at IS NOT NULL').get() as {
          n: number
        }
      ).n
      expect(groupAcks).toBeGreaterThan(0)
      expect(readMarks).toBeGreaterThan(0)
      return {
        messages: total,
        storedAtKill,
        receiptCalls: receiptCalls.length,
        groupAcksOnServer: groupAcks,
        readMarksOnServer: readMarks,
        ms: {
          burstToKill: killedAt - burstStart,
          restartToConverged: converged - restarted,
          total: Date.now() - started,
        },
      }
    } finally {
      serverDb.close()
    }
  } finally {
    await server.stop('SIGTERM')
  }
}
