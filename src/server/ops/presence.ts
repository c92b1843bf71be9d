/**
 * Typing and presence, and the privacy settings that decide who hears them (issue 13, H4; the rules
 * are in src/shared/presence.ts). The server enforces them: a push the owner's setting hides is never
 * sent, so no client, modified or not, can learn it. Typing is fanned out and forgotten: nothing of
 * it is stored.
 */
import { Code, CodedError } from '../../shared/codes'
import type { Conversation } from '../../shared/model'
import { visibleTo, type PresenceInfo, type PrivacySettings, type Relation } from '../../shared/presence'
import type { PresenceRow, StorageOps } from '../storage/types'
import type { OpHandler } from './context'
import { findMembership } from './conversations'

/** A node refreshes its presence rows this often; rows older than PRESENCE_STALE_MS are of a dead node. */
export const PRESENCE_REFRESH_MS = 15_000
export const PRESENCE_STALE_MS = 3 * PRESENCE_REFRESH_MS

async function privacyOf(storage: StorageOps, userId: string): Promise<PrivacySettings> {
  const privacy = await storage.getPrivacy(userId)
  if (!privacy) throw new Error(`no user ${userId}`)
  return privacy
}

/** Who hears that `userId` came online or went offline: those their presence setting allows. */
export async function presenceAudience(storage: StorageOps, userId: string): Promise<string[]> {
  const { presence } = await privacyOf(storage, userId)
  if (presence === 'nobody') return []
  return storage.relatedUsers(userId, presence)
}

/** How each of `viewerIds` stands to `ownerId` (contact, shares a conversation, stranger). */
async function relations(
  storage: StorageOps,
  ownerId: string,
  viewerIds: readonly string[],
): Promise<Map<string, Relation>> {
  const others = viewerIds.filter((id) => id !== ownerId)
  const sharing = new Set(await storage.relatedUsers(ownerId, 'everyone', others))
  const contacts = new Set(
    sharing.size > 0 ? await storage.relatedUsers(ownerId, 'contacts', [...sharing]) : [],
  )
  const out = new Map<string, Relation>()
  for (const id of viewerIds)
    out.set(
      id,
      id === ownerId
        ? 'self'
        : contacts.has(id)
          ? 'contact'
          : sharing.has(id)
            ? 'sharesConversation'
            : 'stranger',
    )
  return out
}

function presenceInfo(row: PresenceRow): PresenceInfo {
  return row.online
    ? { userId: row.userId, state: 'online', lastSeenAt: null }
    : { userId: row.userId, state: 'offline', lastSeenAt: row.lastSeenAt }
}

function hidden(userId: string): PresenceInfo {
  return { userId, state: 'hidden', lastSeenAt: null }
}

/**
 * Tells the members of a conversation that I type (or stopped), those my typing setting allows.
 * A single chat with no message yet has nobody to tell: nothing is sent (a stranger cannot be
 * pestered with typing notices before a first message).
 */
export const typing: OpHandler<'typing'> = async (ctx, data) => {
  const membership = await findMembership(ctx, data.conversation)
  if (!membership) return {}
  if (membership.me.leftSeq !== null) throw new CodedError(Code.NOT_A_MEMBER)
  const setting = (await privacyOf(ctx.storage, ctx.userId)).typing
  if (setting === 'nobody') return {}
  const members = (await ctx.storage.listCurrentMemberIds(membership.conv.id)).filter(
    (id) => id !== ctx.userId,
  )
  // In a single chat the peer is a contact by definition; in a group, 'contacts' keeps those I
  // also have a single chat with.
  const audience =
    membership.group && setting === 'contacts'
      ? await ctx.storage.relatedUsers(ctx.userId, 'contacts', members)
      : members
  if (audience.length === 0) return {}
  const conversation: Conversation = membership.group
    ? data.conversation
    : { type: 'private', targetId: ctx.userId }
  ctx.pushes.add(audience, 'typing', { conversation, userId: ctx.userId, typing: data.typing })
  return {}
}

/** Each user's presence as their setting lets me see it; 'hidden' for the rest and for strangers. */
export const getPresence: OpHandler<'getPresence'> = async (ctx, data) => {
  const ids = [...new Set(data.userIds)]
  const rows = new Map(
    (await ctx.storage.getPresence(ids, ctx.now - PRESENCE_STALE_MS)).map((r) => [r.userId, r]),
  )
  const relationTo = await relations(ctx.storage, ctx.userId, ids)
  return {
    presence: ids.map((id) => {
      const row = rows.get(id)
      // An unknown id looks like a stranger who hides: whether it exists is not told here.
      const relation = relationTo.get(id) ?? 'stranger'
      return row && visibleTo(row.visibility, relation) ? presenceInfo(row) : hidden(id)
    }),
  }
}

export const getPrivacySettings: OpHandler<'getPrivacySettings'> = async (ctx) => ({
  privacy: await privacyOf(ctx.storage, ctx.userId),
})

/**
 * Changes my settings; my other devices hear privacyChanged. When the presence setting changed,
 * everyone who shares a conversation with me gets my presence as they may see it now (real, or
 * 'hidden' for those who lost it). Typing needs nothing: what is shown expires by itself.
 */
export const updatePrivacySettings: OpHandler<'updatePrivacySettings'> = async (ctx, data) => {
  const before = await privacyOf(ctx.storage, ctx.userId)
  const privacy = await ctx.storage.updatePrivacy(ctx.userId, data)
  ctx.pushes.add(ctx.userId, 'privacyChanged', { privacy }, { except: ctx.connection })
  if (privacy.presence !== before.presence) {
    const everyone = await ctx.storage.relatedUsers(ctx.userId, 'everyone')
    const contacts = new Set(await ctx.storage.relatedUsers(ctx.userId, 'contacts', everyone))
    const [row] = await ctx.storage.getPresence([ctx.userId], ctx.now - PRESENCE_STALE_MS)
    const mine = row ? presenceInfo(row) : hidden(ctx.userId)
    const shown = everyone.filter((id) =>
      visibleTo(privacy.presence, contacts.has(id) ? 'contact' : 'sharesConversation'),
    )
    const shownSet = new Set(shown)
    if (shown.length > 0) ctx.pushes.add(shown, 'presence', mine)
    const hiddenFrom = everyone.filter((id) => !shownSet.has(id))
    if (hiddenFrom.length > 0) ctx.pushes.add(hiddenFrom, 'presence', hidden(ctx.userId))
  }
  return { privacy }
}
