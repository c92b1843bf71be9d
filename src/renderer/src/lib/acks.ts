/**
 * Small rules of the acknowledgement UI (issue 15) over the engine's fields; the counts themselves
 * are the engine's (ackCount) and the server's (the panel's pages).
 */
import type { Message } from '../../../shared/model'
import type { MentionedInfo } from '../../../shared/acks'

/** m of "n of m acknowledged": the peer of a single chat, or the members when it was sent. */
export function ackTotal(message: Message): number {
  return message.conversation.type === 'group' ? message.groupMemberCount : 1
}

/** Words that mention everyone, in either language. */
const MENTION_ALL_WORDS = ['all', '所有人'] as const

/** A name picked from the suggestions: what the text holds ("@name") and whom it means. */
export interface PickedMention {
  userId: string
  name: string
}

function mentionedIn(text: string, name: string): boolean {
  const at = `@${name}`
  let from = text.indexOf(at)
  while (from !== -1) {
    const before = from === 0 ? ' ' : text[from - 1]
    const after = text[from + at.length] ?? ' '
    // "@ann" in "@anna" is not a mention of ann; a mention stands after a space or at the start.
    if (/\s/.test(before) && !/[\p{L}\p{N}_]/u.test(after)) return true
    from = text.indexOf(at, from + 1)
  }
  return false
}

/**
 * The mentionedInfo of a text about to be sent: '@all' (or '@所有人') anywhere means everyone;
 * otherwise the picked names whose "@name" is still in the text. Undefined: it mentions nobody.
 */
export function mentionsOf(text: string, picked: readonly PickedMention[]): MentionedInfo | undefined {
  if (MENTION_ALL_WORDS.some((word) => mentionedIn(text, word))) return { type: 'all', userIdList: [] }
  const ids = [...new Set(picked.filter((p) => mentionedIn(text, p.name)).map((p) => p.userId))]
  return ids.length > 0 ? { type: 'some', userIdList: ids } : undefined
}

/** The "@query" being typed just before the caret, with where its "@" is; null when there is none. */
export function mentionQueryAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret)
  const at = before.lastIndexOf('@')
  if (at === -1) return null
  if (at > 0 && !/\s/.test(before[at - 1])) return null
  const query = before.slice(at + 1)
  if (/\s/.test(query) || query.length > 40) return null
  return { start: at, query }
}
