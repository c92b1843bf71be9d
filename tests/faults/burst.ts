/**
 * A burst of messages and receipts between real engines while something fails in the middle, and
 * the checks that nothing was lost. `runBurst` takes the cluster (where each device signs in, the
 * fault and its end, how to read the server's tables); `serverKillBurst` is the one-server case (the
 * server SIGKILLed, then restarted on the same port and data directory), multiNodeBurst.ts the
 * clusters of several nodes. Shared by the fault tests (1–2k messages) and the soak (10k).
 *
 * Traffic: every user has delivery and read receipts on; message i goes from user i mod n (from
 * each of its devices in turn) to a peer or to a group of everyone. Of the group messages, every
 * other one asks for read acks (Easemob, isNeedGroupAck) and every fourth of the others gets a
 * RongCloud read receipt request from its sender once it is sent. Receivers react to what arrives
 * as a person would: some messages read one by one (ackMessageRead / ackGroupMessageRead), some
 * conversations read as a whole (ackConversationRead), some receipt requests answered
 * (sendReadReceiptResponseV2); deliveries are acked by the engine itself.
 *
 * Convergence (waited for, then asserted), for every engine and every conversation of its user:
 * exactly the server's messages (same ids, same order, none twice, none left unsent), the same read
 * marks, the same receipt state (delivered and read on its single-chat messages, the read count of
 * its group messages that asked, the receipt requests it received), and an unread count equal both
 * to a recount of its own messages and to a recount from the server's tables. On the server, every
 * message written is stored exactly once and every count equals its recount from the facts.
 */
import { EventEmitter } from 'node:events'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import pg from 'pg'
import { expect } from 'vitest'
import { Code } from '../../src/shared/codes'
import { eventNames } from '../../src/shared/ipc'
import type { Conversation, Message } from '../../src/shared/model'
import { data, engineDb, signIn, tempDir, type Device } from '../integration/harness'
import { ServerProcess } from './serverProcess'

export interface BurstOptions {
  users: number
  messages: number
  /** The fault comes once this share of the messages has been stored by the server. */
  killAt: number
  /** Messages written while the fault lasts. */
  whileDown: number
  timeoutMs: number
}

export interface BurstReport {
  messages: number
  /** Messages stored when the fault came. */
  storedAtKill: number
  receiptCalls: number
  groupAcksOnServer: number
  readMarksOnServer: number
  receiptRequestsOnServer: number
  ms: { burstToKill: number; restartToConverged: number; total: number }
}

/** Where the engines sign in, what fails mid-burst, and where the truth is read. */
export interface BurstCluster {
  /** The server field of each device of user `user` (one entry per device, a second for multi-device). */
  devicesOf(user: number): string[]
  /** The fault, once `killAt` of the messages are stored; resolves once it has taken hold. */
  fault(devices: readonly Device[]): Promise<void>
  /** The servers keep storing what is written during the fault: wait for it before `recover`. */
  storesDuringFault: boolean
  /** Ends the fault. */
  recover(devices: readonly Device[]): Promise<void>
  /** The server's tables, read now. */
  facts(): Promise<ServerFacts>
}

/**
 * Resolves when `check` returns true, re-evaluated after any event of any of the engines (at most
 * once per event-loop turn, one evaluation at a time: an asynchronous check that saw events come
 * meanwhile runs again). Rejects after `timeoutMs` with the last `describe()`.
 */
export function whenAll(
  devices: readonly Device[],
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string = () => '',
  /** Its 'wake' events re-evaluate too (things the test does that no engine event follows). */
  wake?: EventEmitter,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let scheduled = false
    let running = false
    let dirty = false
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
    const evaluate = async () => {
      scheduled = false
      if (done) return
      running = true
      dirty = false
      try {
        if (await check()) finish()
      } catch (error) {
        finish(error as Error)
      }
      running = false
      if (dirty) schedule()
    }
    const schedule = () => {
      if (running) dirty = true
      if (scheduled || running) return
      scheduled = true
      setImmediate(() => void evaluate())
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
    if (wake) {
      wake.on('wake', schedule)
      offs.push(() => wake.off('wake', schedule))
    }
    schedule()
  })
}

// ---- the server's tables ----------------------------------------------------------------------

interface ServerMember {
  userId: string
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
  convId: number
  seq: number
  senderId: string
  clientMsgId: string
  deliveredAt: number | null
  readAt: number | null
  needGroupAck: boolean
  groupAckCount: number
  receiptRequested: boolean
}

/** The server's tables as the checks need them, read at one moment. */
export interface ServerFacts {
  members: ServerMember[]
  /** By conversation id, in seq order. */
  messages: Map<number, ServerMessage[]>
  /** `${messageId} ${userId}` of every group read fact (both models). */
  acks: Set<string>
  /** The last receipt eventSeq of each user. */
  lastEventSeq: Map<string, number>
}

const MEMBERS_SQL = `SELECT m.user_id AS "userId", c.id AS "convId", c.key, c.type, c.last_seq AS "lastSeq",
    m.joined_seq AS "joinedSeq", m.left_seq AS "leftSeq", m.read_seq AS "readSeq"
  FROM members m JOIN conversations c ON c.id = m.conv_id`
const MESSAGES_SQL = `SELECT m.id, m.uid, m.conv_id AS "convId", m.seq, m.sender_id AS "senderId",
    m.client_msg_id AS "clientMsgId", m.delivered_at AS "deliveredAt", m.read_at AS "readAt",
    m.need_group_ack AS "needGroupAck", m.group_ack_count AS "groupAckCount",
    EXISTS (SELECT 1 FROM receipt_requests r WHERE r.message_id = m.id) AS "receiptRequested"
  FROM messages m ORDER BY m.conv_id, m.seq`
const ACKS_SQL = 'SELECT message_id AS "messageId", user_id AS "userId" FROM group_read_acks'
const USERS_SQL = 'SELECT id AS "userId", last_event_seq AS "lastEventSeq" FROM users'

type Row = Record<string, unknown>
/** PostgreSQL BIGINT comes as a string, SQLite booleans as 0/1. */
const num = (v: unknown): number => Number(v)
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v))
const bool = (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't'

function buildFacts(members: Row[], messages: Row[], acks: Row[], users: Row[]): ServerFacts {
  const byConv = new Map<number, ServerMessage[]>()
  for (const r of messages) {
    const m: ServerMessage = {
      id: num(r.id),
      uid: String(r.uid),
      convId: num(r.convId),
      seq: num(r.seq),
      senderId: String(r.senderId),
      clientMsgId: String(r.clientMsgId),
      deliveredAt: numOrNull(r.deliveredAt),
      readAt: numOrNull(r.readAt),
      needGroupAck: bool(r.needGroupAck),
      groupAckCount: num(r.groupAckCount),
      receiptRequested: bool(r.receiptRequested),
    }
    const list = byConv.get(m.convId) ?? []
    list.push(m)
    byConv.set(m.convId, list)
  }
  return {
    members: members.map((r) => ({
      userId: String(r.userId),
      convId: num(r.convId),
      key: String(r.key),
      type: r.type === 'group' ? 'group' : 'private',
      lastSeq: num(r.lastSeq),
      joinedSeq: num(r.joinedSeq),
      leftSeq: numOrNull(r.leftSeq),
      readSeq: num(r.readSeq),
    })),
    messages: byConv,
    acks: new Set(acks.map((r) => `${num(r.messageId)} ${String(r.userId)}`)),
    lastEventSeq: new Map(users.map((r) => [String(r.userId), num(r.lastEventSeq)])),
  }
}

/** The facts of a server's SQLite file (read-only, while the server runs). */
function sqliteFacts(file: string): ServerFacts {
  const db = new Database(file, { readonly: true })
  try {
    return buildFacts(
      db.prepare(MEMBERS_SQL).all() as Row[],
      db.prepare(MESSAGES_SQL).all() as Row[],
      db.prepare(ACKS_SQL).all() as Row[],
      db.prepare(USERS_SQL).all() as Row[],
    )
  } finally {
    db.close()
  }
}

/** The facts of a PostgreSQL database, in one snapshot (one repeatable-read transaction). */
export async function postgresFacts(url: string): Promise<ServerFacts> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    const members = await client.query(MEMBERS_SQL)
    const messages = await client.query(MESSAGES_SQL)
    const acks = await client.query(ACKS_SQL)
    const users = await client.query(USERS_SQL)
    await client.query('COMMIT')
    return buildFacts(members.rows as Row[], messages.rows as Row[], acks.rows as Row[], users.rows as Row[])
  } finally {
    await client.end()
  }
}

// ---- the checks -------------------------------------------------------------------------------

interface EngineMessage {
  message_uid: string | null
  seq: number | null
  direction: number
  status: string
  delivered_at: number | null
  read_at: number | null
  group_ack_count: number
  is_unread: number
  is_receipt_request: number
}

function engineConversation(userId: string, m: ServerMember): Conversation {
  if (m.type === 'group') return { type: 'group', targetId: m.key.slice(2) }
  const [, a, b] = m.key.split(':')
  return { type: 'private', targetId: a === userId ? (b as string) : (a as string) }
}

/**
 * Every way the devices of one user differ from the server, in words; empty once they have
 * converged. A message read one by one (ackMessageRead, a group ack or answer) is known as read on
 * the device that read it: the others learn read marks (ackConversationRead), not single reads, so
 * the user's unread messages are checked over all of their devices together.
 */
function differences(devices: readonly Device[], facts: ServerFacts): string[] {
  const out: string[] = []
  const userId = devices[0]?.userId ?? ''
  const lastEventSeq = facts.lastEventSeq.get(userId) ?? 0
  const local = new Map<Device, (c: Conversation) => EngineMessage[]>()
  for (const [k, device] of devices.entries()) {
    const store = device.engine.store
    const who = `${userId}#${k}`
    if (!store) {
      out.push(`${who}: no store`)
      continue
    }
    if (store.outboxSize() > 0) out.push(`${who}: ${store.outboxSize()} in the outbox`)
    if (device.engine.connectionState.state !== 'connected')
      out.push(`${who}: ${device.engine.connectionState.state}`)
    // Its own events (a read mark it moved) come back to a device only in a replay, so it may stand
    // a few behind; what the events say is compared below, message by message.
    if (store.lastEventSeq() > lastEventSeq)
      out.push(`${who}: events applied up to ${store.lastEventSeq()}, only ${lastEventSeq} on the server`)
    const statement = engineDb(device).prepare<[string, string], EngineMessage>(
      `SELECT message_uid, seq, direction, status, delivered_at, read_at, group_ack_count, is_unread,
              is_receipt_request
       FROM messages WHERE conv_type = ? AND target_id = ? ORDER BY seq`,
    )
    local.set(device, (c) => statement.all(c.type, c.targetId))
  }
  if (out.length > 0) return out
  for (const m of facts.members.filter((x) => x.userId === userId)) {
    const c = engineConversation(userId, m)
    const upTo = m.leftSeq ?? m.lastSeq
    const expected = (facts.messages.get(m.convId) ?? []).filter((r) => r.seq > m.joinedSeq && r.seq <= upTo)
    const byUid = new Map(expected.map((r) => [r.uid, r]))
    const from = Math.max(m.readSeq, m.joinedSeq)
    const readOnServer = (r: ServerMessage) => r.readAt !== null || facts.acks.has(`${r.id} ${userId}`)
    // A peer's conversation read covers my messages up to its seq (they all asked for read receipts);
    // read implies delivered.
    const peer =
      c.type === 'private'
        ? (facts.members.find((p) => p.convId === m.convId && p.userId !== userId)?.readSeq ?? -1)
        : 0
    const readSomewhere = new Set<string>()
    let consistent = true
    for (const [k, device] of devices.entries()) {
      const where = `${userId}#${k} ${c.type}:${c.targetId}`
      const rows = (local.get(device) as (c: Conversation) => EngineMessage[])(c)
      const unsent = rows.filter((r) => r.status !== 'sent')
      if (unsent.length > 0) out.push(`${where}: ${unsent.length} not sent (${unsent[0]?.status})`)
      const localUids = rows.filter((r) => r.seq !== null).map((r) => `${r.seq}:${r.message_uid}`)
      const serverUids = expected.map((r) => `${r.seq}:${r.uid}`)
      if (localUids.join() !== serverUids.join()) {
        out.push(`${where}: ${localUids.length} messages here, ${serverUids.length} on the server`)
        consistent = false
        continue
      }
      const row = device.engine.store?.conversation(c)
      if (!row) {
        out.push(`${where}: no conversation row`)
        consistent = false
        continue
      }
      if (row.readSeq !== m.readSeq)
        out.push(`${where}: read_seq ${row.readSeq} here, ${m.readSeq} on the server`)
      const recount = rows.filter((r) => r.direction === 2 && r.is_unread === 1).length
      if (row.unreadCount !== recount) out.push(`${where}: unread ${row.unreadCount}, recount ${recount}`)
      for (const r of rows) {
        const s = r.message_uid === null ? undefined : byUid.get(r.message_uid)
        if (!s) continue
        if (r.direction === 2) {
          if (r.is_unread === 0 && s.seq > from) readSomewhere.add(s.uid)
          if (r.is_unread === 1 && s.seq <= from)
            out.push(`${where}: ${s.uid} unread here, under the read mark on the server`)
          if (r.is_unread === 0 && s.seq > from && !readOnServer(s))
            out.push(`${where}: ${s.uid} read here, unread on the server`)
          // A receipt request reaches every reader (the sender's other devices learn it from a pull).
          if (c.type === 'group' && (r.is_receipt_request === 1) !== s.receiptRequested)
            out.push(
              `${where}: ${s.uid} receipt request ${r.is_receipt_request} here, ${s.receiptRequested} on the server`,
            )
          continue
        }
        if (c.type === 'private') {
          const read = s.readAt !== null || s.seq <= peer
          const delivered = read || s.deliveredAt !== null
          if ((r.read_at !== null) !== read || (r.delivered_at !== null) !== delivered)
            out.push(
              `${where}: ${s.uid} delivered/read ${r.delivered_at !== null}/${r.read_at !== null} here, ${delivered}/${read} from the server`,
            )
        } else if ((s.needGroupAck || s.receiptRequested) && r.group_ack_count !== s.groupAckCount) {
          out.push(`${where}: ${s.uid} read by ${r.group_ack_count} here, ${s.groupAckCount} on the server`)
        }
      }
    }
    if (!consistent) continue
    // Each message the server counts as read past the read mark was read on one of the devices.
    const unreadOnServer = expected.filter((s) => s.seq > from && s.senderId !== userId && !readOnServer(s))
    const readPastMark = expected.filter((s) => s.seq > from && s.senderId !== userId && readOnServer(s))
    const missing = readPastMark.filter((s) => !readSomewhere.has(s.uid))
    if (missing.length > 0)
      out.push(
        `${userId} ${c.type}:${c.targetId}: ${missing.length} read on the server, on none of the devices (${missing[0]?.uid}); ${unreadOnServer.length} unread`,
      )
  }
  return out
}

/** Every count the server keeps against its recount from the facts; empty when all agree. */
function serverRecounts(facts: ServerFacts): string[] {
  const out: string[] = []
  const ackRows = new Map<number, number>()
  for (const a of facts.acks) {
    const id = Number(a.slice(0, a.indexOf(' ')))
    ackRows.set(id, (ackRows.get(id) ?? 0) + 1)
  }
  const lastSeq = new Map(facts.members.map((m) => [m.convId, m.lastSeq]))
  for (const [convId, list] of facts.messages) {
    // Seqs have no gaps and last_seq is the last one handed out (nothing was pruned here).
    if (list.some((m, i) => m.seq !== i + 1) || lastSeq.get(convId) !== list.length)
      out.push(`conversation ${convId}: ${list.length} messages, last_seq ${lastSeq.get(convId)}`)
    for (const m of list) {
      if (m.groupAckCount !== (ackRows.get(m.id) ?? 0))
        out.push(
          `message ${m.uid}: group_ack_count ${m.groupAckCount}, ${ackRows.get(m.id) ?? 0} reader facts`,
        )
    }
  }
  return out
}

// ---- the burst --------------------------------------------------------------------------------

type CallResult = { code: number; msg?: string }

/** Codes after which the same call is made again once connected (the fault, not the call, failed). */
const TRANSIENT = new Set<number>([Code.SERVER_UNREACHABLE, Code.TIMEOUT, Code.INTERNAL, Code.UNAVAILABLE])

/** A call that needs the server now (no outbox behind it): made again after each transient failure. */
async function untilAnswered(
  device: Device,
  call: () => Promise<CallResult>,
  timeoutMs: number,
): Promise<CallResult> {
  // After "not connected" the state may still say connected for a moment (the socket is closing,
  // its close event not yet in), so the next try waits for a new connection.
  const connections = connectionCounter(device)
  for (let attempt = 0; ; attempt++) {
    const before = connections.count
    const res = await call()
    if (res.code === 0 || !TRANSIENT.has(res.code) || attempt >= 50) return res
    await device.until(
      'connected again',
      () =>
        device.engine.connectionState.state === 'connected' &&
        (res.code !== Code.SERVER_UNREACHABLE || connections.count > before),
      timeoutMs,
    )
  }
}

const counters = new WeakMap<Device, { count: number }>()

/** How many times the device's engine has connected since first asked (one listener per device). */
function connectionCounter(device: Device): { count: number } {
  let counter = counters.get(device)
  if (!counter) {
    const c = { count: 0 }
    device.engine.on('connectionState', (s: { state: string }) => {
      if (s.state === 'connected') c.count++
    })
    counters.set(device, c)
    counter = c
  }
  return counter
}

/** What each engine still has to send (job kind, attempts so far, jobs), for timeout messages. */
function outboxes(devices: readonly Device[]): string {
  return devices
    .map((d) => {
      const jobs = d.engine.store
        ? engineDb(d)
            .prepare('SELECT kind, attempts, count(*) AS n FROM outbox GROUP BY kind, attempts')
            .all()
        : []
      return `${d.userId} ${d.engine.connectionState.state} ${JSON.stringify(jobs)}`
    })
    .join('; ')
}

/** BURST_DEBUG=1: each stage on stderr as it is reached. */
const stage = (what: string, since: number): void => {
  if (process.env.BURST_DEBUG) process.stderr.write(`burst: ${what} at ${Date.now() - since} ms\n`)
}

export async function runBurst(options: BurstOptions, cluster: BurstCluster): Promise<BurstReport> {
  const started = Date.now()
  const names = Array.from({ length: options.users }, (_, i) => `burst${i}`)
  const byUser: Device[][] = []
  for (const [u, name] of names.entries()) {
    const mine: Device[] = []
    for (const [k, url] of cluster.devicesOf(u).entries())
      mine.push(await signIn({ url }, name, tempDir(`${name}-${k}`)))
    byUser.push(mine)
  }
  const devices = byUser.flat()
  stage(`${devices.length} devices signed in`, started)
  for (const d of devices)
    data(await d.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
  stage('settings', started)
  const first = byUser[0]?.[0] as Device
  const group = data<{ groupId: string }>(await first.dispatch('createGroup', ['burst', names.slice(1)]))
  await whenAll(
    devices,
    'the group everywhere',
    () => devices.every((d) => d.engine.store?.group(group.groupId)),
    options.timeoutMs,
  )

  stage('group everywhere', started)
  // Receipt calls (each tracked: convergence waits until none is out).
  const receiptCalls: Promise<CallResult>[] = []
  let pendingCalls = 0
  // What convergence waits on but no engine event follows: a receipt call settling, an outbox job
  // leaving (receipt jobs change no message here, so nothing is emitted).
  const settled = new EventEmitter()
  const track = (call: Promise<CallResult>): void => {
    pendingCalls++
    receiptCalls.push(
      call.finally(() => {
        pendingCalls--
        settled.emit('wake')
      }),
    )
  }
  for (const d of devices) {
    const store = d.engine.store
    if (!store) continue
    const remove = store.removeFromOutbox.bind(store)
    store.removeFromOutbox = (ids) => {
      remove(ids)
      if (ids.length > 0) settled.emit('wake')
    }
  }
  // Group messages whose sender asks for receipts (RongCloud) once they are sent, by local id.
  const toRequest = new Map<Device, Set<string>>()
  for (const d of devices) {
    const asks = new Set<string>()
    toRequest.set(d, asks)
    let k = 0
    d.engine.on('messageReceived', (messages: Message[]) => {
      for (const m of messages) {
        if (m.messageDirection !== 2 || m.messageUId === null) continue
        k++
        if (m.conversation.type === 'private' && k % 3 === 0)
          track(d.dispatch('ackMessageRead', [m.messageUId]))
        if (m.conversation.type === 'group' && m.isNeedGroupAck && k % 2 === 0)
          track(d.dispatch('ackGroupMessageRead', [m.messageUId]))
        if (k % 7 === 0) track(d.dispatch('ackConversationRead', [m.conversation]))
      }
    })
    let r = 0
    d.engine.on('MESSAGE_RECEIPT_REQUEST', ({ conversation }: { conversation: Conversation }) => {
      // Every unanswered request of the group (R6), every other time one comes.
      if (++r % 2 === 0) track(d.dispatch('sendReadReceiptResponseV2', [conversation.targetId]))
    })
    d.engine.on('messagesChanged', (messages: Message[]) => {
      for (const m of messages) {
        if (!asks.has(m.messageId) || m.status !== 'sent' || m.messageUId === null) continue
        asks.delete(m.messageId)
        const uid = m.messageUId
        track(
          untilAnswered(
            d,
            () => d.dispatch('sendReadReceiptRequest', [group.groupId, uid]),
            options.timeoutMs,
          ),
        )
      }
    })
  }

  // Messages written on each device; the ones not yet stored are its rows not yet sent.
  const written = new Map<Device, number>(devices.map((d) => [d, 0]))
  let queued = 0
  const send = async (count: number): Promise<void> => {
    for (let n = 0; n < count; n++, queued++) {
      const i = queued
      const from = i % options.users
      const own = byUser[from] as Device[]
      const sender = own[Math.floor(i / options.users) % own.length] as Device
      const toGroup = i % 3 === 0
      const to = (from + 1 + (i % (options.users - 1))) % options.users
      const conversation: Conversation = toGroup
        ? { type: 'group', targetId: group.groupId }
        : { type: 'private', targetId: names[to] as string }
      const message = data<Message>(
        await sender.dispatch('sendMessage', [
          conversation,
          { type: 'text', text: `m${i}` },
          { isNeedGroupAck: toGroup && i % 2 === 0 },
        ]),
      )
      written.set(sender, (written.get(sender) ?? 0) + 1)
      if (i % 12 === 3) toRequest.get(sender)?.add(message.messageId)
    }
  }
  const stored = () =>
    devices.reduce((n, d) => {
      const unsent = d.engine.store
        ? (
            engineDb(d).prepare("SELECT count(*) AS n FROM messages WHERE status != 'sent'").get() as {
              n: number
            }
          ).n
        : 0
      return n + (written.get(d) ?? 0) - unsent
    }, 0)

  const burstStart = Date.now()
  await send(options.messages)
  const killAt = Math.floor(options.messages * options.killAt)
  stage(`${options.messages} written`, started)
  await whenAll(
    devices,
    `${killAt} messages stored`,
    () => stored() >= killAt,
    options.timeoutMs,
    () => `${stored()} stored; ${outboxes(devices)}`,
  )
  stage(`${stored()} stored: fault`, started)
  await cluster.fault(devices)
  stage('fault in place', started)
  const killedAt = Date.now()
  const storedAtKill = stored()

  // People keep writing while it lasts.
  await send(options.whileDown)
  const total = options.messages + options.whileDown
  const allStored = () =>
    whenAll(
      devices,
      'every message stored',
      () => stored() === total,
      options.timeoutMs,
      () => `${stored()} of ${total}`,
    )
  if (cluster.storesDuringFault) await allStored()
  stage(`${stored()} stored: recover`, started)
  await cluster.recover(devices)
  const restarted = Date.now()
  await allStored()
  stage('every message stored', started)

  // Converged: no engine has anything to send or a receipt call out (so the server's tables hold
  // still), and every engine equals them. Checked against a fresh read of the tables each time.
  let facts: ServerFacts | undefined
  let lastDiff: string[] = []
  const quiet = () =>
    pendingCalls === 0 &&
    devices.every(
      (d) => d.engine.connectionState.state === 'connected' && (d.engine.store?.outboxSize() ?? 1) === 0,
    )
  await whenAll(
    devices,
    'convergence',
    async () => {
      if (!quiet()) return false
      const calls = receiptCalls.length
      facts = await cluster.facts()
      lastDiff = byUser.flatMap((own) => differences(own, facts as ServerFacts))
      return lastDiff.length === 0 && quiet() && calls === receiptCalls.length
    },
    options.timeoutMs,
    () =>
      quiet() ? lastDiff.join('; ') : `not quiet: ${pendingCalls} receipt calls out; ${outboxes(devices)}`,
    settled,
  )
  const converged = Date.now()
  stage('converged', started)
  for (const res of await Promise.all(receiptCalls)) expect(res, res.msg).toMatchObject({ code: 0 })

  // Exactly once: every message written is on the server once, and nowhere twice.
  const final = facts as ServerFacts
  const onServer = [...final.messages.values()].flat()
  expect(onServer).toHaveLength(total)
  expect(new Set(onServer.map((m) => `${m.senderId} ${m.clientMsgId}`)).size).toBe(total)
  for (const d of devices) {
    const dup = engineDb(d)
      .prepare('SELECT count(*) AS n, count(DISTINCT message_uid) AS u FROM messages')
      .get() as { n: number; u: number }
    expect(dup.n).toBe(dup.u)
  }
  for (const own of byUser) expect(differences(own, final)).toEqual([])
  expect(serverRecounts(final)).toEqual([])
  const groupAcks = final.acks.size
  const readMarks = onServer.filter((m) => m.readAt !== null).length
  const requests = onServer.filter((m) => m.receiptRequested)
  expect(groupAcks).toBeGreaterThan(0)
  expect(readMarks).toBeGreaterThan(0)
  expect(requests.length).toBeGreaterThan(0)
  // Both group models wrote reader facts: answers to requests too, not only acks asked at send.
  expect(requests.some((m) => m.groupAckCount > 0)).toBe(true)
  return {
    messages: total,
    storedAtKill,
    receiptCalls: receiptCalls.length,
    groupAcksOnServer: groupAcks,
    readMarksOnServer: readMarks,
    receiptRequestsOnServer: requests.length,
    ms: {
      burstToKill: killedAt - burstStart,
      restartToConverged: converged - restarted,
      total: Date.now() - started,
    },
  }
}

/** One server (SQLite) SIGKILLed mid-burst, then started again on the same port and data. */
export async function serverKillBurst(options: BurstOptions): Promise<BurstReport> {
  const dataDir = tempDir('burst-server')
  let server = await ServerProcess.start(dataDir)
  const port = server.port
  try {
    return await runBurst(options, {
      devicesOf: () => [server.url],
      async fault(devices) {
        await server.stop('SIGKILL')
        // The engines notice before people write on.
        await whenAll(
          devices,
          'every engine disconnected',
          () => devices.every((d) => d.engine.connectionState.state !== 'connected'),
          options.timeoutMs,
        )
      },
      storesDuringFault: false,
      async recover() {
        server = await ServerProcess.start(dataDir, { port })
      },
      facts: () => Promise.resolve(sqliteFacts(join(dataDir, 'server.sqlite'))),
    })
  } finally {
    await server.stop('SIGTERM')
  }
}
