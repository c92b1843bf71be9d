import { afterEach, describe, expect, it } from 'vitest'
import type { HistoryPage } from '../../src/shared/ipc'
import type { Message } from '../../src/shared/model'
import type { MessageVersion } from '../../src/shared/protocol'
import { cleanup, data, engineDb, reopen, signIn, tempDir, testServer, type Device } from './harness'

afterEach(cleanup)

/** Reply, edit, recall and delete for me (issue 13, H1): real server, real engines, real SQLite. */
const text = (t: string) => ({ type: 'text', text: t }) as const
const history = async (d: Device, conversation: object): Promise<Message[]> =>
  data<HistoryPage>(await d.dispatch('getHistoryMessages', [conversation, { count: 50 }])).list
const bodyOf = (m: Message | undefined) => (m?.content.type === 'text' ? m.content.text : m?.content.type)
/** Every text this device's SQLite holds, whatever the column: for "it is gone, not hidden". */
const stored = (d: Device) =>
  (engineDb(d).prepare('SELECT content FROM messages').pluck().all() as string[]).join('\n')

async function sent(d: Device, message: Message): Promise<Message> {
  return d.until('sent', () => {
    const m = d.engine.store?.view(Number(message.messageId))
    return m?.status === 'sent' ? m : undefined
  })
}

describe('message actions', () => {
  it('reply, then edit and recall reach every device live and after being offline; delete for me stays', async () => {
    const server = await testServer()
    const aliceDir = tempDir('alice-phone')
    const alice = await signIn(server, 'alice')
    let alicePhone = await signIn(server, 'alice', aliceDir)
    const bob = await signIn(server, 'bob')
    const toBob = { type: 'private', targetId: 'bob' }
    // The server's recall window reaches the engine with syncState (the menu offers Recall within it).
    expect(data(await alice.dispatch('getMessageActionSettings', []))).toEqual({ recallWindowMs: 86_400_000 })
    const toAlice = { type: 'private', targetId: 'alice' }

    // Reply: the quote names the original's sender and its words on the other side.
    const question = await sent(
      bob,
      data<Message>(await bob.dispatch('sendMessage', [toAlice, text('dinner at 7?')])),
    )
    await alice.until('question here', () => alice.engine.store?.messageByUid(question.messageUId ?? ''))
    const replied = bob.next('messageReceived', (ms) => ms.some((m) => bodyOf(m) === 'yes, at 7'))
    const answer = await sent(
      alice,
      data<Message>(
        await alice.dispatch('sendMessage', [toBob, text('yes, at 7'), { replyTo: question.messageUId }]),
      ),
    )
    const [atBob] = (await replied).filter((m) => bodyOf(m) === 'yes, at 7')
    expect(atBob?.replyTo).toMatchObject({ state: 'ok', senderUserId: 'bob', excerpt: 'dinner at 7?' })

    // Bob reads it; then Alice's phone goes offline and Alice edits twice.
    await bob.dispatch('ackMessageRead', [answer.messageUId])
    await alice.until('read', () => alice.engine.store?.view(Number(answer.messageId))?.isReceiverRead)
    await alicePhone.stop()
    const bobSawEdit = bob.next('messagesChanged', (ms) => ms.some((m) => bodyOf(m) === 'yes, at 8'))
    await alice.dispatch('editMessage', [answer.messageId, 'yes, at 7:30'])
    const edited = data<Message>(await alice.dispatch('editMessage', [answer.messageId, 'yes, at 8']))
    expect(edited).toMatchObject({ editCount: 2, isReceiverRead: true })
    expect((await bobSawEdit).find((m) => bodyOf(m) === 'yes, at 8')).toMatchObject({ editCount: 2 })
    const versions = data<MessageVersion[]>(await bob.dispatch('getMessageVersions', [atBob?.messageId]))
    expect(versions.map((v) => (v.content.type === 'text' ? v.content.text : ''))).toEqual([
      'yes, at 7',
      'yes, at 7:30',
      'yes, at 8',
    ])

    // Bob may neither edit nor recall Alice's message: typed errors, nothing changed.
    expect(await bob.dispatch('editMessage', [atBob?.messageId, 'no'])).toMatchObject({ code: 4003 })
    expect(await bob.dispatch('recallMessage', [atBob?.messageId])).toMatchObject({ code: 4003 })

    // The phone comes back: it catches up with the edit it missed.
    alicePhone = await reopen(aliceDir, server)
    await alicePhone.until('edit caught up', async () =>
      (await history(alicePhone, toBob)).find((m) => bodyOf(m) === 'yes, at 8'),
    )

    // Recall, with the phone offline again: gone from Bob's SQLite at once, and from the phone's later.
    await alicePhone.stop()
    const bobSawRecall = bob.next('messagesChanged', (ms) => ms.some((m) => m.recalledTime !== undefined))
    const recalled = data<Message>(await alice.dispatch('recallMessage', [answer.messageId]))
    expect(recalled).toMatchObject({ content: { type: 'recalled' }, isReceiverRead: true })
    await bobSawRecall
    expect(stored(bob)).not.toContain('yes, at')
    alicePhone = await reopen(aliceDir, server)
    await alicePhone.until('recall caught up', async () =>
      (await history(alicePhone, toBob)).find((m) => m.messageUId === answer.messageUId && m.recalledTime),
    )
    expect(stored(alicePhone)).not.toContain('yes, at')
    // A quote of a recalled message says so; a new reply to it is refused.
    expect((await history(bob, toAlice)).find((m) => m.messageUId === answer.messageUId)?.content).toEqual({
      type: 'recalled',
    })
    expect(
      await bob.dispatch('sendMessage', [toAlice, text('what?'), { replyTo: answer.messageUId }]),
    ).toMatchObject({ code: 3101 })

    // Delete for me: Bob deletes his question; it stays deleted across a restart and its resync.
    expect(await bob.dispatch('deleteMessageForMe', [question.messageId])).toMatchObject({ code: 0 })
    const bobDir = bob.profileDir
    await bob.stop()
    const bobAgain = await reopen(bobDir, server)
    await bobAgain.until('synced', () => bobAgain.engine.connectionState.state === 'connected')
    expect((await history(bobAgain, toAlice)).map((m) => m.messageUId)).not.toContain(question.messageUId)
    // Alice still has it.
    expect((await history(alice, toBob)).map((m) => m.messageUId)).toContain(question.messageUId)
  })
})
