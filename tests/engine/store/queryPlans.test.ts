/**
 * The store's hot statements are index lookups. Each plan is taken of the statement the store
 * itself runs (imported from its module), so a regression in the real SQL fails here.
 */
import { afterAll, describe, expect, it } from 'vitest'
import {
  COUNT_UNREAD_BETWEEN_SQL,
  COUNT_UNREAD_SQL,
  MARK_READ_UP_TO_SQL,
  SUMMARY_SQL,
} from '../../../src/main/engine/store/conversations'
import { UNRESPONDED_SQL } from '../../../src/main/engine/store/groupReceipts'
import {
  HISTORY_BEFORE_SQL,
  HISTORY_NEWEST_SQL,
  SEQS_AFTER_SQL,
  UNSENT_SQL,
} from '../../../src/main/engine/store/messages'
import { OUTBOX_BY_KIND_SQL } from '../../../src/main/engine/store/outbox'
import { SENT_UNREAD_UP_TO_SQL } from '../../../src/main/engine/store/receipts'
import { READERS_OF_SQL } from '../../../src/main/engine/store/rows'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'

const store = new SqliteEngineStore(':memory:')
afterAll(() => store.close())

function plan(sql: string, ...params: unknown[]): string {
  return store.db
    .prepare(`EXPLAIN QUERY PLAN ${sql}`)
    .all(...params)
    .map((r) => (r as { detail: string }).detail)
    .join('\n')
}

describe('query plans of the engine store', () => {
  it('pages history by the (conversation, seq) index, unsent messages by their own', () => {
    expect(plan(HISTORY_NEWEST_SQL, 'private', 'bob', 31)).toMatch(/USING INDEX messages_conv_seq/)
    expect(plan(HISTORY_BEFORE_SQL, 'private', 'bob', 100, 31)).toMatch(/USING INDEX messages_conv_seq/)
    expect(plan(UNSENT_SQL, 'private', 'bob')).toMatch(/USING INDEX messages_conv_unsent/)
    expect(plan(SEQS_AFTER_SQL, 'private', 'bob', 10, 512)).toMatch(/USING COVERING INDEX messages_conv_seq/)
  })

  it('marks read and counts unread through the unread rows only, never the whole history', () => {
    expect(plan(COUNT_UNREAD_SQL, 'private', 'bob', 3)).toMatch(/USING COVERING INDEX messages_unread/)
    expect(plan(COUNT_UNREAD_BETWEEN_SQL, 'private', 'bob', 3, 9)).toMatch(
      /USING COVERING INDEX messages_unread/,
    )
    expect(plan(MARK_READ_UP_TO_SQL, 0, 'private', 'bob', 3)).toMatch(
      /USING (COVERING )?INDEX messages_unread/,
    )
  })

  it('lists conversations with one scan and a key lookup per joined row', () => {
    expect(plan(`${SUMMARY_SQL} ORDER BY c.updated_at DESC`)).toMatch(
      /SCAN c USING INDEX conversations_updated\n.*SEARCH m USING INTEGER PRIMARY KEY/,
    )
    expect(plan(`${SUMMARY_SQL} WHERE c.conv_type = ? AND c.target_id = ?`, 'private', 'bob')).toMatch(
      /SEARCH c USING PRIMARY KEY/,
    )
  })

  it('builds the RongCloud messageList (R6) from its partial index', () => {
    expect(plan(UNRESPONDED_SQL, 'group', 'g_team', '')).toMatch(
      /USING (COVERING )?INDEX messages_unresponded/,
    )
  })

  it('finds my unread sent messages, readers and outbox jobs by index', () => {
    expect(plan(SENT_UNREAD_UP_TO_SQL, 'private', 'bob', 10)).toMatch(/USING INDEX messages_conv_seq/)
    expect(plan(READERS_OF_SQL, 'AAAA', 100)).toMatch(/SEARCH message_readers USING PRIMARY KEY/)
    expect(plan(OUTBOX_BY_KIND_SQL, 'send', 50)).toMatch(/USING INDEX outbox_kind/)
  })
})
