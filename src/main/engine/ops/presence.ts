/**
 * Typing, presence and profile on the engine's side (issue 13, H4). Typing and presence are live
 * state only: kept in memory for the session, never in SQLite (what they say is stale a minute
 * later, and a reconnect asks the server again). Display names go to the store's users table,
 * which titles single chats.
 *
 * Typing is coalesced here, whatever the renderer calls: "typing" goes to the server at most once
 * per TYPING_REFRESH_MS per conversation while the person types, "stopped" once when they send or
 * clear; an indicator received expires TYPING_EXPIRE_MS after its last "typing".
 */
import { Code, CodedError } from '../../../shared/codes'
import { conversationKey, type Conversation, type GroupInfo, type UserProfile } from '../../../shared/model'
import {
  TYPING_EXPIRE_MS,
  TYPING_REFRESH_MS,
  type PresenceInfo,
  type PrivacySettings,
} from '../../../shared/presence'
import type { PushData } from '../../../shared/protocol'
import { emitConversations, request, requireOk, type EngineContext } from '../context'
import { noteUserAvatars } from '../files/avatars'

/** What one session holds in memory. */
class LiveState {
  readonly presence = new Map<string, PresenceInfo>()
  /** Conversation key → who types there, each with the timer that expires their indicator. */
  readonly typing = new Map<string, { conversation: Conversation; who: Map<string, NodeJS.Timeout> }>()
  /** Conversation key → when I last told the server I type there. */
  readonly lastTypingSent = new Map<string, number>()
  /** Typing frames this session sent (the bench's figure). */
  typingFramesSent = 0
}

const states = new WeakMap<EngineContext, LiveState>()

function stateOf(ctx: EngineContext): LiveState {
  let state = states.get(ctx)
  if (!state) {
    state = new LiveState()
    states.set(ctx, state)
  }
  return state
}

/** Typing frames sent in this session so far (bench/typing.ts). */
export function typingFramesSent(ctx: EngineContext): number {
  return stateOf(ctx).typingFramesSent
}

// ---- typing, out ---------------------------------------------------------------------------

/**
 * The renderer says I type (on every edit, as often as it likes) or stopped (sent, cleared, left
 * the chat). Fire and forget: without a link, or refused, nothing is retried (it is stale at once).
 */
export function setTyping(ctx: EngineContext, conversation: Conversation, typing: boolean): null {
  const state = stateOf(ctx)
  const key = conversationKey(conversation)
  const last = state.lastTypingSent.get(key)
  if (typing) {
    if (last !== undefined && ctx.now() - last < TYPING_REFRESH_MS) return null
    state.lastTypingSent.set(key, ctx.now())
  } else {
    if (last === undefined) return null
    state.lastTypingSent.delete(key)
  }
  if (!ctx.link()) return null
  state.typingFramesSent++
  void request(ctx, 'typing', { conversation, typing })
  return null
}

// ---- typing, in ----------------------------------------------------------------------------

function emitTyping(ctx: EngineContext, conversation: Conversation): void {
  const entry = stateOf(ctx).typing.get(conversationKey(conversation))
  ctx.emit('typingChanged', { conversation, userIds: entry ? [...entry.who.keys()] : [] })
}

function clearTyping(ctx: EngineContext, conversation: Conversation, userId: string): boolean {
  const key = conversationKey(conversation)
  const entry = stateOf(ctx).typing.get(key)
  const timer = entry?.who.get(userId)
  if (!entry || timer === undefined) return false
  clearTimeout(timer)
  entry.who.delete(userId)
  if (entry.who.size === 0) stateOf(ctx).typing.delete(key)
  return true
}

export function onTyping(ctx: EngineContext, { conversation, userId, typing }: PushData<'typing'>): void {
  if (userId === ctx.me) return
  const cleared = clearTyping(ctx, conversation, userId)
  if (typing) {
    const key = conversationKey(conversation)
    const state = stateOf(ctx)
    let entry = state.typing.get(key)
    if (!entry) state.typing.set(key, (entry = { conversation, who: new Map() }))
    const timer = setTimeout(() => {
      if (clearTyping(ctx, conversation, userId) && ctx.isCurrent()) emitTyping(ctx, conversation)
    }, TYPING_EXPIRE_MS)
    timer.unref()
    entry.who.set(userId, timer)
  } else if (!cleared) return
  emitTyping(ctx, conversation)
}

/** Their message arrived: they are done typing it. */
export function messageArrived(ctx: EngineContext, conversation: Conversation, senderId: string): void {
  if (clearTyping(ctx, conversation, senderId)) emitTyping(ctx, conversation)
}

/** The link went down: nothing said before it can be trusted to be stopped by a later frame. */
export function disconnected(ctx: EngineContext): void {
  const state = stateOf(ctx)
  const entries = [...state.typing.values()]
  state.typing.clear()
  state.lastTypingSent.clear()
  for (const { conversation, who } of entries) {
    for (const timer of who.values()) clearTimeout(timer)
    emitTyping(ctx, conversation)
  }
}

// ---- presence ------------------------------------------------------------------------------

export function onPresence(ctx: EngineContext, info: PresenceInfo): void {
  stateOf(ctx).presence.set(info.userId, info)
  ctx.emit('presenceChanged', [info])
}

/**
 * Presence of these users as the server lets me see it; while not connected, what was last heard
 * (users never heard of are left out: nothing is known of them).
 */
export async function getPresence(ctx: EngineContext, userIds: string[]): Promise<PresenceInfo[]> {
  const state = stateOf(ctx)
  const res = ctx.link() ? await request(ctx, 'getPresence', { userIds }) : undefined
  if (!res || res.code !== 0) {
    if (res && res.code !== Code.SERVER_UNREACHABLE) throw new CodedError(res.code, res.msg)
    return userIds.flatMap((id) => state.presence.get(id) ?? [])
  }
  for (const info of res.data.presence) state.presence.set(info.userId, info)
  return res.data.presence
}

/** After a reconnection: what was shown may have changed meanwhile, so ask again and tell it. */
export async function refreshPresence(ctx: EngineContext): Promise<void> {
  const known = [...stateOf(ctx).presence.keys()]
  for (let i = 0; i < known.length; i += 100) {
    const res = await request(ctx, 'getPresence', { userIds: known.slice(i, i + 100) })
    if (res.code !== 0 || !ctx.isCurrent()) return
    for (const info of res.data.presence) stateOf(ctx).presence.set(info.userId, info)
    if (res.data.presence.length > 0) ctx.emit('presenceChanged', res.data.presence)
  }
}

// ---- privacy and profile -------------------------------------------------------------------

export async function getPrivacySettings(ctx: EngineContext): Promise<PrivacySettings> {
  return (await requireOk(ctx, 'getPrivacySettings', {})).privacy
}

export async function updatePrivacySettings(
  ctx: EngineContext,
  patch: Partial<PrivacySettings>,
): Promise<PrivacySettings> {
  const { privacy } = await requireOk(ctx, 'updatePrivacySettings', patch)
  ctx.emit('privacyChanged', privacy)
  return privacy
}

/** A user's new name: the store (which titles single chats), their chat's summary, the renderer. */
export function onUserChanged(ctx: EngineContext, user: UserProfile): void {
  ctx.store.upsertUsers([user])
  noteUserAvatars(ctx, [user])
  const chat: Conversation = { type: 'private', targetId: user.userId }
  if (user.userId !== ctx.me && ctx.store.conversation(chat)) emitConversations(ctx, [chat])
  ctx.emit('userChanged', user)
}

export async function updateProfile(ctx: EngineContext, displayName: string): Promise<UserProfile> {
  const { user } = await requireOk(ctx, 'updateProfile', { displayName })
  onUserChanged(ctx, user)
  return user
}

/** Owner and admins (the server checks): stored and told as any group change. */
export async function renameGroup(ctx: EngineContext, groupId: string, name: string): Promise<GroupInfo> {
  const { group } = await requireOk(ctx, 'renameGroup', { groupId, name })
  ctx.store.upsertGroup(group, ctx.now())
  ctx.emit('groupChanged', { groupId, group })
  emitConversations(ctx, [{ type: 'group', targetId: groupId }])
  return group
}
