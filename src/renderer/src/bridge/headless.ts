/**
 * The headless bridge: outside Electron (no preload), `window.im` is defined here over the headless
 * host's local WebSocket. The page URL carries the per-launch token in its fragment; it is moved to
 * sessionStorage and removed from the address bar so it is not shared by copying the URL.
 * The API shape is the same ImApi the Electron preload exposes, so the app cannot tell the hosts apart.
 */
import { Code, fail, type Result } from '../../../shared/codes'
import {
  HEADLESS_IPC_PATH,
  HeadlessHostFrame,
  headlessFrameId,
  type HeadlessCallFrame,
} from '../../../shared/headless'
import {
  operationNames,
  type EventName,
  type ImApi,
  type IpcEvents,
  type PickedFile,
} from '../../../shared/ipc'
import { stageFile } from '../../../shared/staging'

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
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}${HEADLESS_IPC_PATH}?token=${token}`
  const listeners = new Map<EventName, Set<(payload: never) => void>>()
  const pending = new Map<number, Call>()
  const queue: string[] = []
  let nextId = 1
  let socket: WebSocket
  let retry = 250

  const settle = (id: number, result: Result<unknown>): void => {
    pending.get(id)?.resolve(result)
    pending.delete(id)
  }

  const connect = (): void => {
    socket = new WebSocket(url)
    socket.onopen = () => {
      retry = 250
      for (const frame of queue.splice(0)) socket.send(frame)
    }
    socket.onmessage = (e) => {
      // A frame this bridge cannot read is dropped with a warning; it never throws into the app.
      let data: unknown
      try {
        data = JSON.parse(String(e.data))
      } catch {
        console.warn('headless bridge: ignored a frame that is not JSON')
        return
      }
      const parsed = HeadlessHostFrame.safeParse(data)
      if (!parsed.success) {
        console.warn('headless bridge: ignored a malformed frame:', parsed.error.issues[0]?.message)
        // A result for a call of ours fails that call now rather than leaving it waiting forever.
        const id = (data as { type?: unknown } | null)?.type === 'result' ? headlessFrameId(data) : null
        if (id !== null) settle(id, fail(Code.BAD_FRAME, 'the app engine sent a malformed result'))
        return
      }
      const frame = parsed.data
      if (frame.type === 'result') {
        if (frame.id === null) console.warn('headless bridge: the host refused a call:', frame.result.msg)
        else settle(frame.id, frame.result)
      } else {
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
      const frame: HeadlessCallFrame = { type: 'call', id, op, args }
      const text = JSON.stringify(frame)
      if (socket.readyState === WebSocket.OPEN) socket.send(text)
      else queue.push(text)
    })

  const api: Record<string, unknown> = Object.fromEntries(
    operationNames.map((op) => [op, (...args: unknown[]) => call(op, args)]),
  )
  // Files and images (H3): a browser page has no paths; it streams the file's bytes to its host.
  api.sendFile = async (conversation: unknown, file: PickedFile, meta: unknown, options: unknown) => {
    const stage: Parameters<typeof stageFile>[1] = (stageId, offset, base64) =>
      call('stageFileChunk', [stageId ?? null, offset, base64]) as ReturnType<typeof stage>
    const source = await stageFile(file, stage)
    if (source.code !== 0) return source
    return call('sendFile', [conversation, source.data, meta, options ?? null])
  }
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
