/**
 * What typing indicators cost on the wire (issue 13, H4): frames sent by the typer and typing pushes
 * received by each other member, per minute of simulated typing, against the real server (in this
 * process, in-memory SQLite) and the engine's own coalescing (src/main/engine/ops/presence.ts).
 *
 *   npm run bench:typing        (or: npx tsx bench/typing.ts)
 *
 * The minute is simulated: the engine's clock is moved by each keystroke, so the run takes about a
 * second. Two patterns, each in a group of GROUP_SIZE members: steady typing (a keystroke every
 * 150 ms, 400 a minute, about 80 words a minute, for the whole minute) and chat (a 40-character
 * message every 15 s: 6 s of typing, the send, 9 s of reading). "naive" is one frame per keystroke.
 * Nothing in `npm test` runs this; it prints one JSON object.
 */
import { Code, fail, type Result } from '../src/shared/codes'
import type { Conversation } from '../src/shared/model'
import { TYPING_EXPIRE_MS, TYPING_REFRESH_MS } from '../src/shared/presence'
import type { ReplyData, RequestOp } from '../src/shared/protocol'
import type { EngineContext } from '../src/main/engine/context'
import { setTyping, typingFramesSent } from '../src/main/engine/ops/presence'
import { startServer } from '../src/server/server'
import { SqliteStorage } from '../src/server/storage/sqlite'
import { seedAccounts } from './lib/server'
import { WireClient } from './lib/wire'

const GROUP_SIZE = 5
const MINUTE_MS = 60_000
const KEYSTROKE_MS = 150

/** The engine's typing code, over a bench client's socket, on a clock the bench moves. */
function typerContext(
  client: WireClient,
  clock: { now: number },
  inFlight: Promise<unknown>[],
): EngineContext {
  const link = {
    isOpen: true,
    request<Op extends RequestOp>(op: Op, data: unknown): Promise<Result<ReplyData<Op>>> {
      const reply = client.request(op, data).then((r) => (r.code === 0 ? r : fail(Code.INTERNAL, r.msg)))
      inFlight.push(reply)
      return reply as Promise<Result<ReplyData<Op>>>
    },
  }
  return {
    me: client.account.userId,
    store: undefined as never, // typing never touches the store
    link: () => link,
    emit: () => undefined,
    kickOutbox: () => undefined,
    isCurrent: () => true,
    now: () => clock.now,
  }
}

/** Keystroke times (ms into the minute) and the moments a message is sent, per pattern. */
const patterns: Record<string, { keystrokes: number[]; sends: number[] }> = {
  steady: { keystrokes: range(0, MINUTE_MS, KEYSTROKE_MS), sends: [] },
  chat: {
    keystrokes: range(0, MINUTE_MS, 15_000).flatMap((start) => range(start, start + 6_000, KEYSTROKE_MS)),
    sends: range(6_000, MINUTE_MS, 15_000),
  },
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = []
  for (let t = from; t < to; t += step) out.push(t)
  return out
}

async function main(): Promise<void> {
  const storage = new SqliteStorage(':memory:')
  const ids = Array.from({ length: GROUP_SIZE }, (_, i) => `typist${i}`)
  const accounts = await seedAccounts(storage, ids)
  const server = await startServer({ port: 0, storage, logLevel: 'silent' })
  const clients = await Promise.all(accounts.map((a) => WireClient.connect(server.url, a)))
  const [typer, ...members] = clients as [WireClient, ...WireClient[]]
  const { group } = await typer.call<{ group: { groupId: string } }>('createGroup', {
    name: 'bench',
    memberIds: members.map((m) => m.account.userId),
  })
  const conversation: Conversation = { type: 'group', targetId: group.groupId }
  const received = new Map<WireClient, number>(members.map((m) => [m, 0]))
  for (const m of members)
    m.onPush = (p) => {
      if (p.event === 'typing') received.set(m, (received.get(m) ?? 0) + 1)
    }

  const figures: Record<string, unknown> = {}
  for (const [name, { keystrokes, sends }] of Object.entries(patterns)) {
    for (const m of members) received.set(m, 0)
    const clock = { now: 1_000_000 }
    const inFlight: Promise<unknown>[] = []
    const ctx = typerContext(typer, clock, inFlight)
    const start = clock.now
    let nextSend = 0
    for (const t of keystrokes) {
      while (nextSend < sends.length && (sends[nextSend] as number) <= t) {
        clock.now = start + (sends[nextSend++] as number)
        setTyping(ctx, conversation, false)
      }
      clock.now = start + t
      setTyping(ctx, conversation, true)
    }
    clock.now = start + MINUTE_MS
    setTyping(ctx, conversation, false)
    await Promise.all(inFlight)
    // A round trip per member: every push the server wrote before it has arrived.
    await Promise.all(members.map((m) => m.request('getUsers', { userIds: [m.account.userId] })))
    const perMember = [...received.values()]
    figures[name] = {
      keystrokesPerMinute: keystrokes.length,
      naiveFramesPerMinute: keystrokes.length,
      typerFramesPerMinute: typingFramesSent(ctx),
      pushesPerMemberPerMinute: Math.max(...perMember),
      pushesPerMemberMin: Math.min(...perMember),
    }
  }
  process.stdout.write(
    `${JSON.stringify({ groupSize: GROUP_SIZE, refreshMs: TYPING_REFRESH_MS, expireMs: TYPING_EXPIRE_MS, ...figures })}\n`,
  )
  await Promise.all(clients.map((c) => c.close()))
  await server.close()
  await storage.close()
}

await main()
