/**
 * Files and images in the engine (issue 13, H3): the upload rows that make an upload resumable, the
 * one transaction that turns a complete upload into a message with its send job, the staged copies
 * a page hands its host, and the names downloads get.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Code, CodedError } from '../../../src/shared/codes'
import { safeFileName } from '../../../src/main/engine/files/downloads'
import { MAX_STAGED_BYTES, Uploads } from '../../../src/main/engine/files/uploads'
import type { NewUpload } from '../../../src/main/engine/store/attachments'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'
import { testContext } from '../fakeContext'

const dirs: string[] = []
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'im-h3-'))
  dirs.push(dir)
  return dir
}

const toBob = { type: 'private', targetId: 'bob' } as const
const newUpload = (over: Partial<NewUpload> = {}): NewUpload => ({
  conversation: toBob,
  channelId: '',
  isNeedGroupAck: false,
  path: '/tmp/x.bin',
  staged: false,
  name: 'x.bin',
  size: 100,
  mime: 'application/octet-stream',
  kind: 'file',
  mtimeMs: 1,
  image: null,
  createdAt: 5,
  ...over,
})

describe('upload rows', () => {
  it('keep the server id and the confirmed offset, and a failure until retried', () => {
    const store = new SqliteEngineStore(':memory:')
    const { attachments } = store
    const u = attachments.insertUpload(newUpload())
    expect(u).toMatchObject({ fileId: null, offset: 0, state: 'uploading', failure: null })
    attachments.setFileId(u.localId, 'f_AAAAAAAAAAAAAAAAAAAAAA')
    attachments.setOffset(u.localId, 64)
    attachments.fail(u.localId, Code.FILE_TOO_LARGE, 'too big')
    expect(attachments.upload(u.localId)).toMatchObject({
      fileId: 'f_AAAAAAAAAAAAAAAAAAAAAA',
      offset: 64,
      state: 'failed',
      failure: { code: Code.FILE_TOO_LARGE, msg: 'too big' },
    })
    attachments.retry(u.localId, false)
    expect(attachments.upload(u.localId)).toMatchObject({ state: 'uploading', offset: 64, failure: null })
    attachments.retry(u.localId, true)
    expect(attachments.upload(u.localId)).toMatchObject({ fileId: null, offset: 0 })
    store.close()
  })

  it('become a message and its send job in one step, and are gone then', () => {
    const store = new SqliteEngineStore(':memory:')
    const u = store.attachments.insertUpload(newUpload())
    const content = {
      type: 'file',
      fileId: 'f_AAAAAAAAAAAAAAAAAAAAAA',
      name: 'x.bin',
      size: 100,
      mime: 'application/octet-stream',
    } as const
    const message = store.attachments.completeUpload(u.localId, {
      me: 'alice',
      clientMsgId: 'client-msg-0001',
      conversation: toBob,
      channelId: '',
      content,
      isNeedGroupAck: false,
      now: 10,
      title: 'bob',
    })
    expect(message).toMatchObject({ content, status: 'sending' })
    expect(store.attachments.uploads()).toEqual([])
    expect(store.outbox('send', 10).map((job) => JSON.parse(job.payload).content)).toEqual([content])
    store.close()
  })
})

describe('staged copies', () => {
  it('grow chunk by chunk at the right offset only', async () => {
    const stagingDir = tempDir()
    const ctx = testContext({ connected: false })
    const uploads = new Uploads(ctx, { server: () => undefined, stagingDir, acceptPaths: false })
    const first = await uploads.stageChunk(undefined, 0, Buffer.from('hello ').toString('base64'))
    expect(first.size).toBe(6)
    await expect(uploads.stageChunk(first.stageId, 0, 'AAAA')).rejects.toMatchObject({
      code: Code.UPLOAD_OFFSET_MISMATCH,
    })
    await expect(uploads.stageChunk('AAAAAAAAAAAAAAAAAAAAAA', 0, 'AAAA')).rejects.toMatchObject({
      code: Code.FILE_NOT_FOUND,
    })
    await expect(uploads.stageChunk('../../etc/passwd', 0, 'AAAA')).rejects.toBeInstanceOf(CodedError)
    await uploads.stageChunk(first.stageId, 6, Buffer.from('world').toString('base64'))
    expect(readFileSync(join(stagingDir, first.stageId), 'utf8')).toBe('hello world')
    expect(MAX_STAGED_BYTES).toBe(4 * 1024 ** 3)
    // A path is refused by a host that serves a page.
    await expect(
      uploads.send(
        toBob,
        { kind: 'path', path: '/etc/hostname' },
        { name: 'h', mime: 'text/plain' },
        {
          isNeedGroupAck: false,
          channelId: '',
        },
      ),
    ).rejects.toMatchObject({ code: Code.PERMISSION_DENIED })
    await uploads.close()
  })
})

describe('safeFileName', () => {
  it('keeps a name a file system takes, and nothing that leaves the folder', () => {
    expect(safeFileName('report.pdf')).toBe('report.pdf')
    expect(safeFileName('合同 2026.pdf')).toBe('合同 2026.pdf')
    expect(safeFileName('../../.bashrc')).toBe('bashrc')
    expect(safeFileName('a\\b\\c.txt')).toBe('c.txt')
    expect(safeFileName('con:tr<ol>\u0007.txt')).toBe('con_tr_ol__.txt')
    expect(safeFileName('...')).toBe('file')
  })
})
