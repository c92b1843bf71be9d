/**
 * Sending files and images (issue 13, H3): the file is read from disk as a stream and uploaded to
 * the server in chunks; each confirmed offset is kept in SQLite (store/attachments.ts), so after a
 * lost connection or a restart the upload asks the server where it stands and goes on from there.
 * Once complete, the message is written with its send job in the same transaction that forgets
 * the upload, and the outbox sends it like any other message.
 *
 * Where the bytes come from: a path (Electron: the preload turns the File the user picked or
 * dropped into its path, webUtils.getPathForFile) or a staged copy that the page streamed to its
 * host in chunks (stageChunk: the headless host, and pasted images that have no path). A host that
 * serves a browser page does not accept paths (`acceptPaths` false): a page must not name files of
 * the host's disk.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { appendFile, mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { Code, CodedError, type Result } from '../../../shared/codes'
import {
  CHUNK_CONTENT_TYPE,
  CreatedUpload,
  FILES_PATH,
  UPLOAD_OFFSET_HEADER,
  UploadState,
} from '../../../shared/files'
import type { AttachmentMeta, FileSource, UploadView } from '../../../shared/ipc'
import { newClientMsgId } from '../../../shared/clientMsgId'
import type { AttachmentContent, Conversation } from '../../../shared/model'
import { emitChanged, emitConversations, type EngineContext } from '../context'
import type { UploadRecord } from '../store/attachments'
import { fileCall, type FileServer } from './transfer'

/** Bytes per PATCH: each confirmed chunk is a point to resume from. */
const DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024
/** The most a page may stage with its host (the server's own limit applies on top). */
export const MAX_STAGED_BYTES = 4 * 1024 * 1024 * 1024
const STAGE_ID = /^[A-Za-z0-9_-]{22}$/
/** Progress events at most this often per transfer. */
const PROGRESS_MS = 100

export interface UploadsConfig {
  /** The node to talk to now, and the session's token; undefined while signed out. */
  server(): FileServer | undefined
  /** Where pages stage their files (the profile's `staging` folder). */
  stagingDir: string
  acceptPaths: boolean
  chunkBytes?: number
  /** Pause before trying again after a network failure while the link stays up. */
  retryMs?: number
}

function toUploadView(u: UploadRecord): UploadView {
  return {
    uploadId: u.localId,
    conversation: u.conversation,
    name: u.name,
    size: u.size,
    mime: u.mime,
    kind: u.kind,
    sent: u.offset,
    state: u.state,
    ...(u.failure ? { failure: u.failure } : {}),
    ...(u.image ? { thumbnail: u.image.thumbnail } : {}),
  }
}

class NotConnected extends Error {}

export class Uploads {
  private running: Promise<void> | undefined
  private current: { localId: number; abort: AbortController } | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private closed = false

  constructor(
    private readonly ctx: EngineContext,
    private readonly config: UploadsConfig,
  ) {}

  private get store() {
    return this.ctx.store.attachments
  }

  list(): UploadView[] {
    return this.store.uploads().map(toUploadView)
  }

  private changed(): void {
    this.ctx.emit('uploadsChanged', this.list())
  }

  // ---- staging (pages hand their bytes to the host) --------------------------------------

  /** Appends a chunk of a page's file to its staged copy; the first chunk (no id) starts one. */
  async stageChunk(
    stageId: string | undefined,
    offset: number,
    base64: string,
  ): Promise<{ stageId: string; size: number }> {
    const id = stageId ?? randomBytes(16).toString('base64url')
    if (!STAGE_ID.test(id)) throw new CodedError(Code.INVALID_ARGUMENT, 'not a stage id')
    const bytes = Buffer.from(base64, 'base64')
    const path = join(this.config.stagingDir, id)
    await mkdir(this.config.stagingDir, { recursive: true, mode: 0o700 })
    const size =
      stageId === undefined
        ? 0
        : await stat(path).then(
            (s) => s.size,
            () => -1,
          )
    if (size < 0) throw new CodedError(Code.FILE_NOT_FOUND, 'no such staged file')
    if (size !== offset)
      throw new CodedError(Code.UPLOAD_OFFSET_MISMATCH, `the staged file holds ${size} bytes`)
    if (size + bytes.length > MAX_STAGED_BYTES) throw new CodedError(Code.FILE_TOO_LARGE)
    await appendFile(path, bytes, { mode: 0o600, flag: stageId === undefined ? 'wx' : 'a' })
    return { stageId: id, size: size + bytes.length }
  }

  /** Removes staged copies that no upload uses (left by a page that went away mid-way). */
  async sweepStaging(): Promise<void> {
    const used = new Set(
      this.store
        .uploads()
        .filter((u) => u.staged)
        .map((u) => u.path),
    )
    const names = await readdir(this.config.stagingDir).catch(() => [] as string[])
    for (const name of names) {
      const path = join(this.config.stagingDir, name)
      if (!used.has(path)) await rm(path, { force: true })
    }
  }

  // ---- sending ---------------------------------------------------------------------------

  async send(
    c: Conversation,
    source: FileSource,
    meta: AttachmentMeta,
    options: { isNeedGroupAck: boolean; channelId: string },
  ): Promise<UploadView> {
    if (c.type === 'private' && c.targetId === this.ctx.me) throw new CodedError(Code.CANNOT_CHAT_WITH_SELF)
    let path: string
    if (source.kind === 'path') {
      if (!this.config.acceptPaths)
        throw new CodedError(Code.PERMISSION_DENIED, 'this host takes files from its page only (staged)')
      path = resolve(source.path)
    } else {
      path = join(this.config.stagingDir, source.stageId)
    }
    const info = await stat(path).catch(() => undefined)
    if (!info?.isFile()) throw new CodedError(Code.LOCAL_FILE_UNREADABLE, 'no such file')
    const kind = meta.image && meta.mime.toLowerCase().startsWith('image/') ? 'image' : 'file'
    const upload = this.store.insertUpload({
      conversation: c,
      channelId: options.channelId,
      isNeedGroupAck: c.type === 'group' && options.isNeedGroupAck,
      path,
      staged: source.kind === 'staged',
      name: meta.name,
      size: info.size,
      mime: meta.mime,
      kind,
      mtimeMs: info.mtimeMs,
      image: kind === 'image' && meta.image ? meta.image : null,
      createdAt: this.ctx.now(),
    })
    this.changed()
    this.resume()
    return toUploadView(upload)
  }

  async cancel(localId: number): Promise<void> {
    const upload = this.store.upload(localId)
    if (!upload) return
    if (this.current?.localId === localId) this.current.abort.abort()
    this.store.deleteUpload(localId)
    if (upload.staged) await rm(upload.path, { force: true })
    this.changed()
    const server = this.config.server()
    if (upload.fileId && server) void fileCall(server, 'DELETE', `${FILES_PATH}/${upload.fileId}`)
  }

  retry(localId: number, asFile = false): void {
    const upload = this.store.upload(localId)
    if (!upload || upload.state !== 'failed') return
    if (asFile) this.store.sendAsFile(localId)
    // A refused upload (too large, gone) starts over; a local failure keeps what the server holds.
    this.store.retry(localId, upload.failure?.code !== Code.LOCAL_FILE_UNREADABLE)
    this.changed()
    this.resume()
  }

  /** Runs the uploads waiting (after a send, on each connection, after a pause). */
  resume(): void {
    if (this.closed || this.running) return
    clearTimeout(this.retryTimer)
    this.running = this.runAll().finally(() => {
      this.running = undefined
    })
  }

  /** Resolves when no upload is running (tests). */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve()
  }

  async close(): Promise<void> {
    this.closed = true
    clearTimeout(this.retryTimer)
    this.current?.abort.abort()
    await this.running
  }

  private async runAll(): Promise<void> {
    for (;;) {
      if (this.closed || !this.ctx.isCurrent() || !this.ctx.link()) return
      const next = this.store.uploads().find((u) => u.state === 'uploading')
      if (!next) return
      try {
        await this.runOne(next)
      } catch (error) {
        if (!(error instanceof NotConnected)) {
          // Anything unforeseen (a reply of the wrong shape, a disk error) fails this upload, in
          // words; it never ends the run for the others, nor the process.
          this.failUpload(next, Code.INTERNAL, error instanceof Error ? error.message : String(error))
          continue
        }
        // The link may still be up (the HTTP side failed): try again after a pause.
        if (!this.closed) {
          this.retryTimer = setTimeout(() => this.resume(), this.config.retryMs ?? 2000)
          this.retryTimer.unref?.()
        }
        return
      }
    }
  }

  private failUpload(u: UploadRecord, code: number, msg: string): void {
    this.store.fail(u.localId, code, msg)
    this.changed()
  }

  /** Unwraps a file API answer: network failures stop the run, refusals are returned. */
  private check<T>(result: Result<T>): Result<T> {
    if (result.code === Code.SERVER_UNREACHABLE) throw new NotConnected(result.msg)
    return result
  }

  private async runOne(u: UploadRecord): Promise<void> {
    const server = this.config.server()
    if (!server) throw new NotConnected()
    const info = await stat(u.path).catch(() => undefined)
    if (!info?.isFile() || info.size !== u.size || Math.trunc(info.mtimeMs) !== u.mtimeMs)
      return this.failUpload(
        u,
        Code.LOCAL_FILE_UNREADABLE,
        'The file was moved, deleted or changed since it was picked.',
      )
    let fileId = u.fileId
    let offset: number
    if (!fileId) {
      const created = this.check(
        await fileCall(server, 'POST', FILES_PATH, {
          json: { name: u.name, size: u.size, mime: u.mime, kind: u.kind },
        }),
      )
      if (created.code !== 0) return this.failUpload(u, created.code, created.msg)
      const parsed = CreatedUpload.parse(created.data)
      fileId = parsed.fileId
      offset = 0
      this.store.setFileId(u.localId, fileId)
    } else {
      // After a cut or a restart: the server says where it stands (it may hold more than we know).
      const state = this.check(await fileCall(server, 'GET', `${FILES_PATH}/${fileId}/upload`))
      if (state.code === Code.FILE_NOT_FOUND) {
        // Swept as stale on the server, or it lost it: start over.
        this.store.retry(u.localId, true)
        return
      }
      if (state.code !== 0) return this.failUpload(u, state.code, state.msg)
      offset = UploadState.parse(state.data).offset
      this.store.setOffset(u.localId, offset)
    }
    const abort = new AbortController()
    this.current = { localId: u.localId, abort }
    try {
      let lastEmit = 0
      while (offset < u.size) {
        if (!this.store.upload(u.localId)) return // cancelled
        const end = Math.min(u.size, offset + (this.config.chunkBytes ?? DEFAULT_CHUNK_BYTES))
        const body = createReadStream(u.path, { start: offset, end: end - 1 })
        let sent = offset
        body.on('data', (chunk) => {
          sent += chunk.length
          const now = Date.now()
          if (now - lastEmit >= PROGRESS_MS) {
            lastEmit = now
            this.ctx.emit('transferProgress', {
              kind: 'upload',
              id: String(u.localId),
              done: sent,
              total: u.size,
            })
          }
        })
        const answer = await fileCall(server, 'PATCH', `${FILES_PATH}/${fileId}`, {
          body,
          headers: {
            'content-type': CHUNK_CONTENT_TYPE,
            'content-length': String(end - offset),
            [UPLOAD_OFFSET_HEADER]: String(offset),
          },
          signal: abort.signal,
        })
        if (abort.signal.aborted) return
        this.check(answer)
        if (answer.code === Code.UPLOAD_OFFSET_MISMATCH) return // asked again on the next round
        if (answer.code !== 0) return this.failUpload(u, answer.code, answer.msg)
        offset = UploadState.parse(answer.data).offset
        this.store.setOffset(u.localId, offset)
        this.ctx.emit('transferProgress', {
          kind: 'upload',
          id: String(u.localId),
          done: offset,
          total: u.size,
        })
      }
      if (!this.store.upload(u.localId)) return
      this.finish(u, fileId)
    } finally {
      this.current = undefined
    }
  }

  /** The upload is complete: write its message (and send job), forget the upload. */
  private finish(u: UploadRecord, fileId: string): void {
    const file = { fileId, name: u.name, size: u.size, mime: u.mime }
    const content: AttachmentContent =
      u.kind === 'image' && u.image ? { type: 'image', ...file, ...u.image } : { type: 'file', ...file }
    const now = this.ctx.now()
    const c = u.conversation
    const message = this.store.completeUpload(u.localId, {
      me: this.ctx.me,
      clientMsgId: newClientMsgId(now),
      conversation: c,
      channelId: u.channelId,
      content,
      isNeedGroupAck: u.isNeedGroupAck,
      now,
      title: c.type === 'private' ? (this.ctx.store.displayName(c.targetId) ?? c.targetId) : '',
    })
    if (u.staged) void rm(u.path, { force: true })
    emitChanged(this.ctx, [message])
    emitConversations(this.ctx, [c])
    this.changed()
    this.ctx.kickOutbox()
  }
}
