/**
 * countVisibility 'all': the read counts of others' group messages (groupReadCount pushes and the
 * counts pulled copies carry) land in the store, raised and never lowered, and are told as state.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { Sync } from '../../../src/main/engine/sync/sync'
import type { PushFrame } from '../../../src/shared/protocol'
import { groupWire, ME, teamGroup, testContext, type TestContext } from '../fakeContext'

describe('read counts of others’ group messages', () => {
  let ctx: TestContext
  let sync: Sync
  beforeEach(() => {
    ctx = testContext()
    ctx.store.upsertGroup(teamGroup('member'), 1)
    sync = new Sync(ctx, { onRevoked: () => undefined })
  })
  afterEach(() => ctx.store.close())

  const push = (data: PushFrame['data']): void =>
    sync.onPush({ type: 'push', event: 'groupReadCount', data } as PushFrame)

  it('a groupReadCount raises the count of a received message that asked, once, never down', () => {
    const theirs = groupWire(1, { isNeedGroupAck: true, memberCount: 3 })
    ctx.store.storeServerMessages(ME, [theirs], 1)
    push({ groupId: 'g_team', counts: [{ messageUId: theirs.messageUId, count: 2 }] })
    expect(ctx.events('messagesChanged')).toEqual([
      [
        expect.objectContaining({
          messageUId: theirs.messageUId,
          groupAckCount: 2,
          groupMemberCount: 3,
        }),
      ],
    ])
    // Stale or repeated counts change nothing and tell nothing.
    push({ groupId: 'g_team', counts: [{ messageUId: theirs.messageUId, count: 1 }] })
    push({ groupId: 'g_team', counts: [{ messageUId: theirs.messageUId, count: 2 }] })
    expect(ctx.events('messagesChanged')).toHaveLength(1)
    // A count of a message not here yet is dropped: its pulled copy carries it.
    push({ groupId: 'g_team', counts: [{ messageUId: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ', count: 1 }] })
    expect(ctx.events('messagesChanged')).toHaveLength(1)
  })

  it('a pulled copy of someone else’s message carries its count', () => {
    const theirs = groupWire(1, { isNeedGroupAck: true, memberCount: 3 })
    ctx.store.storeServerMessages(ME, [theirs], 1)
    const changed = ctx.store.storeServerMessages(ME, [{ ...theirs, groupAckCount: 3 }], 2).changed
    expect(changed).toEqual([expect.objectContaining({ groupAckCount: 3, groupMemberCount: 3 })])
  })
})
