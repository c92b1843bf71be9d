/**
 * searchUsers (issue 13, H2): people by id or display name, for "new chat" and the quick switcher.
 *
 * What a searcher may learn is what getUsers already tells anyone: a user's id and display name,
 * nothing else (no settings, no presence, no groups). The enumeration policy is getUsers' too
 * (policy.ts, lookups): people the searcher shares a conversation with are free; each stranger in a
 * reply costs one lookup of the searcher's budget, taken before the reply, so a script paging
 * through the directory is held to the same rate as one asking for ids. A query of one character
 * finds known people only: it would match most of the directory.
 */
import { Code, CodedError } from '../../shared/codes'
import type { OpHandler } from './context'

/** Shorter queries list known people only. */
const STRANGER_QUERY_MIN = 2

export const searchUsers: OpHandler<'searchUsers'> = async (ctx, data) => {
  const found = await ctx.storage.searchUsers(ctx.userId, data.query, data.limit)
  const listed = [...data.query].length < STRANGER_QUERY_MIN ? found.filter((u) => u.known) : found
  const strangers = listed.filter((u) => !u.known).length
  if (ctx.policy && !(await ctx.policy.lookups.take(ctx.userId, strangers, ctx.now))) {
    throw new CodedError(
      Code.RATE_LIMITED,
      'too many searches for people you share no conversation with; retry later',
    )
  }
  return { users: listed.map((u) => ({ userId: u.id, displayName: u.displayName })) }
}
