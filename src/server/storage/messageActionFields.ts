/** The reply, edit and recall columns of a message (issue 13, H1), read by both backends. */

import type { MessageContent } from '../../shared/model'

/** A recalled message's content on either backend: the text is gone, not hidden. */
export const RECALLED_CONTENT = JSON.stringify({ type: 'recalled' } satisfies MessageContent)

/** The columns messages.ts adds to every message it reads (nullable, as stored). */
export interface MessageActionColumns {
  replyTo: string | null
  editedAt: number | null
  editCount: number
  recalledAt: number | null
}

/** What a stored message carries of them: absent when not set, as on the wire. */
export function messageActionFields(r: MessageActionColumns): {
  replyTo?: string
  editedAt?: number
  editCount?: number
  recalledAt?: number
} {
  return {
    ...(r.replyTo !== null ? { replyTo: r.replyTo } : {}),
    ...(r.editedAt !== null && r.editCount > 0 ? { editedAt: r.editedAt, editCount: r.editCount } : {}),
    ...(r.recalledAt !== null ? { recalledAt: r.recalledAt } : {}),
  }
}
