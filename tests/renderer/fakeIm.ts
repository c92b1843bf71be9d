import { ok, type Result } from '../../src/shared/codes'
import {
  operationNames,
  type EventName,
  type ImApi,
  type IpcEvents,
  type OperationArgs,
  type OperationName,
  type OperationResult,
} from '../../src/shared/ipc'
import {
  conversationKey,
  MessageDirection,
  type ConversationSummary,
  type Message,
} from '../../src/shared/model'
import type { AccountSettings } from '../../src/shared/protocol'
import { makeSent, makeSummary } from './fixtures'

type Answer<K extends OperationName> = Result<OperationResult<K>> | Promise<Result<OperationResult<K>>>
type Responder<K extends OperationName> = (...args: OperationArgs<K>) => Answer<K>

export interface RecordedCall {
  name: OperationName
  args: unknown[]
}

const defaults: { [K in OperationName]?: Responder<K> } = {
  getAppInfo: () =>
    ok({ version: '0.1.0', host: 'headless', profile: 'alice', defaultServerUrl: 'ws://127.0.0.1:7700/ws' }),
  getCurrentUser: () => ok(null),
  getConnectionState: () => ok({ state: 'connected' }),
  getConversationList: () => ok([]),
  getHistoryMessages: () => ok({ list: [], hasMore: false }),
  getGroupMembers: () => ok([]),
  getGroupInvites: () => ok([]),
  sendMessage: (conversation, content) =>
    ok(makeSent({ conversation, content, status: 'sending', seq: null, messageUId: null })),
  // Drafts and notifications (H5): no draft, and no host notification (as the headless host).
  getTextMessageDraft: () => ok(''),
  // Search (H2): nothing found.
  searchUsers: () => ok([]),
  searchMessages: () => ok({ hits: [] }),
  showNotification: () => ok({ shown: false }),
  // Typing, presence, profile (H4): nothing known of anyone, the default privacy settings.
  getPresence: () => ok([]),
  getPrivacySettings: () => ok({ typing: 'everyone', presence: 'contacts' }),
  // Files (H3): nothing on its way.
  getUploads: () => ok([]),
}

/**
 * A stand-in for window.im: records every call, answers with a responder set per operation (or a
 * harmless default), and emits events to the handlers registered with `on`.
 *
 * It also plays the engine's part in message state: it keeps the newest copy of every message it
 * has handed out (history pages, sendMessage answers, messageReceived, messagesChanged) and, like the
 * engine, answers the read receipts it is sent by changing those messages (my read flag `isUnread`,
 * `readReceiptInfo.hasRespond`), each with a new revision, in one `messagesChanged`.
 *
 * It keeps the account settings and the conversation summaries it has handed out too, and answers
 * setConversationReceiptSharing as the engine does: the summary with the override and whether read
 * receipts flow (in a single chat both sides must share: see `peersHidingReceipts`), pushed with
 * `conversationChanged` as well.
 */
export class FakeIm {
  readonly calls: RecordedCall[] = []
  readonly api: ImApi
  private readonly responders = new Map<OperationName, (...args: unknown[]) => unknown>()
  private readonly listeners = new Map<EventName, Set<(payload: unknown) => void>>()
  private readonly gates = new Map<OperationName, Array<() => void>>()
  /** The engine's store: the newest copy of each message, by messageId. */
  private readonly held = new Map<string, Message>()
  /** The account settings as the engine holds them (updateSettings changes them). */
  settings: AccountSettings = { requireDeliveryAck: false, requireReadAck: false, shareReadReceipts: true }
  /** Peers (single chats) who do not share read receipts: receipts flow in neither direction there. */
  readonly peersHidingReceipts = new Set<string>()
  /** The summaries handed out (getConversationList, startPrivateChat, conversationChanged), by key. */
  private readonly summaries = new Map<string, ConversationSummary>()

  /** What the engine does with the receipts I send, unless a test responds otherwise. */
  private readonly engine: { [K in OperationName]?: Responder<K> } = {
    getSettings: () => ok(this.settings),
    updateSettings: (patch) => {
      this.settings = { ...this.settings, ...patch }
      return ok(this.settings)
    },
    setConversationReceiptSharing: (conversation, share) => {
      const key = conversationKey(conversation)
      const mine = share ?? this.settings.shareReadReceipts
      const theirs = conversation.type === 'group' || !this.peersHidingReceipts.has(conversation.targetId)
      const summary: ConversationSummary = {
        ...(this.summaries.get(key) ?? makeSummary({ conversation, title: conversation.targetId })),
        shareReadReceipts: share,
        readReceiptsShared: mine && theirs,
      }
      this.emit('conversationChanged', [summary])
      return ok(summary)
    },
    ackMessageRead: (messageUId) => {
      this.markRead((m) => m.messageUId === messageUId)
      return ok(null)
    },
    ackGroupMessageRead: (messageUId) => {
      this.markRead((m) => m.messageUId === messageUId)
      return ok(null)
    },
    ackConversationRead: (conversation, upToSeq) => {
      // Like the engine: up to upToSeq when given (what was shown), else everything.
      this.markRead(
        (m) =>
          conversationKey(m.conversation) === conversationKey(conversation) &&
          (upToSeq === undefined || (m.seq !== null && m.seq <= upToSeq)),
      )
      return ok(null)
    },
    sendReadReceiptResponseV2: (_groupId, messageList = {}) => {
      const answered = new Set(Object.values(messageList).flat())
      this.update(
        (m) => m.messageUId !== null && answered.has(m.messageUId),
        (m) => ({ isUnread: false, readReceiptInfo: { ...m.readReceiptInfo, hasRespond: true } }),
      )
      return ok({ messageList })
    },
  }

  constructor() {
    const api: Record<string, unknown> = {
      on: (event: EventName, handler: (payload: unknown) => void) => {
        const set = this.listeners.get(event) ?? new Set()
        set.add(handler)
        this.listeners.set(event, set)
        return () => set.delete(handler)
      },
    }
    for (const name of operationNames) {
      api[name] = async (...args: unknown[]) => {
        this.calls.push({ name, args })
        const gate = this.gates.get(name)
        if (gate) await new Promise<void>((resolve) => gate.push(resolve))
        const responder =
          this.responders.get(name) ??
          (this.engine[name] as ((...a: unknown[]) => unknown) | undefined) ??
          (defaults[name] as ((...a: unknown[]) => unknown) | undefined)
        const answer = (await (responder ? responder(...args) : ok(null))) as Result<unknown>
        this.noteAnswer(name, answer)
        return answer
      }
    }
    // Built from the contract's own list of operations, so every member of ImApi is present.
    this.api = api as ImApi
  }

  respond<K extends OperationName>(name: K, responder: Responder<K>): void {
    this.responders.set(name, responder as (...args: unknown[]) => unknown)
  }

  /**
   * Holds every call of `name` (a call in flight) until the returned function is called; then those
   * calls, and later ones at once, are answered as usual.
   */
  hold(name: OperationName): () => void {
    const waiting: Array<() => void> = []
    this.gates.set(name, waiting)
    return () => {
      this.gates.delete(name)
      waiting.splice(0).forEach((release) => release())
    }
  }

  emit<E extends EventName>(event: E, payload: IpcEvents[E]): void {
    if (event === 'messageReceived' || event === 'messagesChanged') this.keep(payload as Message[])
    if (event === 'conversationChanged') this.keepSummaries(payload as ConversationSummary[])
    for (const handler of this.listeners.get(event) ?? []) handler(payload)
  }

  /** The engine changes one message: a copy with the next revision, pushed with messagesChanged. */
  change(message: Message, patch: Partial<Message>): Message {
    const current = this.held.get(message.messageId) ?? message
    const next = { ...current, ...patch, revision: current.revision + 1 }
    this.emit('messagesChanged', [next])
    return next
  }

  callsOf<K extends OperationName>(name: K): OperationArgs<K>[] {
    return this.calls.filter((call) => call.name === name).map((call) => call.args as OperationArgs<K>)
  }

  listenerCount(event: EventName): number {
    return this.listeners.get(event)?.size ?? 0
  }

  private keep(messages: readonly Message[]): void {
    for (const message of messages) {
      const held = this.held.get(message.messageId)
      if (!held || message.revision > held.revision) this.held.set(message.messageId, message)
    }
  }

  private keepSummaries(summaries: readonly ConversationSummary[]): void {
    for (const summary of summaries) this.summaries.set(conversationKey(summary.conversation), summary)
  }

  private noteAnswer(name: OperationName, answer: Result<unknown>): void {
    if (answer.code !== 0) return
    if (name === 'getConversationList') this.keepSummaries(answer.data as ConversationSummary[])
    if (name === 'startPrivateChat') this.keepSummaries([answer.data as ConversationSummary])
    if (name === 'getHistoryMessages') this.keep((answer.data as OperationResult<'getHistoryMessages'>).list)
    if (name === 'sendMessage') this.keep([answer.data as OperationResult<'sendMessage'>])
  }

  /** The engine's part after a read receipt: messages it changed get a new revision, in one event. */
  private update(test: (m: Message) => boolean, patch: (m: Message) => Partial<Message>): void {
    const changed: Message[] = []
    for (const m of this.held.values())
      if (test(m)) changed.push({ ...m, ...patch(m), revision: m.revision + 1 })
    if (changed.length > 0) this.emit('messagesChanged', changed)
  }

  private markRead(test: (m: Message) => boolean): void {
    this.update(
      (m) => m.messageDirection === MessageDirection.RECEIVE && m.isUnread && test(m),
      () => ({ isUnread: false }),
    )
  }
}

export function installFakeIm(): FakeIm {
  const fake = new FakeIm()
  window.im = fake.api
  return fake
}
