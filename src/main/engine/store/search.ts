/**
 * Full-text search over this profile's history (feature 6 of issue 13), on the FTS5 table
 * `message_search` that engine migration 9 creates and its triggers keep in step with `messages`.
 *
 * Results come newest stored first (by local_id, the FTS rowid): FTS5 walks its doclists in rowid
 * order, so a page costs the same whether a word matches ten messages or half the history, where
 * sorting every match by time would cost O(matches). A page continues below the last rowid it saw.
 *
 * The trigram index serves words of 3 or more characters. Shorter words (1–2 Chinese characters are
 * whole words: 你好, 会议) are matched with LIKE: against the index's hits when the query also has a
 * long word, else by scanning the indexed text in windows of SHORT_SCAN_WINDOW rowids, newest first,
 * for SCAN_BUDGET_MS at most (plus the window under way) whatever the history's size; such a page may
 * come back with fewer hits than asked and a cursor to go on from, until the whole history is scanned.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import type { MessageSearchHit, MessageSearchPage, SnippetPart } from '../../../shared/ipc'
import type { Conversation } from '../../../shared/model'
import { MESSAGE_COLUMNS, toMessage, type MessageRow } from './rows'

/** The trigram tokenizer indexes runs of this many characters: shorter words cannot use it. */
const TRIGRAM = 3
/** Rowids one page of a short-words-only search looks at, at most (some 10 ms per 100k rows, bench s8). */
export const SHORT_SCAN_WINDOW = 100_000
/**
 * A short-words-only page goes on to the next window while it has spent less than this: most such
 * searches fill their page at once, and one that finds little still answers in about this long.
 */
export const SCAN_BUDGET_MS = 20
/** Words of a query beyond this many are ignored (each one is a LIKE or a phrase of the MATCH). */
const MAX_TERMS = 8
/** Characters of context around the first match in a snippet. */
const SNIPPET_BEFORE = 24
const SNIPPET_LENGTH = 120

/**
 * The searchable text of a content column: its `text` and `name` (a file's name) when they are
 * strings; '' for any other shape (a recalled message, a type this version does not know) and for
 * content that is not JSON, so an odd row is simply not found, never an error.
 */
function searchableText(content: string): string {
  return `CASE WHEN json_valid(${content}) THEN trim(
      CASE WHEN json_type(${content}, '$.text') = 'text' THEN json_extract(${content}, '$.text') ELSE '' END
      || ' ' ||
      CASE WHEN json_type(${content}, '$.name') = 'text' THEN json_extract(${content}, '$.name') ELSE '' END)
    ELSE '' END`
}

const MARK_KEY = 'search_indexed_up_to'

/**
 * Edited rows already indexed once (the update trigger dropped them from the index and queued them):
 * the queue first (CROSS JOIN: it is small, `messages` is not), one statement for all. Rows above
 * the mark are left to the pass over new rows.
 */
export const REINDEX_EDITED_SQL = `INSERT INTO message_search (rowid, body)
  SELECT local_id, body FROM (
    SELECT m.local_id, ${searchableText('m.content')} AS body
    FROM message_search_pending p CROSS JOIN messages m ON m.local_id = p.local_id
    WHERE p.local_id <= ?)
  WHERE body <> ''`

/** New rows: the next `limit` local_ids above the mark, by the primary key. */
export const INDEX_NEW_SQL = `INSERT INTO message_search (rowid, body)
  SELECT local_id, body FROM (
    SELECT local_id, ${searchableText('content')} AS body FROM messages
    WHERE local_id > ? AND local_id <= ?)
  WHERE body <> ''`
/** The next `limit` new rows: how many, and the last one's local_id (the mark's next place). */
const NEXT_NEW_SQL = `SELECT count(*) AS n, max(local_id) AS upTo FROM (
  SELECT local_id FROM messages WHERE local_id > ? ORDER BY local_id LIMIT ?)`

/**
 * The mark, read through SQL of its own. A statement is cached and shared by its SQL text
 * (node/sqlite.ts), so the generic `SELECT value FROM kv WHERE key = ?` it once used was the recall
 * window's statement too, read there with pluck(): after a recall or an edit the mark read as 0, and
 * the next search indexed the whole history again on top of itself (SQLITE_CONSTRAINT_PRIMARYKEY).
 */
const MARK_SQL = `SELECT CAST(value AS INTEGER) AS mark FROM kv WHERE key = '${MARK_KEY}'`
/** An upsert: a mark that is missing is written, never silently left at 0 to index all again. */
const SET_MARK_SQL = `INSERT INTO kv (key, value) VALUES ('${MARK_KEY}', ?)
  ON CONFLICT (key) DO UPDATE SET value = excluded.value`

function indexedUpTo(db: Db): number {
  return prepare<[], { mark: number }>(db, MARK_SQL).get()?.mark ?? 0
}

/**
 * Brings the index up to date, at most `limit` new messages at a time (all of them by default), in
 * one transaction: edited messages again, then the messages above the mark, which then moves over
 * them. Returns how many new messages it indexed, so a caller working in slices knows when it is
 * done (fewer than `limit`). The engine calls it in slices after each sync (ops/search.ts), and a
 * search calls it whole before it reads, so the index is complete whenever it is read.
 */
export function indexForSearch(db: Db, limit = Number.MAX_SAFE_INTEGER): number {
  return transact(db, () => {
    const mark = indexedUpTo(db)
    if (prepare<[], { one: number }>(db, 'SELECT 1 AS one FROM message_search_pending LIMIT 1').get()) {
      prepare<[number]>(db, REINDEX_EDITED_SQL).run(mark)
      prepare(db, 'DELETE FROM message_search_pending').run()
    }
    const next = prepare<[number, number], { n: number; upTo: number | null }>(db, NEXT_NEW_SQL).get(
      mark,
      limit,
    )
    if (!next || next.upTo === null) return 0
    prepare<[number, number]>(db, INDEX_NEW_SQL).run(mark, next.upTo)
    prepare<[string]>(db, SET_MARK_SQL).run(String(next.upTo))
    return next.n
  })
}

export interface SearchInput {
  keyword: string
  conversation?: Conversation | undefined
  count: number
  /** Continue below this rowid (a previous page's cursor). */
  cursor?: number | undefined
}

/** The words of a query: split on white space, each once (case-insensitively), at most MAX_TERMS. */
export function searchTerms(keyword: string): string[] {
  const seen = new Set<string>()
  const terms: string[] = []
  for (const word of keyword.normalize('NFC').split(/\s+/u)) {
    const key = word.toLowerCase()
    if (word === '' || seen.has(key)) continue
    seen.add(key)
    terms.push(word)
    if (terms.length === MAX_TERMS) break
  }
  return terms
}

/** An FTS5 query in which every word is a quoted phrase: the user's text is never FTS syntax. */
function matchQuery(terms: readonly string[]): string {
  return terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' AND ')
}

/** A LIKE pattern for "contains `term`", with LIKE's own wildcards escaped. */
function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`
}

const IN_CONVERSATION = 'm.conv_type = ? AND m.target_id = ?'

/**
 * With a long word, the FTS5 table itself (MATCH, walked by rowid, newest first). With short words
 * only, the index's own copy of the text, `message_search_content` (FTS5's documented shadow table:
 * id = rowid, c0 = body): a plain rowid table, so the window is a range scan from the newest down
 * that stops at the page's last hit, where a scan of the FTS table without MATCH costs three times
 * as much per row (bench s8).
 */
export function searchSql(options: { match: boolean; likes: number; inConversation: boolean }): string {
  const [table, id, body] = options.match
    ? ['message_search', 's.rowid', 's.body']
    : ['message_search_content', 's.id', 's.c0']
  const where = [
    options.match ? 'message_search MATCH ?' : null,
    `${id} < ?`,
    options.match ? null : `${id} >= ?`,
    ...Array.from({ length: options.likes }, () => `${body} LIKE ? ESCAPE '\\'`),
    options.inConversation ? IN_CONVERSATION : null,
  ].filter((w) => w !== null)
  return `SELECT ${id} AS hit_id, ${body} AS hit_body, ${MESSAGE_COLUMNS.replace(/(^|,\s*)/g, '$1m.')}
    FROM ${table} s JOIN messages m ON m.local_id = ${id}
    WHERE ${where.join(' AND ')}
    ORDER BY ${id} DESC LIMIT ?`
}

type HitRow = MessageRow & { hit_id: number; hit_body: string }

/**
 * One chat up to this many messages is searched through its own messages, newest first: the
 * (conversation, seq) index, then LIKE on each one's text in the index's copy. Walking the FTS
 * hits of a word common elsewhere passes most of the history before one in a small chat (4 ms at
 * 100k messages for a chat of 30, growing with the history); this costs the chat's size at most
 * (0.5 ms for that chat at 1M, bench s8; a few ms at 20k).
 */
export const SMALL_CHAT = 20_000

/** The messages of one chat whose text contains every word (sent ones, then unsent ones). */
export function chatSearchSql(likes: number): string {
  const where = Array.from({ length: likes }, () => `s.c0 LIKE ? ESCAPE '\\'`).join(' AND ')
  const columns = `s.id AS hit_id, s.c0 AS hit_body, ${MESSAGE_COLUMNS.replace(/(^|,\s*)/g, '$1m.')}`
  const part = (index: string, seq: string) => `SELECT ${columns}
      FROM messages m INDEXED BY ${index} CROSS JOIN message_search_content s ON s.id = m.local_id
      WHERE m.conv_type = ? AND m.target_id = ? AND m.seq ${seq} AND m.local_id < ? AND ${where}`
  return `SELECT * FROM (${part('messages_conv_seq', 'IS NOT NULL')}
    UNION ALL ${part('messages_conv_unsent', 'IS NULL')})
    ORDER BY hit_id DESC LIMIT ?`
}

function isSmallChat(db: Db, c: Conversation): boolean {
  const row = prepare<[string, string], { last_seq: number }>(
    db,
    'SELECT last_seq FROM conversations WHERE conv_type = ? AND target_id = ?',
  ).get(c.type, c.targetId)
  return (row?.last_seq ?? 0) <= SMALL_CHAT
}

/**
 * Where a search without cursor starts: above the newest message. Index rowids are message ids, and
 * max() of a rowid table is one step (of the FTS table it would be a scan of the whole index).
 */
function topRowid(db: Db): number {
  return prepare<[], { top: number | null }>(db, 'SELECT max(local_id) AS top FROM messages').get()?.top ?? 0
}

export function searchMessages(
  db: Db,
  input: SearchInput,
  clock: () => number = () => performance.now(),
): MessageSearchPage {
  const terms = searchTerms(input.keyword)
  if (terms.length === 0) return { hits: [] }
  indexForSearch(db)
  const long = terms.filter((t) => [...t].length >= TRIGRAM)
  const short = terms.filter((t) => [...t].length < TRIGRAM)
  const c = input.conversation
  let below = input.cursor ?? topRowid(db) + 1
  if (c && isSmallChat(db, c)) {
    const likes = terms.map(likePattern)
    const rows = prepare<unknown[], HitRow>(db, chatSearchSql(likes.length)).all(
      c.type,
      c.targetId,
      below,
      ...likes,
      c.type,
      c.targetId,
      below,
      ...likes,
      input.count + 1,
    )
    return page(db, rows, input.count, terms)
  }
  const scan = long.length === 0
  const statement = prepare<unknown[], HitRow>(
    db,
    searchSql({ match: !scan, likes: short.length, inConversation: !!c }),
  )
  const tail = [...short.map(likePattern), ...(c ? [c.type, c.targetId] : [])]
  if (!scan)
    return page(db, statement.all(matchQuery(long), below, ...tail, input.count + 1), input.count, terms)
  // Short words only: window after window of rowids below the cursor, newest first, until the page
  // is full, the history ends, or SCAN_BUDGET_MS is spent (then the cursor says where to go on).
  const started = clock()
  const found: HitRow[] = []
  for (;;) {
    const floor = Math.max(0, below - SHORT_SCAN_WINDOW)
    const need = input.count - found.length
    const rows = statement.all(below, floor, ...tail, need + 1)
    found.push(...rows.slice(0, need))
    const last = found.at(-1)
    let cursor: number | undefined
    if (rows.length > need && last) cursor = last.hit_id
    else if (floor > 0 && clock() - started >= SCAN_BUDGET_MS) cursor = floor
    else if (floor > 0) {
      below = floor
      continue
    }
    return {
      hits: found.map((row) => toHit(db, row, terms)),
      ...(cursor !== undefined ? { cursor } : {}),
    }
  }
}

/** `count` hits of `rows` (asked for one more), and the cursor when there was that one more. */
function page(db: Db, rows: readonly HitRow[], count: number, terms: readonly string[]): MessageSearchPage {
  const taken = rows.slice(0, count)
  const last = taken.at(-1)
  return {
    hits: taken.map((row) => toHit(db, row, terms)),
    ...(rows.length > count && last ? { cursor: last.hit_id } : {}),
  }
}

function toHit(db: Db, row: HitRow, terms: readonly string[]): MessageSearchHit {
  const message = toMessage(db, row)
  const names = prepare<[string, string, string], { sender: string | null; title: string | null }>(
    db,
    `SELECT (SELECT display_name FROM users WHERE user_id = ?) AS sender,
       (SELECT title FROM conversations WHERE conv_type = ? AND target_id = ?) AS title`,
  ).get(row.sender_id, row.conv_type, row.target_id)
  const groupName =
    row.conv_type === 'group'
      ? prepare<[string], { name: string }>(db, 'SELECT name FROM groups WHERE group_id = ?').get(
          row.target_id,
        )?.name
      : undefined
  return {
    message,
    snippet: snippetOf(row.hit_body, terms),
    senderName: names?.sender || row.sender_id,
    conversationTitle: groupName || names?.title || row.target_id,
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * The text around the first match, cut into parts with the matches marked. The renderer shows the
 * parts as text (a <mark> per match), so nothing of the message is ever parsed as HTML.
 */
export function snippetOf(body: string, terms: readonly string[]): SnippetPart[] {
  const pattern = new RegExp(terms.map(escapeRegExp).join('|'), 'giu')
  const first = pattern.exec(body)
  let start = first ? Math.max(0, first.index - SNIPPET_BEFORE) : 0
  let end = Math.min(body.length, start + SNIPPET_LENGTH)
  // Never cut a surrogate pair in two (an emoji, a rare CJK character).
  if (start > 0 && /[\uDC00-\uDFFF]/.test(body[start] ?? '')) start--
  if (end < body.length && /[\uD800-\uDBFF]/.test(body[end - 1] ?? '')) end++
  const text = body.slice(start, end)
  const parts: SnippetPart[] = []
  if (start > 0) parts.push({ text: '…', match: false })
  let at = 0
  pattern.lastIndex = 0
  for (const found of text.matchAll(pattern)) {
    if (found[0] === '') continue
    if (found.index > at) parts.push({ text: text.slice(at, found.index), match: false })
    parts.push({ text: found[0], match: true })
    at = found.index + found[0].length
  }
  if (at < text.length) parts.push({ text: text.slice(at), match: false })
  if (end < body.length) parts.push({ text: '…', match: false })
  return parts
}
