/**
 * The headless bridge: outside Electron (no preload), `window.im` is defined here over the headless
 * host's local WebSocket. The page URL carries the per-launch token in its fragment; it is moved to
 * sessionStorage and removed from the address bar so it is not shared by copying the URL.
 * The API shape is the same ImApi the Electron preload exposes, so the app cannot tell the hosts apart.
 */
import { Code, type Result } from '../../../shared/codes'
import { operationNames, type EventName, type ImApi, type IpcEvents } from '../../../shared/ipc'

const TOKEN_KEY = 'im.headless.token'

interface Call {
  resolve(result: Result<unknown>): void
}

function takeToken(): string | null {
  const match = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(window.location.hash)
  if (match?.[1]) {
    sessionStorage.setItem(TOKEN_KEY, match[1])
    history.replaceState(null, '', window.location.pathname + window.location.search)
    return match[1]
  }
  return sessionStorage.getItem(TOKEN_KEY)
}

function createBridge(token: string): ImApi {
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/ipc?token=${token}`
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  const pending = new Map<number, Call>()
  const queue: string[] = []
  let nextId = 1
  let socket: WebSocket
  let retry = 250

  const connect = (): void => {
    socket = new WebSocket(url)
    socket.onopen = () => {
      retry = 250
      for (const frame of queue.splice(0)) socket.send(frame)
    }
    socket.onmessage = (e) => {
      let frame: {
        type?: string
        id?: number | null
        result?: Result<unknown>
        event?: EventName
        payload?: unknown
      }
      try {
        frame = JSON.parse(String(e.data)) as typeof frame
      } catch {
        return
      }
      if (frame.type === 'result' && typeof frame.id === 'number') {
        pending.get(frame.id)?.resolve(frame.result as Result<unknown>)
        pending.delete(frame.id)
      } else if (frame.type === 'event' && frame.event) {
        for (const handler of listeners.get(frame.event) ?? []) handler(frame.payload as never)
      }
    }
    socket.onclose = () => {
      // The engine lives on in the host process; calls in flight are answered as failed.
      for (const call of pending.values()) {
        call.resolve({ code: Code.SERVER_UNREACHABLE, msg: 'lost the connection to the app engine' })
      }
      pending.clear()
      setTimeout(connect, retry)
      retry = Math.min(retry * 2, 5000)
    }
  }
  connect()

  const call = (op: string, args: unknown[]): Promise<Result<unknown>> =>
    new Promise((resolve) => {
      const id = nextId++
      pending.set(id, { resolve })
      const frame = JSON.stringify({ id, op, args })
      if (socket.readyState === WebSocket.OPEN) socket.send(frame)
      else queue.push(frame)
    })

  const api: Record<string, unknown> = Object.fromEntries(
    operationNames.map((op) => [op, (...args: unknown[]) => call(op, args)]),
  )
  api.on = <E extends EventName>(event: E, handler: (payload: IpcEvents[E]) => void): (() => void) => {
    const set = listeners.get(event) ?? new Set()
    listeners.set(event, set)
    const h = handler as (payload: never) => void
    set.add(h)
    return () => set.delete(h)
  }
  return Object.freeze(api) as ImApi
}

/** Defines window.im when the page runs outside Electron; in Electron the preload already did. */
export async function ensureImApi(): Promise<void> {
  if ('im' in window && window.im) return
  const token = takeToken()
  if (!token) throw new Error('This page was opened without its launch token: use the URL the host printed.')
  Object.defineProperty(window, 'im', { value: createBridge(token), writable: false, configurable: false })
}
