/**
 * An engine context without sockets: an in-memory store, a link whose answers the test scripts,
 * and the events the engine emitted. Ops, sync and outbox are tested through it.
 */
import { Code, fail, type Result } from '../../src/shared/codes'
import type { IpcEvents } from '../../src/shared/ipc'
import type { ReplyData, RequestData, RequestOp, WireMessage } from '../../src/shared/protocol'
import type { EngineContext, Link } from '../../src/main/engine/context'
import { SqliteEngineStore } from '../../src/main/engine/store/sqliteStore'

export const ME = 'alice'

type Answer = (data: unknown, op: RequestOp) => Result<unknown> | Promise<Result<unknown>>

class FakeLink implements Link {
  isOpen = true
  readonly sent: { op: RequestOp; data: unknown }[] = []
  private readonly answers = new Map<RequestOp, Answer>()

  /** How the server answers `op` from now on (default: INTERNAL, so an unscripted call shows). */
  answer<Op extends RequestOp>(
    op: Op,
    fn: (data: RequestData<Op>) => Result<ReplyData<Op>> | Promise<Result<ReplyData<Op>>>,
  ): void {
    this.answers.set(op, fn as Answer)
  }

  async request<Op extends RequestOp>(op: Op, data: RequestData<Op>): Promise<Result<ReplyData<Op>>> {
    this.sent.push({ op, data })
    const fn = this.answers.get(op)
    const res = fn ? await fn(data, op) : fail(Code.INTERNAL, `no answer scripted for ${op}`)
    return res as Result<ReplyData<Op>>
  }

  ops(): RequestOp[] {
    return this.sent.map((s) => s.op)
  }
}

interface Emitted {
  event: keyof IpcEvents
  payload: unknown
}

export interface TestContext extends EngineContext {
  store: SqliteEngineStore
  link(): FakeLink | undefined
  fake: FakeLink
  emitted: Emitted[]
  kicks: number
  /** Payloads of every `event` emitted so far, in order. */
  events<E extends keyof IpcEvents>(event: E): IpcEvents[E][]
}

export function testContext(options: { connected?: boolean } = {}): TestContext {
  const store = new SqliteEngineStore(':memory:')
  const fake = new FakeLink()
  let clock = 1_000_000
  const ctx: TestContext = {
    me: ME,
    store,
    fake,
    emitted: [],
    kicks: 0,
    link: () => (options.connected === false || !fake.isOpen ? undefined : fake),
    emit: (event, payload) => {
      ctx.emitted.push({ event, payload })
    },
    kickOutbox: () => {
      ctx.kicks++
    },
    isCurrent: () => true,
    now: () => ++clock,
    events: <E extends keyof IpcEvents>(event: E) =>
      ctx.emitted.filter((e) => e.event === event).map((e) => e.payload as IpcEvents[E]),
  }
  return ctx
}

let uidCounter = 0
export function wire(seq: number, over: Partial<WireMessage> = {}): WireMessage {
  const n = (uidCounter++).toString(36).toUpperCase().padStart(16, '0')
  return {
    messageUId: `${n.slice(0, 4)}-${n.slice(4, 8)}-${n.slice(8, 12)}-${n.slice(12, 16)}`,
    clientMsgId: `client-${seq}-${uidCounter}`,
    convType: 'private',
    senderId: 'bob',
    to: ME,
    channelId: '',
    seq,
    content: { type: 'text', text: `message ${seq}` },
    sentAt: 1000 + seq,
    needDeliveryAck: false,
    needReadAck: false,
    isNeedGroupAck: false,
    memberCount: 1,
    ...over,
  }
}

/** A group message from `senderId` in g_team. */
export function groupWire(seq: number, over: Partial<WireMessage> = {}): WireMessage {
  return wire(seq, { convType: 'group', to: 'g_team', senderId: 'bob', memberCount: 3, ...over })
}

export const TEAM = { type: 'group', targetId: 'g_team' } as const

/** g_team as the server describes it to `me` with `role`. */
export function teamGroup(role: 'owner' | 'admin' | 'member', over: Partial<GroupReceiptSettingsLike> = {}) {
  return {
    groupId: 'g_team',
    name: 'Team',
    ownerId: role === 'owner' ? ME : 'bob',
    memberCount: 3,
    createdAt: 1,
    myRole: role,
    receiptSettings: {
      enabled: true,
      whoMayRequest: 'all' as const,
      validityMs: 3 * 24 * 3600_000,
      maxGroupSize: 200,
      countVisibility: 'all' as const,
      ...over,
    },
  }
}

interface GroupReceiptSettingsLike {
  enabled: boolean
  whoMayRequest: 'all' | 'ownerAndAdmins'
  validityMs: number
  maxGroupSize: number
  countVisibility: 'sender' | 'all'
}
