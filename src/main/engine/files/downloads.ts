/**
 * Downloading files and images of messages (issue 13, H3) to the user's Downloads folder: streamed
 * into `<name>.part` (resumed from its size when a download is asked again after a cut), then
 * renamed to the file's name, or `name (1).ext`, `name (2).ext`, … when that exists. The path is
 * kept (store/attachments.ts), so "Open" and "Show in folder" act only on what this app wrote.
 */
import { createWriteStream } from 'node:fs'
import { link, mkdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises'
import { basename, extname, join } from 'node:path'
import { Code, CodedError } from '../../../shared/codes'
import { FILES_PATH } from '../../../shared/files'
import type { DownloadView } from '../../../shared/ipc'
import type { AttachmentContent } from '../../../shared/model'
import type { EngineContext } from '../context'
import { fetchInto, type FileServer } from './transfer'

const PROGRESS_MS = 100
/** Pictures handed to the page whole (getImageData); larger ones are opened, not shown. */
const IMAGE_DATA_MAX = 32 * 1024 * 1024
const SHOWN_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp'])

export interface DownloadsConfig {
  server(): FileServer | undefined
  downloadsDir: string
  /** The host's shell, where it has one (Electron): open a file, show it in its folder. */
  shell?: { open(path: string): Promise<void>; reveal(path: string): void }
}

/** A name safe on every file system: no separators, controls or reserved characters. */
export function safeFileName(name: string): string {
  const cleaned = basename(name.replace(/\\/g, '/'))
    // eslint-disable-next-line no-control-regex -- control characters are exactly what must go from a file name
    .replace(/[\u0000-\u001f\u007f<>:"/\\|?*]/g, '_')
    .replace(/^[.\s]+|[.\s]+$/g, '')
  return cleaned === '' ? 'file' : cleaned.slice(0, 200)
}

/** Moves `from` to `dir/name`, or `name (n)` when taken; never replaces a file. */
async function placeUnique(from: string, dir: string, name: string): Promise<string> {
  const ext = extname(name)
  const stem = name.slice(0, name.length - ext.length)
  for (let n = 0; n < 1000; n++) {
    const target = join(dir, n === 0 ? name : `${stem} (${n})${ext}`)
    try {
      // A hard link fails when the target exists: no race with another writer of that name.
      await link(from, target)
      await unlink(from)
      return target
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') continue
      // File systems without hard links (FAT on a stick): a rename to a name nothing has.
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error
      if (
        await stat(target).then(
          () => true,
          () => false,
        )
      )
        continue
      await rename(from, target)
      return target
    }
  }
  throw new CodedError(Code.INTERNAL, 'no free file name in the downloads folder')
}

export class Downloads {
  private readonly running = new Map<string, Promise<DownloadView>>()

  constructor(
    private readonly ctx: EngineContext,
    private readonly config: DownloadsConfig,
  ) {}

  /** The attachment of a message here, or INVALID_ARGUMENT. */
  private attachment(messageId: string): { localId: number; content: AttachmentContent } {
    const localId = Number(messageId)
    const view = this.ctx.store.view(localId)
    const content = view?.content
    if (!view || !content) throw new CodedError(Code.MESSAGE_NOT_FOUND)
    if (content.type !== 'file' && content.type !== 'image')
      throw new CodedError(Code.INVALID_ARGUMENT, 'this message carries no file')
    return { localId, content }
  }

  get(messageId: string): DownloadView | null {
    const { localId, content } = this.attachment(messageId)
    const path = this.ctx.store.attachments.download(localId)
    return path ? { messageId, path, fileName: basename(path), size: content.size } : null
  }

  /** Downloads the message's file (once at a time per message); resolves with where it is. */
  download(messageId: string): Promise<DownloadView> {
    const running = this.running.get(messageId)
    if (running) return running
    const work = this.run(messageId).finally(() => this.running.delete(messageId))
    this.running.set(messageId, work)
    return work
  }

  private async run(messageId: string): Promise<DownloadView> {
    const { localId, content } = this.attachment(messageId)
    const server = this.config.server()
    if (!server) throw new CodedError(Code.SERVER_UNREACHABLE, 'not connected to the server')
    const dir = this.config.downloadsDir
    await mkdir(dir, { recursive: true })
    const part = join(dir, `.${content.fileId}.part`)
    const start = await stat(part).then(
      (s) => (s.size <= content.size ? s.size : 0),
      () => 0,
    )
    if (start === 0) await rm(part, { force: true })
    let done = start
    let lastEmit = 0
    const emit = (): void =>
      this.ctx.emit('transferProgress', { kind: 'download', id: messageId, done, total: content.size })
    const result = await fetchInto(
      server,
      `${FILES_PATH}/${content.fileId}`,
      start,
      createWriteStream(part, { flags: 'a' }),
      {
        onBytes: (n) => {
          done += n
          const now = Date.now()
          if (now - lastEmit >= PROGRESS_MS) {
            lastEmit = now
            emit()
          }
        },
      },
    )
    if (result.code !== 0) {
      // A refusal leaves nothing behind; a cut keeps the part to resume from.
      if (result.code !== Code.SERVER_UNREACHABLE) await rm(part, { force: true })
      throw new CodedError(result.code, result.msg)
    }
    const size = (await stat(part)).size
    if (size !== content.size) {
      await rm(part, { force: true })
      throw new CodedError(Code.INTERNAL, 'the download does not have the size the message says')
    }
    const path = await placeUnique(part, dir, safeFileName(content.name))
    this.ctx.store.attachments.setDownload(localId, path, this.ctx.now())
    done = content.size
    emit()
    return { messageId, path, fileName: basename(path), size }
  }

  /**
   * A downloaded image as a data URL, so that a page (which cannot read paths, least of all in a
   * browser) shows it whole. Only image messages, only types every browser decodes as pictures
   * (never SVG, which is a document), only up to IMAGE_DATA_MAX.
   */
  async imageData(messageId: string): Promise<string> {
    const { content } = this.attachment(messageId)
    const mime = content.mime.toLowerCase()
    if (content.type !== 'image' || !SHOWN_IMAGE_TYPES.has(mime))
      throw new CodedError(Code.INVALID_ARGUMENT, 'this message carries no picture to show')
    const found = this.get(messageId)
    const info = found && (await stat(found.path).catch(() => undefined))
    if (!found || !info) throw new CodedError(Code.FILE_NOT_FOUND, 'download the image first')
    if (info.size > IMAGE_DATA_MAX)
      throw new CodedError(Code.IMAGE_TOO_LARGE, 'too large to show here: open it')
    return `data:${mime};base64,${(await readFile(found.path)).toString('base64')}`
  }

  /** Opens the downloaded file, or shows it in its folder, where the host can. */
  async open(messageId: string, action: 'open' | 'reveal'): Promise<void> {
    const shell = this.config.shell
    if (!shell) throw new CodedError(Code.PERMISSION_DENIED, 'this host cannot open files')
    const found = this.get(messageId)
    if (!found || !(await stat(found.path).catch(() => undefined)))
      throw new CodedError(Code.FILE_NOT_FOUND, 'the downloaded file is no longer there')
    if (action === 'open') await shell.open(found.path)
    else shell.reveal(found.path)
  }
}
