/**
 * History pages that do not start at the newest message: the page around one message (a search
 * result, however far back) and the pages after it, read as the user scrolls down towards the
 * newest again. Both are index lookups on (conversation, seq), like the older pages of messages.ts.
 */
import { prepare, type Db } from '../../../node/sqlite'
import type { HistoryPage } from '../../../shared/ipc'
import type { Conversation } from '../../../shared/model'
import { history } from './messages'
import { MESSAGE_COLUMNS, rowByLocalId, toMessage, type MessageRow } from './rows'

const HISTORY_AFTER_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq > ? ORDER BY seq LIMIT ?`
const HISTORY_UP_TO_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq <= ? AND seq IS NOT NULL ORDER BY seq DESC LIMIT ?`
const UNSENT_SQL = `SELECT ${MESSAGE_COLUMNS} FROM messages
  WHERE conv_type = ? AND target_id = ? AND seq IS NULL ORDER BY local_id DESC`

/**
 * Up to `count` messages after `afterSeq`, newest first like every history page. `hasNewer`: more
 * follow. On the last page, my messages not yet sent (no seq) come too: they are the newest.
 */
export function historyAfter(db: Db, c: Conversation, afterSeq: number, count: number): HistoryPage {
  const rows = prepare<[string, string, number, number], MessageRow>(db, HISTORY_AFTER_SQL).all(
    c.type,
    c.targetId,
    afterSeq,
    count + 1,
  )
  const hasNewer = rows.length > count
  const list = rows.slice(0, count).reverse()
  if (!hasNewer)
    list.unshift(...prepare<[string, string], MessageRow>(db, UNSENT_SQL).all(c.type, c.targetId))
  return { list: list.map((r) => toMessage(db, r)), hasMore: true, hasNewer }
}

/**
 * The page around one message of the conversation: it and about half of `count` before and after
 * it, newest first. Undefined when the message is not in that conversation here.
 */
export function historyAround(
  db: Db,
  c: Conversation,
  localId: number,
  count: number,
): HistoryPage | undefined {
  const target = rowByLocalId(db, localId)
  if (!target || target.conv_type !== c.type || target.target_id !== c.targetId) return undefined
  // Not sent yet: it is among the newest, so the newest page holds it.
  if (target.seq === null) return { ...history(db, c, undefined, count), hasNewer: false }
  const before = Math.ceil(count / 2)
  const older = prepare<[string, string, number, number], MessageRow>(db, HISTORY_UP_TO_SQL).all(
    c.type,
    c.targetId,
    target.seq,
    before + 1,
  )
  const newer = historyAfter(db, c, target.seq, count - before)
  return {
    list: [...newer.list, ...older.slice(0, before).map((r) => toMessage(db, r))],
    hasMore: older.length > before,
    hasNewer: newer.hasNewer,
  }
}
