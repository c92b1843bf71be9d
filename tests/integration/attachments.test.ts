/**
 * Files and images end to end (issue 13, H3): real engines upload to a real server over HTTP, the
 * message goes out through the outbox, the peer downloads it; uploads resume after a restart from
 * the server's offset; limits and the headless host's rules give typed errors. Receipts apply to a
 * file message exactly as to a text one.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { DiskBlobStore, type BlobStore } from '../../src/server/files/blobStore'
import type { DownloadView, UploadView } from '../../src/shared/ipc'
import type { GroupInfo, Message } from '../../src/shared/model'
import { TcpProxy } from '../faults/tcpProxy'
import { cleanup, data, reopen, signIn, tempDir, testServer, type Device } from './harness'

afterEach(cleanup)
const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn()
})

function sampleFile(dir: string, name: string, size: number): { path: string; bytes: Buffer } {
  const bytes = Buffer.alloc(size)
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + 17) & 0xff
  const path = join(dir, name)
  writeFileSync(path, bytes)
  return { path, bytes }
}

const toBob = { type: 'private', targetId: 'bob' } as const
const toAlice = { type: 'private', targetId: 'alice' } as const

function fileArrived(d: Device, name: string): Promise<Message> {
  return d
    .next('messageReceived', (ms) => ms.some((m) => m.content.type === 'file' && m.content.name === name))
    .then((ms) => ms.find((m) => m.content.type === 'file' && m.content.name === name) as Message)
}

describe('files and images', () => {
  it('uploads a file, sends it, and the peer downloads it with a unique name; receipts tick as for text', async () => {
    const server = await testServer()
    const files = { acceptPaths: true, downloadsDir: tempDir('alice-dl') }
    const alice = await signIn(server, 'alice', tempDir('alice'), { files })
    const bobDownloads = tempDir('bob-dl')
    const bob = await signIn(server, 'bob', tempDir('bob'), { files: { downloadsDir: bobDownloads } })
    const { path, bytes } = sampleFile(tempDir('src'), 'report.pdf', 300_000)

    const arrived = fileArrived(bob, 'report.pdf')
    const upload = data<UploadView>(
      await alice.dispatch('sendFile', [
        toBob,
        { kind: 'path', path },
        { name: 'report.pdf', mime: 'application/pdf' },
      ]),
    )
    expect(upload).toMatchObject({ name: 'report.pdf', size: 300_000, kind: 'file', state: 'uploading' })
    const received = await arrived
    expect(received.content).toMatchObject({
      type: 'file',
      name: 'report.pdf',
      size: 300_000,
      mime: 'application/pdf',
    })
    expect(data<UploadView[]>(await alice.dispatch('getUploads', []))).toEqual([])

    const first = data<DownloadView>(await bob.dispatch('downloadFile', [received.messageId]))
    expect(first.fileName).toBe('report.pdf')
    expect(readFileSync(first.path).equals(bytes)).toBe(true)
    const again = data<DownloadView>(await bob.dispatch('downloadFile', [received.messageId]))
    expect(again.fileName).toBe('report (1).pdf')
    expect((await readdir(bobDownloads)).sort()).toEqual(['report (1).pdf', 'report.pdf'])
    expect(data<DownloadView | null>(await bob.dispatch('getDownload', [received.messageId]))?.path).toBe(
      again.path,
    )

    // A file message is a message: delivered, then read when Bob reads the chat.
    const mine = () =>
      alice.engine.store?.history(toBob, undefined, 5).list.find((m) => m.content.type === 'file')
    await alice.until('delivered', () => mine()?.isDelivered)
    await bob.dispatch('ackConversationRead', [toAlice])
    await alice.until('read', () => mine()?.isReceiverRead)
  })

  it('sends an image with its thumbnail in the message; once downloaded, the page may have it whole', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice', tempDir('alice'), { files: { acceptPaths: true } })
    const bob = await signIn(server, 'bob', tempDir('bob'), { files: { downloadsDir: tempDir('bob-dl') } })
    const { path, bytes } = sampleFile(tempDir('src'), 'cat.png', 2000)
    const thumbnail = 'data:image/png;base64,iVBORw0KGgo='
    const arrived = bob.next('messageReceived', (ms) => ms.some((m) => m.content.type === 'image'))
    data(
      await alice.dispatch('sendFile', [
        toBob,
        { kind: 'path', path },
        { name: 'cat.png', mime: 'image/png', image: { width: 640, height: 480, thumbnail } },
      ]),
    )
    const [m] = await arrived
    expect(m?.content).toMatchObject({ type: 'image', width: 640, height: 480, thumbnail, size: 2000 })
    const id = m?.messageId ?? ''
    expect(await bob.dispatch('getImageData', [id])).toMatchObject({ code: Code.FILE_NOT_FOUND })
    data(await bob.dispatch('downloadFile', [id]))
    expect(data<string>(await bob.dispatch('getImageData', [id]))).toBe(
      `data:image/png;base64,${bytes.toString('base64')}`,
    )
  })

  it('resumes an upload after a restart from the offset the server holds', async () => {
    // The server's store holds chunks from 192 KiB on until the gate opens: the engine quits there.
    const blobs = new DiskBlobStore(tempDir('blobs'))
    const offsets: number[] = []
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    const gated: BlobStore = {
      append: async (id, offset, body, max) => {
        offsets.push(offset)
        if (offset >= 192 * 1024) await gate
        return blobs.append(id, offset, body, max)
      },
      size: (id) => blobs.size(id),
      read: (id, range) => blobs.read(id, range),
      delete: (id) => blobs.delete(id),
    }
    const server = await testServer({ files: { blobs: gated } })
    const aliceDir = tempDir('alice')
    const files = { acceptPaths: true, chunkBytes: 64 * 1024 }
    let alice = await signIn(server, 'alice', aliceDir, { files })
    const bob = await signIn(server, 'bob')
    const { path, bytes } = sampleFile(tempDir('src'), 'video.mp4', 1024 * 1024)
    const arrived = fileArrived(bob, 'video.mp4')
    const upload = data<UploadView>(
      await alice.dispatch('sendFile', [
        toBob,
        { kind: 'path', path },
        { name: 'video.mp4', mime: 'video/mp4' },
      ]),
    )
    await alice.until(
      'three chunks confirmed',
      () => alice.engine.store?.attachments.upload(upload.uploadId)?.offset === 192 * 1024,
    )
    await alice.stop()
    open()
    const before = offsets.length
    alice = await reopen(aliceDir, server, { files })
    const received = await arrived
    // It went on from where the server stood, never from the start again.
    expect(offsets.slice(before).every((o) => o >= 192 * 1024)).toBe(true)
    expect(Math.max(...offsets)).toBe(1024 * 1024 - 64 * 1024)
    const got = data<DownloadView>(await bob.dispatch('downloadFile', [received.messageId]))
    expect(readFileSync(got.path).equals(bytes)).toBe(true)
  })

  it('resumes an upload after the connection is reset, from where the server stands', async () => {
    const blobs = new DiskBlobStore(tempDir('blobs'))
    const offsets: number[] = []
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    const gated: BlobStore = {
      append: async (id, offset, body, max) => {
        offsets.push(offset)
        if (offset >= 128 * 1024) await gate
        return blobs.append(id, offset, body, max)
      },
      size: (id) => blobs.size(id),
      read: (id, range) => blobs.read(id, range),
      delete: (id) => blobs.delete(id),
    }
    const server = await testServer({ files: { blobs: gated }, heartbeatMs: 100 })
    const proxy = await TcpProxy.start(server.port)
    cleanups.push(() => proxy.close())
    const files = { acceptPaths: true, chunkBytes: 64 * 1024 }
    const alice = await signIn({ url: proxy.urlFor(server.url) }, 'alice', tempDir('alice'), {
      files,
      silenceTimeoutMs: 400,
    })
    const bob = await signIn(server, 'bob')
    const { path, bytes } = sampleFile(tempDir('src'), 'talk.mp3', 512 * 1024)
    const arrived = fileArrived(bob, 'talk.mp3')
    const upload = data<UploadView>(
      await alice.dispatch('sendFile', [
        toBob,
        { kind: 'path', path },
        { name: 'talk.mp3', mime: 'audio/mpeg' },
      ]),
    )
    await alice.until(
      'two chunks confirmed',
      () => alice.engine.store?.attachments.upload(upload.uploadId)?.offset === 128 * 1024,
    )
    // Every connection through the proxy dies: the socket and the chunk on its way.
    proxy.reset()
    open()
    const before = offsets.length
    const received = await arrived
    expect(offsets.slice(before).every((o) => o >= 128 * 1024)).toBe(true)
    const got = data<DownloadView>(await bob.dispatch('downloadFile', [received.messageId]))
    expect(readFileSync(got.path).equals(bytes)).toBe(true)
  })

  it('fails an upload past the server limit with its code, and lets it be cancelled', async () => {
    const server = await testServer({ files: { maxFileBytes: 1000 } })
    const alice = await signIn(server, 'alice', tempDir('alice'), { files: { acceptPaths: true } })
    await signIn(server, 'bob')
    const { path } = sampleFile(tempDir('src'), 'big.zip', 5000)
    const upload = data<UploadView>(
      await alice.dispatch('sendFile', [toBob, { kind: 'path', path }, { name: 'big.zip' }]),
    )
    const failed = await alice.next('uploadsChanged', (list) => list.some((u) => u.state === 'failed'))
    expect(failed[0]).toMatchObject({
      uploadId: upload.uploadId,
      state: 'failed',
      failure: { code: Code.FILE_TOO_LARGE },
    })
    expect(await alice.dispatch('cancelUpload', [upload.uploadId])).toMatchObject({ code: 0 })
    expect(data<UploadView[]>(await alice.dispatch('getUploads', []))).toEqual([])
  })

  it('sends an image too large for images again as a file when asked', async () => {
    const server = await testServer({ files: { maxImageBytes: 1000 } })
    const alice = await signIn(server, 'alice', tempDir('alice'), { files: { acceptPaths: true } })
    const bob = await signIn(server, 'bob')
    const { path } = sampleFile(tempDir('src'), 'huge.png', 5000)
    const image = { width: 10, height: 10, thumbnail: 'data:image/png;base64,iVBORw0KGgo=' }
    const upload = data<UploadView>(
      await alice.dispatch('sendFile', [
        toBob,
        { kind: 'path', path },
        { name: 'huge.png', mime: 'image/png', image },
      ]),
    )
    const failed = await alice.next('uploadsChanged', (list) => list.some((u) => u.state === 'failed'))
    expect(failed[0]?.failure?.code).toBe(Code.IMAGE_TOO_LARGE)
    const arrived = fileArrived(bob, 'huge.png')
    data(await alice.dispatch('retryUpload', [upload.uploadId, true]))
    expect((await arrived).content).toMatchObject({
      type: 'file',
      name: 'huge.png',
      mime: 'image/png',
      size: 5000,
    })
  })

  it('a host serving a page takes staged bytes, never a path', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const { path } = sampleFile(tempDir('src'), 'secret.txt', 10)
    expect(
      await alice.dispatch('sendFile', [toBob, { kind: 'path', path }, { name: 'secret.txt' }]),
    ).toMatchObject({
      code: Code.PERMISSION_DENIED,
    })
    const part1 = Buffer.from('hello ').toString('base64')
    const staged = data<{ stageId: string; size: number }>(
      await alice.dispatch('stageFileChunk', [undefined, 0, part1]),
    )
    expect(staged.size).toBe(6)
    expect(await alice.dispatch('stageFileChunk', [staged.stageId, 3, part1])).toMatchObject({
      code: Code.UPLOAD_OFFSET_MISMATCH,
    })
    data(await alice.dispatch('stageFileChunk', [staged.stageId, 6, Buffer.from('world').toString('base64')]))
    const arrived = fileArrived(bob, 'hello.txt')
    data(
      await alice.dispatch('sendFile', [
        toBob,
        { kind: 'staged', stageId: staged.stageId },
        { name: 'hello.txt', mime: 'text/plain' },
      ]),
    )
    const received = await arrived
    const got = data<DownloadView>(await bob.dispatch('downloadFile', [received.messageId]))
    expect(readFileSync(got.path, 'utf8')).toBe('hello world')
    // The staged copy is gone once sent.
    await alice.until(
      'staging emptied',
      async () => (await readdir(join(alice.profileDir, 'staging'))).length === 0,
    )
  })

  it('a file in a group asks for read acks and counts its readers like text; a later member cannot fetch it', async () => {
    const server = await testServer()
    const owner = await signIn(server, 'alice', tempDir('alice'), { files: { acceptPaths: true } })
    const bob = await signIn(server, 'bob')
    const carol = await signIn(server, 'carol')
    const group = data<GroupInfo>(await owner.dispatch('createGroup', ['Team', ['bob']]))
    const team = { type: 'group', targetId: group.groupId } as const
    const { path } = sampleFile(tempDir('src'), 'plan.xlsx', 4096)
    const arrived = fileArrived(bob, 'plan.xlsx')
    data(
      await owner.dispatch('sendFile', [
        team,
        { kind: 'path', path },
        { name: 'plan.xlsx' },
        { isNeedGroupAck: true },
      ]),
    )
    const received = await arrived
    expect(received).toMatchObject({ isNeedGroupAck: true, groupMemberCount: 1 })
    const mine = () =>
      owner.engine.store?.history(team, undefined, 5).list.find((m) => m.content.type === 'file')
    expect(await bob.dispatch('ackGroupMessageRead', [received.messageUId])).toEqual({ code: 0, data: null })
    await owner.until('read by bob', () => mine()?.groupAckCount === 1)

    // Carol joins after it was sent: she does not see the message, and the server will not serve her the file.
    data(await owner.dispatch('addGroupMembers', [group.groupId, ['carol']]))
    await carol.until('in the group', () => carol.engine.store?.group(group.groupId)?.myRole)
    const fileId = received.content.type === 'file' ? received.content.fileId : ''
    const token = carol.engine.profile.session?.token ?? ''
    const denied = await fetch(`${server.httpUrl}/api/files/${fileId}`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect(denied.status).toBe(404)
  })

  it('refuses to download a text message or a message it does not have', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    await signIn(server, 'bob')
    const sent = data<Message>(await alice.dispatch('sendMessage', [toBob, { type: 'text', text: 'hi' }]))
    expect(await alice.dispatch('downloadFile', [sent.messageId])).toMatchObject({
      code: Code.INVALID_ARGUMENT,
    })
    expect(await alice.dispatch('downloadFile', ['99999'])).toMatchObject({ code: Code.MESSAGE_NOT_FOUND })
    expect(await alice.dispatch('getImageData', [sent.messageId])).toMatchObject({
      code: Code.INVALID_ARGUMENT,
    })
    expect(await alice.dispatch('openDownload', [sent.messageId, 'open'])).toMatchObject({
      code: Code.PERMISSION_DENIED,
    })
  })
})
