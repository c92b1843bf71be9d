import { createHash, randomBytes } from 'node:crypto'

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** Uniform random characters: bytes past the largest multiple of the alphabet size are rejected, so no modulo bias. */
export function randomChars(length: number, alphabet: string): string {
  const limit = 256 - (256 % alphabet.length)
  let out = ''
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= limit) continue
      out += alphabet[byte % alphabet.length]
      if (out.length === length) break
    }
  }
  return out
}

/** RongCloud's shape, e.g. BS4S-U34I-T4G6-9GPP: 16 characters, about 82 bits. */
export function newMessageUId(): string {
  const chars = randomChars(16, UPPER_ALNUM)
  return [0, 4, 8, 12].map((start) => chars.slice(start, start + 4)).join('-')
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
