/**
 * Full-text search over the local history (issue 13, feature 6): the FTS5 index that engine
 * migration 9 keeps with triggers, its answers in English and Chinese (long words through the
 * trigram index, 1–2 character words by a bounded scan), snippets, pages, and the history window
 * around a result.
 */
import Database from 'better-sqlite3'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { engineMigrations } from '../../../src/main/engine/store/migrations'
import {
  INDEX_NEW_SQL,
  indexForSearch,
  REINDEX_EDITED_SQL,
  chatSearchSql,
  SCAN_BUDGET_MS,
  SMALL_CHAT,
  searchMessages,
  searchSql,
  searchTerms,
  snippetOf,
  SHORT_SCAN_WINDOW,
} from '../../../src/main/engine/store/search'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'
import { runMigrations } from '../../../src/node/migrate'
import type { MessageSearchPage } from '../../../src/shared/ipc'
import type { Conversation } from '../../../src/shared/model'
import { groupWire, ME, TEAM, wire } from '../fakeContext'

const BOB: Conversation = { type: 'private', targetId: 'bob' }

function text(page: MessageSearchPage): string[] {
  return page.hits.map((h) => {
    const c = h.message.content
    return c.type === 'text' ? c.text : c.type
  })
}

function marked(page: MessageSearchPage): string[][] {
  return page.hits.map((h) => h.snippet.filter((p) => p.match).map((p) => p.text))
}

describe('message search', () => {
  let store: SqliteEngineStore
  beforeEach(() => {
    store = new SqliteEngineStore(':memory:')
    store.upsertUsers([{ userId: 'bob', displayName: 'Bob Lee' }])
  })
  afterEach(() => store.close())

  function say(seq: number, words: string, over: Parameters<typeof wire>[1] = {}) {
    store.storeServerMessages(ME, [wire(seq, { content: { type: 'text', text: words }, ...over })], 5000)
  }

  it('finds English and Chinese words of 3+ characters anywhere in a message, newest first', () => {
    say(1, 'The quarterly REPORT is ready')
    say(2, '明天下午三点开会讨论项目进度')
    say(3, 'no match here')
    say(4, 'report again, about 项目进度')
    expect(text(store.searchMessages({ keyword: 'report', count: 10 }))).toEqual([
      'report again, about 项目进度',
      'The quarterly REPORT is ready',
    ])
    expect(text(store.searchMessages({ keyword: '项目进度', count: 10 }))).toEqual([
      'report again, about 项目进度',
      '明天下午三点开会讨论项目进度',
    ])
    // Several words: every one must be there.
    expect(text(store.searchMessages({ keyword: 'report 项目进度', count: 10 }))).toEqual([
      'report again, about 项目进度',
    ])
  })

  it('finds words of one or two characters (Chinese words) without the trigram index', () => {
    say(1, '明天开会')
    say(2, '今天不开')
    say(3, 'ok 会议室见')
    expect(text(store.searchMessages({ keyword: '开会', count: 10 }))).toEqual(['明天开会'])
    expect(text(store.searchMessages({ keyword: '会', count: 10 }))).toEqual(['ok 会议室见', '明天开会'])
    // A short word with a long one: the long one uses the index, the short one filters its hits.
    expect(text(store.searchMessages({ keyword: '会议室 ok', count: 10 }))).toEqual(['ok 会议室见'])
    expect(text(store.searchMessages({ keyword: '会议室 明', count: 10 }))).toEqual([])
  })

  it('treats the query as text: FTS syntax and LIKE wildcards match themselves', () => {
    say(1, 'use "quotes" AND stars*')
    say(2, '100% sure')
    say(3, '1000 sure')
    say(4, 'a_b')
    say(5, 'axb')
    expect(text(store.searchMessages({ keyword: '"quotes" AND', count: 10 }))).toEqual([
      'use "quotes" AND stars*',
    ])
    expect(text(store.searchMessages({ keyword: 'NEAR(a b)', count: 10 }))).toEqual([])
    expect(text(store.searchMessages({ keyword: '0%', count: 10 }))).toEqual(['100% sure'])
    expect(text(store.searchMessages({ keyword: 'a_', count: 10 }))).toEqual(['a_b'])
  })

  it('marks the matches in a snippet of the text around the first one', () => {
    say(1, `${'x'.repeat(200)} the budget for 2025 ${'y'.repeat(200)} and BUDGET again`)
    const [hit] = store.searchMessages({ keyword: 'budget', count: 1 }).hits
    expect(hit?.snippet[0]).toEqual({ text: '…', match: false })
    expect(hit?.snippet.at(-1)).toEqual({ text: '…', match: false })
    expect(hit?.snippet.filter((p) => p.match)).toEqual([{ text: 'budget', match: true }])
    expect(hit?.snippet.map((p) => p.text).join('')).toContain('the budget for 2025')
    expect(hit).toMatchObject({ senderName: 'Bob Lee', conversationTitle: expect.any(String) })
    expect(marked(store.searchMessages({ keyword: 'again budget', count: 1 }))).toEqual([['budget']])
  })

  it('never splits an emoji or a rare character at the edges of a snippet', () => {
    const body = `${'😀'.repeat(40)}needle${'𠀀'.repeat(80)}`
    const parts = snippetOf(body, ['needle'])
    const joined = parts.map((p) => p.text).join('')
    expect(joined).not.toMatch(/^…?[\uDC00-\uDFFF]/)
    expect(joined).not.toMatch(/[\uD800-\uDBFF]…?$/)
  })

  it('keeps the index right when a message is edited, recalled, deleted or not text at all', () => {
    say(1, 'original wording')
    say(2, 'to be deleted later')
    const localId = (uid: string) => store.messageByUid(uid)?.localId
    const first = store.history(BOB, undefined, 10).list.find((m) => m.seq === 1)
    const second = store.history(BOB, undefined, 10).list.find((m) => m.seq === 2)
    if (!first?.messageUId || !second?.messageUId) throw new Error('not stored')
    // An edit UPDATEs the content in place (H1): the old words go, the new ones come.
    store.db
      .prepare('UPDATE messages SET content = ? WHERE local_id = ?')
      .run(JSON.stringify({ type: 'text', text: 'edited phrasing' }), localId(first.messageUId))
    expect(text(store.searchMessages({ keyword: 'original', count: 10 }))).toEqual([])
    expect(text(store.searchMessages({ keyword: 'phrasing', count: 10 }))).toEqual(['edited phrasing'])
    // A recall blanks the content to a shape without text: nothing of it stays searchable.
    store.db
      .prepare('UPDATE messages SET content = ? WHERE local_id = ?')
      .run(JSON.stringify({ type: 'recalled' }), localId(first.messageUId))
    expect(text(store.searchMessages({ keyword: 'phrasing', count: 10 }))).toEqual([])
    // Delete for me removes the row.
    store.db.prepare('DELETE FROM messages WHERE local_id = ?').run(localId(second.messageUId))
    expect(text(store.searchMessages({ keyword: 'deleted', count: 10 }))).toEqual([])
    // A file's name is searchable; content of a shape nobody knows, or not JSON, indexes nothing.
    say(3, 'placeholder')
    const third = store.history(BOB, undefined, 10).list.find((m) => m.seq === 3)
    const id3 = third?.messageUId ? localId(third.messageUId) : undefined
    const setRaw = (content: string) =>
      store.db.prepare('UPDATE messages SET content = ? WHERE local_id = ?').run(content, id3)
    setRaw(JSON.stringify({ type: 'file', name: 'Quarterly-plan.pdf', size: 10 }))
    expect(store.searchMessages({ keyword: 'quarterly', count: 10 }).hits).toHaveLength(1)
    setRaw(JSON.stringify({ type: 'future', text: { nested: 'quarterly' } }))
    expect(store.searchMessages({ keyword: 'quarterly', count: 10 }).hits).toHaveLength(0)
    setRaw('not json quarterly')
    expect(store.searchMessages({ keyword: 'quarterly', count: 10 }).hits).toHaveLength(0)
    // FTS5's own check that the index matches the text it holds.
    expect(() =>
      store.db.exec("INSERT INTO message_search (message_search) VALUES ('integrity-check')"),
    ).not.toThrow()
  })

  it('searches again and again after edits, a recall, an image and a file (each text found once)', () => {
    say(1, 'thursday plans')
    say(2, 'thursday lunch')
    say(3, 'thursday recalled')
    const uid = (seq: number) => store.history(BOB, undefined, 20).list.find((m) => m.seq === seq)?.messageUId
    const send = (content: Parameters<typeof store.insertOutgoing>[0]['content'], n: number) =>
      store.insertOutgoing({
        me: ME,
        clientMsgId: `c-${n}`,
        conversation: BOB,
        channelId: '',
        content,
        isNeedGroupAck: false,
        now: 6000 + n,
        title: 'Bob',
      })
    expect(store.searchMessages({ keyword: 'thursday', count: 10 }).hits).toHaveLength(3)
    // The message menu reads the recall window (a key of kv, read with pluck()) before an edit or a
    // recall: the mark of the index is in kv too, and must still read as itself afterwards.
    store.setRecallWindow(120_000)
    expect(store.recallWindow()).toBe(120_000)
    store.applyEdit(uid(1) ?? '', { type: 'text', text: 'thursday plans, edited' }, 7000, 1)
    store.applyEdit(uid(1) ?? '', { type: 'text', text: 'thursday plans, edited twice' }, 7001, 2)
    store.applyRecall(uid(3) ?? '', 7002)
    const file = { fileId: 'f1', name: 'thursday-agenda.pdf', size: 10, mime: 'application/pdf' }
    send({ type: 'file', ...file }, 1)
    send(
      {
        type: 'image',
        ...file,
        fileId: 'f2',
        name: 'thursday.png',
        mime: 'image/png',
        width: 1,
        height: 1,
        thumbnail: '',
      },
      2,
    )
    const expected = ['file', 'image', 'thursday lunch', 'thursday plans, edited twice'].sort()
    for (let i = 0; i < 3; i++) {
      expect(store.recallWindow()).toBe(120_000)
      expect(text(store.searchMessages({ keyword: 'thursday', count: 10 })).sort()).toEqual(expected)
      expect(text(store.searchMessages({ keyword: 'thu', count: 10, conversation: BOB })).sort()).toEqual(
        expected,
      )
    }
    expect(() =>
      store.db.exec("INSERT INTO message_search (message_search) VALUES ('integrity-check')"),
    ).not.toThrow()
  })

  it('searches one conversation only when asked', () => {
    say(1, 'lunch at noon?')
    store.storeServerMessages(
      ME,
      [groupWire(1, { content: { type: 'text', text: 'team lunch friday' } })],
      5000,
    )
    expect(text(store.searchMessages({ keyword: 'lunch', count: 10 }))).toHaveLength(2)
    expect(text(store.searchMessages({ keyword: 'lunch', conversation: TEAM, count: 10 }))).toEqual([
      'team lunch friday',
    ])
    expect(text(store.searchMessages({ keyword: '午', conversation: BOB, count: 10 }))).toEqual([])
  })

  it('searches a small chat through its own messages and a large one through the index, alike', () => {
    say(1, 'Lunch at noon?')
    say(2, '午饭 lunch 在哪')
    say(3, 'no')
    store.storeServerMessages(ME, [groupWire(1, { content: { type: 'text', text: 'team lunch' } })], 5000)
    const asked = (keyword: string) => text(store.searchMessages({ keyword, conversation: BOB, count: 1 }))
    const small = ['lunch', '午饭', 'lunch 午', 'LUNCH'].map(asked)
    const cursor = store.searchMessages({ keyword: 'lunch', conversation: BOB, count: 1 }).cursor
    store.db.prepare("UPDATE conversations SET last_seq = ? WHERE target_id = 'bob'").run(SMALL_CHAT + 1)
    expect(['lunch', '午饭', 'lunch 午', 'LUNCH'].map(asked)).toEqual(small)
    expect(small).toEqual([
      ['午饭 lunch 在哪'],
      ['午饭 lunch 在哪'],
      ['午饭 lunch 在哪'],
      ['午饭 lunch 在哪'],
    ])
    expect(store.searchMessages({ keyword: 'lunch', conversation: BOB, count: 1 }).cursor).toBe(cursor)
    expect(text(store.searchMessages({ keyword: 'lunch', conversation: BOB, count: 5, cursor }))).toEqual([
      'Lunch at noon?',
    ])
  })

  it('pages with a cursor until every match was returned once', () => {
    const batch = Array.from({ length: 25 }, (_, i) =>
      wire(i + 1, { content: { type: 'text', text: `alpha ${i + 1}` } }),
    )
    store.storeServerMessages(ME, batch, 5000)
    const seen: string[] = []
    let cursor: number | undefined
    for (let pages = 0; pages < 10; pages++) {
      const page = store.searchMessages({ keyword: 'alpha', count: 10, cursor })
      seen.push(...text(page))
      cursor = page.cursor
      if (cursor === undefined) break
    }
    expect(seen).toHaveLength(25)
    expect(new Set(seen).size).toBe(25)
    expect(seen[0]).toBe('alpha 25')
  })

  it('bounds a short-word search by windows of rows and a time budget, and goes on below it', () => {
    // Local ids far apart: the first message, then one past a whole scan window.
    say(1, '早上好')
    const gap = SHORT_SCAN_WINDOW + 10
    store.db
      .prepare(
        `INSERT INTO messages (local_id, client_msg_id, conv_type, target_id, sender_id, direction, content,
           sent_at, status) VALUES (?, 'far-away-1', 'private', 'bob', 'bob', 2, ?, 1, 'sent')`,
      )
      .run(gap, JSON.stringify({ type: 'text', text: '晚上好' }))
    // A slow machine: the budget is spent after the first window, so the page ends there.
    let now = 0
    const slowClock = () => (now += SCAN_BUDGET_MS)
    const first = searchMessages(store.db, { keyword: '好', count: 10 }, slowClock)
    expect(text(first)).toEqual(['晚上好'])
    expect(first.cursor).toBe(gap + 1 - SHORT_SCAN_WINDOW)
    const second = searchMessages(store.db, { keyword: '好', count: 10, cursor: first.cursor }, slowClock)
    expect(text(second)).toEqual(['早上好'])
    expect(second.cursor).toBeUndefined()
    // Within the budget, the page goes on through the next window by itself.
    const whole = store.searchMessages({ keyword: '好', count: 10 })
    expect(text(whole)).toEqual(['晚上好', '早上好'])
    expect(whole.cursor).toBeUndefined()
    // A full page says where to go on, whatever the windows.
    expect(store.searchMessages({ keyword: '好', count: 1 })).toMatchObject({ cursor: gap })
  })

  it('indexes new messages in slices above a mark, and edited ones again through their queue', () => {
    const count = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n
    store.storeServerMessages(
      ME,
      [1, 2, 3, 4, 5].map((seq) => wire(seq)),
      5000,
    )
    // Ingest writes no index row: the engine indexes after a sync, a search before it reads.
    expect(count('SELECT count(*) AS n FROM message_search')).toBe(0)
    expect(indexForSearch(store.db, 2)).toBe(2)
    expect(indexForSearch(store.db, 2)).toBe(2)
    expect(indexForSearch(store.db, 2)).toBe(1)
    expect(indexForSearch(store.db, 2)).toBe(0)
    expect(count('SELECT count(*) AS n FROM message_search')).toBe(5)
    // An edit of an indexed message queues it; the next pass indexes its new text once.
    store.db
      .prepare('UPDATE messages SET content = ? WHERE seq = 2')
      .run(JSON.stringify({ type: 'text', text: 'renamed' }))
    expect(count('SELECT count(*) AS n FROM message_search_pending')).toBe(1)
    expect(indexForSearch(store.db, 2)).toBe(0)
    expect(count('SELECT count(*) AS n FROM message_search_pending')).toBe(0)
    expect(count('SELECT count(*) AS n FROM message_search')).toBe(5)
    expect(text(store.searchMessages({ keyword: 'renamed', count: 5 }))).toEqual(['renamed'])
    const plan = store.db
      .prepare(`EXPLAIN QUERY PLAN ${REINDEX_EDITED_SQL}`)
      .all(10)
      .map((r) => (r as { detail: string }).detail)
      .join('\n')
    expect(plan).toMatch(/^(SCAN|SEARCH) p\b.*\nSEARCH m USING INTEGER PRIMARY KEY/)
    expect(
      store.db
        .prepare(`EXPLAIN QUERY PLAN ${INDEX_NEW_SQL}`)
        .all(1, 9)
        .map((r) => (r as { detail: string }).detail),
    ).toEqual([expect.stringMatching(/SEARCH messages USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/)])
  })

  it('indexes a message that gets the id of a deleted newest one (SQLite hands it out again)', () => {
    say(1, 'first words')
    say(2, 'newest words')
    expect(text(store.searchMessages({ keyword: 'words', count: 5 }))).toHaveLength(2)
    const newest = store.db.prepare('SELECT max(local_id) AS id FROM messages').get() as { id: number }
    store.db.prepare('DELETE FROM messages WHERE local_id = ?').run(newest.id)
    say(3, 'replacement words')
    expect(store.db.prepare('SELECT max(local_id) AS id FROM messages').get()).toEqual(newest)
    expect(text(store.searchMessages({ keyword: 'words', count: 5 }))).toEqual([
      'replacement words',
      'first words',
    ])
  })

  it('walks the index by rowid for long words and scans the text by rowid range for short ones', () => {
    const plan = (sql: string, ...params: unknown[]) =>
      store.db
        .prepare(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((r) => (r as { detail: string }).detail)
        .join('\n')
    expect(
      plan(
        searchSql({ match: true, likes: 1, inConversation: true }),
        '"abc"',
        9,
        '%a%',
        'private',
        'bob',
        21,
      ),
    ).toMatch(/SCAN s VIRTUAL TABLE INDEX.*\n.*SEARCH m USING INTEGER PRIMARY KEY/)
    expect(
      plan(chatSearchSql(2), 'private', 'bob', 9, '%a%', '%b%', 'private', 'bob', 9, '%a%', '%b%', 21),
    ).toMatch(
      /SEARCH m USING INDEX messages_conv_seq.*\n.*SEARCH s USING INTEGER PRIMARY KEY[\s\S]*SEARCH m USING INDEX messages_conv_unsent/,
    )
    const scan = plan(searchSql({ match: false, likes: 1, inConversation: false }), 9, 1, '%a%', 21)
    expect(scan).toMatch(/SEARCH s USING INTEGER PRIMARY KEY \(rowid>\? AND rowid<\?\)/)
    expect(scan).not.toMatch(/TEMP B-TREE/)
  })

  it('splits a query into distinct words', () => {
    expect(searchTerms('  Hello   hello 世界 ')).toEqual(['Hello', '世界'])
    expect(searchTerms('a b c d e f g h i j')).toHaveLength(8)
  })

  it('indexes the messages a profile already had when it is migrated', () => {
    const db = new Database(':memory:')
    runMigrations(db, engineMigrations.slice(0, 8), 'app')
    db.prepare(
      `INSERT INTO messages (client_msg_id, conv_type, target_id, sender_id, direction, content, sent_at, status)
       VALUES ('old-message-1', 'private', 'bob', 'bob', 2, ?, 1, 'sent')`,
    ).run(JSON.stringify({ type: 'text', text: '历史消息 from before' }))
    runMigrations(db, engineMigrations, 'app')
    // Above the mark (0) the migration starts from: indexed before the first search reads.
    expect(db.prepare('SELECT count(*) AS n FROM message_search').get()).toEqual({ n: 0 })
    expect(searchMessages(db, { keyword: '历史', count: 5 }).hits).toHaveLength(1)
    expect(db.prepare('SELECT count(*) AS n FROM message_search').get()).toEqual({ n: 1 })
    db.close()
  })
})

describe('history around a message', () => {
  let store: SqliteEngineStore
  beforeEach(() => {
    store = new SqliteEngineStore(':memory:')
    store.storeServerMessages(
      ME,
      Array.from({ length: 100 }, (_, i) => wire(i + 1)),
      5000,
    )
  })
  afterEach(() => store.close())

  const idOfSeq = (seq: number) =>
    String(
      (store.db.prepare('SELECT local_id FROM messages WHERE seq = ?').get(seq) as { local_id: number })
        .local_id,
    )

  it('returns the message with about half a page on each side, and pages on towards the newest', () => {
    const page = store.historyAround(BOB, Number(idOfSeq(20)), 10)
    expect(page?.list.map((m) => m.seq)).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16])
    expect(page).toMatchObject({ hasMore: true, hasNewer: true })
    const newer = store.historyAfter(BOB, 25, 30)
    expect(newer.list.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => 55 - i))
    expect(newer.hasNewer).toBe(true)
    const last = store.historyAfter(BOB, 90, 30)
    expect(last.list.map((m) => m.seq)).toEqual([100, 99, 98, 97, 96, 95, 94, 93, 92, 91])
    expect(last.hasNewer).toBe(false)
  })

  it('knows the ends of the history', () => {
    expect(store.historyAround(BOB, Number(idOfSeq(2)), 10)).toMatchObject({ hasMore: false, hasNewer: true })
    expect(store.historyAround(BOB, Number(idOfSeq(99)), 10)).toMatchObject({
      hasMore: true,
      hasNewer: false,
    })
  })

  it('refuses a message of another conversation, or none', () => {
    expect(store.historyAround(TEAM, Number(idOfSeq(20)), 10)).toBeUndefined()
    expect(store.historyAround(BOB, 999_999, 10)).toBeUndefined()
  })
})
