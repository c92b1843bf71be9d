/**
 * Profile and group pictures on the engine's side (issue 13, H7; rules in src/shared/avatars.ts).
 *
 * - Who has which picture is kept in the store (store/avatars.ts), fed by userChanged and
 *   groupChanged (live), getUsers and syncState (after being away); each change is told to the
 *   renderer whole as `avatarsChanged`.
 * - The bytes are fetched once and kept in the profile's cache folder, one file per file id: a new
 *   picture is a new file id, so a change fetches the new one and never shows a stale one; files no
 *   longer anyone's picture are deleted (prune).
 * - The page gets a picture as a data URL (getAvatarImage), never a path, so both hosts serve it
 *   alike; it hands a new picture the same way (setAvatar), drawn small by the renderer.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Readable, Writable } from 'node:stream'
import { AVATAR_MAX_BYTES, sniffAvatarType, type AvatarDirectory } from '../../../shared/avatars'
import { Code, CodedError } from '../../../shared/codes'
import { CHUNK_CONTENT_TYPE, FILES_PATH, UPLOAD_OFFSET_HEADER, UploadState } from '../../../shared/files'
import type { GroupInfo, UserProfile } from '../../../shared/model'
import { emitConversations, requireOk, type EngineContext } from '../context'
import { fetchInto, fileCall, type FileServer } from './transfer'

const FILE_ID = /^f_[A-Za-z0-9_-]{22}$/

// ---- who has which picture ---------------------------------------------------------------------

function changed(ctx: EngineContext): void {
  ctx.emit('avatarsChanged', ctx.store.avatarDirectory())
}

/** Users' pictures heard of; `replace`: the whole list of those I may see (a sync). */
export function noteUserAvatars(
  ctx: EngineContext,
  users: readonly Pick<UserProfile, 'userId' | 'avatarFileId'>[],
  replace = false,
): void {
  const entries = Object.fromEntries(users.map((u) => [u.userId, u.avatarFileId ?? null]))
  if (ctx.store.updateAvatars('users', entries, replace)) changed(ctx)
}

/** Groups' pictures heard of (a GroupInfo always says its picture); `replace`: all my groups (a sync). */
export function noteGroupAvatars(ctx: EngineContext, groups: readonly GroupInfo[], replace = false): void {
  const entries = Object.fromEntries(groups.map((g) => [g.groupId, g.avatarFileId ?? null]))
  if (ctx.store.updateAvatars('groups', entries, replace)) changed(ctx)
}

// ---- the pictures themselves ---------------------------------------------------------------------

export interface AvatarsConfig {
  server(): FileServer | undefined
  /** The profile's cache folder for pictures. */
  cacheDir: string
}

/** A Writable that keeps at most `max` bytes in memory and fails past them. */
function boundedSink(max: number): { sink: Writable; bytes(): Buffer } {
  const chunks: Buffer[] = []
  let size = 0
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      size += chunk.length
      if (size > max) return done(new CodedError(Code.AVATAR_TOO_LARGE))
      chunks.push(chunk)
      done()
    },
  })
  return { sink, bytes: () => Buffer.concat(chunks) }
}

function dataUrl(bytes: Buffer): string {
  const type = sniffAvatarType(bytes)
  if (!type) throw new CodedError(Code.AVATAR_NOT_IMAGE, 'that file is not a picture')
  return `data:${type};base64,${bytes.toString('base64')}`
}

export class Avatars {
  /** Fetches in flight by file id: many avatars of one person on screen ask once. */
  private readonly fetching = new Map<string, Promise<string>>()

  constructor(
    private readonly ctx: EngineContext,
    private readonly config: AvatarsConfig,
  ) {}

  directory(): AvatarDirectory {
    return this.ctx.store.avatarDirectory()
  }

  /**
   * The picture as a data URL: from the cache, else fetched from the server and kept. Only a file
   * that is someone's picture now: this is no way for the page to fetch other files.
   */
  image(fileId: string): Promise<string> {
    if (!FILE_ID.test(fileId)) return Promise.reject(new CodedError(Code.INVALID_ARGUMENT, 'a file id'))
    const { users, groups } = this.directory()
    if (!Object.values(users).includes(fileId) && !Object.values(groups).includes(fileId))
      return Promise.reject(new CodedError(Code.FILE_NOT_FOUND, "that file is nobody's picture here"))
    let pending = this.fetching.get(fileId)
    if (!pending) {
      pending = this.load(fileId).finally(() => this.fetching.delete(fileId))
      this.fetching.set(fileId, pending)
    }
    return pending
  }

  private async load(fileId: string): Promise<string> {
    const path = join(this.config.cacheDir, fileId)
    const cached = await readFile(path).catch(() => undefined)
    if (cached && cached.length <= AVATAR_MAX_BYTES) return dataUrl(cached)
    const server = this.config.server()
    if (!server) throw new CodedError(Code.NOT_LOGGED_IN)
    const { sink, bytes } = boundedSink(AVATAR_MAX_BYTES)
    const res = await fetchInto(server, `${FILES_PATH}/${fileId}`, 0, sink)
    if (res.code !== 0) throw new CodedError(res.code, res.msg)
    const picture = bytes()
    const url = dataUrl(picture)
    await this.keep(fileId, picture)
    return url
  }

  /** Writes the cache file whole or not at all (a temporary name, then a rename). */
  private async keep(fileId: string, bytes: Buffer): Promise<void> {
    await mkdir(this.config.cacheDir, { recursive: true, mode: 0o700 })
    const temp = join(this.config.cacheDir, `.${fileId}.${randomBytes(4).toString('hex')}`)
    await writeFile(temp, bytes, { mode: 0o600 })
    await rename(temp, join(this.config.cacheDir, fileId))
  }

  /** Deletes cached pictures nobody has any more (a changed picture leaves its old file behind). */
  async prune(): Promise<void> {
    const { users, groups } = this.directory()
    const inUse = new Set([...Object.values(users), ...Object.values(groups)])
    const names = await readdir(this.config.cacheDir).catch(() => [] as string[])
    for (const name of names) {
      if (inUse.has(name) || this.fetching.has(name)) continue
      const info = await stat(join(this.config.cacheDir, name)).catch(() => undefined)
      // A temporary file of a write in progress is young; an old one was left by a crash.
      if (name.startsWith('.') && info && Date.now() - info.mtimeMs < 60_000) continue
      await rm(join(this.config.cacheDir, name), { force: true })
    }
  }

  /**
   * Uploads the page's picture as an image file of mine (one chunk: it is small) and returns its
   * id; the bytes go to the cache at once, so my own picture is never fetched back.
   */
  private async upload(image: string): Promise<string> {
    const server = this.config.server()
    if (!server) throw new CodedError(Code.NOT_LOGGED_IN)
    const [, type = '', base64 = ''] = /^data:(image\/[a-z]+);base64,(.*)$/.exec(image) ?? []
    const bytes = Buffer.from(base64, 'base64')
    if (bytes.length > AVATAR_MAX_BYTES) throw new CodedError(Code.AVATAR_TOO_LARGE)
    // The declared type must be what the bytes are: the server trusts the type it was told.
    if (sniffAvatarType(bytes) !== type)
      throw new CodedError(Code.AVATAR_NOT_IMAGE, 'the picture is not what it says')
    const ext = type.slice('image/'.length)
    const created = await fileCall(server, 'POST', FILES_PATH, {
      json: { name: `avatar.${ext}`, size: bytes.length, mime: type, kind: 'image' },
    })
    if (created.code !== 0) throw new CodedError(created.code, created.msg)
    const { fileId } = UploadState.parse(created.data)
    const sent = await fileCall(server, 'PATCH', `${FILES_PATH}/${fileId}`, {
      body: Readable.from([bytes]),
      headers: {
        'content-type': CHUNK_CONTENT_TYPE,
        'content-length': String(bytes.length),
        [UPLOAD_OFFSET_HEADER]: '0',
      },
    })
    if (sent.code !== 0) throw new CodedError(sent.code, sent.msg)
    await this.keep(fileId, bytes)
    return fileId
  }

  /** Best effort: the replaced picture's file, if it was mine, is deleted on the server. */
  private forget(fileId: string | undefined): void {
    const server = this.config.server()
    if (!fileId || !server) return
    void fileCall(server, 'DELETE', `${FILES_PATH}/${fileId}`)
  }

  /** A refused picture's upload is deleted again (nobody else may see it; it would only take room). */
  private async refusedForgets<T>(fileId: string | null, setting: Promise<T>): Promise<T> {
    try {
      return await setting
    } catch (error) {
      this.forget(fileId ?? undefined)
      throw error
    }
  }

  /** My picture (a data URL the page drew) or none (null): for everyone who sees me. */
  async setMine(image: string | null): Promise<UserProfile> {
    const before = this.directory().users[this.ctx.me]
    const fileId = image === null ? null : await this.upload(image)
    const { user } = await this.refusedForgets(fileId, requireOk(this.ctx, 'setAvatar', { fileId }))
    this.ctx.store.upsertUsers([user])
    noteUserAvatars(this.ctx, [user])
    this.ctx.emit('userChanged', user)
    if (before !== user.avatarFileId) this.forget(before)
    return user
  }

  /** The group's picture (owner and admins: the server checks). */
  async setGroup(groupId: string, image: string | null): Promise<GroupInfo> {
    const before = this.directory().groups[groupId]
    const fileId = image === null ? null : await this.upload(image)
    const { group } = await this.refusedForgets(
      fileId,
      requireOk(this.ctx, 'setGroupAvatar', { groupId, fileId }),
    )
    this.ctx.store.upsertGroup(group, this.ctx.now())
    noteGroupAvatars(this.ctx, [group])
    this.ctx.emit('groupChanged', { groupId, group })
    emitConversations(this.ctx, [{ type: 'group', targetId: groupId }])
    if (before !== group.avatarFileId) this.forget(before)
    return group
  }
}
