/**
 * Search after an everyday chat (issue 13, H2 with H1 and H3): edits, a recall, a file and an image
 * sent through the upload path, then searches again and again on both sides.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { MessageSearchPage } from '../../src/shared/ipc'
import type { Message } from '../../src/shared/model'
import { cleanup, data, signIn, tempDir, testServer, type Device } from './harness'

afterEach(cleanup)

const text = (t: string) => ({ type: 'text', text: t }) as const
const toBob = { type: 'private', targetId: 'bob' } as const

async function sent(d: Device, message: Message): Promise<Message> {
  return d.until('sent', () => {
    const m = d.engine.store?.view(Number(message.messageId))
    return m?.status === 'sent' ? m : undefined
  })
}

const found = async (d: Device, keyword: string) =>
  data<MessageSearchPage>(await d.dispatch('searchMessages', [keyword, {}]))
    .hits.map((h) => (h.message.content.type === 'text' ? h.message.content.text : h.message.content.type))
    .sort()

describe('search after edits, recalls and files', () => {
  it('finds every current text once, however often it searches', async () => {
    const server = await testServer()
    const files = { acceptPaths: true, downloadsDir: tempDir('alice-dl') }
    const alice = await signIn(server, 'alice', tempDir('alice'), { files })
    const bob = await signIn(server, 'bob', tempDir('bob'), { files: { downloadsDir: tempDir('bob-dl') } })
    const src = tempDir('src')
    writeFileSync(join(src, 'thursday-notes.pdf'), Buffer.alloc(1000, 7))
    writeFileSync(
      join(src, 'thursday.png'),
      Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
        'base64',
      ),
    )
    await sent(alice, data<Message>(await alice.dispatch('sendMessage', [toBob, text('hello thursday')])))
    const file = bob.next('messageReceived', (ms) => ms.some((m) => m.content.type === 'file'))
    await alice.dispatch('sendFile', [
      toBob,
      { kind: 'path', path: join(src, 'thursday-notes.pdf') },
      { name: 'thursday-notes.pdf' },
    ])
    await file
    for (const d of [alice, bob]) await found(d, 'thursday')
    const asked = await sent(
      alice,
      data<Message>(await alice.dispatch('sendMessage', [toBob, text('lunch thursday?')])),
    )
    for (const d of [alice, bob]) await found(d, 'thursday')
    await alice.dispatch('editMessage', [asked.messageId, 'dinner thursday?'])
    for (const d of [alice, bob]) await found(d, 'thursday')
    const recalled = await sent(
      alice,
      data<Message>(await alice.dispatch('sendMessage', [toBob, text('oops thursday')])),
    )
    const bobSaw = bob.next('messagesChanged', (ms) => ms.some((m) => m.recalledTime !== undefined))
    // The message menu asks for the recall window first (it read the search index's mark as 0 once).
    expect((await alice.dispatch('getMessageActionSettings', [])).code).toBe(0)
    expect((await bob.dispatch('getMessageActionSettings', [])).code).toBe(0)
    await alice.dispatch('recallMessage', [recalled.messageId])
    await bobSaw
    const img = bob.next('messageReceived', (ms) =>
      ms.some((m) => m.content.type !== 'text' && 'name' in m.content && m.content.name === 'thursday.png'),
    )
    await alice.dispatch('sendFile', [
      toBob,
      { kind: 'path', path: join(src, 'thursday.png') },
      { name: 'thursday.png', mime: 'image/png' },
    ])
    await img
    const reply = alice.next('messageReceived', (ms) =>
      ms.some((m) => m.content.type === 'text' && m.content.text === 'ok thursday'),
    )
    await bob.dispatch('sendMessage', [
      { type: 'private', targetId: 'alice' },
      text('ok thursday'),
      { replyTo: asked.messageUId },
    ])
    await reply
    const want = ['dinner thursday?', 'file', 'file', 'hello thursday', 'ok thursday']
    for (const d of [alice, bob]) {
      expect(await found(d, 'thursday')).toEqual(want)
      expect(await found(d, 'thursday')).toEqual(want)
      expect(await found(d, 'hursd')).toEqual(want)
    }
  })
})
