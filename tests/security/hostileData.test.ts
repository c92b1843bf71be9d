/**
 * Hostile data rather than hostile requests (issue #11): user ids named after Object properties
 * (gap 6), which break any code that uses a plain object as a map keyed by user id; and names that
 * hide or reorder text (gap 8).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import { DisplayName, GroupName, type GroupInfo, type Message } from '../../src/shared/model'
import { http } from '../../src/shared/protocol'
import { cleanup, data, signIn, testServer, type Device } from '../integration/harness'
import {
  api,
  clientMsgId,
  connectOne,
  startTestServer,
  text,
  uniqueId,
  type TestClient,
} from '../server/helpers'

/** Valid user ids (letters, digits, "_", ".", "-") that are also properties of every plain object. */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']

afterEach(cleanup)

describe('user ids named after Object properties', () => {
  it('can register them, and the server answers RongCloud responses keyed by them', async () => {
    const server = await startTestServer()
    try {
      const reader = await connectOne(server)
      const senders: TestClient[] = []
      for (const userId of PROTOTYPE_NAMES) senders.push(await connectOne(server, { userId }))
      const { group } = await senders[0]!.call('createGroup', {
        name: 'object properties',
        memberIds: [reader.userId, ...PROTOTYPE_NAMES.slice(1)],
      })
      const groupId = group.groupId
      const uids = new Map<string, string>()
      for (const sender of senders) {
        const { message } = await sender.call('sendMessage', {
          clientMsgId: clientMsgId(),
          conversation: { type: 'group', targetId: groupId },
          content: text(`from ${sender.userId}`),
        })
        await sender.call('sendReadReceiptRequest', { groupId, messageUId: message.messageUId })
        uids.set(sender.userId, message.messageUId)
      }
      // Written by hand: the JSON text has an own "__proto__" key, as a client's would.
      const entries = [...uids].map(([userId, uid]) => `${JSON.stringify(userId)}:[${JSON.stringify(uid)}]`)
      const id = 900
      const reply = await reader.sendFrame(
        `{"id":${id},"op":"sendReadReceiptResponse","data":{"groupId":${JSON.stringify(groupId)},` +
          `"messageList":{${entries.join(',')}}}}`,
        id,
        'sendReadReceiptResponse',
      )
      expect(reply.code).toBe(0)
      expect((reply.data as { accepted: string[] }).accepted.sort()).toEqual([...uids.values()].sort())
      for (const sender of senders) {
        const push = await sender.nextPush('receiptResponse')
        expect(push.data.messageUIdList).toEqual([uids.get(sender.userId)])
        const acks = await sender.call('fetchGroupReadAcks', {
          messageUId: uids.get(sender.userId)!,
          pageSize: 10,
        })
        expect(acks.acks.map((a) => a.from)).toEqual([reader.userId])
      }
      // getUsers and members lists name them too.
      const users = await reader.call('getUsers', { userIds: PROTOTYPE_NAMES })
      expect(users.users.map((u) => u.userId).sort()).toEqual([...PROTOTYPE_NAMES].sort())
      for (const client of [reader, ...senders]) expect(client.protocolErrors).toEqual([])
    } finally {
      await server.close()
    }
  })

  it('answers their requests through the engine, with and without a messageList', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const senders: Device[] = []
    for (const name of PROTOTYPE_NAMES) senders.push(await signIn(server, name))
    const group = data<GroupInfo>(await alice.dispatch('createGroup', ['Team', PROTOTYPE_NAMES]))
    const conv = { type: 'group', targetId: group.groupId } as const
    const messageOf = (d: Device, uid: string): Message | undefined => {
      const row = d.engine.store?.messageByUid(uid)
      return row ? d.engine.store?.view(row.localId) : undefined
    }
    await Promise.all(senders.map((d) => d.until('group known', () => d.engine.store?.group(group.groupId))))
    const uids = new Map<string, string>()
    for (const d of senders) {
      const sent = data<Message>(await d.dispatch('sendMessage', [conv, text(`from ${d.userId}`)]))
      const uid = await d.until(
        'sent',
        () => d.engine.store?.messageByLocalId(Number(sent.messageId))?.messageUId,
      )
      expect(await d.dispatch('sendReadReceiptRequest', [group.groupId, uid])).toEqual({
        code: 0,
        data: null,
      })
      uids.set(d.userId, uid)
    }
    await alice.until('every request', () =>
      [...uids.values()].every((uid) => messageOf(alice, uid)?.readReceiptInfo.isReceiptRequestMessage),
    )
    // alice answers the first two explicitly, the rest from her SQLite (R6).
    const explicit = Object.fromEntries(PROTOTYPE_NAMES.slice(0, 2).map((name) => [name, [uids.get(name)!]]))
    const first = await alice.dispatch('sendReadReceiptResponseV2', [group.groupId, explicit])
    expect(first.code).toBe(0)
    expect(Object.keys(data<{ messageList: object }>(first).messageList).sort()).toEqual(
      PROTOTYPE_NAMES.slice(0, 2).sort(),
    )
    const rest = await alice.dispatch('sendReadReceiptResponseV2', [group.groupId])
    expect(rest.code).toBe(0)
    expect(Object.keys(data<{ messageList: object }>(rest).messageList).sort()).toEqual(
      PROTOTYPE_NAMES.slice(2).sort(),
    )
    // Every sender sees alice among the readers of its message.
    for (const d of senders) {
      const uid = uids.get(d.userId)!
      const seen = await d.until(`alice read ${d.userId}'s message`, () => {
        const m = messageOf(d, uid)
        return m && m.readReceiptInfo.readCount === 1 ? m : undefined
      })
      expect(Object.keys(seen.readReceiptInfo.readerList ?? {})).toEqual(['alice'])
    }
  })
})

/** Names that look like something else: each holds one character a name may not contain. */
const HIDDEN = {
  'right-to-left override': 'admin\u202Egnp.exe',
  'left-to-right isolate': 'team \u2066x\u2069',
  'zero-width space': 'ali\u200Bce',
  'zero-width joiner between letters': 'bo\u200Db',
  'word joiner': 'a\u2060b',
  'byte order mark inside': 'x\uFEFFy',
  'soft hyphen': 'pay\u00ADpal',
  'Hangul filler (looks empty)': '\u3164',
  'tag characters': 'hi\u{E0041}\u{E0042}',
  NUL: 'a\u0000b',
  newline: 'two\nlines',
  DEL: 'a\u007Fb',
  'C1 control': 'a\u0085b',
  'line separator': 'a\u2028b',
}

describe('names that hide or reorder text', () => {
  it('are refused by the shared schemas, which keep emoji sequences and normalise to NFC', () => {
    for (const [what, name] of Object.entries(HIDDEN)) {
      for (const schema of [GroupName, DisplayName]) {
        const parsed = schema.safeParse(name)
        expect(parsed.success, what).toBe(false)
        expect(parsed.error?.issues[0]?.message, what).toMatch(/invisible/)
      }
    }
    // A joiner between pictographs and a flag's tag sequence are emoji, not hidden text.
    for (const emoji of [
      '\u{1F469}\u200D\u{1F4BB} devs',
      '\u{1F3F4}\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F} fans',
      '\u{1F44B}\u{1F3FD}',
    ])
      expect(GroupName.safeParse(emoji).success, emoji).toBe(true)
    expect(GroupName.parse('  Cafe\u0301  ')).toBe('Caf\u00E9')
  })

  it('are refused by the server for groups and display names, with a typed error, changing nothing', async () => {
    const server = await startTestServer()
    try {
      const owner = await connectOne(server)
      for (const [what, name] of Object.entries(HIDDEN)) {
        const msg = await owner.expectError('createGroup', { name, memberIds: [] }, Code.INVALID_ARGUMENT)
        expect(msg, what).toMatch(/^name: .*invisible/)
        const userId = uniqueId('n')
        const reply = await api(server, http.register.path, {
          userId,
          password: 'long enough password',
          displayName: name,
        })
        expect([reply.status, reply.body.code], what).toEqual([200, Code.INVALID_ARGUMENT])
        expect(reply.body.msg, what).toMatch(/^displayName: .*invisible/)
      }
      expect((await owner.call('syncState', {})).groups).toEqual([])
      // Stored in NFC: the same name typed two ways is one name.
      const { group } = await owner.call('createGroup', { name: 'Cafe\u0301', memberIds: [] })
      expect(group.name).toBe('Caf\u00E9')
      const userId = uniqueId('n')
      const reply = await api(server, http.register.path, {
        userId,
        password: 'long enough password',
        displayName: ' Zoe\u0308 ',
      })
      expect(reply.body.data).toEqual({ user: { userId, displayName: 'Zo\u00EB' } })
    } finally {
      await server.close()
    }
  })
})
