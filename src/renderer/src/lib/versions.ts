import type { MessageVersion } from '../../../shared/protocol'

/**
 * Which version of an edited message a reader saw (issue 13, H1): the newest one written at or
 * before their read time. Derived, not reported: a reader who read at 10:02 saw what the message
 * said at 10:02. Undefined without versions or a read time.
 */
export function versionSeenAt(versions: readonly MessageVersion[], readTime: number | null | undefined) {
  if (readTime === null || readTime === undefined || versions.length === 0) return undefined
  let seen = versions[0]
  for (const v of versions) if (v.at <= readTime) seen = v
  return seen
}
