import { WebSocket } from 'ws'
import type { CodeValue } from '../../src/shared/codes'
import {
  DEVICE_HEADER,
  http,
  PushFrame,
  ReplyFrame,
  requests,
  type PushData,
  type PushEvent,
  type ReplyData,
  type RequestData,
  type RequestOp,
} from '../../src/shared/protocol'
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/server'
import { onTestBackend } from '../testStore'

const WAIT_MS = 5000

/**
 * A server on a free port with an in-memory database (a scratch PostgreSQL one in the `postgres`
 * project: tests/testStore.ts), quiet logs and cheap password hashing. Tests register many accounts and send many bytes from one address, so the limits per address on
 * registration and hashing and the inbound byte budgets are lifted unless a test sets them
 * (tests/security holds those limits to their promises).
 */
export function startTestServer(options: ServerOptions = {}): Promise<RunningServer> {
  const lifted = 1e12
  return onTestBackend(options, (options) =>
    startServer({
      port: 0,
      logLevel: 'silent',
      scrypt: { N: 1024, r: 8, p: 1 },
      ...options,
      authLimits: {
        registrationsPerAddress: { perHour: lifted, burst: lifted },
        hashQueue: lifted,
        hashesPerAddress: lifted,
        ...options.authLimits,
      },
      connectionLimits: {
        inboundBytesPerSecond: lifted,
        inboundBurstBytes: lifted,
        userInboundBytesPerSecond: lifted,
        userInboundBurstBytes: lifted,
        ...options.connectionLimits,
      },
    }),
  )
}

let lastId = 0
/** Unique within the test process; user ids are at most 32 characters. */
export function uniqueId(prefix = 'u'): string {
  return `${prefix}${++lastId}_${process.pid}`
}

export interface ApiResponse {
  status: number
  body: { code: number; msg?: string; data?: unknown }
}

export async function api(
  server: RunningServer,
  path: string,
  body: unknown,
  init: { token?: string; rawBody?: string } = {},
): Promise<ApiResponse> {
  const response = await fetch(`${server.httpUrl}${path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
    },
    body: init.rawBody ?? JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as ApiResponse['body'] }
}

export interface TestSession {
  userId: string
  password: string
  deviceId: string
  token: string
}

export async function login(
  server: RunningServer,
  userId: string,
  password: string,
  deviceId = uniqueId('device'),
) {
  const { body } = await api(server, http.login.path, { userId, password, deviceId })
  if (body.code !== 0) throw new Error(`login ${userId} failed: ${body.code} ${body.msg}`)
  const data = http.login.reply.parse(body.data)
  return { userId, password, deviceId, token: data.token }
}

export async function registerAndLogin(
  server: RunningServer,
  options: { userId?: string; displayName?: string; password?: string } = {},
): Promise<TestSession> {
  const userId = options.userId ?? uniqueId()
  const password = options.password ?? 'correct horse battery'
  const { body } = await api(server, http.register.path, {
    userId,
    password,
    displayName: options.displayName,
  })
  if (body.code !== 0) throw new Error(`register ${userId} failed: ${body.code} ${body.msg}`)
  return login(server, userId, password)
}

/** Opens a socket and resolves with it, or with the HTTP status that refused the upgrade. */
export function openSocket(
  url: string,
  headers: Record<string, string>,
): Promise<
  { ws: WebSocket; status?: undefined; body?: undefined } | { ws?: undefined; status: number; body: string }
> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers })
    ws.once('open', () => resolve({ ws }))
    ws.once('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => (body += chunk.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    ws.once('error', reject)
  })
}

export interface Reply<Op extends RequestOp> {
  code: number
  msg?: string
  data: ReplyData<Op>
}

/** Live-only pushes (typing, presence): TestClient.livePushes. */
const LIVE_EVENTS = new Set<PushEvent>(['typing', 'presence'])

interface ReceivedPush {
  event: PushEvent
  data: unknown
  eventSeq?: number
}

interface PushWaiter {
  event: PushEvent
  match: (push: ReceivedPush) => boolean
  resolve: (push: ReceivedPush) => void
}

/**
 * One authenticated device. Every frame it receives is validated against the shared protocol, so a
 * server that drifts from the contract fails the tests that touch the drift.
 */
export class TestClient {
  readonly pushes: ReceivedPush[] = []
  /**
   * Typing and presence pushes (H4), kept apart: they come whenever contacts type, connect or
   * disconnect, so tests that expect "no other push" (barrier) are not about them.
   */
  readonly livePushes: ReceivedPush[] = []
  readonly protocolErrors: string[] = []
  readonly closed: Promise<{ code: number; reason: string }>
  private lastRequestId = 0
  private readonly pending = new Map<number, { op: RequestOp | null; resolve: (reply: ReplyFrame) => void }>()
  private readonly waiters: PushWaiter[] = []
  private readonly nullIdReplies: ReplyFrame[] = []
  private nullIdWaiter: ((reply: ReplyFrame) => void) | undefined

  private constructor(
    readonly ws: WebSocket,
    readonly session: TestSession,
  ) {
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    )
    ws.on('message', (raw) => this.onFrame(String(raw)))
  }

  static async connect(server: RunningServer, session: TestSession): Promise<TestClient> {
    const opened = await openSocket(server.url, {
      authorization: `Bearer ${session.token}`,
      [DEVICE_HEADER]: session.deviceId,
    })
    if (!opened.ws) throw new Error(`upgrade refused with ${opened.status}: ${opened.body}`)
    return new TestClient(opened.ws, session)
  }

  get userId(): string {
    return this.session.userId
  }

  private onFrame(text: string): void {
    const value: unknown = JSON.parse(text)
    const reply = ReplyFrame.safeParse(value)
    if (reply.success && (value as { type?: unknown }).type === 'reply') {
      if (reply.data.id === null) {
        if (this.nullIdWaiter) this.nullIdWaiter(reply.data)
        else this.nullIdReplies.push(reply.data)
        this.nullIdWaiter = undefined
        return
      }
      const pending = this.pending.get(reply.data.id)
      if (!pending) return void this.protocolErrors.push(`reply to unknown id ${reply.data.id}`)
      this.pending.delete(reply.data.id)
      if (reply.data.code === 0 && pending.op) {
        const checked = requests[pending.op].reply.safeParse(reply.data.data)
        if (!checked.success) this.protocolErrors.push(`${pending.op} reply: ${checked.error.message}`)
      }
      pending.resolve(reply.data)
      return
    }
    const push = PushFrame.safeParse(value)
    if (!push.success) return void this.protocolErrors.push(`bad frame ${text.slice(0, 200)}`)
    const received: ReceivedPush = {
      event: push.data.event,
      data: push.data.data,
      eventSeq: push.data.eventSeq,
    }
    const waiter = this.waiters.find((w) => w.event === received.event && w.match(received))
    if (waiter) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve(received)
    } else {
      this.listFor(received.event).push(received)
    }
  }

  /** Sends a request and resolves with the reply, whatever its code. */
  request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<Reply<Op>> {
    return this.requestRaw(op, data) as Promise<Reply<Op>>
  }

  /** Like request, but any op name and any data: for protocol tests. */
  requestRaw(op: string, data: unknown): Promise<ReplyFrame> {
    const id = ++this.lastRequestId
    return this.sendFrame(JSON.stringify({ id, op, data }), id, op)
  }

  sendFrame(text: string, id: number, op: string): Promise<ReplyFrame> {
    const known = Object.hasOwn(requests, op) ? (op as RequestOp) : null
    return withTimeout(
      new Promise<ReplyFrame>((resolve) => {
        this.pending.set(id, { op: known, resolve })
        this.ws.send(text)
      }),
      `reply to ${op} #${id}`,
    )
  }

  /** For frames the server cannot attribute to a request: the reply has id null. */
  sendUnattributable(text: string): Promise<ReplyFrame> {
    this.ws.send(text)
    const queued = this.nullIdReplies.shift()
    if (queued) return Promise.resolve(queued)
    return withTimeout(
      new Promise<ReplyFrame>((resolve) => {
        this.nullIdWaiter = resolve
      }),
      'reply with id null',
    )
  }

  /** Expects success and returns the reply data. */
  async call<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<ReplyData<Op>> {
    const reply = await this.request(op, data)
    if (reply.code !== 0) throw new Error(`${op} failed: ${reply.code} ${reply.msg}`)
    return reply.data
  }

  /** Expects the given error code and returns the message. */
  async expectError<Op extends RequestOp>(op: Op, data: RequestData<Op>, code: CodeValue): Promise<string> {
    const reply = await this.request(op, data)
    if (reply.code !== code)
      throw new Error(`${op}: expected code ${code}, got ${reply.code} ${reply.msg ?? ''}`)
    return reply.msg ?? ''
  }

  /** The first push of `event` (matching `match`) not yet taken, waiting for it if needed. */
  nextPush<E extends PushEvent>(
    event: E,
    match: (data: PushData<E>) => boolean = () => true,
  ): Promise<{ data: PushData<E>; eventSeq?: number }> {
    const test = (push: ReceivedPush) => push.event === event && match(push.data as PushData<E>)
    const list = this.listFor(event)
    const index = list.findIndex(test)
    if (index >= 0) {
      const [push] = list.splice(index, 1)
      return Promise.resolve(push as { data: PushData<E>; eventSeq?: number })
    }
    return withTimeout(
      new Promise((resolve) =>
        this.waiters.push({ event, match: test, resolve: resolve as PushWaiter['resolve'] }),
      ),
      `push ${event} for ${this.userId}`,
    )
  }

  private listFor(event: PushEvent): ReceivedPush[] {
    return LIVE_EVENTS.has(event) ? this.livePushes : this.pushes
  }

  /**
   * Resolves once every push the server sent before now has arrived: the server answers frames in
   * order on one socket, so a round trip is a barrier. Returns the pushes not yet taken.
   */
  async barrier(): Promise<ReceivedPush[]> {
    await this.call('getUsers', { userIds: [this.userId] })
    return [...this.pushes]
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) this.ws.close()
    await this.closed
  }
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** A registered user with `devices` open connections. */
export async function connectUser(
  server: RunningServer,
  options: { userId?: string; displayName?: string; devices?: number } = {},
): Promise<TestClient[]> {
  const first = await registerAndLogin(server, options)
  const sessions = [first]
  for (let i = 1; i < (options.devices ?? 1); i++)
    sessions.push(await login(server, first.userId, first.password))
  return Promise.all(sessions.map((session) => TestClient.connect(server, session)))
}

export async function connectOne(
  server: RunningServer,
  options: { userId?: string; displayName?: string } = {},
): Promise<TestClient> {
  const [client] = await connectUser(server, options)
  if (!client) throw new Error('no client')
  return client
}

let lastClientMsgId = 0
export function clientMsgId(): string {
  return `cmsg-${process.pid}-${++lastClientMsgId}`
}

export function text(body: string) {
  return { type: 'text' as const, text: body }
}
