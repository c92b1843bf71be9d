/**
 * The Electron shell (src/main/index.ts) and the preload, run against a stand-in of the electron
 * module (no Electron binary exists on our machines): the window's web preferences, navigation and
 * new windows blocked, permissions denied, IPC answered only for the app's own page, and a preload
 * that exposes named functions only. The renderer's CSP is checked from its index.html.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Code } from '../../src/shared/codes'
import { IPC_CALL_PREFIX, IPC_EVENT_CHANNEL, eventNames, operationNames } from '../../src/shared/ipcNames'

type Handler = (...args: unknown[]) => unknown

const fake = vi.hoisted(() => {
  const handlers = new Map<string, (...args: unknown[]) => unknown>()
  const windows: {
    options: Record<string, unknown>
    webContents: Record<string, unknown>
    on: Map<string, (...args: unknown[]) => unknown>
    openHandler?: (d: { url: string }) => unknown
  }[] = []
  const appListeners = new Map<string, (...args: unknown[]) => unknown>()
  const exposed = new Map<string, unknown>()
  const loaded: string[] = []
  const rendererListeners: ((...args: unknown[]) => unknown)[] = []
  const state = {
    userData: '',
    permissionRequest: undefined as undefined | ((...args: unknown[]) => unknown),
    permissionCheck: undefined as undefined | ((...args: unknown[]) => unknown),
  }
  const openExternal = vi.fn(() => Promise.resolve())
  const invoke = vi.fn((..._args: unknown[]) => Promise.resolve({ code: 0 }))
  /** Files the user picked or dropped, and their paths on disk, as webUtils would know them (H3). */
  const pickedPaths = new WeakMap<object, string>()
  class BrowserWindow {
    webContents: Record<string, unknown>
    constructor(readonly options: Record<string, unknown>) {
      const on = new Map<string, (...args: unknown[]) => unknown>()
      const entry: (typeof windows)[number] = { options, on, webContents: {} }
      this.webContents = {
        on: (event: string, fn: (...args: unknown[]) => unknown) => on.set(event, fn),
        setWindowOpenHandler: (fn: (d: { url: string }) => unknown) => (entry.openHandler = fn),
        send: () => undefined,
      }
      entry.webContents = this.webContents
      windows.push(entry)
    }
    once(): void {}
    show(): void {}
    isDestroyed(): boolean {
      return false
    }
    loadFile(file: string): Promise<void> {
      loaded.push(file)
      return Promise.resolve()
    }
  }
  const electron = {
    app: {
      isPackaged: false,
      getPath: () => state.userData,
      setPath: () => undefined,
      requestSingleInstanceLock: () => true,
      quit: () => undefined,
      whenReady: () => Promise.resolve(),
      getVersion: () => '0.0.0-test',
      on: (event: string, fn: (...args: unknown[]) => unknown) => appListeners.set(event, fn),
      setBadgeCount: () => true,
    },
    BrowserWindow,
    ipcMain: { handle: (channel: string, fn: (...args: unknown[]) => unknown) => handlers.set(channel, fn) },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: (...args: unknown[]) => unknown) => (state.permissionRequest = fn),
        setPermissionCheckHandler: (fn: (...args: unknown[]) => unknown) => (state.permissionCheck = fn),
      },
    },
    shell: { openExternal },
    contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
    webUtils: { getPathForFile: (file: object) => pickedPaths.get(file) ?? '' },
    ipcRenderer: {
      invoke,
      on: (_channel: string, fn: (...args: unknown[]) => unknown) => rendererListeners.push(fn),
      removeListener: (_channel: string, fn: (...args: unknown[]) => unknown) =>
        rendererListeners.splice(rendererListeners.indexOf(fn), 1),
    },
  }
  return {
    electron,
    handlers,
    windows,
    appListeners,
    exposed,
    loaded,
    rendererListeners,
    state,
    openExternal,
    invoke,
    pickedPaths,
  }
})

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }))

const rendererUrl = pathToFileURL(join(import.meta.dirname, '../../src/renderer/index.html')).href
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'im-shell-'))
  fake.state.userData = dir
  await import('../../src/main/index')
  await import('../../src/preload/index')
  // The shell wires everything in app.whenReady().then(…): one more turn.
  await Promise.resolve()
})
afterAll(() => {
  for (const fn of fake.appListeners.values()) if (fn.length === 0) void fn()
  rmSync(dir, { recursive: true, force: true })
})

describe('Electron shell', () => {
  it('opens its window sandboxed, context-isolated, without Node, webviews or middle-click windows', () => {
    expect(fake.windows).toHaveLength(1)
    // It loads the app's own page from disk, never a remote URL.
    expect(fake.loaded.map((f) => pathToFileURL(f).href)).toEqual([rendererUrl])
    expect(fake.windows[0]?.options.webPreferences).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      disableBlinkFeatures: 'Auxclick',
    })
    const prefs = fake.windows[0]?.options.webPreferences as Record<string, unknown>
    for (const risky of [
      'nodeIntegrationInWorker',
      'nodeIntegrationInSubFrames',
      'allowRunningInsecureContent',
      'experimentalFeatures',
    ])
      expect(prefs[risky] ?? false, risky).toBe(false)
  })

  it('blocks navigation and new windows; only a plain http(s) link goes to the system browser', () => {
    const win = fake.windows[0]
    const prevented = vi.fn()
    ;(win?.on.get('will-navigate') as Handler)({ preventDefault: prevented }, 'https://evil.example')
    ;(win?.on.get('will-attach-webview') as Handler)({ preventDefault: prevented })
    expect(prevented).toHaveBeenCalledTimes(2)
    for (const url of [
      'https://example.org/a',
      'http://example.org',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://user:pw@example.org',
      'smb://host/share',
    ])
      expect(win?.openHandler?.({ url }), url).toEqual({ action: 'deny' })
    // A message's links (issue 13): http and https, never with credentials (src/shared/links.ts).
    expect(fake.openExternal.mock.calls).toEqual([['https://example.org/a'], ['http://example.org']])

    // Any other web contents (a devtools window, say) gets the same treatment.
    const contents = { on: vi.fn(), setWindowOpenHandler: vi.fn() }
    ;(fake.appListeners.get('web-contents-created') as Handler)({}, contents)
    const [[event, onNavigate]] = contents.on.mock.calls as [[string, Handler]]
    expect(event).toBe('will-navigate')
    const stop = vi.fn()
    onNavigate({ preventDefault: stop })
    expect(stop).toHaveBeenCalled()
    const [[openHandler]] = contents.setWindowOpenHandler.mock.calls as [[Handler]]
    expect(openHandler({ url: 'https://example.org' })).toEqual({ action: 'deny' })
  })

  it('denies every permission request and check', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'openExternal']) {
      const callback = vi.fn()
      fake.state.permissionRequest?.({}, permission, callback)
      expect(callback).toHaveBeenCalledWith(false)
      expect(fake.state.permissionCheck?.({}, permission)).toBe(false)
    }
  })

  it('answers IPC only from its own page, and validates arguments there', async () => {
    expect([...fake.handlers.keys()].sort()).toEqual(operationNames.map((op) => IPC_CALL_PREFIX + op).sort())
    const call = fake.handlers.get(`${IPC_CALL_PREFIX}getConnectionState`) as Handler
    for (const url of ['https://evil.example/', `${rendererUrl}.evil.html`, 'file:///tmp/other.html', ''])
      expect(await call({ senderFrame: { url } }, []), url).toMatchObject({ code: Code.PERMISSION_DENIED })
    expect(await call({ senderFrame: null }, [])).toMatchObject({ code: Code.PERMISSION_DENIED })
    expect(await call({ senderFrame: { url: rendererUrl } }, [])).toEqual({
      code: 0,
      data: { state: 'signedOut' },
    })
    expect(await call({ senderFrame: { url: `${rendererUrl}#/chat` } }, [])).toMatchObject({ code: 0 })
    const send = fake.handlers.get(`${IPC_CALL_PREFIX}sendMessage`) as Handler
    expect(await send({ senderFrame: { url: rendererUrl } }, [{ type: 'private' }, 42])).toMatchObject({
      code: Code.INVALID_ARGUMENT,
    })
  })
})

describe('preload', () => {
  it('exposes one named function per operation and on(), nothing else', async () => {
    const api = fake.exposed.get('im') as Record<string, unknown>
    expect([...fake.exposed.keys()]).toEqual(['im'])
    expect(Object.keys(api).sort()).toEqual([...operationNames, 'on'].sort())
    for (const op of operationNames) expect(typeof api[op]).toBe('function')
    await (api.sendMessage as Handler)({ type: 'private', targetId: 'bob' }, { type: 'text', text: 'hi' })
    expect(fake.invoke).toHaveBeenLastCalledWith(`${IPC_CALL_PREFIX}sendMessage`, [
      { type: 'private', targetId: 'bob' },
      { type: 'text', text: 'hi' },
    ])
  })

  it('sendFile: a path only from a File the user picked (webUtils), any other file staged as bytes', async () => {
    const api = fake.exposed.get('im') as Record<string, Handler>
    const chat = { type: 'private', targetId: 'bob' }
    const picked = new File(['abc'], 'a.txt')
    fake.pickedPaths.set(picked, '/home/me/a.txt')
    await api.sendFile?.(chat, picked, { name: 'a.txt' }, undefined)
    expect(fake.invoke).toHaveBeenLastCalledWith(`${IPC_CALL_PREFIX}sendFile`, [
      chat,
      { kind: 'path', path: '/home/me/a.txt' },
      { name: 'a.txt' },
      undefined,
    ])
    // A page-made object that claims a path is no File: its bytes are staged, its "path" never sent.
    fake.invoke.mockClear()
    fake.invoke.mockImplementation((channel: unknown) =>
      Promise.resolve(
        channel === `${IPC_CALL_PREFIX}stageFileChunk`
          ? { code: 0, data: { stageId: 'S'.repeat(22), size: 4 } }
          : { code: 0 },
      ),
    )
    const forged = {
      name: 'passwd',
      size: 4,
      type: '',
      path: '/etc/passwd',
      slice: () => ({ arrayBuffer: () => Promise.resolve(new TextEncoder().encode('evil').buffer) }),
    }
    await api.sendFile?.(chat, forged, { name: 'passwd' }, undefined)
    expect(fake.invoke.mock.calls.map((c) => c[0])).toEqual([
      `${IPC_CALL_PREFIX}stageFileChunk`,
      `${IPC_CALL_PREFIX}sendFile`,
    ])
    expect(fake.invoke.mock.calls[1]?.[1]).toEqual([
      chat,
      { kind: 'staged', stageId: 'S'.repeat(22) },
      { name: 'passwd' },
      undefined,
    ])
    fake.invoke.mockImplementation(() => Promise.resolve({ code: 0 }))
  })

  it('on() accepts known events only and returns the function that removes that very listener', () => {
    const api = fake.exposed.get('im') as { on: (event: string, fn: (p: unknown) => void) => () => void }
    expect(() => api.on('not-an-event', () => undefined)).toThrow(/unknown event/)
    const got: unknown[] = []
    const off = api.on(eventNames[0], (p) => got.push(p))
    const listener = fake.rendererListeners.at(-1) as Handler
    listener({}, eventNames[0], 'payload')
    listener({}, eventNames[1], 'other event')
    expect(got).toEqual(['payload'])
    off()
    expect(fake.rendererListeners).not.toContain(listener)
    expect(IPC_EVENT_CHANNEL).toBe('im:event')
  })
})

describe('renderer content security policy', () => {
  const html = readFileSync(join(import.meta.dirname, '../../src/renderer/index.html'), 'utf8')
  const policy = /http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? ''
  const directives = new Map(
    policy
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name as string, values]),
  )

  it('loads scripts from the app only, no eval, no plugins, no remote content', () => {
    expect(directives.get('default-src')).toEqual(["'self'"])
    expect(directives.get('script-src')).toEqual(["'self'"])
    expect(directives.get('object-src')).toEqual(["'none'"])
    expect(directives.get('base-uri')).toEqual(["'none'"])
    expect(policy).not.toMatch(/unsafe-eval|wasm-unsafe-eval/)
    // No wildcard and no remote origin anywhere.
    for (const [name, sources] of directives)
      for (const source of sources) expect(source, name).not.toMatch(/^(\*|https?:|wss?:$|blob:)/)
    // Sockets only to the app itself and the loopback headless host.
    for (const source of directives.get('connect-src') ?? [])
      expect(source).toMatch(/^('self'|ws:\/\/(127\.0\.0\.1|localhost):\*)$/)
  })
})
