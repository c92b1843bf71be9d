/**
 * Clients that do not read: the server keeps serving everyone else, and what it holds for the
 * stalled client is bounded by maxBufferedBytes; past it the client is cut off (it resyncs by seq
 * when it comes back). A client that is merely late, under the bound, loses nothing.
 */
import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { createLogger, type Logger } from '../../src/server/log'
import type { RunningServer } from '../../src/server/server'
import { DEVICE_HEADER } from '../../src/shared/protocol'
import {
  clientMsgId,
  connectOne,
  registerAndLogin,
  startTestServer,
  TestClient,
  text,
  type TestSession,
} from '../server/helpers'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close()
})

const MAX_BUFFERED = 256 * 1024

/** A WebSocket handshake by hand, then a socket that reads nothing until told to. */
async function stalledClient(server: RunningServer, session: TestSession): Promise<Socket> {
  const socket = connect(server.port, '127.0.0.1')
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve())
    socket.once('error', reject)
  })
  socket.write(
    [
      'GET /ws HTTP/1.1',
      `Host: 127.0.0.1:${server.port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      `Authorization: Bearer ${session.token}`,
      `${DEVICE_HEADER}: ${session.deviceId}`,
      '',
      '',
    ].join('\r\n'),
  )
  await new Promise<void>((resolve, reject) => {
    let head = ''
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n\r\n')) return
      socket.off('data', onData)
      if (head.startsWith('HTTP/1.1 101')) resolve()
      else reject(new Error(head))
    }
    socket.on('data', onData)
  })
  socket.pause()
  return socket
}

function capturingLogger(): { logger: Logger; cutOff: Promise<{ bufferedAmount: number }> } {
  let resolveCut: (fields: { bufferedAmount: number }) => void = () => undefined
  const cutOff = new Promise<{ bufferedAmount: number }>((resolve) => (resolveCut = resolve))
  const quiet = createLogger('silent')
  return {
    cutOff,
    logger: {
      ...quiet,
      warn: (msg, fields) => {
        if (msg === 'terminating slow consumer') resolveCut(fields as { bufferedAmount: number })
      },
    },
  }
}

describe('a client that never reads', () => {
  it('is cut off past maxBufferedBytes while everyone else is served', async () => {
    const { logger, cutOff } = capturingLogger()
    const server = await startTestServer({
      logger,
      maxBufferedBytes: MAX_BUFFERED,
      rateLimit: { perSecond: 1e6, burst: 1e6 },
    })
    servers.push(server)
    const [sender, bystander] = await Promise.all([connectOne(server), connectOne(server)])
    const stalledSession = await registerAndLogin(server)
    const { group } = await sender.call('createGroup', {
      name: 'with a stalled member',
      memberIds: [bystander.userId, stalledSession.userId],
    })
    await bystander.nextPush('groupChanged')
    const stalled = await stalledClient(server, stalledSession)

    let cut: { bufferedAmount: number } | undefined
    void cutOff.then((fields) => (cut = fields))
    const body = 'x'.repeat(3900)
    let sent = 0
    // Bounded: kernel buffers take a few MB before the server's own queue grows.
    for (; sent < 5000 && cut === undefined; sent++) {
      await sender.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'group', targetId: group.groupId },
        content: text(`${sent} ${body}`),
      })
    }
    const fields = await cutOff
    // What the server held for it stayed within the bound (plus the one frame that crossed it).
    expect(fields.bufferedAmount).toBeGreaterThan(MAX_BUFFERED)
    expect(fields.bufferedAmount).toBeLessThan(MAX_BUFFERED + 16 * 1024)

    // The bystander got every message, in order, and the server still answers everyone.
    await bystander.barrier()
    const seqs = bystander.pushes
      .filter((p) => p.event === 'message')
      .map((p) => (p.data as { seq: number }).seq)
    expect(seqs).toEqual(Array.from({ length: sent }, (_, i) => i + 1))
    await sender.call('syncState', {})

    // The stalled socket, once it reads again, finds itself closed by the server.
    const closed = new Promise<void>((resolve) => stalled.once('close', () => resolve()))
    stalled.on('data', () => undefined)
    stalled.resume()
    await closed
    // It comes back and resyncs by seq: nothing it missed is lost.
    const again = await TestClient.connect(server, stalledSession)
    const history = await again.call('pullMessages', {
      conversation: { type: 'group', targetId: group.groupId },
      afterSeq: 0,
      limit: 1000,
    })
    expect(history.messages.length).toBe(Math.min(sent, 1000))
    await again.close()
  }, 30_000)
})

describe('a client that is only late', () => {
  it('gets everything once it reads again, if it stayed under the bound', async () => {
    const { logger, cutOff } = capturingLogger()
    const server = await startTestServer({ logger, maxBufferedBytes: MAX_BUFFERED })
    servers.push(server)
    const sender = await connectOne(server)
    const lateSession = await registerAndLogin(server)
    const late = await stalledClient(server, lateSession)
    for (let i = 0; i < 20; i++) {
      await sender.call('sendMessage', {
        clientMsgId: clientMsgId(),
        conversation: { type: 'private', targetId: lateSession.userId },
        content: text(`late ${i}`),
      })
    }
    let received = ''
    const all = new Promise<void>((resolve) => {
      late.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1')
        if (received.includes('late 19')) resolve()
      })
    })
    late.resume()
    await all
    for (let i = 0; i < 20; i++) expect(received).toContain(`late ${i}"`)
    let wasCut = false
    void cutOff.then(() => (wasCut = true))
    await sender.call('syncState', {})
    expect(wasCut).toBe(false)
    late.destroy()
  })
})
