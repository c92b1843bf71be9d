/**
 * How a page hands a file to its host (issue 13, H3), shared by the Electron preload (for files
 * without a path, such as a pasted image) and the headless bridge (always): the bytes go in slices
 * over the IPC contract's `stageFileChunk`, base64 in JSON, into a copy in the profile folder that
 * the engine then uploads like any file. Only the host's own page can call it (the preload, or the
 * headless socket with its launch token and origin check), and the engine caps what it stages.
 */
import { Code, fail, type Result } from './codes'
import type { FileSource, PickedFile } from './ipc'

/** Raw bytes per stageFileChunk call (base64 makes it a third larger; the headless socket takes 1 MiB). */
export const STAGE_CHUNK_BYTES = 384 * 1024

type StageChunk = (
  stageId: string | undefined,
  offset: number,
  base64: string,
) => Promise<Result<{ stageId: string; size: number }>>

function toBase64(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(binary)
}

export async function stageFile(file: PickedFile, stageChunk: StageChunk): Promise<Result<FileSource>> {
  let stageId: string | undefined
  let offset = 0
  do {
    const slice = new Uint8Array(await file.slice(offset, offset + STAGE_CHUNK_BYTES).arrayBuffer())
    const res = await stageChunk(stageId, offset, toBase64(slice))
    if (res.code !== 0) return res
    stageId = res.data.stageId
    offset = res.data.size
    if (slice.length === 0) break
  } while (offset < file.size)
  if (!stageId) return fail(Code.INTERNAL, 'nothing was staged')
  return { code: 0, data: { kind: 'staged', stageId } }
}
