/**
 * The Electron shell: app lifecycle, the window, and ipcMain wired to the engine's handler table.
 * This is the only main-process file that imports electron; the engine is plain Node.
 *
 *   electron . --profile <dir> [--server ws://127.0.0.1:7700/ws] [--allow-insecure]
 *
 * `--allow-insecure` lets the engine sign in over ws:// or http:// to another machine (the password
 * in clear); without it that is refused with INSECURE_TRANSPORT.
 */
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { app, BrowserWindow, ipcMain, session, shell, type IpcMainInvokeEvent } from 'electron'
import { Code, fail } from '../shared/codes'
import { IPC_CALL_PREFIX, IPC_EVENT_CHANNEL, eventNames, operationNames } from '../shared/ipc'
import { Engine } from './engine/engine'
import { createDispatcher, createHandlerTable } from './hosts/handlers'

const { values } = parseArgs({
  args: process.argv.slice(app.isPackaged ? 1 : 2),
  options: {
    profile: { type: 'string' },
    server: { type: 'string', default: 'ws://127.0.0.1:7700/ws' },
    'allow-insecure': { type: 'boolean', default: false },
  },
  strict: false,
})

const profileDir =
  typeof values.profile === 'string' ? values.profile : join(app.getPath('userData'), 'profiles', 'default')
// Each profile is its own Electron user-data folder, so several accounts run side by side.
app.setPath('userData', join(profileDir, 'electron'))

if (!app.requestSingleInstanceLock()) app.quit()

const rendererFile = join(import.meta.dirname, '../renderer/index.html')
const rendererUrl = new URL(`file://${rendererFile}`).href

function isOwnFrame(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? ''
  return url === rendererUrl || url.startsWith(`${rendererUrl}#`) || url.startsWith(`${rendererUrl}?`)
}

function isPlainHttpsUrl(text: string): boolean {
  try {
    const url = new URL(text)
    return url.protocol === 'https:' && url.username === '' && url.password === ''
  } catch {
    return false
  }
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1100,
    height: 720,
    minWidth: 720,
    minHeight: 480,
    show: false,
    title: 'Messenger',
    webPreferences: {
      preload: join(import.meta.dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
      // A middle click must not open a link in a new window (electronegativity AUXCLICK_JS_CHECK).
      disableBlinkFeatures: 'Auxclick',
    },
  })
  win.once('ready-to-show', () => win.show())
  win.webContents.on('will-navigate', (e) => e.preventDefault())
  win.webContents.on('will-attach-webview', (e) => e.preventDefault())
  // No window ever opens in the app; a plain https link goes to the system browser, nothing else.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isPlainHttpsUrl(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  void win.loadFile(rendererFile)
  return win
}

void app.whenReady().then(async () => {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  session.defaultSession.setPermissionCheckHandler(() => false)

  const nativeBinding = app.isPackaged
    ? join(process.resourcesPath, 'native', 'better_sqlite3.node')
    : join(import.meta.dirname, '../native/better_sqlite3.node')
  const engine = new Engine({
    profileDir,
    host: 'electron',
    version: app.getVersion(),
    defaultServerUrl: String(values.server),
    allowInsecureTransport: values['allow-insecure'] === true,
    nativeBinding,
  })
  const dispatch = createDispatcher(createHandlerTable(engine))
  for (const op of operationNames) {
    ipcMain.handle(IPC_CALL_PREFIX + op, (event, args: unknown) =>
      isOwnFrame(event) ? dispatch(op, args) : fail(Code.PERMISSION_DENIED, 'IPC from an unknown frame'),
    )
  }

  const win = createWindow()
  for (const name of eventNames) {
    engine.on(name, (payload: unknown) => {
      if (!win.isDestroyed()) win.webContents.send(IPC_EVENT_CHANNEL, name, payload)
    })
  }
  engine.on('conversationChanged', () => {
    const total = engine.store?.listConversations().reduce((n, c) => n + c.unreadCount, 0) ?? 0
    app.setBadgeCount(total)
  })
  engine.start()

  app.on('window-all-closed', () => {
    void engine.shutdown().then(() => app.quit())
  })
})

app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (e) => e.preventDefault())
  contents.setWindowOpenHandler(() => ({ action: 'deny' }))
})
