/**
 * Builds a client profile database directly with SQL (fast), in the engine's own schema: a history
 * spread over many conversations the way real ones are (a few long chats, a long tail), interleaved
 * in time, with a realistic share of receipt information.
 */
import type Database from 'better-sqlite3'
import { rng } from './stats'

export const ME = 'me'

export interface SeedSpec {
  messages: number
  conversations: number
  /** Every n-th conversation is a group (index % groupEvery === 1). */
  groupEvery: number
  seed: number
}

export interface SeededConversation {
  type: 'private' | 'group'
  targetId: string
  lastSeq: number
  members: string[]
}

export interface SeedResult {
  conversations: SeededConversation[]
  /** Largest single chat and largest group (by message count). */
  bigPrivate: SeededConversation
  bigGroup: SeededConversation
  readerRows: number
  seconds: number
}

const WORDS =
  'ok yes no maybe later today tomorrow meeting lunch coffee code review deploy ship bug fix test build release thanks sure sounds good see you soon call me when ready done on it great news please check the doc again'.split(
    ' ',
  )

function messageUid(n: number): string {
  const s = n.toString(36).toUpperCase().padStart(16, '0')
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}`
}

function text(r: () => number): string {
  const n = 3 + Math.floor(r() * 14)
  const w: string[] = []
  for (let i = 0; i < n; i++) w.push(WORDS[Math.floor(r() * WORDS.length)] as string)
  return JSON.stringify({ type: 'text', text: w.join(' ') })
}

const RECEIPT_SETTINGS = JSON.stringify({
  enabled: true,
  whoMayRequest: 'all',
  validityMs: 3 * 24 * 3600 * 1000,
  maxGroupSize: 200,
  countVisibility: 'sender',
})

/**
 * Seeds `db` (already migrated by SqliteEngineStore). Conversation i gets a share of messages ∝ 1/(i+1)
 * (Zipf), so at 1M messages the longest chat holds ~15% of them. Shares: 40% of messages are mine;
 * my single-chat messages ask for delivery + read receipts (70%), all but the newest are read; 20%
 * of my group messages ask for group acks and carry reader rows; 5% of received group messages carry
 * a RongCloud request (answered), and the newest 10 received in each group an unanswered one; ~30% of conversations end with unread messages.
 */
export function seedHistory(db: Database.Database, spec: SeedSpec): SeedResult {
  const t0 = process.hrtime.bigint()
  const r = rng(spec.seed)
  const convs: SeededConversation[] = []
  for (let i = 0; i < spec.conversations; i++) {
    if (i % spec.groupEvery === 1) {
      const size = 5 + Math.floor(r() * 55)
      const members = Array.from({ length: size }, (_, k) => `m${(i * 7 + k * 13) % 2000}`)
      convs.push({ type: 'group', targetId: `g_${i}`, lastSeq: 0, members: [...new Set(members)] })
    } else convs.push({ type: 'private', targetId: `u${i}`, lastSeq: 0, members: [`u${i}`] })
  }
  // Cumulative Zipf weights for sampling the conversation of each message.
  const cum: number[] = []
  let total = 0
  for (let i = 0; i < convs.length; i++) cum.push((total += 1 / (i + 1)))
  const pickConv = (): number => {
    const x = r() * total
    let lo = 0
    let hi = cum.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cum[mid] as number) < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  // Pass 1: which conversation each message goes to, so each conversation's newest messages are known.
  const convOf = new Uint16Array(spec.messages)
  const counts = new Array<number>(convs.length).fill(0)
  for (let n = 0; n < spec.messages; n++) {
    const c = pickConv()
    convOf[n] = c
    counts[c] = (counts[c] as number) + 1
  }
  // Per conversation: how many of its newest received messages are unread.
  const unreadTail = convs.map(() => (r() < 0.3 ? 1 + Math.floor(r() * 20) : 0))

  const insert = db.prepare(
    `INSERT INTO messages (local_id, client_msg_id, message_uid, conv_type, target_id, channel_id, seq, sender_id,
       direction, content, sent_at, status, is_unread, need_delivery_ack, need_read_ack, is_need_group_ack,
       member_count, delivered_at, read_at, group_ack_count, is_receipt_request, has_respond, receipt_request_at)
     VALUES (?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const reader = db.prepare('INSERT INTO message_readers (message_uid, reader_id, read_at) VALUES (?, ?, ?)')
  const lastLocal = new Array<number>(convs.length).fill(0)
  const unreadCount = new Array<number>(convs.length).fill(0)
  let readerRows = 0
  const baseTime = Date.UTC(2024, 0, 1)
  const chunk = 50_000
  for (let start = 0; start < spec.messages; start += chunk) {
    db.transaction(() => {
      for (let n = start; n < Math.min(spec.messages, start + chunk); n++) {
        const ci = convOf[n] as number
        const c = convs[ci] as SeededConversation
        const seq = ++c.lastSeq
        const fromEnd = (counts[ci] as number) - seq
        const mine = r() < 0.4
        const localId = n + 1
        const uid = messageUid(n + 1)
        const at = baseTime + n * 1000
        const sender = mine ? ME : (c.members[Math.floor(r() * c.members.length)] as string)
        let unread = 0
        let needDelivery = 0
        let needRead = 0
        let groupAck = 0
        let deliveredAt: number | null = null
        let readAt: number | null = null
        let ackCount = 0
        let request = 0
        let responded = 0
        let requestAt: number | null = null
        const memberCount = c.type === 'group' ? c.members.length : 1
        if (c.type === 'private') {
          if (mine) {
            if (r() < 0.7) {
              needDelivery = 1
              needRead = 1
              deliveredAt = fromEnd < 3 ? null : at + 500
              readAt = fromEnd < 8 ? null : at + 60_000
            }
          } else {
            needDelivery = r() < 0.5 ? 1 : 0
            needRead = needDelivery
          }
        } else if (mine) {
          if (r() < 0.2) {
            groupAck = 1
            ackCount = fromEnd < 5 ? Math.floor(r() * 3) : Math.floor(memberCount * (0.3 + r() * 0.7))
            for (let k = 0; k < ackCount; k++) reader.run(uid, c.members[k] as string, at + 1000 * (k + 1))
            readerRows += ackCount
          }
        } else {
          groupAck = r() < 0.1 ? 1 : 0
          if (r() < 0.05) {
            request = 1
            requestAt = at + 10_000
            responded = 1
          }
        }
        if (!mine && fromEnd < (unreadTail[ci] as number)) {
          unread = 1
          unreadCount[ci] = (unreadCount[ci] as number) + 1
        }
        insert.run(
          localId,
          `c${n}`,
          uid,
          c.type,
          c.targetId,
          seq,
          sender,
          mine ? 1 : 2,
          text(r),
          at,
          unread,
          needDelivery,
          needRead,
          groupAck,
          memberCount,
          deliveredAt,
          readAt,
          ackCount,
          request,
          responded,
          requestAt,
        )
        lastLocal[ci] = localId
      }
    })()
  }
  // read_seq: everything before the unread tail is read.
  const conv = db.prepare(
    `INSERT INTO conversations (conv_type, target_id, title, last_seq, synced_seq, read_seq, unread_count,
       last_local_id, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  )
  const user = db.prepare('INSERT OR IGNORE INTO users (user_id, display_name) VALUES (?, ?)')
  const group = db.prepare(
    `INSERT INTO groups (group_id, name, owner_id, member_count, created_at, my_role, receipt_settings)
     VALUES (?, ?, ?, ?, ?, 'member', ?)`,
  )
  db.transaction(() => {
    user.run(ME, 'Me')
    convs.forEach((c, i) => {
      const lastRead = Math.max(0, c.lastSeq - (unreadTail[i] as number))
      conv.run(
        c.type,
        c.targetId,
        c.type === 'group' ? `Group ${i}` : `User ${i}`,
        c.lastSeq,
        c.lastSeq,
        lastRead,
        unreadCount[i] as number,
        lastLocal[i] || null,
        baseTime + (lastLocal[i] as number) * 1000,
      )
      for (const m of c.members) user.run(m, m.toUpperCase())
      if (c.type === 'group')
        group.run(
          c.targetId,
          `Group ${i}`,
          c.members[0] as string,
          c.members.length + 1,
          baseTime,
          RECEIPT_SETTINGS,
        )
    })
  })()
  // The same work at every size: in each group, the newest 10 received messages carry a RongCloud
  // request not yet answered (the other requests were answered).
  db.prepare(
    `UPDATE messages SET is_receipt_request = 1, has_respond = 0, receipt_request_at = sent_at + 10000
     WHERE local_id IN (SELECT local_id FROM (SELECT local_id, row_number() OVER
       (PARTITION BY target_id ORDER BY seq DESC) AS rn FROM messages WHERE conv_type = 'group' AND direction = 2)
       WHERE rn <= 10)`,
  ).run()
  db.pragma('wal_checkpoint(TRUNCATE)')
  const byCount = convs.map((c, i) => ({ c, n: counts[i] as number })).sort((a, b) => b.n - a.n)
  const bigPrivate = byCount.find((x) => x.c.type === 'private')?.c as SeededConversation
  const bigGroup = byCount.find((x) => x.c.type === 'group')?.c as SeededConversation
  return {
    conversations: convs,
    bigPrivate,
    bigGroup,
    readerRows,
    seconds: Number(process.hrtime.bigint() - t0) / 1e9,
  }
}
