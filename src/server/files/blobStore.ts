/**
 * Where the bytes of files live (issue 13, H3), behind an interface so that a deployment may keep
 * them elsewhere than the server's disk. `DiskBlobStore`, the default, keeps them under the data
 * folder (`<data>/files/`), one file per blob.
 *
 * An S3-compatible store fits the same four calls: `append` maps to a multipart upload (one part per
 * call, the part list kept beside the object until `size` says complete; S3 needs parts of 5 MiB
 * except the last, so such a store buffers a part on local disk), `size` to the parts' total (or
 * HeadObject once complete), `read` to GetObject with a Range header, `delete` to DeleteObject or
 * AbortMultipartUpload. Nothing above the interface touches the disk.
 *
 * Several server nodes must share the blobs: the same folder mounted on every node (NFS, a shared
 * volume) or an S3 store (docs/SCALING.md). Appends to one blob are serialized by the node that
 * receives them (fileApi.ts); a client resumes on any node by asking the offset first.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Code, CodedError } from '../../shared/codes'

export interface BlobStore {
  /**
   * Appends `data` to the blob `id` (created if new) at `offset`, which must be its current size
   * (UPLOAD_OFFSET_MISMATCH otherwise, nothing written). At most `maxBytes` are taken: past them the
   * call rejects with FILE_TOO_LARGE, the bytes before kept. Bytes that arrived before `data` failed
   * are kept too. Resolves with the new size. Streams: never the whole chunk in memory.
   */
  append(id: string, offset: number, data: Readable, maxBytes: number): Promise<number>
  /** The blob's size, or undefined when there is none. */
  size(id: string): Promise<number | undefined>
  /** The bytes of [start, end] (inclusive; default the whole blob). */
  read(id: string, range?: { start: number; end: number }): Readable
  /** Removes the blob; nothing happens when there is none. */
  delete(id: string): Promise<void>
}

/** Stops a stream after `max` bytes with FILE_TOO_LARGE, passing on the bytes before. */
function capped(max: number): Transform {
  let seen = 0
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const room = max - seen
      seen += chunk.length
      if (chunk.length <= room) return done(null, chunk)
      if (room > 0) this.push(chunk.subarray(0, room))
      done(new CodedError(Code.FILE_TOO_LARGE, 'the chunk goes past the size declared for the upload'))
    },
  })
}

export class DiskBlobStore implements BlobStore {
  constructor(private readonly dir: string) {}

  /** Ids are checked by the API (FileId), so they name no other path; two levels keep folders small. */
  private path(id: string): string {
    return join(this.dir, id.slice(2, 4), id)
  }

  async append(id: string, offset: number, data: Readable, maxBytes: number): Promise<number> {
    const current = (await this.size(id)) ?? 0
    if (current !== offset) {
      data.resume()
      throw new CodedError(Code.UPLOAD_OFFSET_MISMATCH, `the upload stands at ${current}, not ${offset}`)
    }
    const file = this.path(id)
    await mkdir(join(this.dir, id.slice(2, 4)), { recursive: true, mode: 0o700 })
    try {
      await pipeline(data, capped(maxBytes), createWriteStream(file, { flags: 'a', mode: 0o600 }))
    } catch (error) {
      if (error instanceof CodedError) throw error
      // A cut connection: what arrived is on disk and counts; the client asks the offset and resumes.
    }
    return (await this.size(id)) ?? 0
  }

  async size(id: string): Promise<number | undefined> {
    try {
      return (await stat(this.path(id))).size
    } catch {
      return undefined
    }
  }

  read(id: string, range?: { start: number; end: number }): Readable {
    return createReadStream(this.path(id), range ? { start: range.start, end: range.end } : {})
  }

  async delete(id: string): Promise<void> {
    await rm(this.path(id), { force: true })
  }
}
