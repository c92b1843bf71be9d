import { createHash, randomBytes } from 'node:crypto'

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * Random bytes from one CSPRNG draw of 4 KiB, handed out in order and never twice. Each call to
 * randomBytes is a call into OpenSSL (and a getpid system call); the server draws an id for every
 * message, so it asks for bytes in bulk.
 */
const pool = { bytes: Buffer.alloc(0), next: 0 }
function randomByte(): number {
  if (pool.next >= pool.bytes.length) {
    pool.bytes = randomBytes(4096)
    pool.next = 0
  }
  return pool.bytes[pool.next++] as number
}

/** Uniform random characters: bytes past the largest multiple of the alphabet size are rejected, so no modulo bias. */
function randomChars(length: number, alphabet: string): string {
  const limit = 256 - (256 % alphabet.length)
  let out = ''
  while (out.length < length) {
    const byte = randomByte()
    if (byte < limit) out += alphabet[byte % alphabet.length]
  }
  return out
}

const UID_TIME_SPAN = 36 ** 8

/**
 * RongCloud's shape, e.g. LOYW-3V28-T4G6-9GPP: 16 characters. The first 8 are the time in
 * milliseconds (base 36, wrapping every 89 years), the last 8 random (about 41 bits, drawn again on
 * the rare collision). Time first, because every store that indexes messages by uid (the server's
 * and each client's) then appends to that index instead of writing a random page of it per message:
 * with random uids that index was most of the pages a client writes while syncing (bench s2).
 * The uid is not a secret: every use of it is checked against the caller's membership.
 */
export function newMessageUId(now: number = Date.now()): string {
  const time = (Math.floor(now) % UID_TIME_SPAN).toString(36).toUpperCase().padStart(8, '0')
  const chars = time + randomChars(8, UPPER_ALNUM)
  return [0, 4, 8, 12].map((start) => chars.slice(start, start + 4)).join('-')
}

/**
 * The ack id clients see (GroupReadAck.ackId, the fetchGroupReadAcks cursor): 22 random characters
 * (about 131 bits), so it tells nobody how many acks this server or a message has taken.
 */
export function newAckId(): string {
  return randomChars(22, MIXED_ALNUM)
}

export function newGroupId(): string {
  return `g_${randomChars(16, MIXED_ALNUM)}`
}

export function newSessionToken(): string {
  return randomBytes(32).toString('base64url')
}

/** Tokens are stored and looked up only by this hash, so a copy of the database opens no sessions. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token).digest()
}
