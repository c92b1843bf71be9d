/**
 * The file endpoints (issue 13, H3; the protocol is in src/shared/files.ts): resumable uploads
 * streamed into the BlobStore, and downloads served only to whom may see the file.
 *
 * What the server promises (SECURITY.md):
 * - every call needs a live session (Bearer token); the owner of an upload is that session's user,
 *   never a field of the request;
 * - an upload is held to the server's size settings when it is created (FILE_TOO_LARGE,
 *   IMAGE_TOO_LARGE) and no chunk may carry it past its declared size;
 * - bytes stream from the socket to the store: a chunk is never held in memory whole;
 * - only the uploader touches an upload (chunks, offset, delete); a file is downloaded by its
 *   uploader, or by a member who can see a message that carries it (joined before it was sent, not
 *   left before), or, for a profile or group picture (H7), by whoever shares a current conversation
 *   with that user or is a current member of that group. Anyone else gets FILE_NOT_FOUND, as for a
 *   file that does not exist; a picture in use is not deleted by DELETE;
 * - a download is `application/octet-stream` with `Content-Disposition: attachment` and nosniff,
 *   whatever type the uploader declared, so a browser never renders it as a page of ours.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Code, CodedError } from '../../shared/codes'
import {
  CHUNK_CONTENT_TYPE,
  CreateUpload,
  FILES_PATH,
  filePath,
  UPLOAD_OFFSET_HEADER,
  type FileLimits,
  type UploadState,
} from '../../shared/files'
import type { Accounts } from '../accounts'
import { bearerToken } from '../gateway'
import { readJson, send, sendError } from '../httpApi'
import type { Logger } from '../log'
import type { FileRow, Storage } from '../storage/types'
import type { BlobStore } from './blobStore'
import { mayReadAvatar } from '../ops/avatars'

export const DEFAULT_FILE_LIMITS: FileLimits = {
  maxFileBytes: 200 * 1024 * 1024,
  maxImageBytes: 20 * 1024 * 1024,
}

/** Uploads left incomplete this long are deleted by the sweep (a client resumes well before). */
const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000

export interface FileApiDeps {
  storage: Storage
  accounts: Pick<Accounts, 'authenticate'>
  blobs: BlobStore
  limits: FileLimits
  log: Logger
  now: () => number
  /** The retention sweep deletes messages (retention.messagesDays set): then so are their files. */
  prunesMessages?: boolean
}

const statusOf: Partial<Record<number, number>> = {
  [Code.NOT_LOGGED_IN]: 401,
  [Code.TOKEN_INVALID]: 401,
  [Code.FILE_NOT_FOUND]: 404,
  [Code.FILE_TOO_LARGE]: 413,
  [Code.IMAGE_TOO_LARGE]: 413,
  [Code.UPLOAD_OFFSET_MISMATCH]: 409,
  [Code.INVALID_ARGUMENT]: 400,
  [Code.BAD_FRAME]: 400,
  [Code.UNAVAILABLE]: 503,
}

function newFileId(): string {
  return `f_${randomBytes(16).toString('base64url')}`
}

/** `bytes=a-b`, `bytes=a-` or `bytes=-n` of a blob of `size` bytes; undefined: the whole; null: unsatisfiable. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | null | undefined {
  if (!header) return undefined
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (!match || (match[1] === '' && match[2] === '')) return undefined
  let start: number
  let end: number
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]))
    end = size - 1
  } else {
    start = Number(match[1])
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1)
  }
  return start <= end && start < size ? { start, end } : null
}

/** A Content-Disposition that survives any name: ASCII fallback plus RFC 5987 UTF-8. */
function disposition(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_')
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`
}

export class FileApi {
  /** Appends in progress per file: a newer chunk of the same upload ends the older one first. */
  private readonly appending = new Map<string, { req: IncomingMessage; done: Promise<unknown> }>()

  constructor(private readonly deps: FileApiDeps) {}

  /** True when the request is for the file API (answered here), false for any other path. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    const target = path === FILES_PATH ? undefined : filePath(path)
    if (path !== FILES_PATH && !target) {
      if (!path.startsWith(`${FILES_PATH}/`)) return false
      sendError(res, Code.FILE_NOT_FOUND, undefined, {})
      return true
    }
    this.route(req, res, target).catch((error: unknown) => this.fail(req, res, error))
    return true
  }

  private fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    if (res.headersSent) {
      res.destroy()
      return
    }
    if (!(error instanceof CodedError)) this.deps.log.error('file request failed', { error })
    const code = error instanceof CodedError ? error.code : Code.INTERNAL
    const msg = error instanceof CodedError ? error.message : 'the file request failed'
    // A refused body is not read to its end: close the connection once the answer is out.
    const unread = !req.readableEnded && (req.method === 'PATCH' || req.method === 'POST')
    send(
      res,
      statusOf[code] ?? (code === Code.INTERNAL ? 500 : 200),
      { code, msg },
      unread ? { connection: 'close' } : {},
    )
  }

  private async route(
    req: IncomingMessage,
    res: ServerResponse,
    target: { fileId: string; upload: boolean } | undefined,
  ): Promise<void> {
    const userId = await this.caller(req)
    const method = req.method ?? 'GET'
    if (!target) {
      if (method !== 'POST')
        return send(res, 405, { code: Code.UNKNOWN_OPERATION, msg: `use POST ${FILES_PATH}` })
      return send(res, 200, { code: Code.OK, data: await this.create(req, userId) })
    }
    if (target.upload) {
      if (method !== 'GET') return send(res, 405, { code: Code.UNKNOWN_OPERATION, msg: 'use GET' })
      const file = await this.ownUpload(target.fileId, userId)
      return send(res, 200, { code: Code.OK, data: await this.state(file) })
    }
    if (method === 'PATCH')
      return send(res, 200, { code: Code.OK, data: await this.append(req, target.fileId, userId) })
    if (method === 'DELETE') {
      await this.remove(target.fileId, userId)
      return send(res, 200, { code: Code.OK, data: {} })
    }
    if (method === 'GET' || method === 'HEAD') return this.download(req, res, target.fileId, userId)
    send(res, 405, { code: Code.UNKNOWN_OPERATION, msg: 'use GET, PATCH or DELETE' })
  }

  private async caller(req: IncomingMessage): Promise<string> {
    const token = bearerToken(req.headers.authorization)
    if (!token) throw new CodedError(Code.NOT_LOGGED_IN, 'files need Authorization: Bearer <token>')
    const session = await this.deps.accounts.authenticate(token)
    if (!session) throw new CodedError(Code.TOKEN_INVALID)
    return session.userId
  }

  private async create(req: IncomingMessage, userId: string): Promise<UploadState & { limits: FileLimits }> {
    const body = await readJson(req, CreateUpload, 4096)
    const { maxFileBytes, maxImageBytes } = this.deps.limits
    if (body.kind === 'image' && body.size > maxImageBytes)
      throw new CodedError(Code.IMAGE_TOO_LARGE, `images may be at most ${maxImageBytes} bytes here`)
    if (body.size > maxFileBytes)
      throw new CodedError(Code.FILE_TOO_LARGE, `files may be at most ${maxFileBytes} bytes here`)
    const now = this.deps.now()
    const file: FileRow = {
      id: newFileId(),
      ownerId: userId,
      name: body.name,
      mime: body.mime,
      kind: body.kind,
      size: body.size,
      createdAt: now,
      completedAt: body.size === 0 ? now : null,
    }
    await this.deps.storage.insertFile(file)
    this.deps.log.debug('upload created', { userId, fileId: file.id, size: file.size })
    return {
      fileId: file.id,
      size: file.size,
      offset: 0,
      complete: body.size === 0,
      limits: this.deps.limits,
    }
  }

  /** The caller's own upload; anyone else's is FILE_NOT_FOUND, as a missing one. */
  private async ownUpload(fileId: string, userId: string): Promise<FileRow> {
    const file = await this.deps.storage.getFile(fileId)
    if (!file || file.ownerId !== userId) throw new CodedError(Code.FILE_NOT_FOUND)
    return file
  }

  private async state(file: FileRow): Promise<UploadState> {
    const offset = file.completedAt !== null ? file.size : ((await this.deps.blobs.size(file.id)) ?? 0)
    return { fileId: file.id, size: file.size, offset, complete: offset === file.size }
  }

  private async append(req: IncomingMessage, fileId: string, userId: string): Promise<UploadState> {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
    if (type !== CHUNK_CONTENT_TYPE)
      throw new CodedError(Code.BAD_FRAME, `a chunk is sent as ${CHUNK_CONTENT_TYPE}`)
    const offsetText = req.headers[UPLOAD_OFFSET_HEADER]
    const offset = typeof offsetText === 'string' && /^\d{1,16}$/.test(offsetText) ? Number(offsetText) : NaN
    if (!Number.isSafeInteger(offset))
      throw new CodedError(Code.INVALID_ARGUMENT, 'Upload-Offset: a byte offset')
    const file = await this.ownUpload(fileId, userId)
    // A client that lost its connection may resume before this node noticed the old chunk died.
    const previous = this.appending.get(fileId)
    if (previous) {
      previous.req.destroy()
      await previous.done.catch(() => undefined)
    }
    if (file.completedAt !== null)
      throw new CodedError(Code.UPLOAD_OFFSET_MISMATCH, `the upload is complete (${file.size} bytes)`)
    const work = this.deps.blobs.append(fileId, offset, req, file.size - offset)
    const entry = { req, done: work }
    this.appending.set(fileId, entry)
    let size: number
    try {
      size = await work
    } finally {
      if (this.appending.get(fileId) === entry) this.appending.delete(fileId)
    }
    const complete = size === file.size
    if (complete) {
      await this.deps.storage.completeFile(fileId, this.deps.now())
      this.deps.log.debug('upload complete', { userId, fileId, size })
    }
    return { fileId, size: file.size, offset: size, complete }
  }

  private async remove(fileId: string, userId: string): Promise<void> {
    await this.ownUpload(fileId, userId)
    // Once a message carries it, the file belongs to that conversation's history and stays.
    if (!(await this.deps.storage.deleteUnattachedFile(fileId))) return
    this.appending.get(fileId)?.req.destroy()
    await this.deps.blobs.delete(fileId)
  }

  /**
   * May `userId` read the file: its uploader, a member who can see a message carrying it, or (H7)
   * someone who may see the user or group whose picture it is.
   */
  private async mayRead(file: FileRow, userId: string): Promise<boolean> {
    if (file.ownerId === userId) return true
    if (await mayReadAvatar(this.deps.storage, file.id, userId)) return true
    for (const { convId, seq } of await this.deps.storage.listFileMessages(file.id)) {
      const me = await this.deps.storage.getMember(convId, userId)
      if (me && seq > me.joinedSeq && (me.leftSeq === null || seq <= me.leftSeq)) return true
    }
    return false
  }

  private async download(
    req: IncomingMessage,
    res: ServerResponse,
    fileId: string,
    userId: string,
  ): Promise<void> {
    const file = await this.deps.storage.getFile(fileId)
    if (!file || file.completedAt === null || !(await this.mayRead(file, userId)))
      throw new CodedError(Code.FILE_NOT_FOUND)
    const range = parseRange(req.headers.range, file.size)
    const headers: Record<string, string> = {
      'content-type': 'application/octet-stream',
      'content-disposition': disposition(file.name),
      'x-content-type-options': 'nosniff',
      'cache-control': 'private, no-store',
      'accept-ranges': 'bytes',
    }
    if (range === null) {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${file.size}` }).end()
      return
    }
    const { start, end } = range ?? { start: 0, end: file.size - 1 }
    const length = Math.max(0, end - start + 1)
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'content-length': String(length),
      ...(range ? { 'content-range': `bytes ${start}-${end}/${file.size}` } : {}),
    })
    if (req.method === 'HEAD' || length === 0) {
      res.end()
      return
    }
    const stream = this.deps.blobs.read(fileId, { start, end })
    stream.on('error', (error) => {
      this.deps.log.error('file read failed', { fileId, error })
      res.destroy()
    })
    res.on('close', () => stream.destroy())
    stream.pipe(res)
  }

  /**
   * Deletes uploads left incomplete for STALE_UPLOAD_MS, and the files of messages the retention
   * sweep pruned (none carries them any more, so nobody may download them); how many.
   */
  async sweep(): Promise<number> {
    const stale = await this.deps.storage.listStaleUploads(this.deps.now() - STALE_UPLOAD_MS, 500)
    for (const id of stale) {
      if (this.appending.has(id)) continue
      if (await this.deps.storage.deleteUnattachedFile(id)) await this.deps.blobs.delete(id)
    }
    const pruned = this.deps.prunesMessages ? await this.deps.storage.listFilesOfPrunedMessages(500) : []
    for (const id of pruned) {
      // The row first: a blob without a row is unreachable; a row without its blob would be served.
      await this.deps.storage.deleteFile(id)
      await this.deps.blobs.delete(id)
    }
    return stale.length + pruned.length
  }
}
