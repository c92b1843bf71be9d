/**
 * Issue 15: the acknowledgement panel, its counts' upkeep, the read-position hooks and "Waiting for
 * me" are served from indexes (EXPLAIN QUERY PLAN on SQLite), so a 20,000-member group costs what a
 * 200-member one does (BENCHMARKS.md, s10). A plan that scans a table or sorts fails here.
 */
import { afterAll, describe, expect, it } from 'vitest'
import {
  COUNT_ACK_HIDDEN_SQL,
  LIST_ACK_HIDDEN_SQL,
  LIST_ACKED_SQL,
  LIST_NOT_READ_SQL,
  LIST_READ_NOT_ACKED_SQL,
  LIST_TRACKED_MESSAGES_SQL,
  MENTIONS_PASSED_SQL,
  PENDING_ACKS_FROM,
} from '../../src/server/storage/acks'
import { SqliteStorage } from '../../src/server/storage/sqlite'

describe('acks: query plans (SQLite)', () => {
  const storage = new SqliteStorage(':memory:')
  afterAll(() => storage.close())
  const plan = (sql: string, ...params: unknown[]) =>
    storage.db
      .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
      .all(...params)
      .map((row) => row.detail)
      .join('\n')
  const named = { messageId: 1, after: 0, limit: 51, convId: 1, seq: 5, senderId: 'u' }

  it('pages each tab as an index range from its cursor', () => {
    const acked = plan(LIST_ACKED_SQL, named)
    expect(acked).toMatch(/SEARCH a USING INDEX message_acks_page \(message_id=\? AND ack_id>\?\)/)
    const readNotAcked = plan(LIST_READ_NOT_ACKED_SQL, named)
    expect(readNotAcked).toMatch(
      /SEARCH r USING INDEX message_reads_not_acked \(message_id=\? AND read_id>\?\)/,
    )
    const notRead = plan(LIST_NOT_READ_SQL, { ...named, after: '' })
    expect(notRead).toMatch(/SEARCH m USING PRIMARY KEY \(conv_id=\? AND user_id>\?\)/)
    expect(notRead).toMatch(
      /SEARCH r USING COVERING INDEX sqlite_autoindex_message_reads_1 \(message_id=\? AND user_id=\?\)/,
    )
    const hidden = plan(LIST_ACK_HIDDEN_SQL, { ...named, after: '' })
    expect(hidden).toMatch(
      /SEARCH m USING COVERING INDEX members_hiding_window \(conv_id=\? AND user_id>\?\)/,
    )
    const count = plan(COUNT_ACK_HIDDEN_SQL, named)
    expect(count).toMatch(/SEARCH m USING COVERING INDEX members_hiding_window \(conv_id=\?\)/)
    for (const p of [acked, readNotAcked, notRead, hidden, count]) expect(p).not.toMatch(/SCAN|TEMP B-TREE/)
  })

  it('finds what a read position passed without scanning messages', () => {
    const tracked = plan(LIST_TRACKED_MESSAGES_SQL, 1, 0, 10)
    expect(tracked).toMatch(
      /SEARCH messages USING INDEX messages_tracking_reads \(conv_id=\? AND seq>\? AND seq<\?\)/,
    )
    const mentions = plan(MENTIONS_PASSED_SQL, 1, 'u', 0, 10)
    expect(mentions).toMatch(
      /SEARCH n USING INDEX mentions_by_member \(conv_id=\? AND user_id=\? AND seq>\? AND seq<\?\)/,
    )
    for (const p of [tracked, mentions]) expect(p).not.toMatch(/SCAN/)
  })

  it('lists "Waiting for me" from the caller’s memberships and the messages that ask', () => {
    const pending = plan(`SELECT m.id ${PENDING_ACKS_FROM}`, { userId: 'u' })
    expect(pending).toMatch(/SEARCH mb USING INDEX members_by_user \(user_id=\?\)/)
    expect(pending).toMatch(/SEARCH m USING INDEX messages_needing_ack \(conv_id=\? AND seq>\?\)/)
    expect(pending).not.toMatch(/SCAN/)
  })
})
