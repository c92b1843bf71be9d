/**
 * A profile is one folder: profile.json (device id, current session) plus one SQLite file per
 * account that has signed in there. Several profiles side by side = several accounts on one laptop;
 * the same account in two profiles = two devices of one user.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { z } from 'zod'
import { serverKey } from '../../shared/serverList'

const StoredSession = z.object({
  serverUrl: z.string(),
  userId: z.string(),
  displayName: z.string(),
  token: z.string(),
  expiresAt: z.number(),
})
export type StoredSession = z.infer<typeof StoredSession>

const ProfileFile = z.object({
  version: z.literal(1),
  deviceId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
  session: StoredSession.nullable(),
})
type ProfileFile = z.infer<typeof ProfileFile>

const fileSafe = (url: string): string => url.replace(/^wss?:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_')
/** Longest readable server part of a database file name; longer lists are named by their hash. */
const SERVER_NAME_MAX = 120

function serverFileName(serverUrl: string): string {
  if (!serverUrl.includes(',')) return fileSafe(serverUrl)
  const nodes = [
    ...new Set(
      serverUrl
        .split(',')
        .map((url) => url.trim())
        .filter((url) => url !== '')
        .map(nodeKey),
    ),
  ].sort()
  if (nodes.length === 1) return fileSafe(nodes[0] as string)
  const readable = nodes.map(fileSafe).join('+')
  if (readable.length <= SERVER_NAME_MAX) return readable
  return `nodes-${createHash('sha256').update(nodes.join(',')).digest('hex').slice(0, 32)}`
}

/** The node's URL in URL's own spelling (host case, default port), so one node has one name. */
function nodeKey(url: string): string {
  try {
    return serverKey(url)
  } catch {
    return url
  }
}

export class ProfileConfigError extends Error {
  constructor(file: string, detail: string) {
    super(`The profile file ${file} is not valid (${detail}). Move it away to start this profile afresh.`)
    this.name = 'ProfileConfigError'
  }
}

export class Profile {
  readonly dir: string
  private readonly file: string
  private data: ProfileFile

  constructor(dir: string) {
    this.dir = resolve(dir)
    mkdirSync(this.dir, { recursive: true, mode: 0o700 })
    this.file = join(this.dir, 'profile.json')
    this.data = this.load()
  }

  get name(): string {
    return basename(this.dir)
  }

  get deviceId(): string {
    return this.data.deviceId
  }

  get session(): StoredSession | null {
    return this.data.session
  }

  setSession(session: StoredSession | null): void {
    this.data = { ...this.data, session }
    this.save()
  }

  /**
   * One database per (server, account), so switching accounts in a profile never mixes histories.
   * A list of nodes (`ws://a/ws,ws://b/ws`) is one server: its name comes from the sorted list, so
   * reordering the nodes keeps the history, and is a hash when the list is too long for a file name.
   * A single URL keeps the name it always had.
   */
  databaseFile(serverUrl: string, userId: string): string {
    return join(this.dir, `${serverFileName(serverUrl)}--${userId}.sqlite`)
  }

  private load(): ProfileFile {
    let text: string
    try {
      text = readFileSync(this.file, 'utf8')
    } catch {
      const fresh: ProfileFile = {
        version: 1,
        deviceId: randomBytes(12).toString('base64url'),
        session: null,
      }
      this.data = fresh
      this.save()
      return fresh
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw new ProfileConfigError(this.file, 'not JSON')
    }
    const parsed = ProfileFile.safeParse(json)
    if (!parsed.success)
      throw new ProfileConfigError(this.file, parsed.error.issues[0]?.message ?? 'bad shape')
    return parsed.data
  }

  private save(): void {
    const tmp = `${this.file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(this.data, null, 2), { mode: 0o600 })
    renameSync(tmp, this.file)
  }
}
