import { Code, CodedError } from '../shared/codes'
import type { UserProfile } from '../shared/model'
import type { http } from '../shared/protocol'
import type { z } from 'zod'
import { DEFAULT_ACCOUNT_RECEIPTS, type AccountReceiptDefaults } from './accountDefaults'
import { hashToken, newSessionToken } from './ids'
import { hashInvite } from './invites'
import type { RegistrationMode } from './limits'
import { DEFAULT_SCRYPT, hashPassword, verifyPassword, type ScryptParams } from './passwords'
import type { Storage, UserRow } from './storage/types'

const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000

export interface AuthenticatedSession {
  userId: string
  deviceId: string
  tokenHash: Buffer
  /** When the session ends; its sockets are closed then (absent: never, for stand-ins in tests). */
  expiresAt?: number
}

export interface AccountOptions {
  scrypt?: ScryptParams
  sessionTtlMs?: number
  now?: () => number
  /** Who may register (default 'open'). */
  registration?: RegistrationMode
  /** The receipt options of a new account (default: both on, DEFAULT_ACCOUNT_RECEIPTS). */
  accountDefaults?: AccountReceiptDefaults
}

export function toProfile(user: Pick<UserRow, 'id' | 'displayName'>): UserProfile {
  return { userId: user.id, displayName: user.displayName }
}

/** Registration, login, logout and token checks: what happens over HTTP and at the WebSocket upgrade. */
export class Accounts {
  private readonly scrypt: ScryptParams
  private readonly sessionTtlMs: number
  private readonly now: () => number
  private readonly registration: RegistrationMode
  private readonly accountDefaults: AccountReceiptDefaults
  /** Compared against when the user id is unknown, so a login takes as long either way. */
  private dummyHash: Promise<string> | undefined

  constructor(
    private readonly storage: Storage,
    options: AccountOptions = {},
  ) {
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT
    this.sessionTtlMs = options.sessionTtlMs ?? SESSION_TTL_MS
    this.now = options.now ?? Date.now
    this.registration = options.registration ?? 'open'
    this.accountDefaults = options.accountDefaults ?? DEFAULT_ACCOUNT_RECEIPTS
  }

  async register(body: z.output<typeof http.register.body>): Promise<{ user: UserProfile }> {
    if (this.registration === 'closed') throw new CodedError(Code.REGISTRATION_CLOSED)
    if (this.registration === 'invite' && !body.inviteCode) throw new CodedError(Code.INVITE_INVALID)
    if (await this.storage.getUser(body.userId)) throw new CodedError(Code.USER_EXISTS)
    const passwordHash = await hashPassword(body.password, this.scrypt)
    const user = {
      id: body.userId,
      displayName: body.displayName || body.userId,
      passwordHash,
      createdAt: this.now(),
      receipts: this.accountDefaults,
    }
    const { inviteCode } = body
    await this.storage.transaction(async (tx) => {
      // Checked again: another registration of the same id may have finished while we were hashing.
      if (!(await tx.insertUser(user))) throw new CodedError(Code.USER_EXISTS)
      // In the same transaction: a code is used up only by a registration that happens.
      if (
        this.registration === 'invite' &&
        !(await tx.useInvite(hashInvite(inviteCode ?? ''), user.id, user.createdAt))
      )
        throw new CodedError(Code.INVITE_INVALID)
    })
    return { user: toProfile(user) }
  }

  async login(
    body: z.output<typeof http.login.body>,
  ): Promise<{ token: string; user: UserProfile; expiresAt: number }> {
    const user = await this.storage.getUser(body.userId)
    if (!user) {
      this.dummyHash ??= hashPassword('not a password', this.scrypt)
      await verifyPassword(body.password, await this.dummyHash)
      throw new CodedError(Code.AUTH_FAILED)
    }
    if (!(await verifyPassword(body.password, user.passwordHash))) throw new CodedError(Code.AUTH_FAILED)
    const token = newSessionToken()
    const createdAt = this.now()
    const expiresAt = createdAt + this.sessionTtlMs
    await this.storage.insertSession(hashToken(token), {
      userId: user.id,
      deviceId: body.deviceId,
      createdAt,
      expiresAt,
      revoked: false,
    })
    return { token, user: toProfile(user), expiresAt }
  }

  /** The live session behind a token, or undefined for an unknown, expired or revoked one. */
  async authenticate(token: string): Promise<AuthenticatedSession | undefined> {
    const tokenHash = hashToken(token)
    const session = await this.storage.getSession(tokenHash)
    if (!session || session.revoked || session.expiresAt <= this.now()) return undefined
    return { userId: session.userId, deviceId: session.deviceId, tokenHash, expiresAt: session.expiresAt }
  }

  /**
   * H4: a new password, given the current one (AUTH_FAILED otherwise: the caller counts it as a failed
   * login). Every other session of the account is revoked, since whoever changes a password may be
   * locking someone out; this session stays. Returns the revoked sessions' token hashes.
   */
  async changePassword(
    session: AuthenticatedSession,
    body: z.output<typeof http.changePassword.body>,
  ): Promise<Buffer[]> {
    const user = await this.storage.getUser(session.userId)
    if (!user || !(await verifyPassword(body.currentPassword, user.passwordHash)))
      throw new CodedError(Code.AUTH_FAILED, 'the current password is wrong')
    if (body.currentPassword === body.newPassword) throw new CodedError(Code.SAME_PASSWORD)
    const passwordHash = await hashPassword(body.newPassword, this.scrypt)
    return this.storage.transaction(async (tx) => {
      await tx.updatePasswordHash(user.id, passwordHash)
      return tx.revokeOtherSessions(user.id, session.tokenHash)
    })
  }

  /** Revokes the token's session; returns it so that its sockets can be closed. */
  async logout(token: string): Promise<AuthenticatedSession> {
    const session = await this.authenticate(token)
    if (!session || !(await this.storage.revokeSession(session.tokenHash))) {
      throw new CodedError(Code.TOKEN_INVALID)
    }
    return session
  }
}
