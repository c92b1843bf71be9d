/**
 * What the message info panel shows besides receipts: when this device wrote or received a message
 * (storedTime), when I read a received one (readByMeTime), and what the message asked for
 * (needDeliveryAck / needReadAck, the server's stamp).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'
import type { Conversation } from '../../../src/shared/model'
import { ME, wire } from '../fakeContext'

const BOB: Conversation = { type: 'private', targetId: 'bob' }

describe('message times and asks', () => {
  let store: SqliteEngineStore
  beforeEach(() => {
    store = new SqliteEngineStore(':memory:')
  })
  afterEach(() => store.close())

  function send(clientMsgId: string, now: number) {
    return store.insertOutgoing({
      me: ME,
      clientMsgId,
      conversation: BOB,
      channelId: '',
      content: { type: 'text', text: 'hi' },
      isNeedGroupAck: false,
      now,
      title: 'bob',
    })
  }

  it('keeps the local write time of my message after the server answers with its own time', () => {
    const written = send('mine-1', 1_000)
    expect(written).toMatchObject({ storedTime: 1_000, needDeliveryAck: false, needReadAck: false })
    const [confirmed] = store.storeServerMessages(
      ME,
      [
        wire(1, {
          senderId: ME,
          to: 'bob',
          clientMsgId: 'mine-1',
          sentAt: 1_250,
          needDeliveryAck: true,
          needReadAck: false,
        }),
      ],
      1_300,
    ).changed
    expect(confirmed).toMatchObject({
      sentTime: 1_250,
      storedTime: 1_000,
      needDeliveryAck: true,
      needReadAck: false,
    })
  })

  it('has no local write time for my message written on another device', () => {
    const { inserted } = store.storeServerMessages(ME, [wire(1, { senderId: ME, to: 'bob' })], 2_000)
    expect(inserted[0]).toMatchObject({ storedTime: null })
  })

  it('records when a received message arrived here and when I read it', () => {
    const { inserted } = store.storeServerMessages(
      ME,
      [wire(1, { needReadAck: true, needDeliveryAck: true }), wire(2)],
      3_000,
    )
    expect(inserted.map((m) => [m.storedTime, m.readByMeTime, m.needReadAck])).toEqual([
      [3_000, null, true],
      [3_000, null, false],
    ])
    const read = store.readConversation(BOB, 1, 4_000, true).changed
    expect(read.map((m) => [m.seq, m.readByMeTime])).toEqual([[1, 4_000]])
    const uid = inserted[1]?.messageUId ?? ''
    const one = store.readMessage(uid, 5_000).changed.find((m) => m.seq === 2)
    expect(one).toMatchObject({ isUnread: false, readByMeTime: 5_000 })
    // Read once: a later read mark does not move the time.
    expect(store.readConversation(BOB, 2, 6_000, false).changed).toEqual([])
    expect(store.history(BOB, undefined, 10).list.map((m) => m.readByMeTime)).toEqual([5_000, 4_000])
  })
})
