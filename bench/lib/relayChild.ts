/**
 * The floor: a bare `ws` relay with no storage, no auth, no validation. Each frame is JSON with a
 * `to`; the relay parses it and forwards the text to that client's socket. Prints `{ "port": n }`.
 */
import { WebSocketServer, type WebSocket } from 'ws'

const sockets = new Map<string, WebSocket>()
const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, backlog: 4096 })
wss.on('connection', (ws, req) => {
  const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? ''
  sockets.set(id, ws)
  ws.on('message', (raw) => {
    const text = raw.toString()
    const to = (JSON.parse(text) as { to: string }).to
    sockets.get(to)?.send(text)
  })
  ws.on('close', () => sockets.delete(id))
})
wss.on('listening', () => {
  process.stdout.write(`${JSON.stringify({ port: (wss.address() as { port: number }).port })}\n`)
})
process.on('SIGTERM', () => wss.close(() => process.exit(0)))
process.on('disconnect', () => process.exit(0))
