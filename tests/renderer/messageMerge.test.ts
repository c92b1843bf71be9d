import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Message } from '../../src/shared/model'
import { tickLevel } from '../../src/shared/receipts'
import { compareMessages, currentCopy, groupReadCounts, upsertMessage } from '@renderer/lib/messages'
import { groupChat, makeGroupAckMessage, makeMessage, makeSent } from './fixtures'

/**
 * The engine's copies of one message of mine, one per revision, as it moves along: sending, sent,
 * delivered, read (with a group read count growing on the way).
 */
function historyOf(base: Message, steps: number): Message[] {
  return Array.from({ length: steps }, (_, i): Message => {
    const revision = i + 1
    if (revision === 1) return { ...base, revision, status: 'sending', seq: null, messageUId: null }
    return {
      ...base,
      revision,
      isDelivered: revision >= 3,
      deliveredTime: revision >= 3 ? 100 : null,
      isReceiverRead: revision >= 4,
      readTime: revision >= 4 ? 200 : null,
      groupAckCount: revision,
    }
  })
}

describe('keep the copy with the higher revision', () => {
  it('a late lower-revision "sending" copy never undoes "sent"', () => {
    const [sending, sent] = historyOf(makeSent({ seq: 5 }), 2)
    const list: Message[] = []
    upsertMessage(list, sent)
    expect(upsertMessage(list, sending)).toBe(sent)
    expect(list).toEqual([sent])
    expect(tickLevel(list[0])).toBe('sent')
  })

  it('ends at the highest revision whatever order (and how often) the copies arrive in', () => {
    const history = historyOf(makeSent({ seq: 5 }), 6)
    const arrivals = fc
      .array(fc.integer({ min: 0, max: history.length - 1 }), { minLength: 1, maxLength: 12 })
      .map((indexes) => indexes.map((i) => history[i]))
    fc.assert(
      fc.property(arrivals, (copies) => {
        const list: Message[] = []
        let revision = 0
        for (const copy of copies) {
          upsertMessage(list, copy)
          expect(list).toHaveLength(1)
          // Never backwards on the way either.
          expect(list[0].revision).toBeGreaterThanOrEqual(revision)
          revision = list[0].revision
        }
        const newest = copies.reduce((a, b) => (b.revision > a.revision ? b : a))
        expect(list[0]).toBe(newest)
      }),
    )
  })

  it('takes the newer copy whole: the engine owns the state, nothing is max-merged here', () => {
    const held = makeGroupAckMessage(3, 4, { revision: 7, isDelivered: true, deliveredTime: 50 })
    // Say the engine corrected a count downwards: its newer word stands.
    const newer: Message = {
      ...held,
      revision: 8,
      groupAckCount: 2,
      deliveredTime: 60,
      readReceiptInfo: { ...held.readReceiptInfo, readCount: 2 },
    }
    expect(currentCopy(held, newer)).toBe(newer)
    expect(groupReadCounts(currentCopy(held, newer))).toEqual({ count: 2, total: 4 })
    // An older copy changes nothing, even one that looks further along.
    const older: Message = { ...held, revision: 6, isReceiverRead: true, readTime: 70, isUnread: false }
    expect(currentCopy(held, older)).toBe(held)
    // An equal revision is the same state: the copy held stays.
    expect(currentCopy(held, { ...held })).toBe(held)
  })

  it('takes my read flag from the engine too', () => {
    const unread = makeMessage({ isUnread: true, revision: 2 })
    const list = [unread]
    upsertMessage(list, { ...unread, revision: 3, isUnread: false })
    expect(list[0].isUnread).toBe(false)
    upsertMessage(list, { ...unread, revision: 1, isUnread: true })
    expect(list[0].isUnread).toBe(false)
  })
})

describe('upsertMessage', () => {
  it('keeps display order by sequence, pending messages last', () => {
    const list: Message[] = []
    const pending = makeSent({ seq: null, messageUId: null, status: 'sending', sentTime: 9e12 })
    for (const message of [
      makeMessage({ seq: 3 }),
      pending,
      makeMessage({ seq: 1 }),
      makeMessage({ seq: 2 }),
    ]) {
      upsertMessage(list, message)
    }
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3, null])
    const sent: Message = {
      ...pending,
      revision: pending.revision + 1,
      status: 'sent',
      seq: 4,
      messageUId: 'TEST-0000-0000-9999',
    }
    upsertMessage(list, sent)
    expect(list.map((m) => m.seq)).toEqual([1, 2, 3, 4])
    expect([...list].sort(compareMessages)).toEqual(list)
  })
})

describe('groupReadCounts', () => {
  it('reads the counts the engine put in readReceiptInfo, for either model', () => {
    expect(groupReadCounts(makeGroupAckMessage(2, 5))).toEqual({ count: 2, total: 5 })
    const request = makeSent({
      conversation: groupChat,
      readReceiptInfo: { isReceiptRequestMessage: true, hasRespond: false, readCount: 1, totalCount: 3 },
    })
    expect(groupReadCounts(request)).toEqual({ count: 1, total: 3 })
    // Easemob counts without readReceiptInfo counts (an engine that has not filled them yet).
    const bare = makeSent({
      conversation: groupChat,
      isNeedGroupAck: true,
      groupAckCount: 1,
      groupMemberCount: 2,
    })
    expect(groupReadCounts(bare)).toEqual({ count: 1, total: 2 })
  })

  it('is null for a message that did not ask, or whose counts the engine has not said', () => {
    expect(groupReadCounts(makeSent({ conversation: groupChat }))).toBeNull()
    const unknown = makeSent({
      conversation: groupChat,
      readReceiptInfo: { isReceiptRequestMessage: true, hasRespond: false, readerList: { bob: 1 } },
    })
    expect(groupReadCounts(unknown)).toBeNull()
  })
})
