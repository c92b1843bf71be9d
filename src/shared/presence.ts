/**
 * Typing, presence and their privacy settings (issue 13, feature 8): the schemas and the rules that
 * the server, the engine and the renderer all need, kept in one place.
 *
 * Who counts as what, for a user's setting:
 * - a **contact** is someone I have a single chat with (it exists from its first message on);
 * - **everyone** means everyone who shares a conversation with me now: my contacts and the current
 *   members of my groups. A stranger never learns anything, whatever the setting (enumeration);
 * - **nobody**: nobody but my own devices.
 * Not reciprocal: hiding mine does not hide others' from me (what they show is their choice).
 */
import { z } from 'zod'
import { UserId } from './model'

export const Visibility = z.enum(['nobody', 'contacts', 'everyone'])
export type Visibility = z.infer<typeof Visibility>

export const PrivacySettings = z.object({
  /** Who sees that I am typing. */
  typing: Visibility,
  /** Who sees that I am online, and when I was last. */
  presence: Visibility,
})
export type PrivacySettings = z.infer<typeof PrivacySettings>

/**
 * `hidden`: the user does not show this to the viewer. The UI says "last seen hidden" (or nothing),
 * never "offline": hidden is not a state of the person.
 */
const PresenceState = z.enum(['online', 'offline', 'hidden'])
type PresenceState = z.infer<typeof PresenceState>

export const PresenceInfo = z.object({
  userId: UserId,
  state: PresenceState,
  /** When the user was last connected (ms); null while online, hidden, or never seen. */
  lastSeenAt: z.number().nullable(),
})
export type PresenceInfo = z.infer<typeof PresenceInfo>

/**
 * Coalescing: while someone types, their client says "typing" at most once per TYPING_REFRESH_MS,
 * and "stopped" once when they send or clear the text. Receivers drop the indicator by themselves
 * TYPING_EXPIRE_MS after the last "typing" (a stop that was lost, a client that went away), so the
 * refresh must come well before the expiry.
 */
export const TYPING_REFRESH_MS = 4000
export const TYPING_EXPIRE_MS = 7000

/** How a viewer stands to the owner of a setting (see the file comment). */
export type Relation = 'self' | 'contact' | 'sharesConversation' | 'stranger'

/** Whether a setting lets a viewer of that relation see it. */
export function visibleTo(setting: Visibility, relation: Relation): boolean {
  if (relation === 'self') return true
  if (relation === 'stranger' || setting === 'nobody') return false
  return setting === 'everyone' || relation === 'contact'
}
