/**
 * One load-generator process: `clients` accounts, each with one WebSocket, sending a message every
 * `intervalMs` (with jitter) to another of this process's accounts or to a group of `groupSize`,
 * and acknowledging what arrives: delivery for every single-chat message, read for every other one,
 * group read acks for every other group message that asks. Every account asks for delivery and read
 * receipts, so receipts flow back to the senders.
 *
 * At the end it stops sending, waits for every reply, then for every push (a round trip on each
 * socket is a barrier: the server answers in order), flushes the last acks and waits again, and
 * checks: every message reached every recipient exactly once, every delivery and read receipt and
 * group ack reached its sender, and no request failed. Prints one JSON report line on stdout.
 *
 *   tsx soak/loadGenerator.ts --url ws://… --clients 1000 --prefix a --duration-ms 300000
 *                             [--interval-ms 5000] [--group-size 10] [--group-share 0.1]
 */
import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import WebSocket from 'ws'

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    clients: { type: 'string', default: '1000' },
    prefix: { type: 'string', default: 'g' },
    'duration-ms': { type: 'string', default: '300000' },
    'interval-ms': { type: 'string', default: '5000' },
    'group-size': { type: 'string', default: '10' },
    'group-share': { type: 'string', default: '0.1' },
  },
})
if (!values.url) {
  process.stderr.write(
    'usage: loadGenerator.ts --url ws://host:port/ws [--clients n] [--prefix p] [--duration-ms ms]\n',
  )
  process.exit(2)
}
const url = values.url
const httpUrl = url.replace(/^ws/, 'http').replace(/\/ws$/, '')
const CLIENTS = Number(values.clients)
const PREFIX = values.prefix
const DURATION_MS = Number(values['duration-ms'])
const INTERVAL_MS = Number(values['interval-ms'])
const GROUP_SIZE = Number(values['group-size'])
const GROUP_SHARE = Number(values['group-share'])
const ACK_EVERY_MS = 1000

const errors: string[] = []
let errorCount = 0
function error(what: string): void {
  errorCount++
  if (errors.length < 20) errors.push(what)
}

interface Reply {
  id: number
  code: number
  msg?: string
  data?: unknown
}

const replyLatency: number[] = []
const deliveryLatency: number[] = []

class LoadClient {
  ws!: WebSocket
  private nextId = 1
  private readonly pending = new Map<number, { op: string; at: number; resolve: (r: Reply) => void }>()
  readonly received = new Set<string>()
  readonly deliveredSeen = new Set<string>()
  readonly readSeen = new Set<string>()
  readonly groupAcksSeen = new Set<string>()
  private toDeliver: string[] = []
  private toRead: string[] = []
  private readonly toGroupAck = new Map<string, string[]>()
  private ending = false
  receivedCount = 0

  constructor(
    readonly userId: string,
    private readonly token: string,
    private readonly deviceId: string,
  ) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, {
        headers: { authorization: `Bearer ${this.token}`, 'x-device-id': this.deviceId },
        perMessageDeflate: false,
      })
      this.ws = ws
      ws.once('open', () => resolve())
      ws.once('error', reject)
      ws.on('message', (raw) => this.onFrame(String(raw)))
      ws.on('close', (code) => {
        if (!this.ending) error(`${this.userId}: socket closed ${code}`)
      })
    })
  }

  request(op: string, data: unknown): Promise<Reply> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.pending.set(id, { op, at: performance.now(), resolve })
      this.ws.send(JSON.stringify({ id, op, data }))
    })
  }

  async call(op: string, data: unknown): Promise<unknown> {
    const reply = await this.request(op, data)
    if (reply.code !== 0) error(`${this.userId} ${op}: ${reply.code} ${reply.msg ?? ''}`)
    return reply.data
  }

  get inFlight(): number {
    return this.pending.size
  }

  private onFrame(text: string): void {
    const frame = JSON.parse(text) as
      ({ type: 'reply' } & Reply) | { type: 'push'; event: string; data: Record<string, unknown> }
    if (frame.type === 'reply') {
      const p = this.pending.get(frame.id)
      if (!p) return error(`${this.userId}: reply to unknown id ${frame.id}`)
      this.pending.delete(frame.id)
      replyLatency.push(performance.now() - p.at)
      p.resolve(frame)
      return
    }
    const d = frame.data
    switch (frame.event) {
      case 'message': {
        const uid = d.messageUId as string
        if (d.senderId === this.userId) return
        this.receivedCount++
        if (this.received.has(uid)) return error(`${this.userId}: message ${uid} twice`)
        this.received.add(uid)
        deliveryLatency.push(Date.now() - (d.sentAt as number))
        if (d.convType === 'private') {
          this.toDeliver.push(uid)
          if (this.receivedCount % 2 === 0) this.toRead.push(uid)
        } else if (d.isNeedGroupAck && this.receivedCount % 2 === 0) {
          const list = this.toGroupAck.get(d.to as string) ?? []
          list.push(uid)
          this.toGroupAck.set(d.to as string, list)
        }
        return
      }
      case 'messageDelivered':
        for (const uid of d.messageUIds as string[]) this.deliveredSeen.add(uid)
        return
      case 'messageRead':
        for (const uid of d.messageUIds as string[]) this.readSeen.add(uid)
        return
      case 'groupMessageRead':
        for (const ack of d.acks as { messageUId: string; from: string }[])
          this.groupAcksSeen.add(`${ack.messageUId}/${ack.from}`)
        return
      default:
        return
    }
  }

  /** Sends the acks gathered since the last flush, one frame per kind (and per group). */
  async flushAcks(): Promise<void> {
    const deliver = this.toDeliver.splice(0)
    const read = this.toRead.splice(0)
    const groups = [...this.toGroupAck].map(([groupId, uids]) => ({ groupId, uids }))
    this.toGroupAck.clear()
    const calls: Promise<unknown>[] = []
    for (let i = 0; i < deliver.length; i += 1000)
      calls.push(this.call('ackDelivered', { messageUIds: deliver.slice(i, i + 1000) }))
    for (let i = 0; i < read.length; i += 1000) {
      const batch = read.slice(i, i + 1000)
      calls.push(this.call('ackMessageRead', { messageUIds: batch }))
      for (const uid of batch) ackedRead.add(uid)
    }
    for (const { groupId, uids } of groups) {
      calls.push(
        this.call('ackGroupMessageRead', { groupId, acks: uids.map((messageUId) => ({ messageUId })) }),
      )
      for (const uid of uids) ackedGroup.add(`${uid}/${this.userId}`)
    }
    await Promise.all(calls)
  }

  close(): void {
    this.ending = true
    this.ws.close()
  }
}

const ackedRead = new Set<string>()
const ackedGroup = new Set<string>()

async function post(path: string, body: unknown): Promise<{ code: number; msg?: string; data?: unknown }> {
  const res = await fetch(`${httpUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return (await res.json()) as { code: number; msg?: string; data?: unknown }
}

async function inBatches<T>(items: T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn))
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0
  const sorted = [...values].sort((a, b) => a - b)
  return (
    Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number) * 10) /
    10
  )
}

async function main(): Promise<void> {
  const setupStart = Date.now()
  const ids = Array.from({ length: CLIENTS }, (_, i) => `${PREFIX}${i}`)
  const clients: LoadClient[] = []
  await inBatches(ids, 50, async (userId) => {
    const password = `${userId}-load-password`
    const reg = await post('/api/register', { userId, password })
    if (reg.code !== 0 && reg.code !== 2003) throw new Error(`register ${userId}: ${reg.msg}`)
    const deviceId = randomBytes(12).toString('base64url')
    const login = await post('/api/login', { userId, password, deviceId })
    if (login.code !== 0) throw new Error(`login ${userId}: ${login.msg}`)
    clients.push(new LoadClient(userId, (login.data as { token: string }).token, deviceId))
  })
  await inBatches(clients, 100, (c) => c.connect())
  await Promise.all(
    clients.map((c) => c.call('updateSettings', { requireDeliveryAck: true, requireReadAck: true })),
  )
  const byId = new Map(clients.map((c) => [c.userId, c]))
  const groups: { groupId: string; members: LoadClient[] }[] = []
  for (let g = 0; g + GROUP_SIZE <= clients.length; g += GROUP_SIZE) {
    const members = clients.slice(g, g + GROUP_SIZE)
    const [owner, ...rest] = members
    const data = (await owner?.call('createGroup', {
      name: `load ${g}`,
      memberIds: rest.map((m) => m.userId),
    })) as { group: { groupId: string } } | undefined
    if (data) groups.push({ groupId: data.group.groupId, members })
  }
  process.stderr.write(`${PREFIX}: ${clients.length} clients ready in ${Date.now() - setupStart} ms\n`)

  const sentPrivate = new Map<string, string>()
  const sentGroup = new Map<string, { groupId: string; sender: string }>()
  const groupOf = new Map<string, (typeof groups)[number]>()
  for (const g of groups) for (const m of g.members) groupOf.set(m.userId, g)
  let counter = 0
  const sends: Promise<unknown>[] = []
  const send = (c: LoadClient): void => {
    const n = counter++
    const group = groupOf.get(c.userId)
    const toGroup = group !== undefined && (n * 7919) % 1000 < GROUP_SHARE * 1000
    const conversation = toGroup
      ? { type: 'group', targetId: group.groupId }
      : { type: 'private', targetId: ids[(ids.indexOf(c.userId) + 1 + (n % (CLIENTS - 1))) % CLIENTS] }
    const p = c
      .request('sendMessage', {
        clientMsgId: `${c.userId}-${n}-${randomBytes(4).toString('hex')}`,
        conversation,
        content: { type: 'text', text: `load ${n} from ${c.userId}` },
        isNeedGroupAck: toGroup && n % 2 === 0,
      })
      .then((reply) => {
        if (reply.code !== 0) return error(`${c.userId} sendMessage: ${reply.code} ${reply.msg ?? ''}`)
        const uid = (reply.data as { message: { messageUId: string } }).message.messageUId
        if (toGroup && group) sentGroup.set(uid, { groupId: group.groupId, sender: c.userId })
        else sentPrivate.set(uid, conversation.targetId as string)
      })
    sends.push(p)
    if (sends.length > 10_000) sends.splice(0, 5_000)
  }

  const runStart = Date.now()
  const timers: NodeJS.Timeout[] = []
  for (const c of clients) {
    const start = setTimeout(() => {
      send(c)
      timers.push(setInterval(() => send(c), INTERVAL_MS * (0.8 + Math.random() * 0.4)))
    }, Math.random() * INTERVAL_MS)
    timers.push(start)
    timers.push(setInterval(() => void c.flushAcks(), ACK_EVERY_MS))
  }
  const progress = setInterval(() => {
    const received = clients.reduce((n, c) => n + c.received.size, 0)
    process.stderr.write(
      `${PREFIX}: ${Math.round((Date.now() - runStart) / 1000)} s, sent ${counter}, received ${received}, errors ${errorCount}\n`,
    )
  }, 30_000)

  await new Promise<void>((resolve) => setTimeout(resolve, DURATION_MS))
  for (const t of timers) clearTimeout(t)
  clearInterval(progress)
  const runMs = Date.now() - runStart

  // Drain: replies, then pushes (barrier), then the last acks, then their receipts (barrier).
  const barrier = () => Promise.all(clients.map((c) => c.call('getUsers', { userIds: [c.userId] })))
  await Promise.all(sends)
  while (clients.some((c) => c.inFlight > 0)) await barrier()
  await barrier()
  await Promise.all(clients.map((c) => c.flushAcks()))
  await barrier()

  let lostMessages = 0
  let lostDelivered = 0
  let lostRead = 0
  let lostGroupAcks = 0
  const deliveredSeen = new Set(clients.flatMap((c) => [...c.deliveredSeen]))
  const readSeen = new Set(clients.flatMap((c) => [...c.readSeen]))
  const groupAcksSeen = new Set(clients.flatMap((c) => [...c.groupAcksSeen]))
  for (const [uid, to] of sentPrivate) {
    if (!byId.get(to)?.received.has(uid)) lostMessages++
    if (!deliveredSeen.has(uid)) lostDelivered++
  }
  for (const uid of ackedRead) if (!readSeen.has(uid)) lostRead++
  for (const key of ackedGroup) if (!groupAcksSeen.has(key)) lostGroupAcks++
  for (const [uid, { groupId, sender }] of sentGroup) {
    const group = groups.find((g) => g.groupId === groupId)
    for (const m of group?.members ?? []) if (m.userId !== sender && !m.received.has(uid)) lostMessages++
  }

  const report = {
    generator: PREFIX,
    clients: clients.length,
    runMs,
    sent: { private: sentPrivate.size, group: sentGroup.size },
    received: clients.reduce((n, c) => n + c.received.size, 0),
    receipts: { delivered: deliveredSeen.size, read: readSeen.size, groupAcks: groupAcksSeen.size },
    lost: { messages: lostMessages, delivered: lostDelivered, read: lostRead, groupAcks: lostGroupAcks },
    errors: errorCount,
    firstErrors: errors,
    latencyMs: {
      replyP50: percentile(replyLatency, 50),
      replyP99: percentile(replyLatency, 99),
      deliveryP50: percentile(deliveryLatency, 50),
      deliveryP99: percentile(deliveryLatency, 99),
    },
  }
  for (const c of clients) c.close()
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${PREFIX}: ${err instanceof Error ? err.stack : String(err)}\n`)
    process.exit(1)
  },
)
