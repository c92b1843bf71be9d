/**
 * The client engine's facade: plain Node, shared by the Electron host and the headless host
 * (src/main/hosts). It owns the session (login, the profile's store, the connection supervisor),
 * the connection state, and the events the hosts forward; the operations live in ops/, sync and
 * pushes in sync/, the durable outbox in outbox/, the local database behind store/types.ts.
 * Hosts call the operations through the handler table (hosts/handlers.ts).
 */
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Code, CodedError, fail, ok, type Result } from '../../shared/codes'
import type {
  AppInfo,
  AttachmentMeta,
  ConnectionState,
  ConnectionStateName,
  FileSource,
  IpcEvents,
  SessionInfo,
} from '../../shared/ipc'
import type {
  Conversation,
  GroupReceiptSettings,
  MessageContent,
  NotificationStatus,
  UserProfile,
} from '../../shared/model'
import type { PrivacySettings } from '../../shared/presence'
import type { AckState, ReminderSchedule } from '../../shared/acks'
import { http, type AccountSettings, type RequestData } from '../../shared/protocol'
import { parseServerList } from '../../shared/serverList'
import type { EngineContext } from './context'
import type { ServerConnection } from './link/connection'
import { Supervisor } from './link/supervisor'
import { httpBase, postJson } from './ops/accounts'
import { Downloads, type DownloadsConfig } from './files/downloads'
import { Uploads } from './files/uploads'
import { Avatars } from './files/avatars'
import * as acks from './ops/acks'
import * as everyday from './ops/everyday'
import * as groupReceipts from './ops/groupReceipts'
import * as groups from './ops/groups'
import * as messages from './ops/messages'
import * as messageActions from './ops/messageActions'
import * as presence from './ops/presence'
import * as receipts from './ops/receipts'
import * as search from './ops/search'
import { DEFAULT_BACKOFF, Outbox, type Backoff } from './outbox/outbox'
import { Profile, type StoredSession } from './profile'
import { openProfileStore, type ProfileNotice } from './store/profileDatabase'
import type { EngineStore } from './store/types'
import { Sync } from './sync/sync'

export interface EngineOptions {
  profileDir: string
  host: AppInfo['host']
  version: string
  defaultServerUrl: string
  /** Reconnect (and outbox retry) backoff bounds (ms). */
  backoff?: Backoff
  /** Bounds of the random hold of delivery receipts (outbox/outbox.ts); tests use 0. */
  deliveryReceiptDelay?: Backoff
  requestTimeoutMs?: number
  /**
   * Lets register/login/logout use ws:// or http:// to another machine, sending the password in
   * clear (default false: INSECURE_TRANSPORT; wss:// and this machine are always fine).
   */
  allowInsecureTransport?: boolean
  /**
   * Silence after which the link to the server counts as dead and is dropped (the server pings every
   * 30 s by default; default 75 s). Tests use small values to detect a cut network quickly.
   */
  silenceTimeoutMs?: number
  /** Messages per pull request while syncing a backlog. */
  pullPageSize?: number
  /** Path of a better-sqlite3 addon built for this runtime (Electron), when not the default one. */
  nativeBinding?: string
  /**
   * Files and images (issue 13, H3; files/): where downloads go (default ~/Downloads); whether
   * sendFile takes paths (the Electron host, whose preload makes them from picked files) or only
   * staged copies (a host serving a browser page); the host's shell to open and reveal downloads.
   */
  files?: FilesOptions
}

interface FilesOptions {
  downloadsDir?: string
  acceptPaths?: boolean
  shell?: DownloadsConfig['shell']
  /** Bytes per upload chunk (default 8 MiB). */
  chunkBytes?: number
}

type EventArgs = { [E in keyof IpcEvents]: [IpcEvents[E]] }

/** One signed-in session and the parts that live as long as it does. */
interface Session extends StoredSession {
  store: EngineStore
  ctx: EngineContext
  sync: Sync
  outbox: Outbox
  supervisor: Supervisor
  /** Told to the user with the login result and every connection state of this session. */
  notice?: ProfileNotice
  /** Files and images (H3). */
  uploads: Uploads
  downloads: Downloads
  /** Profile and group pictures (H7). */
  avatars: Avatars
}

export class Engine extends EventEmitter<EventArgs> {
  readonly profile: Profile
  private session: Session | undefined
  private state: ConnectionState = { state: 'signedOut' }

  constructor(private readonly options: EngineOptions) {
    super()
    this.profile = new Profile(options.profileDir)
    // H7: a picture nobody has any more leaves the cache.
    this.on('avatarsChanged', () => void this.session?.avatars.prune())
    // H4: my new name (here or from another device) is the one a restart shows before it connects.
    this.on('userChanged', (user) => {
      const s = this.session
      if (!s || user.userId !== s.userId || this.profile.session?.token !== s.token) return
      s.displayName = user.displayName
      this.profile.setSession({ ...this.profile.session, displayName: user.displayName })
    })
  }

  /**
   * Resumes the stored session, if any, and starts connecting. A profile database this app cannot
   * open (PROFILE_DATABASE_TOO_NEW) leaves the engine signed out, with the reason as the state detail.
   */
  start(): void {
    const s = this.profile.session
    if (!s || s.expiresAt <= Date.now()) return
    try {
      this.openSession(s)
    } catch (err) {
      if (!(err instanceof CodedError)) throw err
      this.setState('signedOut', { detail: err.message })
    }
  }

  async shutdown(): Promise<void> {
    await this.closeSession()
  }

  // ---- state ------------------------------------------------------------------------------

  get connectionState(): ConnectionState {
    return this.state
  }

  get userId(): string | undefined {
    return this.session?.userId
  }

  /** The open store, through its interface (tests and benchmarks read it). */
  get store(): EngineStore | undefined {
    return this.session?.store
  }

  /** Resolves when the outbox pass running or queued now has finished (tests, benchmarks). */
  flushOutbox(): Promise<void> {
    return this.session?.outbox.flush() ?? Promise.resolve()
  }

  private setState(state: ConnectionStateName, extra: Omit<ConnectionState, 'state'> = {}): void {
    const notice = this.session?.notice
    this.state = { state, ...(notice && state !== 'signedOut' ? { detail: notice.msg } : {}), ...extra }
    this.emit('connectionState', this.state)
  }

  appInfo(): AppInfo {
    return {
      version: this.options.version,
      host: this.options.host,
      profile: this.profile.name,
      defaultServerUrl: this.profile.session?.serverUrl ?? this.options.defaultServerUrl,
      canOpenFiles: this.options.files?.shell !== undefined,
    }
  }

  currentUser(): SessionInfo | null {
    const s = this.session
    if (!s) return null
    return {
      user: { userId: s.userId, displayName: s.store.displayName(s.userId) ?? s.displayName },
      serverUrl: s.serverUrl,
      deviceId: this.profile.deviceId,
      ...(s.notice ? { notice: s.notice } : {}),
    }
  }

  // ---- session ----------------------------------------------------------------------------

  private post(serverUrl: string, path: string, body: unknown, token?: string): Promise<Result<unknown>> {
    return postJson(serverUrl, path, body, {
      token,
      timeoutMs: this.options.requestTimeoutMs ?? 15_000,
      allowInsecure: this.options.allowInsecureTransport ?? false,
    })
  }

  async register(input: {
    serverUrl: string
    userId: string
    password: string
    displayName?: string | undefined
    inviteCode?: string | undefined
  }): Promise<Result<UserProfile>> {
    const res = await this.post(input.serverUrl, http.register.path, {
      userId: input.userId,
      password: input.password,
      ...(input.displayName ? { displayName: input.displayName } : {}),
      ...(input.inviteCode ? { inviteCode: input.inviteCode } : {}),
    })
    if (res.code !== 0) return res
    const parsed = http.register.reply.safeParse(res.data)
    return parsed.success ? ok(parsed.data.user) : fail(Code.INTERNAL, 'malformed register reply')
  }

  async login(input: { serverUrl: string; userId: string; password: string }): Promise<Result<SessionInfo>> {
    const res = await this.post(input.serverUrl, http.login.path, {
      userId: input.userId,
      password: input.password,
      deviceId: this.profile.deviceId,
    })
    if (res.code !== 0) return res
    const parsed = http.login.reply.safeParse(res.data)
    if (!parsed.success) return fail(Code.INTERNAL, 'malformed login reply')
    await this.closeSession()
    const stored: StoredSession = {
      serverUrl: input.serverUrl,
      userId: parsed.data.user.userId,
      displayName: parsed.data.user.displayName,
      token: parsed.data.token,
      expiresAt: parsed.data.expiresAt,
    }
    try {
      this.openSession(stored)
    } catch (err) {
      if (!(err instanceof CodedError)) throw err
      // The local history cannot be opened: the new token is of no use, end it on the server too.
      await this.post(input.serverUrl, http.logout.path, {}, stored.token).catch(() => undefined)
      return fail(err.code, err.message)
    }
    this.profile.setSession(stored)
    const info = this.currentUser()
    return info ? ok(info) : fail(Code.INTERNAL)
  }

  async logout(): Promise<Result<null>> {
    const s = this.session
    if (!s) return ok(null)
    // Best effort: the token dies on the server; locally it is forgotten whatever the answer.
    await this.post(s.serverUrl, http.logout.path, {}, s.token).catch(() => undefined)
    this.profile.setSession(null)
    await this.closeSession()
    this.emit('sessionEnded', { reason: 'logout' })
    return ok(null)
  }

  /** Throws CodedError(PROFILE_DATABASE_TOO_NEW) when the profile's database is from a newer app. */
  private openSession(stored: StoredSession): void {
    const binding = this.options.nativeBinding
    const { store, notice } = openProfileStore(this.profile.databaseFile(stored.serverUrl, stored.userId), {
      ...(binding && existsSync(binding) ? { nativeBinding: binding } : {}),
    })
    if (notice) console.warn(notice.msg)
    store.upsertUsers([{ userId: stored.userId, displayName: stored.displayName }])
    const backoff = this.options.backoff ?? DEFAULT_BACKOFF
    // One URL or the nodes of one deployment; a stored URL this build no longer parses is tried as it is.
    const nodes = parseServerList(stored.serverUrl)
    const supervisor = new Supervisor(
      {
        urls: nodes.code === 0 ? nodes.data : [stored.serverUrl],
        token: stored.token,
        deviceId: this.profile.deviceId,
        ...(this.options.requestTimeoutMs ? { requestTimeoutMs: this.options.requestTimeoutMs } : {}),
        ...(this.options.silenceTimeoutMs ? { silenceTimeoutMs: this.options.silenceTimeoutMs } : {}),
      },
      backoff,
      {
        state: (state, { node, ...extra } = {}) => {
          // H4: typing indicators cannot be stopped by a link that is gone: drop them.
          if (state === 'disconnected') presence.disconnected(session.ctx)
          this.setState(state, { ...this.nodeDetail(session, node), ...extra })
        },
        connected: (conn) => this.connected(session, conn),
        unauthorized: () => {
          this.setState('unauthorized', {
            detail: 'The server no longer accepts this session: sign in again.',
          })
          this.profile.setSession(null)
          this.emit('sessionEnded', { reason: 'revoked' })
        },
      },
    )
    const ctx: EngineContext = {
      me: stored.userId,
      store,
      link: () => {
        const conn = supervisor.link
        return conn?.isOpen ? conn : undefined
      },
      emit: (event, payload) => {
        ;(this.emit as (e: string, p: unknown) => boolean)(event, payload)
      },
      kickOutbox: () => {
        if (this.state.state === 'connected') void session.outbox.flush()
      },
      isCurrent: () => this.session === session,
      now: () => Date.now(),
    }
    const session: Session = {
      ...stored,
      store,
      ctx,
      supervisor,
      outbox: new Outbox(ctx, {
        backoff,
        ...(this.options.deliveryReceiptDelay
          ? { deliveryReceiptDelay: this.options.deliveryReceiptDelay }
          : {}),
      }),
      sync: new Sync(ctx, {
        pullPageSize: this.options.pullPageSize,
        onRevoked: () => {
          this.profile.setSession(null)
          void this.closeSession().then(() => this.emit('sessionEnded', { reason: 'revoked' }))
        },
      }),
      ...(notice ? { notice } : {}),
      ...this.fileParts(ctx, stored, supervisor),
    }
    this.session = session
    supervisor.start()
    // Search (H2): history not yet in the full-text index (a profile from before it) goes in now.
    search.indexInBackground(ctx)
  }

  private async connected(s: Session, conn: ServerConnection): Promise<void> {
    conn.on('push', (frame) => s.sync.onPush(frame))
    this.setState('syncing', this.nodeDetail(s, conn.url))
    await s.sync.run()
    // Search (H2): what the sync brought goes into the full-text index, a slice at a time.
    if (this.session === s) search.indexInBackground(s.ctx)
    if (conn.isOpen && this.session === s) {
      this.setState('connected', this.nodeDetail(s, conn.url))
      void s.outbox.flush()
      s.uploads.resume()
      // H4: presence shown before the link dropped may have changed meanwhile.
      void presence.refreshPresence(s.ctx).catch(() => undefined)
    }
  }

  /**
   * With several nodes, the state's detail names the node it is about (the session's notice, if
   * any, goes first); with one server URL there is nothing to add.
   */
  private nodeDetail(s: Session, node: string | undefined): { detail?: string } {
    return node && !s.notice && s.supervisor.nodeCount > 1 ? { detail: node } : {}
  }

  /** Uploads and downloads of a session, over HTTP to the node the link is on (H3). */
  private fileParts(
    ctx: EngineContext,
    stored: StoredSession,
    supervisor: Supervisor,
  ): Pick<Session, 'uploads' | 'downloads' | 'avatars'> {
    const options = this.options.files ?? {}
    const server = () => {
      const url = supervisor.link?.url ?? stored.serverUrl.split(',')[0]?.trim()
      return url ? { base: httpBase(url), token: stored.token } : undefined
    }
    const uploads = new Uploads(ctx, {
      server,
      stagingDir: join(this.profile.dir, 'staging'),
      acceptPaths: options.acceptPaths ?? false,
      ...(options.chunkBytes ? { chunkBytes: options.chunkBytes } : {}),
    })
    void uploads.sweepStaging()
    const downloads = new Downloads(ctx, {
      server,
      downloadsDir: options.downloadsDir ?? join(homedir(), 'Downloads'),
      ...(options.shell ? { shell: options.shell } : {}),
    })
    // H7: one cache folder per account, so another account of this profile never sees its pictures
    // (prefixed: a user id may be "..").
    const avatars = new Avatars(ctx, {
      server,
      cacheDir: join(this.profile.dir, 'avatars', `u-${stored.userId}`),
    })
    void avatars.prune()
    return { uploads, downloads, avatars }
  }

  private async closeSession(): Promise<void> {
    const s = this.session
    if (!s) return
    await s.supervisor.stop()
    await s.outbox.close()
    await s.uploads.close()
    await s.sync.idle()
    this.session = undefined
    s.store.close()
    this.setState('signedOut')
  }

  // ---- operations (the handler table's targets) -------------------------------------------

  private ctx(): EngineContext {
    const s = this.session
    if (!s) throw new CodedError(Code.NOT_LOGGED_IN)
    return s.ctx
  }

  settings = (): AccountSettings => receipts.settings(this.ctx())
  updateSettings = (patch: Partial<AccountSettings>) => receipts.updateSettings(this.ctx(), patch)
  conversationList = () => messages.conversationList(this.ctx())
  startPrivateChat = (userId: string) => messages.startPrivateChat(this.ctx(), userId)
  history = (c: Conversation, beforeSeq: number | undefined, count: number) =>
    messages.history(this.ctx(), c, beforeSeq, count)
  sendMessage = (
    c: Conversation,
    content: MessageContent,
    options: Parameters<typeof messages.sendMessage>[3],
  ) => messages.sendMessage(this.ctx(), c, content, options)
  // Acknowledgements, reminders, "Waiting for me", mentions (issue 15): ops/acks.ts.
  ackMessage = (messageId: string) => acks.ackMessage(this.ctx(), messageId)
  undoAckMessage = (messageId: string) => acks.undoAckMessage(this.ctx(), messageId)
  getMessageAcks = (messageId: string, state: AckState, pageSize: number, cursor: string | undefined) =>
    acks.getMessageAcks(this.ctx(), messageId, state, pageSize, cursor)
  remindUnacknowledged = (messageId: string) => acks.remindUnacknowledged(this.ctx(), messageId)
  setAckReminderSchedule = (messageId: string, schedule: ReminderSchedule | undefined) =>
    acks.setAckReminderSchedule(this.ctx(), messageId, schedule)
  getPendingAckMessages = (count: number) => acks.getPendingAckMessages(this.ctx(), count)
  getMentionReads = (messageId: string) => acks.getMentionReads(this.ctx(), messageId)
  exportMessageAcks = (messageId: string) => acks.exportMessageAcks(this.ctx(), messageId)
  getAckSettings = () => acks.getAckSettings(this.ctx())
  users = (userIds: string[]) => messages.users(this.ctx(), userIds)
  // Message actions (issue 13, H1)
  editMessage = (messageId: string, text: string) => messageActions.editMessage(this.ctx(), messageId, text)
  recallMessage = (messageId: string) => messageActions.recallMessage(this.ctx(), messageId)
  deleteMessageForMe = (messageId: string) => messageActions.deleteMessageForMe(this.ctx(), messageId)
  messageVersions = (messageId: string) => messageActions.messageVersions(this.ctx(), messageId)
  messageActionSettings = () => messageActions.messageActionSettings(this.ctx())
  groupOp = <Op extends groups.GroupOp>(op: Op, data: RequestData<Op>) => groups.groupOp(this.ctx(), op, data)
  leaveGroup = (groupId: string) => groups.leaveGroup(this.ctx(), groupId)
  transferGroupOwnership = (groupId: string, newOwnerId: string) =>
    groups.transferGroupOwnership(this.ctx(), groupId, newOwnerId)
  groupInfo = (groupId: string) => groups.groupInfo(this.ctx(), groupId)
  groupInvites = () => groups.groupInvites(this.ctx())
  respondToGroupInvite = (groupId: string, accept: boolean) =>
    groups.respondToGroupInvite(this.ctx(), groupId, accept)
  groupMembers = (groupId: string) => groups.groupMembers(this.ctx(), groupId)
  // Search (issue 13, H2)
  searchMessages = (
    keyword: string,
    options: { conversation?: Conversation | undefined; count: number; cursor?: number | undefined },
  ) => search.searchMessages(this.ctx(), keyword, options)
  messagesAround = (c: Conversation, messageId: string, count: number) =>
    search.messagesAround(this.ctx(), c, messageId, count)
  newerMessages = (c: Conversation, afterSeq: number, count: number) =>
    search.newerMessages(this.ctx(), c, afterSeq, count)
  searchUsers = (query: string, limit: number) => search.searchUsers(this.ctx(), query, limit)
  ackMessageRead = (messageUId: string) => receipts.ackMessageRead(this.ctx(), messageUId)
  ackConversationRead = (c: Conversation, upToSeq?: number) =>
    receipts.ackConversationRead(this.ctx(), c, upToSeq)
  setConversationReceiptSharing = (c: Conversation, share: boolean | null) =>
    receipts.setConversationReceiptSharing(this.ctx(), c, share)
  ackGroupMessageRead = (messageUId: string, ext: string | undefined) =>
    groupReceipts.ackGroupMessageRead(this.ctx(), messageUId, ext)
  fetchGroupReadAcks = (messageUId: string, pageSize: number, startAckId: string | undefined) =>
    groupReceipts.fetchGroupReadAcks(this.ctx(), messageUId, pageSize, startAckId)
  fetchGroupUnreadMembers = (messageUId: string, pageSize: number, startUserId: string | undefined) =>
    groupReceipts.fetchGroupUnreadMembers(this.ctx(), messageUId, pageSize, startUserId)
  sendReadReceiptRequest = (groupId: string, messageUId: string) =>
    groupReceipts.sendReadReceiptRequest(this.ctx(), groupId, messageUId)
  sendReadReceiptResponseV2 = (
    groupId: string,
    messageList: Record<string, string[]> | undefined,
    channelId: string | undefined,
  ) => groupReceipts.sendReadReceiptResponseV2(this.ctx(), groupId, messageList, channelId)
  setGroupReceiptSettings = (groupId: string, settings: Partial<GroupReceiptSettings>) =>
    groupReceipts.setGroupReceiptSettings(this.ctx(), groupId, settings)
  // Drafts and notifications (issue 13, H5)
  saveTextMessageDraft = (c: Conversation, text: string) => everyday.saveTextMessageDraft(this.ctx(), c, text)
  getTextMessageDraft = (c: Conversation) => everyday.getTextMessageDraft(this.ctx(), c)
  clearTextMessageDraft = (c: Conversation) => everyday.clearTextMessageDraft(this.ctx(), c)
  setConversationNotificationStatus = (c: Conversation, status: NotificationStatus) =>
    everyday.setConversationNotificationStatus(this.ctx(), c, status)
  getConversationNotificationStatus = (c: Conversation) =>
    everyday.getConversationNotificationStatus(this.ctx(), c)
  // Typing, presence, profile (issue 13, H4)
  setTyping = (c: Conversation, typing: boolean) => presence.setTyping(this.ctx(), c, typing)
  getPresence = (userIds: string[]) => presence.getPresence(this.ctx(), userIds)
  getPrivacySettings = () => presence.getPrivacySettings(this.ctx())
  updatePrivacySettings = (patch: Partial<PrivacySettings>) =>
    presence.updatePrivacySettings(this.ctx(), patch)
  updateProfile = (displayName: string) => presence.updateProfile(this.ctx(), displayName)
  renameGroup = (groupId: string, name: string) => presence.renameGroup(this.ctx(), groupId, name)

  /** Over HTTP with this session's token; the server signs my other sessions out (this one stays). */
  async changePassword(currentPassword: string, newPassword: string): Promise<{ sessionsEnded: number }> {
    const s = this.session
    if (!s) throw new CodedError(Code.NOT_LOGGED_IN)
    const body = { currentPassword, newPassword }
    const res = await this.post(s.serverUrl, http.changePassword.path, body, s.token)
    if (res.code !== 0) throw new CodedError(res.code, res.msg)
    const parsed = http.changePassword.reply.safeParse(res.data)
    if (!parsed.success) throw new CodedError(Code.INTERNAL, 'malformed changePassword reply')
    return parsed.data
  }

  // Files and images (issue 13, H3)
  private files(): Session {
    const s = this.session
    if (!s) throw new CodedError(Code.NOT_LOGGED_IN)
    return s
  }
  stageFileChunk = (stageId: string | undefined, offset: number, base64: string) =>
    this.files().uploads.stageChunk(stageId, offset, base64)
  sendFile = (
    c: Conversation,
    source: FileSource,
    meta: AttachmentMeta,
    options: { isNeedGroupAck: boolean; channelId: string },
  ) => this.files().uploads.send(c, source, meta, options)
  getUploads = () => this.files().uploads.list()
  cancelUpload = (uploadId: number) => this.files().uploads.cancel(uploadId)
  retryUpload = (uploadId: number, asFile: boolean) => this.files().uploads.retry(uploadId, asFile)
  downloadFile = (messageId: string) => this.files().downloads.download(messageId)
  getDownload = (messageId: string) => this.files().downloads.get(messageId)
  getImageData = (messageId: string) => this.files().downloads.imageData(messageId)
  openDownload = (messageId: string, action: 'open' | 'reveal') =>
    this.files().downloads.open(messageId, action)
  // Profile and group pictures (H7): files/avatars.ts.
  getAvatars = () => this.files().avatars.directory()
  getAvatarImage = (fileId: string) => this.files().avatars.image(fileId)
  setAvatar = (image: string | null) => this.files().avatars.setMine(image)
  setGroupAvatar = (groupId: string, image: string | null) => this.files().avatars.setGroup(groupId, image)
}
