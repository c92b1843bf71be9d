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
import { app, BrowserWindow, ipcMain, Notification, session, shell, type IpcMainInvokeEvent } from 'electron'
import { Code, fail } from '../shared/codes'
import {
  IPC_CALL_PREFIX,
  IPC_EVENT_CHANNEL,
  eventNames,
  operationNames,
  type NotificationRequest,
} from '../shared/ipc'
import { Engine } from './engine/engine'
import { createDispatcher, createHandlerTable } from './hosts/handlers'
import { badgeCount } from './hosts/unreadBadge'
import { isOpenableLink } from '../shared/links'

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
  // No window ever opens in the app; a link of a message (http or https, no credentials: the rule
  // of src/shared/links.ts) goes to the system browser, nothing else.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (isOpenableLink(url)) void shell.openExternal(url)
    return { action: 'deny' }
  })
  void win.loadFile(rendererFile)
  return win
}

/** Shown notifications, kept referenced until closed: a collected one loses its click handler. */
const notifications = new Set<Notification>()
/** Issue 15: the open notifications that have a tag (a reminder), so the renderer can close them. */
const tagged = new Map<string, Notification>()

/**
 * A system notification of a new message (issue 13). The renderer decides when and with which
 * words (it knows the open chat, the focus, the locale and the privacy setting). A click brings the
 * window forward and tells the renderer which chat to open; nothing here reads a message, so a
 * notification never sends a read receipt. Silent: the renderer plays the app's own sound.
 */
function showNotification(engine: Engine, win: BrowserWindow, request: NotificationRequest): boolean {
  if (!Notification.isSupported()) return false
  const notification = new Notification({ title: request.title, body: request.body, silent: true })
  notifications.add(notification)
  notification.on('click', () => {
    if (win.isDestroyed()) return
    if (win.isMinimized()) win.restore()
    win.show()
    win.focus()
    engine.emit('notificationClicked', request.conversation)
  })
  notification.on('close', () => {
    notifications.delete(notification)
    if (request.tag && tagged.get(request.tag) === notification) tagged.delete(request.tag)
  })
  if (request.tag) {
    // One per tag: a newer reminder of the same message replaces the older.
    tagged.get(request.tag)?.close()
    tagged.set(request.tag, notification)
  }
  notification.show()
  return true
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
    // Files and images (H3): the preload turns picked files into paths; downloads go where the OS says.
    files: {
      acceptPaths: true,
      downloadsDir: process.env.IM_DOWNLOADS_DIR ?? app.getPath('downloads'),
      shell: {
        open: async (path) => {
          const error = await shell.openPath(path)
          if (error) throw new Error(error)
        },
        reveal: (path) => shell.showItemInFolder(path),
      },
    },
  })
  // The window is made below; a notification asked for before it exists is not shown.
  const shown: { win?: BrowserWindow } = {}
  const dispatch = createDispatcher(
    createHandlerTable(engine, {
      showNotification: (request) => (shown.win ? showNotification(engine, shown.win, request) : false),
      closeNotification: (tag) => tagged.get(tag)?.close(),
    }),
  )
  for (const op of operationNames) {
    ipcMain.handle(IPC_CALL_PREFIX + op, (event, args: unknown) =>
      isOwnFrame(event) ? dispatch(op, args) : fail(Code.PERMISSION_DENIED, 'IPC from an unknown frame'),
    )
  }

  const mainWindow = createWindow()
  shown.win = mainWindow
  for (const name of eventNames) {
    engine.on(name, (payload: unknown) => {
      if (!mainWindow.isDestroyed()) mainWindow.webContents.send(IPC_EVENT_CHANNEL, name, payload)
    })
  }
  engine.on('conversationChanged', () => {
    app.setBadgeCount(badgeCount(engine.store?.listConversations() ?? []))
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
