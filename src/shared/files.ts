/**
 * The file API (issue 13, H3): uploads and downloads over HTTP beside the WebSocket, a small
 * resumable protocol of our own in the manner of tus. Every call carries the session token
 * (`Authorization: Bearer <token>`) and answers `{ code, msg?, data? }` like the account endpoints,
 * except a successful download, which is the bytes.
 *
 *   POST   /api/files              JSON CreateUpload     → UploadState (offset 0) and the limits
 *   PATCH  /api/files/<id>         Upload-Offset: n, the bytes from n on (any length up to the rest)
 *                                                        → UploadState (complete once offset = size)
 *   GET    /api/files/<id>/upload                        → UploadState: where to resume after a cut
 *   DELETE /api/files/<id>                               → {} (an upload no message carries yet)
 *   GET    /api/files/<id>         Range: bytes=n-       → the bytes (206 for a range)
 *
 * A chunk that does not start at the upload's offset is refused (UPLOAD_OFFSET_MISMATCH) without a
 * byte written; bytes received before a cut are kept, so a client asks the offset and goes on.
 */
import { z } from 'zod'
import { FileId, FileName, MimeType } from './model'

export const FILES_PATH = '/api/files'
export const UPLOAD_OFFSET_HEADER = 'upload-offset'
export const CHUNK_CONTENT_TYPE = 'application/offset+octet-stream'

export const AttachmentKind = z.enum(['file', 'image'])
export type AttachmentKind = z.infer<typeof AttachmentKind>

export const CreateUpload = z.object({
  name: FileName,
  size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  mime: MimeType,
  /** 'image' is held to the server's max image size; an image message needs an 'image' upload. */
  kind: AttachmentKind,
})
export type CreateUpload = z.infer<typeof CreateUpload>

export const UploadState = z.object({
  fileId: FileId,
  size: z.number().int().nonnegative(),
  /** Bytes the server holds: send from here. */
  offset: z.number().int().nonnegative(),
  complete: z.boolean(),
})
export type UploadState = z.infer<typeof UploadState>

/** The server's file settings, in the reply of POST /api/files. */
export const FileLimits = z.object({
  maxFileBytes: z.number().int().positive(),
  maxImageBytes: z.number().int().positive(),
})
export type FileLimits = z.infer<typeof FileLimits>

export const CreatedUpload = UploadState.extend({ limits: FileLimits })

/** A file id's path segment, or undefined when the path is no file's. */
export function filePath(path: string): { fileId: string; upload: boolean } | undefined {
  const match = /^\/api\/files\/(f_[A-Za-z0-9_-]{22})(\/upload)?$/.exec(path)
  return match?.[1] ? { fileId: match[1], upload: match[2] !== undefined } : undefined
}
