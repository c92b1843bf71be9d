/**
 * A group reader fact that reaches the sender before its own message has a server id there (found
 * by the server-kill fault test: after a restart the reply to a resent message can come after the
 * replayed groupMessageRead). It is kept and counted when the message gets its id.
 */
import { describe, expect, it } from 'vitest'
import { LocalStore } from '../../src/main/engine/store'
import type { WireMessage } from '../../src/shared/protocol'

describe('group readers that arrive before the message', () => {
  it('are kept and counted once the message has its server id', () => {
    const store = new LocalStore(':memory:')
    const row = store.insertOutgoing({
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
    const sent = store.markSent(row.local_id, wire)
    expect(sent).toMatchObject({ message_uid: uid, group_ack_count: 2 })
    expect(store.toMessage(sent as NonNullable<typeof sent>).readReceiptInfo.readerList).toEqual({
      bob: 2001,
      carol: 2002,
    })
    // A replay of the same facts changes nothing.
    expect(store.applyGroupReadAcks([ack('bob', 1)])).toEqual([])
    store.close()
  })
})
