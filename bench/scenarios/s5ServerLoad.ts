/**
 * Scenario 5: server throughput and latency with N clients on loopback. The server runs in its own
 * process (CPU seconds and RSS from /proc); the load generator is this process, with one WebSocket
 * per simulated device (bench/lib/wire.ts), whose CPU is reported too.
 *  - single chats: N/2 sender → receiver pairs, delivery and read receipts on (account settings);
 *  - groups of 200 with receipts: 10 senders per group send messages with isNeedGroupAck, every member
 *    acks each message as it arrives (batched per event-loop turn, as the engine does).
 * Closed loop: each sender keeps a few messages in flight (not yet fully receipted), so the server is
 * kept busy and the latencies include its queueing at that load.
 */
import { join } from 'node:path'
import { runPairs, type LoadResult } from '../lib/load'
import { OursEndpoint } from '../lib/oursEndpoint'
import { memory, withCpu } from '../lib/proc'
import { openServerStorage, seedAccounts, spawnServer, type Account, type BenchServer } from '../lib/server'
import { fmt, median, nowMs, percentile, withTimeout } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, type Scenario } from '../lib/types'
import { pool, WireClient } from '../lib/wire'

interface Run {
  workload: 'single' | 'group'
  clients: number
  messages: number
  seconds: number
  messagesPerS: number
  receiptsPerS: number
  deliveriesPerS: number
  deliveryP50: number
  deliveryP99: number
  receiptP50: number
  receiptP99: number
  serverCpuS: number
  serverCpuPer10k: number
  loadGenCpuS: number
  serverRssMiB: number
  serverPeakRssMiB: number
}

async function connectAll(server: BenchServer, accounts: readonly Account[]): Promise<WireClient[]> {
  return pool(accounts, 50, (a) => WireClient.connect(server.url, a))
}

async function singleChats(
  server: BenchServer,
  clients: WireClient[],
  messages: number,
  window: number,
): Promise<Run> {
  const endpoints = clients.map((c) => new OursEndpoint(c))
  const pairs: [OursEndpoint, OursEndpoint][] = []
  for (let i = 0; i + 1 < endpoints.length; i += 2)
    pairs.push([endpoints[i] as OursEndpoint, endpoints[i + 1] as OursEndpoint])
  const m = await withCpu({ server: server.pid }, () => runPairs(pairs, { messages, window }))
  const r: LoadResult = m.result
  const mem = memory(server.pid)
  return {
    workload: 'single',
    clients: clients.length,
    messages: r.messages,
    seconds: r.seconds,
    messagesPerS: r.messagesPerS,
    receiptsPerS: r.receiptsPerS,
    deliveriesPerS: r.messagesPerS,
    deliveryP50: r.deliveryMs.p50,
    deliveryP99: r.deliveryMs.p99,
    receiptP50: r.readReceiptMs.p50,
    receiptP99: r.readReceiptMs.p99,
    serverCpuS: m.cpuS.server ?? NaN,
    serverCpuPer10k: ((m.cpuS.server ?? NaN) / r.messages) * 10_000,
    loadGenCpuS: m.selfCpuS,
    serverRssMiB: mem.rssMiB,
    serverPeakRssMiB: mem.peakRssMiB,
  }
}

/** Groups of `size`: the first 10 members of each send `perSender` messages that ask for acks. */
async function groups(
  server: BenchServer,
  clients: WireClient[],
  size: number,
  perSender: number,
  window: number,
): Promise<Run> {
  const groupsOf: WireClient[][] = []
  for (let i = 0; i + size <= clients.length; i += size) groupsOf.push(clients.slice(i, i + size))
  const gids = await Promise.all(
    groupsOf.map(async (members) => {
      const owner = members[0] as WireClient
      const res = await withTimeout(
        owner.call<{ group: { groupId: string } }>('createGroup', {
          name: 'load',
          memberIds: members.slice(1).map((m) => m.account.userId),
        }),
        60_000,
        'createGroup',
      )
      return res.group.groupId
    }),
  )
  // Let the groupChanged pushes settle before timing.
  await new Promise((r) => setTimeout(r, 300))
  const sentAt = new Map<string, number>()
  const delivery: number[] = []
  const receipt: number[] = []
  let deliveries = 0
  let acks = 0
  const total = groupsOf.length * 10 * perSender
  let complete = 0
  const t0 = nowMs()
  const m = await withCpu({ server: server.pid }, async () => {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `group load timed out: ${complete}/${total} complete, ${deliveries} deliveries, ${acks} acks`,
            ),
          ),
        180_000,
      )
      groupsOf.forEach((members, g) => {
        const groupId = gids[g] as string
        const uidToId = new Map<string, string>()
        const ackCount = new Map<string, number>()
        for (const [k, c] of members.entries()) {
          let pending: { messageUId: string }[] = []
          const senderState = k < 10 ? { next: 0, inFlight: 0 } : undefined
          const pump = (): void => {
            if (!senderState) return
            while (senderState.inFlight < window && senderState.next < perSender) {
              const id = `g${g}s${k}m${senderState.next++}`
              senderState.inFlight++
              sentAt.set(id, nowMs())
              c.requestThen(
                'sendMessage',
                {
                  clientMsgId: `${id}-xxxxxxxx`,
                  conversation: { type: 'group', targetId: groupId },
                  channelId: '',
                  content: { type: 'text', text: id },
                  isNeedGroupAck: true,
                },
                (r) => {
                  const uid = (r.data as { message?: { messageUId: string } } | undefined)?.message
                    ?.messageUId
                  if (r.code !== 0 || !uid)
                    return reject(new Error(`group send failed: ${r.code} ${r.msg ?? ''}`))
                  uidToId.set(uid, id)
                },
              )
            }
          }
          c.onPush = (p) => {
            if (p.event === 'message') {
              const msg = p.data as { messageUId: string; content: { text: string } }
              const t = sentAt.get(msg.content.text)
              if (t !== undefined) delivery.push(nowMs() - t)
              deliveries++
              if (pending.length === 0)
                setImmediate(() => {
                  const batch = pending
                  pending = []
                  void c.request('ackGroupMessageRead', { groupId, acks: batch })
                })
              pending.push({ messageUId: msg.messageUId })
            } else if (p.event === 'groupMessageRead' && senderState) {
              const now = nowMs()
              for (const a of (p.data as { acks: { messageUId: string }[] }).acks) {
                acks++
                const id = uidToId.get(a.messageUId)
                if (id === undefined) continue
                const t = sentAt.get(id)
                if (t !== undefined) receipt.push(now - t)
                const n = (ackCount.get(a.messageUId) ?? 0) + 1
                ackCount.set(a.messageUId, n)
                if (n === members.length - 1) {
                  senderState.inFlight--
                  complete++
                  if (complete === total) {
                    clearTimeout(timer)
                    resolve()
                  }
                }
              }
              pump()
            }
          }
          setImmediate(pump)
        }
      })
    })
  })
  const seconds = (nowMs() - t0) / 1000
  const mem = memory(server.pid)
  return {
    workload: 'group',
    clients: groupsOf.length * size,
    messages: total,
    seconds,
    messagesPerS: total / seconds,
    receiptsPerS: acks / seconds,
    deliveriesPerS: deliveries / seconds,
    deliveryP50: percentile(delivery, 50),
    deliveryP99: percentile(delivery, 99),
    receiptP50: percentile(receipt, 50),
    receiptP99: percentile(receipt, 99),
    serverCpuS: m.cpuS.server ?? NaN,
    serverCpuPer10k: ((m.cpuS.server ?? NaN) / total) * 10_000,
    loadGenCpuS: m.selfCpuS,
    serverRssMiB: mem.rssMiB,
    serverPeakRssMiB: mem.peakRssMiB,
  }
}

export const s5ServerLoad: Scenario = {
  id: 's5-server-load',
  aliases: ['load', 'server', 'throughput'],
  title: 'Server throughput and latency with N clients',
  async run(ctx) {
    const out = emptyOutput()
    const singleNs = ctx.quick ? [100] : [200, 1000, 2000]
    const groupNs = ctx.quick ? [200] : [200, 2000]
    const perSender = ctx.quick ? 20 : 50
    const perGroupSender = ctx.quick ? 5 : 10
    const window = 5
    const groupWindow = 2
    const runs = ctx.quick ? 1 : 2
    out.params = {
      singleNs,
      groupNs,
      perSender,
      perGroupSender,
      window,
      groupWindow,
      runs,
      groupSize: 200,
      sendersPerGroup: 10,
    }
    const maxN = Math.max(...singleNs, ...groupNs)
    const results: Run[] = []
    for (const [workload, ns] of [
      ['single', singleNs],
      ['group', groupNs],
    ] as const) {
      for (const n of ns) {
        const perConfig: Run[] = []
        for (let run = 0; run < runs; run++) {
          // A fresh server per run: the same starting point (empty history) every time.
          const dataDir = join(ctx.tmp, `server-${workload}-${n}-${run}`)
          const storage = openServerStorage(dataDir)
          const accounts = await seedAccounts(
            storage,
            Array.from({ length: n }, (_, i) => `c${String(i).padStart(5, '0')}`),
          )
          await storage.close()
          const server = await spawnServer({ dataDir })
          const clients = await connectAll(server, accounts)
          try {
            const r =
              workload === 'single'
                ? await singleChats(server, clients, perSender, window)
                : await groups(server, clients, 200, perGroupSender, groupWindow)
            perConfig.push(r)
            ctx.log(
              `${workload} ${n} clients: ${fmt(r.messagesPerS)} msgs/s, ${fmt(r.receiptsPerS)} receipts/s, ` +
                `delivery p50/p99 ${fmt(r.deliveryP50)}/${fmt(r.deliveryP99)} ms, receipt p50/p99 ${fmt(r.receiptP50)}/${fmt(r.receiptP99)} ms, ` +
                `server ${fmt(r.serverCpuPer10k)} CPU s/10k msgs, RSS ${fmt(r.serverRssMiB)} MiB, load generator ${fmt(r.loadGenCpuS)} CPU s in ${fmt(r.seconds)} s`,
            )
          } finally {
            await Promise.all(clients.map((c) => c.close()))
            await server.close()
          }
        }
        const med = (f: (r: Run) => number): number => median(perConfig.map(f))
        results.push({
          workload,
          clients: n,
          messages: med((r) => r.messages),
          seconds: med((r) => r.seconds),
          messagesPerS: med((r) => r.messagesPerS),
          receiptsPerS: med((r) => r.receiptsPerS),
          deliveriesPerS: med((r) => r.deliveriesPerS),
          deliveryP50: med((r) => r.deliveryP50),
          deliveryP99: med((r) => r.deliveryP99),
          receiptP50: med((r) => r.receiptP50),
          receiptP99: med((r) => r.receiptP99),
          serverCpuS: med((r) => r.serverCpuS),
          serverCpuPer10k: med((r) => r.serverCpuPer10k),
          loadGenCpuS: med((r) => r.loadGenCpuS),
          serverRssMiB: med((r) => r.serverRssMiB),
          serverPeakRssMiB: med((r) => r.serverPeakRssMiB),
        })
      }
    }
    const row = (r: Run): (string | number)[] => [
      r.clients,
      fmt(r.messages),
      fmt(r.messagesPerS),
      fmt(r.deliveriesPerS),
      fmt(r.receiptsPerS),
      `${fmt(r.deliveryP50)} / ${fmt(r.deliveryP99)}`,
      `${fmt(r.receiptP50)} / ${fmt(r.receiptP99)}`,
      fmt(r.serverCpuPer10k),
      `${fmt(r.serverRssMiB)} (${fmt(r.serverPeakRssMiB)})`,
      `${fmt(r.loadGenCpuS)} of ${fmt(r.seconds)}`,
    ]
    const columns = [
      'clients',
      'messages',
      'messages/s',
      'deliveries/s',
      'receipts/s',
      'delivery p50 / p99 ms',
      'receipt p50 / p99 ms',
      'server CPU s / 10k msgs',
      'server RSS MiB (peak)',
      'load generator CPU s of wall s',
    ]
    out.sections.push({
      heading: `Single chats: N/2 pairs, ${perSender} messages per sender, ${window} in flight, delivery + read receipts`,
      text:
        'Receipt = the read receipt back at the sender (each message also gets a delivery receipt, counted in receipts/s). ' +
        `Medians of ${runs} run(s), a fresh server each.`,
      table: { columns, rows: results.filter((r) => r.workload === 'single').map(row) },
    })
    out.sections.push({
      heading: `Groups of 200: 10 senders per group, ${perGroupSender} messages each with isNeedGroupAck, ${groupWindow} in flight until every member acked`,
      text: 'Delivery = send → one member has it (one sample per member); receipt = send → that member’s ack back at the sender.',
      table: { columns, rows: results.filter((r) => r.workload === 'group').map(row) },
    })
    out.notes.push(
      `The load generator shares the 2 cores with the server: when its CPU seconds approach the wall time, it (not the server) is the limit.`,
      `Server with the per-connection rate limit lifted (an abuse guard, 100 frames/s by default) and data on a file (WAL); up to ${maxN} WebSockets.`,
    )
    const chart = 's5-server-cpu.svg'
    writeChart(join(ctx.outDir, chart), {
      title: 'Server CPU seconds per 10k messages vs clients',
      xLabel: 'clients',
      yLabel: 'CPU s per 10k messages',
      logX: true,
      series: (['single', 'group'] as const).map((w) => ({
        name: w === 'single' ? 'single chats' : 'groups of 200',
        points: results.filter((r) => r.workload === w).map((r) => ({ x: r.clients, y: r.serverCpuPer10k })),
      })),
    })
    const chart2 = 's5-latency.svg'
    writeChart(join(ctx.outDir, chart2), {
      title: 'End-to-end latency vs clients (p50 and p99)',
      xLabel: 'clients',
      yLabel: 'ms',
      logX: true,
      logY: true,
      series: (['single', 'group'] as const).flatMap((w) => [
        {
          name: `${w} delivery p50`,
          points: results.filter((r) => r.workload === w).map((r) => ({ x: r.clients, y: r.deliveryP50 })),
        },
        {
          name: `${w} delivery p99`,
          points: results.filter((r) => r.workload === w).map((r) => ({ x: r.clients, y: r.deliveryP99 })),
        },
      ]),
    })
    out.charts.push(
      { file: chart, caption: 'server CPU per 10k messages' },
      { file: chart2, caption: 'latency vs clients' },
    )
    out.raw = { results }
    return out
  },
}
