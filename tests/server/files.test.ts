/**
 * The file API (issue 13, H3): resumable uploads, size limits, and who may download, on a real
 * server (both backends in the postgres project). Hostile cases each get their typed code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import {
  CHUNK_CONTENT_TYPE,
  FILES_PATH,
  UPLOAD_OFFSET_HEADER,
  type UploadState,
} from '../../src/shared/files'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { DiskBlobStore } from '../../src/server/files/blobStore'
import { FileApi, parseRange } from '../../src/server/files/fileApi'
import { createLogger } from '../../src/server/log'
import { newMessageUId } from '../../src/server/ids'
import { SqliteStorage } from '../../src/server/storage/sqlite'
import type { Storage } from '../../src/server/storage/types'
import { testBackend } from '../testStore'
import type { RunningServer } from '../../src/server/server'
import { clientMsgId, connectOne, startTestServer, text, type TestClient } from './helpers'

interface Answer {
  status: number
  body: { code: number; msg?: string; data?: unknown }
}

async function call(
  server: RunningServer,
  token: string,
  path: string,
  init: { method: string; json?: unknown; bytes?: Buffer; offset?: number; headers?: Record<string, string> },
): Promise<Answer> {
  const response = await fetch(`${server.httpUrl}${path}`, {
    method: init.method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.json !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(init.bytes ? { 'content-type': CHUNK_CONTENT_TYPE } : {}),
      ...(init.offset !== undefined ? { [UPLOAD_OFFSET_HEADER]: String(init.offset) } : {}),
      ...init.headers,
    },
    body: init.json !== undefined ? JSON.stringify(init.json) : init.bytes,
  })
  return { status: response.status, body: (await response.json()) as Answer['body'] }
}

function bytes(n: number, seed = 7): Buffer {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff
  return b
}

async function upload(server: RunningServer, who: TestClient, data: Buffer, kind: 'file' | 'image' = 'file') {
  const token = who.session.token
  const created = await call(server, token, FILES_PATH, {
    method: 'POST',
    json: {
      name: 'report.pdf',
      size: data.length,
      mime: kind === 'image' ? 'image/png' : 'application/pdf',
      kind,
    },
  })
  expect(created.body.code).toBe(0)
  const { fileId } = created.body.data as UploadState
  const sent = await call(server, token, `${FILES_PATH}/${fileId}`, {
    method: 'PATCH',
    bytes: data,
    offset: 0,
  })
  expect(sent.body).toMatchObject({ code: 0, data: { offset: data.length, complete: true } })
  return fileId
}

async function download(server: RunningServer, token: string, fileId: string, range?: string) {
  const response = await fetch(`${server.httpUrl}${FILES_PATH}/${fileId}`, {
    headers: { authorization: `Bearer ${token}`, ...(range ? { range } : {}) },
  })
  return {
    status: response.status,
    headers: response.headers,
    bytes: Buffer.from(await response.arrayBuffer()),
  }
}

function fileContent(fileId: string, size: number) {
  return { type: 'file' as const, fileId, name: 'report.pdf', size, mime: 'application/pdf' }
}

describe('files over HTTP', () => {
  let server: RunningServer
  beforeAll(async () => {
    server = await startTestServer({ files: { maxFileBytes: 64 * 1024, maxImageBytes: 16 * 1024 } })
  })
  afterAll(() => server.close())

  it('takes an upload in chunks, tells its offset after a cut, and resumes from there', async () => {
    const alice = await connectOne(server)
    const token = alice.session.token
    const data = bytes(40_000)
    const created = await call(server, token, FILES_PATH, {
      method: 'POST',
      json: { name: 'notes.txt', size: data.length, mime: 'text/plain', kind: 'file' },
    })
    expect(created.body.data).toMatchObject({
      offset: 0,
      complete: false,
      limits: { maxFileBytes: 64 * 1024 },
    })
    const { fileId } = created.body.data as UploadState
    const first = await call(server, token, `${FILES_PATH}/${fileId}`, {
      method: 'PATCH',
      bytes: data.subarray(0, 15_000),
      offset: 0,
    })
    expect(first.body.data).toMatchObject({ offset: 15_000, complete: false })
    // After a reconnect the client asks where the upload stands.
    const state = await call(server, token, `${FILES_PATH}/${fileId}/upload`, { method: 'GET' })
    expect(state.body.data).toMatchObject({ offset: 15_000, size: 40_000 })
    const rest = await call(server, token, `${FILES_PATH}/${fileId}`, {
      method: 'PATCH',
      bytes: data.subarray(15_000),
      offset: 15_000,
    })
    expect(rest.body.data).toMatchObject({ offset: 40_000, complete: true })
    const got = await download(server, token, fileId)
    expect(got.status).toBe(200)
    expect(got.bytes.equals(data)).toBe(true)
    expect(got.headers.get('content-type')).toBe('application/octet-stream')
    expect(got.headers.get('content-disposition')).toContain('attachment')
    const ranged = await download(server, token, fileId, 'bytes=39990-')
    expect(ranged.status).toBe(206)
    expect(ranged.bytes.equals(data.subarray(39_990))).toBe(true)
  })

  it('refuses a chunk at a wrong offset without writing a byte', async () => {
    const alice = await connectOne(server)
    const token = alice.session.token
    const created = await call(server, token, FILES_PATH, {
      method: 'POST',
      json: { name: 'a.bin', size: 1000, mime: 'application/octet-stream', kind: 'file' },
    })
    const { fileId } = created.body.data as UploadState
    const wrong = await call(server, token, `${FILES_PATH}/${fileId}`, {
      method: 'PATCH',
      bytes: bytes(10),
      offset: 5,
    })
    expect(wrong).toMatchObject({ status: 409, body: { code: Code.UPLOAD_OFFSET_MISMATCH } })
    const state = await call(server, token, `${FILES_PATH}/${fileId}/upload`, { method: 'GET' })
    expect(state.body.data).toMatchObject({ offset: 0 })
    // Nor past the declared size: the bytes up to it are kept, the rest refused.
    const over = await call(server, token, `${FILES_PATH}/${fileId}`, {
      method: 'PATCH',
      bytes: bytes(1200),
      offset: 0,
    })
    expect(over.body.code).toBe(Code.FILE_TOO_LARGE)
  })

  it('holds uploads to the size settings: files, and images more strictly', async () => {
    const alice = await connectOne(server)
    const token = alice.session.token
    const big = await call(server, token, FILES_PATH, {
      method: 'POST',
      json: { name: 'big.iso', size: 64 * 1024 + 1, mime: 'application/octet-stream', kind: 'file' },
    })
    expect(big).toMatchObject({ status: 413, body: { code: Code.FILE_TOO_LARGE } })
    const image = await call(server, token, FILES_PATH, {
      method: 'POST',
      json: { name: 'big.png', size: 16 * 1024 + 1, mime: 'image/png', kind: 'image' },
    })
    expect(image).toMatchObject({ status: 413, body: { code: Code.IMAGE_TOO_LARGE } })
  })

  it('serves a file to the members who can see its message, and to nobody else', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const eve = await connectOne(server)
    const data = bytes(5000)
    const fileId = await upload(server, alice, data)
    // Before it is sent: the uploader only.
    expect((await download(server, bob.session.token, fileId)).status).toBe(404)
    await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: fileContent(fileId, data.length),
    })
    const got = await download(server, bob.session.token, fileId)
    expect(got.status).toBe(200)
    expect(got.bytes.equals(data)).toBe(true)
    // Eve is in no conversation that carries it: the same answer as for a file that does not exist.
    const denied = await fetch(`${server.httpUrl}${FILES_PATH}/${fileId}`, {
      headers: { authorization: `Bearer ${eve.session.token}` },
    })
    expect(denied.status).toBe(404)
    expect(((await denied.json()) as { code: number }).code).toBe(Code.FILE_NOT_FOUND)
    // Nor may she touch the upload.
    const state = await call(server, eve.session.token, `${FILES_PATH}/${fileId}/upload`, { method: 'GET' })
    expect(state.body.code).toBe(Code.FILE_NOT_FOUND)
    // Without a session: nothing.
    const anonymous = await fetch(`${server.httpUrl}${FILES_PATH}/${fileId}`)
    expect(anonymous.status).toBe(401)
  })

  it('lets a group member who joined after the message not download it', async () => {
    const owner = await connectOne(server)
    const early = await connectOne(server)
    const late = await connectOne(server)
    const { group } = await owner.call('createGroup', { name: 'Files', memberIds: [early.userId] })
    const data = bytes(3000)
    const fileId = await upload(server, owner, data)
    await owner.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'group', targetId: group.groupId },
      content: fileContent(fileId, data.length),
    })
    await owner.call('addGroupMembers', { groupId: group.groupId, userIds: [late.userId] })
    expect((await download(server, early.session.token, fileId)).status).toBe(200)
    expect((await download(server, late.session.token, fileId)).status).toBe(404)
  })

  it('refuses a message carrying a forged, foreign or unfinished file', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const to = { type: 'private' as const, targetId: bob.userId }
    await alice.expectError(
      'sendMessage',
      { clientMsgId: clientMsgId(), conversation: to, content: fileContent('f_AAAAAAAAAAAAAAAAAAAAAA', 10) },
      Code.FILE_NOT_FOUND,
    )
    const bobsFile = await upload(server, bob, bytes(100))
    await alice.expectError(
      'sendMessage',
      { clientMsgId: clientMsgId(), conversation: to, content: fileContent(bobsFile, 100) },
      Code.FILE_NOT_FOUND,
    )
    const created = await call(server, alice.session.token, FILES_PATH, {
      method: 'POST',
      json: { name: 'half.bin', size: 100, mime: 'application/octet-stream', kind: 'file' },
    })
    const { fileId } = created.body.data as UploadState
    await alice.expectError(
      'sendMessage',
      { clientMsgId: clientMsgId(), conversation: to, content: fileContent(fileId, 100) },
      Code.UPLOAD_INCOMPLETE,
    )
    // A text message is untouched by all this.
    await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: to,
      content: text('still fine'),
    })
  })

  it('deletes an upload no message carries, and keeps one that a message does', async () => {
    const alice = await connectOne(server)
    const bob = await connectOne(server)
    const token = alice.session.token
    const lone = await upload(server, alice, bytes(50))
    expect((await call(server, token, `${FILES_PATH}/${lone}`, { method: 'DELETE' })).body.code).toBe(0)
    expect((await download(server, token, lone)).status).toBe(404)
    const sent = await upload(server, alice, bytes(50))
    await alice.call('sendMessage', {
      clientMsgId: clientMsgId(),
      conversation: { type: 'private', targetId: bob.userId },
      content: fileContent(sent, 50),
    })
    await call(server, token, `${FILES_PATH}/${sent}`, { method: 'DELETE' })
    expect((await download(server, bob.session.token, sent)).status).toBe(200)
  })
})

describe('the stale upload sweep', () => {
  it('deletes uploads left incomplete for a day, and keeps complete ones', async () => {
    const storage = new SqliteStorage(':memory:')
    const dir = mkdtempSync(join(tmpdir(), 'im-blobs-'))
    const blobs = new DiskBlobStore(dir)
    let now = 1_000_000
    const files = new FileApi({
      storage,
      accounts: { authenticate: () => Promise.resolve(undefined) },
      blobs,
      limits: { maxFileBytes: 1000, maxImageBytes: 100 },
      log: createLogger('silent'),
      now: () => now,
    })
    await storage.insertUser({ id: 'alice', displayName: 'alice', passwordHash: 'x', createdAt: 0 })
    const row = {
      ownerId: 'alice',
      name: 'a.bin',
      mime: 'application/octet-stream',
      kind: 'file' as const,
      size: 10,
    }
    await storage.insertFile({ ...row, id: 'f_HALFHALFHALFHALFHALF1', createdAt: now, completedAt: null })
    await storage.insertFile({ ...row, id: 'f_DONEDONEDONEDONEDONE1', createdAt: now, completedAt: now })
    await blobs.append('f_HALFHALFHALFHALFHALF1', 0, Readable.from([Buffer.alloc(4)]), 10)
    now += 23 * 3600_000
    await files.sweep()
    expect(await storage.getFile('f_HALFHALFHALFHALFHALF1')).toBeDefined()
    now += 2 * 3600_000
    await files.sweep()
    expect(await storage.getFile('f_HALFHALFHALFHALFHALF1')).toBeUndefined()
    expect(await blobs.size('f_HALFHALFHALFHALFHALF1')).toBeUndefined()
    expect(await storage.getFile('f_DONEDONEDONEDONEDONE1')).toBeDefined()
    await storage.close()
    rmSync(dir, { recursive: true, force: true })
  })
})

describe('files of pruned messages', () => {
  it('are deleted once retention pruned every message that carried them', async () => {
    // On this run's backend: the storage SQL of both is what this tests.
    const storage: Storage =
      testBackend === 'postgres'
        ? await (await import('./postgresHelpers')).openScratchStorage()
        : new SqliteStorage(':memory:')
    const dir = mkdtempSync(join(tmpdir(), 'im-blobs-'))
    const blobs = new DiskBlobStore(dir)
    const files = new FileApi({
      storage,
      accounts: { authenticate: () => Promise.resolve(undefined) },
      blobs,
      limits: { maxFileBytes: 1000, maxImageBytes: 100 },
      log: createLogger('silent'),
      now: () => 1,
      prunesMessages: true,
    })
    try {
      await storage.insertUser({ id: 'alice', displayName: 'alice', passwordHash: 'x', createdAt: 0 })
      const a = await storage.insertConversation({ key: 'g:a', type: 'group', createdAt: 0 })
      const b = await storage.insertConversation({ key: 'g:b', type: 'group', createdAt: 0 })
      const send = async (convId: number, sentAt: number) =>
        (
          await storage.insertMessage({
            uid: newMessageUId(sentAt + 1),
            convId,
            senderId: 'alice',
            clientMsgId: clientMsgId(),
            to: 'g_x',
            convType: 'group',
            channelId: '',
            content: text('x'),
            sentAt,
            needDeliveryAck: false,
            needReadAck: false,
            isNeedGroupAck: false,
            memberCount: 1,
          })
        ).message.seq
      const row = {
        ownerId: 'alice',
        name: 'a.bin',
        mime: 'application/octet-stream',
        kind: 'file' as const,
        size: 4,
      }
      for (const id of ['f_OLDOLDOLDOLDOLDOLDOLD1', 'f_SHAREDSHAREDSHAREDSH1']) {
        await storage.insertFile({ ...row, id, createdAt: 0, completedAt: 0 })
        await blobs.append(id, 0, Readable.from([Buffer.alloc(4)]), 4)
      }
      await storage.attachFile('f_OLDOLDOLDOLDOLDOLDOLD1', a.id, await send(a.id, 10))
      // Carried by an old message here and by a newer one there (sent again): it stays.
      await storage.attachFile('f_SHAREDSHAREDSHAREDSH1', a.id, await send(a.id, 10))
      await send(b.id, 10)
      await storage.attachFile('f_SHAREDSHAREDSHAREDSH1', b.id, await send(b.id, 1000))
      await storage.pruneMessages(500, 0, 1000)
      await files.sweep()
      expect(await storage.getFile('f_OLDOLDOLDOLDOLDOLDOLD1')).toBeUndefined()
      expect(await blobs.size('f_OLDOLDOLDOLDOLDOLDOLD1')).toBeUndefined()
      expect(await storage.getFile('f_SHAREDSHAREDSHAREDSH1')).toBeDefined()
      expect(await storage.listFileMessages('f_SHAREDSHAREDSHAREDSH1')).toHaveLength(2)
    } finally {
      await storage.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('parseRange', () => {
  it('reads the byte ranges a download may ask for', () => {
    expect(parseRange(undefined, 100)).toBeUndefined()
    expect(parseRange('bytes=10-', 100)).toEqual({ start: 10, end: 99 })
    expect(parseRange('bytes=10-19', 100)).toEqual({ start: 10, end: 19 })
    expect(parseRange('bytes=-5', 100)).toEqual({ start: 95, end: 99 })
    expect(parseRange('bytes=100-', 100)).toBeNull()
    expect(parseRange('items=1-2', 100)).toBeUndefined()
  })
})
