/**
 * Invite codes for `registration: 'invite'`: made by the operator (`npm run server -- invite`),
 * printed once, stored only as their sha256, good for one registration within their lifetime.
 */
import { randomBytes } from 'node:crypto'
import { hashToken } from './ids'
import type { StorageOps } from './storage/types'

const DAY_MS = 24 * 60 * 60 * 1000
export const DEFAULT_INVITE_DAYS = 7

/** The stored form of a code. */
export function hashInvite(code: string): Buffer {
  return hashToken(code)
}

/** Makes `count` codes valid for `days`; returns them (the only time they exist in clear). */
export async function createInvites(
  storage: StorageOps,
  count: number,
  options: { days?: number; now?: number } = {},
): Promise<string[]> {
  const now = options.now ?? Date.now()
  const expiresAt = now + (options.days ?? DEFAULT_INVITE_DAYS) * DAY_MS
  const codes: string[] = []
  for (let i = 0; i < count; i++) {
    // 144 random bits: not guessable, and short enough to paste.
    const code = randomBytes(18).toString('base64url')
    await storage.insertInvite(hashInvite(code), now, expiresAt)
    codes.push(code)
  }
  return codes
}
