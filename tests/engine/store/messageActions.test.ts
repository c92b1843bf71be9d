import { describe, expect, it } from 'vitest'
import { Code, ok } from '../../../src/shared/codes'
import { SqliteEngineStore } from '../../../src/main/engine/store/sqliteStore'
import { deleteMessageForMe, editMessage, recallMessage } from '../../../src/main/engine/ops/messageActions'
import { sendMessage } from '../../../src/main/engine/ops/messages'
import { ME, testContext, wire } from '../fakeContext'

const BOB = { type: 'private', targetId: 'bob' } as const

function textOf(store: SqliteEngineStore, localId: string): unknown {
  return store.db.prepare('SELECT content FROM messages WHERE local_id = ?').pluck().get(Number(localId))
}

describe('message actions in the local store (H1)', () => {
  it('edits in place, newest edit wins, receipts and unread state stay', () => {
    const store = new SqliteEngineStore(':memory:')
    const m = wire(1, { senderId: ME, to: 'bob', readAt: 5000 })
    const [stored] = store.storeServerMessages(ME, [m], 2000).inserted
    expect(stored?.isReceiverRead).toBe(true)
    const changed = store.applyEdit(m.messageUId, { type: 'text', text: 'v3' }, 7000, 2)
    expect(changed[0]).toMatchObject({
      content: { text: 'v3' },
      editCount: 2,
      editedTime: 7000,
      isReceiverRead: true,
    })
    // A late, older edit changes nothing; the same one again neither.
    expect(store.applyEdit(m.messageUId, { type: 'text', text: 'v2' }, 6000, 1)).toEqual([])
    expect(store.applyEdit(m.messageUId, { type: 'text', text: 'v3' }, 7000, 2)).toEqual([])
    expect(store.view(Number(stored?.messageId))?.revision).toBe(changed[0]?.revision)
  })

  it('a recall deletes the text, refreshes the quotes of replies, and beats any later edit', () => {
    const store = new SqliteEngineStore(':memory:')
    const original = wire(1, { content: { type: 'text', text: 'secret' } })
    const reply = wire(2, { senderId: ME, to: 'bob', replyTo: original.messageUId })
    store.storeServerMessages(ME, [original, reply], 2000)
    const replyId = store.messageByUid(reply.messageUId)?.localId
    expect(store.view(Number(replyId))?.replyTo).toMatchObject({
      state: 'ok',
      excerpt: 'secret',
      senderUserId: 'bob',
    })
    const changed = store.applyRecall(original.messageUId, 3000)
    expect(changed.map((m) => m.messageUId).sort()).toEqual([original.messageUId, reply.messageUId].sort())
    const localId = String(store.messageByUid(original.messageUId)?.localId)
    expect(textOf(store, localId)).toBe('{"type":"recalled"}')
    expect(store.view(Number(replyId))?.replyTo).toMatchObject({ state: 'recalled' })
    expect(store.applyEdit(original.messageUId, { type: 'text', text: 'back' }, 4000, 1)).toEqual([])
    // A copy pulled again (as it was before the recall) does not bring the text back.
    store.storeServerMessages(ME, [original], 5000)
    expect(textOf(store, localId)).toBe('{"type":"recalled"}')
    // A copy pulled fresh brings the recall to a device that missed its event.
    const other = new SqliteEngineStore(':memory:')
    other.storeServerMessages(ME, [original], 2000)
    other.storeServerMessages(ME, [{ ...original, content: { type: 'recalled' }, recalledAt: 3000 }], 6000)
    expect(other.view(other.messageByUid(original.messageUId)?.localId ?? 0)?.recalledTime).toBe(3000)
  })

  it('delete for me: gone here for good, not brought back by a pull; its conversation moves on', () => {
    const ctx = testContext()
    const first = wire(1)
    const second = wire(2)
    ctx.store.storeServerMessages(ME, [first, second], 2000)
    const secondId = String(ctx.store.messageByUid(second.messageUId)?.localId)
    expect(ctx.store.summary(BOB)?.unreadCount).toBe(2)
    deleteMessageForMe(ctx, secondId)
    expect(ctx.events('messagesDeleted')).toEqual([{ conversation: BOB, messageIds: [secondId] }])
    expect(ctx.store.summary(BOB)).toMatchObject({
      unreadCount: 1,
      lastMessage: { messageUId: first.messageUId },
    })
    ctx.store.storeServerMessages(ME, [second], 3000)
    expect(ctx.store.messageByUid(second.messageUId)).toBeUndefined()
    expect(ctx.store.history(BOB, undefined, 10).list.map((m) => m.messageUId)).toEqual([first.messageUId])
    expect(() => deleteMessageForMe(ctx, secondId)).toThrow(
      expect.objectContaining({ code: Code.MESSAGE_NOT_FOUND }),
    )
  })
})

describe('message action queries (H1)', () => {
  it('finds the replies to a message through their index, not by reading the history', () => {
    const store = new SqliteEngineStore(':memory:')
    const plan = store.db
      .prepare('EXPLAIN QUERY PLAN UPDATE messages SET revision = revision + 1 WHERE reply_to = ?')
      .all('AAAA-BBBB-CCCC-DDDD') as { detail: string }[]
    expect(plan.map((p) => p.detail).join('\n')).toMatch(/USING INDEX messages_reply_to/)
  })
})

describe('message action ops (H1)', () => {
  it("edits and recalls only my sent messages, asking the server, and refuses others' at once", async () => {
    const ctx = testContext()
    const theirs = wire(1)
    const mine = wire(2, { senderId: ME, to: 'bob' })
    ctx.store.storeServerMessages(ME, [theirs, mine], 2000)
    const theirsId = String(ctx.store.messageByUid(theirs.messageUId)?.localId)
    const mineId = String(ctx.store.messageByUid(mine.messageUId)?.localId)
    await expect(editMessage(ctx, theirsId, 'x')).rejects.toMatchObject({ code: Code.NOT_MESSAGE_SENDER })
    await expect(recallMessage(ctx, theirsId)).rejects.toMatchObject({ code: Code.NOT_MESSAGE_SENDER })
    expect(ctx.fake.sent).toEqual([])

    ctx.fake.answer('editMessage', (d) =>
      ok({ messageUId: d.messageUId, content: { type: 'text', text: d.text }, editedAt: 9000, editCount: 1 }),
    )
    const edited = await editMessage(ctx, mineId, 'fixed')
    expect(edited).toMatchObject({ content: { text: 'fixed' }, editCount: 1 })
    expect(
      ctx
        .events('messagesChanged')
        .flat()
        .some((m) => m.messageId === mineId),
    ).toBe(true)

    ctx.fake.answer('recallMessage', (d) => ok({ messageUId: d.messageUId, recalledAt: 9500 }))
    expect(await recallMessage(ctx, mineId)).toMatchObject({
      content: { type: 'recalled' },
      recalledTime: 9500,
    })
    await expect(editMessage(ctx, mineId, 'again')).rejects.toMatchObject({ code: Code.MESSAGE_RECALLED })
  })

  it('sends a reply with its quote, and refuses a quote of another chat', () => {
    const ctx = testContext()
    const theirs = wire(1)
    const elsewhere = wire(1, { senderId: 'carol' })
    ctx.store.storeServerMessages(ME, [theirs, elsewhere], 2000)
    const sent = sendMessage(
      ctx,
      BOB,
      { type: 'text', text: 'yes' },
      {
        isNeedGroupAck: false,
        channelId: '',
        replyTo: theirs.messageUId,
      },
    )
    expect(sent.replyTo).toMatchObject({ messageUId: theirs.messageUId, state: 'ok' })
    const job = ctx.store.outbox('send', 10).at(-1)
    expect(JSON.parse(job?.payload ?? '{}')).toMatchObject({ replyTo: theirs.messageUId })
    expect(() =>
      sendMessage(
        ctx,
        BOB,
        { type: 'text', text: 'no' },
        { isNeedGroupAck: false, channelId: '', replyTo: elsewhere.messageUId },
      ),
    ).toThrow(expect.objectContaining({ code: Code.MESSAGE_NOT_FOUND }))
    expect(() =>
      sendMessage(ctx, BOB, { type: 'recalled' }, { isNeedGroupAck: false, channelId: '' }),
    ).toThrow(expect.objectContaining({ code: Code.INVALID_ARGUMENT }))
  })
})
