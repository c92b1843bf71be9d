/** The file settings of a server (issue 13, H3): its size limits, checked, and where the bytes live. */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FileLimits } from '../../shared/files'
import { DiskBlobStore, type BlobStore } from './blobStore'
import { DEFAULT_FILE_LIMITS } from './fileApi'

/** The file size settings, checked (issue 13, H3). */
export function resolveFileLimits(given: Partial<FileLimits> | undefined): FileLimits {
  const limits = { ...DEFAULT_FILE_LIMITS, ...given }
  for (const key of ['maxFileBytes', 'maxImageBytes'] as const)
    if (!Number.isSafeInteger(limits[key]) || limits[key] <= 0)
      throw new Error(`files.${key} must be a positive whole number of bytes`)
  return { maxFileBytes: limits.maxFileBytes, maxImageBytes: limits.maxImageBytes }
}

/** Where uploaded bytes live: given, `<dataDir>/files`, or a temporary folder of this run. */
export async function openBlobStore(
  given: BlobStore | undefined,
  dataDir: string | undefined,
): Promise<{ blobs: BlobStore; close(): Promise<void> }> {
  if (given) return { blobs: given, close: async () => undefined }
  if (dataDir) {
    const dir = join(dataDir, 'files')
    await mkdir(dir, { recursive: true, mode: 0o700 })
    return { blobs: new DiskBlobStore(dir), close: async () => undefined }
  }
  const dir = await mkdtemp(join(tmpdir(), 'im-server-files-'))
  return { blobs: new DiskBlobStore(dir), close: () => rm(dir, { recursive: true, force: true }) }
}
