/**
 * A group reader fact that reaches the sender before its own message has a server id there (found
 * by the server-kill fault test: after a restart the reply to a resent message can come after the
 * replayed groupMessageRead). It is kept and counted when the message gets its id.
 */
import { describe, expect, it } from 'vitest'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'
import type { WireMessage } from '../../../src/shared/protocol'

describe('group readers that arrive before the message', () => {
  it('are kept and counted once the message has its server id', () => {
    const store = new SqliteEngineStore(':memory:')
    store.insertOutgoing({
      me: 'alice',
      clientMsgId: 'client-1-abc',
      conversation: { type: 'group', targetId: 'g_team' },
      channelId: '',
      content: { type: 'text', text: 'who reads this?' },
      isNeedGroupAck: true,
      now: 1000,
      title: 'team',
    })
    const uid = 'AAAA-BBBB-CCCC-DDDD'
    const ack = (from: string, count: number) => ({
      ackId: String(count),
      messageUId: uid,
      groupId: 'g_team',
      from,
      timestamp: 2000 + count,
      count,
    })
    expect(store.applyGroupReadAcks([ack('bob', 1), ack('carol', 2)])).toEqual([])
    const wire: WireMessage = {
      messageUId: uid,
      clientMsgId: 'client-1-abc',
      convType: 'group',
      senderId: 'alice',
      to: 'g_team',
      channelId: '',
      seq: 1,
      content: { type: 'text', text: 'who reads this?' },
      sentAt: 1500,
      needDeliveryAck: false,
      needReadAck: false,
      isNeedGroupAck: true,
      memberCount: 3,
    }
    // The reply to the send (or the push of it) confirms the message: the kept readers count now.
    const [sent] = store.storeServerMessages('alice', [wire], 1600).changed
    expect(sent).toMatchObject({ messageUId: uid, groupAckCount: 2 })
    expect(sent?.readReceiptInfo.readerList).toEqual({
      bob: 2001,
      carol: 2002,
    })
    // A replay of the same facts changes nothing.
    expect(store.applyGroupReadAcks([ack('bob', 1)])).toEqual([])
    store.close()
  })
})
