/**
 * Acknowledgements, reminders, "Waiting for me" and mentions (issue 15) with a real server and real
 * engines, each with its own SQLite file, called through the IPC handler table both hosts use.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { AckPage, MentionReads, ReminderResult, ReminderScheduleState } from '../../src/shared/acks'
import { Code } from '../../src/shared/codes'
import type { GroupInfo, Message } from '../../src/shared/model'
import type { ServerOptions } from '../../src/server/server'
import { login, TestClient } from '../server/helpers'
import { TcpProxy } from '../faults/tcpProxy'
import { cleanup, data, reopen, signIn, tempDir, testServer, type Device } from './harness'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await cleanup()
  for (const fn of cleanups.splice(0)) await fn()
})

const text = (t: string) => ({ type: 'text', text: t }) as const
type Stored = Message & { messageUId: string }

function messageOf(d: Device, uid: string): Message | undefined {
  const row = d.engine.store?.messageByUid(uid)
  return row ? d.engine.store?.view(row.localId) : undefined
}

const arrived = (d: Device, uid: string): Promise<Message> =>
  d.until(`${uid} at ${d.userId}`, () => messageOf(d, uid))

/** A fast server for reminders: no pause between runs, two reminders per member. */
const REMINDERS: ServerOptions = { ackReminders: { intervalMs: 0, remindersPerMember: 2, minuteMs: 50 } }

async function team(names: string[], options: ServerOptions = REMINDERS) {
  const server = await testServer(options)
  const devices = await Promise.all(names.map((n) => signIn(server, n)))
  const [owner, ...members] = devices as [Device, ...Device[]]
  const group = data<GroupInfo>(await owner.dispatch('createGroup', ['Team', members.map((m) => m.userId)]))
  await Promise.all(members.map((m) => m.until('group known', () => m.engine.store?.group(group.groupId))))
  const conv = { type: 'group', targetId: group.groupId } as const
  return { server, devices, owner, members, group, conv }
}

async function send(from: Device, conv: object, body: string, options: object): Promise<Stored> {
  const sent = data<Message>(
    await from.dispatch('sendMessage', [conv, text(body), { isNeedGroupAck: false, ...options }]),
  )
  return from.until(`"${body}" sent`, () => {
    const row = from.engine.store?.messageByLocalId(Number(sent.messageId))
    return row?.messageUId ? (messageOf(from, row.messageUId) as Stored) : undefined
  })
}

const pendingOf = async (d: Device) =>
  data<{ messages: Message[]; total: number }>(await d.dispatch('getPendingAckMessages', [50]))

describe('acknowledgements across devices, with reminders', () => {
  it('an ack on one device reaches the other and the sender; reminders chase only who has not', async () => {
    const { server, owner: alice, members, conv } = await team(['alice', 'bob', 'carol'])
    const [bob, carol] = members as [Device, Device]
    const bobToo = await signIn(server, 'bob', tempDir('bob-laptop'))
    const m = await send(alice, conv, 'read the runbook', { needAck: true })
    expect(m).toMatchObject({ needAck: true, ackCount: 0, groupMemberCount: 2 })
    for (const d of [bob, bobToo, carol]) {
      expect(await arrived(d, m.messageUId)).toMatchObject({ needAck: true, myAckTime: null })
      await d.until('waiting for me', async () => (await pendingOf(d)).total === 1)
    }

    // A reminder: a notification event on every device of everyone pending.
    const reminded = [bob, bobToo, carol].map((d) => d.next('ackReminder'))
    const first = data<ReminderResult>(await alice.dispatch('remindUnacknowledged', [m.messageId]))
    expect(first).toEqual({ reminded: 2, limited: 0 })
    for (const r of await Promise.all(reminded))
      expect(r).toMatchObject({ message: { messageUId: m.messageUId }, from: 'alice', n: 1 })

    // bob acknowledges on one device: his other device and alice hear it.
    const onLaptop = bobToo.next('pendingAcksChanged', (p) => p.count === 0, 1000)
    const counted = alice.until('ack counted', () => messageOf(alice, m.messageUId)?.ackCount === 1)
    const bobMessage = messageOf(bob, m.messageUId) as Message
    const acked = data<Message>(await bob.dispatch('ackMessage', [bobMessage.messageId]))
    expect(acked.myAckTime).not.toBeNull()
    await onLaptop
    expect(messageOf(bobToo, m.messageUId)?.myAckTime).toEqual(expect.any(Number))
    expect((await pendingOf(bobToo)).total).toBe(0)
    await counted

    // The second run reminds carol only; past her limit the sender gets a typed error.
    const carolAgain = carol.next('ackReminder', (r) => r.n === 2)
    expect(data<ReminderResult>(await alice.dispatch('remindUnacknowledged', [m.messageId]))).toEqual({
      reminded: 1,
      limited: 0,
    })
    await carolAgain
    const third = await alice.dispatch('remindUnacknowledged', [m.messageId])
    expect(third).toMatchObject({ code: Code.REMINDER_LIMIT_REACHED })

    // The panel: bob acknowledged, carol has not read it.
    const ackedTab = data<AckPage>(await alice.dispatch('getMessageAcks', [m.messageId, 'acked', 10]))
    expect(ackedTab).toMatchObject({
      state: 'acked',
      entries: [{ userId: 'bob', ackedAt: expect.any(Number), reminded: 1 }],
      counts: { acked: 1, total: 2 },
    })
    const notRead = data<AckPage>(await alice.dispatch('getMessageAcks', [m.messageId, 'notRead', 10]))
    expect(notRead.entries.map((e) => [e.userId, e.reminded])).toEqual([['carol', 2]])
    const { csv } = data<{ csv: string }>(await alice.dispatch('exportMessageAcks', [m.messageId]))
    const lines = csv.trimEnd().split('\r\n')
    expect(lines[0]).toBe('user_id,display_name,state,acked_at,read_at')
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      'bob,bob,acked',
      'carol,carol,not_read',
    ])
    expect(lines[1]).toMatch(/,\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z,/)

    // Bad arguments are refused by the handler table's schemas, before the engine runs.
    for (const [op, args] of [
      ['getPendingAckMessages', [0]],
      ['getMessageAcks', [m.messageId, 'hidden', 10]],
      ['setAckReminderSchedule', [m.messageId, { everyMinutes: 1, times: 0 }]],
      ['ackMessage', ['not-an-id']],
    ] as const)
      expect(await alice.dispatch(op, args)).toMatchObject({ code: Code.INVALID_ARGUMENT })

    // Only the sender sees the panel or reminds.
    const carolMessage = messageOf(carol, m.messageUId) as Message
    expect(await carol.dispatch('getMessageAcks', [carolMessage.messageId, 'acked', 10])).toMatchObject({
      code: Code.NOT_MESSAGE_SENDER,
    })
    expect(await carol.dispatch('remindUnacknowledged', [carolMessage.messageId])).toMatchObject({
      code: Code.NOT_MESSAGE_SENDER,
    })
  })

  it('an undo on one device reaches the other; a second undo finds nothing', async () => {
    const server = await testServer()
    const alice = await signIn(server, 'alice')
    const bob = await signIn(server, 'bob')
    const bobToo = await signIn(server, 'bob', tempDir('bob-laptop'))
    await alice.dispatch('startPrivateChat', ['bob'])
    const m = await send(alice, { type: 'private', targetId: 'bob' }, 'sign the form', { needAck: true })
    const here = (await arrived(bob, m.messageUId)).messageId
    await arrived(bobToo, m.messageUId)
    await bob.dispatch('ackMessage', [here])
    await bobToo.until('acked on the laptop', () => messageOf(bobToo, m.messageUId)?.myAckTime)
    await alice.until('counted', () => messageOf(alice, m.messageUId)?.ackCount === 1)

    const undone = data<Message>(await bob.dispatch('undoAckMessage', [here]))
    expect(undone.myAckTime).toBeNull()
    await bobToo.until('undone on the laptop', () => messageOf(bobToo, m.messageUId)?.myAckTime === null)
    await alice.until('uncounted', () => messageOf(alice, m.messageUId)?.ackCount === 0)
    expect((await pendingOf(bobToo)).total).toBe(1)
    expect(await bob.dispatch('undoAckMessage', [here])).toMatchObject({ code: Code.ACK_NOT_FOUND })

    // This server keeps the default pause between two reminders of one message (60 s).
    expect(data<ReminderResult>(await alice.dispatch('remindUnacknowledged', [m.messageId]))).toEqual({
      reminded: 1,
      limited: 0,
    })
    expect(await alice.dispatch('remindUnacknowledged', [m.messageId])).toMatchObject({
      code: Code.REMINDER_TOO_SOON,
    })
  })

  it('a schedule reminds every period until everyone acknowledged', async () => {
    const {
      owner: alice,
      members,
      conv,
    } = await team(['alice', 'bob'], {
      ackReminders: { intervalMs: 0, remindersPerMember: 5, minuteMs: 100 },
    })
    const [bob] = members as [Device]
    const m = await send(alice, conv, 'standup at 10', { needAck: true })
    await arrived(bob, m.messageUId)
    // Two runs of the schedule (a "minute" is 100 ms on this server), each a reminder.
    const second = bob.next('ackReminder', (r) => r.n === 2, 5000)
    const schedule = data<ReminderScheduleState>(
      await alice.dispatch('setAckReminderSchedule', [m.messageId, { everyMinutes: 1, times: 3 }]),
    )
    expect(schedule).toMatchObject({ everyMinutes: 1, times: 3, remaining: 3 })
    await second
    await bob.dispatch('ackMessage', [(messageOf(bob, m.messageUId) as Message).messageId])
    await alice.until('counted', () => messageOf(alice, m.messageUId)?.ackCount === 1)
    // Cleared by the sender: nothing left to run.
    expect(await alice.dispatch('setAckReminderSchedule', [m.messageId])).toEqual({ code: 0, data: null })
  })
})

describe('who is asked', () => {
  it('one who hides read receipts is never "not read": counted hidden, exported as hidden', async () => {
    const { owner: alice, members, conv } = await team(['alice', 'bob', 'carol'])
    const [, carol] = members as [Device, Device]
    data(await carol.dispatch('updateSettings', [{ shareReadReceipts: false }]))
    const m = await send(alice, conv, 'new VPN settings', { needAck: true })
    const notRead = data<AckPage>(await alice.dispatch('getMessageAcks', [m.messageId, 'notRead', 10]))
    expect(notRead).toMatchObject({ counts: { acked: 0, read: 0, total: 2, hidden: 1 } })
    expect(notRead.entries.map((e) => e.userId)).toEqual(['bob'])
    const { csv } = data<{ csv: string }>(await alice.dispatch('exportMessageAcks', [m.messageId]))
    expect(csv).toBe(
      'user_id,display_name,state,acked_at,read_at\r\nbob,bob,not_read,,\r\ncarol,carol,hidden,,\r\n',
    )

    // Once she acknowledges, her ack shows (it is hers to give), with no read time.
    await arrived(carol, m.messageUId)
    await carol.dispatch('ackMessage', [(messageOf(carol, m.messageUId) as Message).messageId])
    await alice.until('counted', () => messageOf(alice, m.messageUId)?.ackCount === 1)
    const acked = data<AckPage>(await alice.dispatch('getMessageAcks', [m.messageId, 'acked', 10]))
    expect(acked).toMatchObject({ entries: [{ userId: 'carol' }], counts: { acked: 1, hidden: 0 } })
  })

  it('a member who leaves keeps their ack; one who joins later is not asked and cannot ack', async () => {
    const { server, owner: alice, members, conv, group } = await team(['alice', 'bob', 'carol'])
    const [bob] = members as [Device, Device]
    const dave = await signIn(server, 'dave')
    const m = await send(alice, conv, 'fire drill at 3', { needAck: true })
    await arrived(bob, m.messageUId)
    await bob.dispatch('ackMessage', [(messageOf(bob, m.messageUId) as Message).messageId])
    await alice.until('counted', () => messageOf(alice, m.messageUId)?.ackCount === 1)
    data(await bob.dispatch('leaveGroup', [group.groupId]))
    data(await alice.dispatch('addGroupMembers', [group.groupId, ['dave']]))
    await dave.until('in the group', () => dave.engine.store?.group(group.groupId)?.myRole)

    const tab = data<AckPage>(await alice.dispatch('getMessageAcks', [m.messageId, 'acked', 10]))
    expect(tab).toMatchObject({ entries: [{ userId: 'bob' }], counts: { acked: 1, total: 2 } })
    const notRead = data<AckPage>(await alice.dispatch('getMessageAcks', [m.messageId, 'notRead', 10]))
    expect(notRead.entries.map((e) => e.userId)).toEqual(['carol'])
    expect((await pendingOf(dave)).total).toBe(0)

    // dave, straight to the server: not a recipient; the count stays.
    const raw = await TestClient.connect(server, await login(server, 'dave', 'dave-password'))
    const reply = await raw.request('ackMessage', { messageUIds: [m.messageUId] })
    expect(reply.data).toMatchObject({ accepted: [], rejected: [{ code: Code.NOT_AN_ACK_RECIPIENT }] })
    raw.ws.close()
    expect(
      data<AckPage>(await alice.dispatch('getMessageAcks', [m.messageId, 'acked', 10])).counts.acked,
    ).toBe(1)
  })
})

describe('"Waiting for me" after being offline', () => {
  it('is right when the device comes back: acked elsewhere gone, new ones there', async () => {
    const { server, owner: alice, members, conv } = await team(['alice', 'bob'])
    const [bob] = members as [Device]
    const bobToo = await signIn(server, 'bob', tempDir('bob-laptop'))
    const early = await send(alice, conv, 'first', { needAck: true })
    await arrived(bob, early.messageUId)
    const dir = bob.profileDir
    await bob.stop()

    // Offline: a new one comes, and bob acknowledges the first on his laptop.
    const late = await send(alice, conv, 'second', { needAck: true })
    await arrived(bobToo, early.messageUId)
    await bobToo.dispatch('ackMessage', [(messageOf(bobToo, early.messageUId) as Message).messageId])
    await alice.until('counted', () => messageOf(alice, early.messageUId)?.ackCount === 1)

    const back = await reopen(dir, server)
    await back.until('pending right', async () => {
      const p = await pendingOf(back)
      return p.total === 1 && p.messages[0]?.messageUId === late.messageUId
    })
    expect(messageOf(back, early.messageUId)?.myAckTime).toEqual(expect.any(Number))
  })

  it('an ack given offline shows at once and goes out on reconnect', async () => {
    const server = await testServer()
    const proxy = await TcpProxy.start(server.port)
    cleanups.push(() => proxy.close())
    const alice = await signIn(server, 'alice')
    const bob = await signIn({ url: proxy.urlFor(server.url) }, 'bob', tempDir('bob'), {
      silenceTimeoutMs: 400,
    })
    await alice.dispatch('startPrivateChat', ['bob'])
    const m = await send(alice, { type: 'private', targetId: 'bob' }, 'badge renewal', { needAck: true })
    const here = (await arrived(bob, m.messageUId)).messageId
    // The network goes: every connection dies and new ones hang.
    proxy.cut()
    proxy.reset()
    await bob.until('offline', () => bob.engine.connectionState.state !== 'connected')
    const acked = data<Message>(await bob.dispatch('ackMessage', [here]))
    expect(acked.myAckTime).not.toBeNull()
    expect((await pendingOf(bob)).total).toBe(0)
    expect(bob.engine.store?.outbox('ack', 10)).toHaveLength(1)
    proxy.restore()
    await alice.until('counted', () => messageOf(alice, m.messageUId)?.ackCount === 1)
    await bob.until('sent', () => bob.engine.store?.outbox('ack', 10).length === 0)
    expect((await pendingOf(bob)).total).toBe(0)
  })
})

describe('mentions', () => {
  it('a mentioned member is told; the sender’s dot fills when they open the group', async () => {
    const { owner: alice, members, conv, group } = await team(['alice', 'bob', 'carol'])
    const [bob, carol] = members as [Device, Device]
    const m = await send(alice, conv, '@bob @carol lunch?', {
      mentionedInfo: { type: 'some', userIdList: ['bob', 'carol'] },
    })
    expect(m).toMatchObject({ mentionedInfo: { type: 'some' }, mentionReadBy: {} })
    expect(await arrived(bob, m.messageUId)).toMatchObject({ mentionsMe: true })
    await arrived(carol, m.messageUId)

    await bob.dispatch('ackConversationRead', [conv])
    const dot = await alice.until('bob read', () => messageOf(alice, m.messageUId)?.mentionReadBy?.bob)
    expect(dot).toEqual(expect.any(Number))
    expect(messageOf(alice, m.messageUId)?.mentionReadBy?.carol).toBeUndefined()
    const reads = data<MentionReads>(await alice.dispatch('getMentionReads', [m.messageId]))
    expect(reads.members).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ userId: 'bob', state: 'read' }),
        expect.objectContaining({ userId: 'carol', state: 'unread' }),
      ]),
    )
    // Mentioning someone who is not a member fails the message with a typed reason.
    const bad = data<Message>(
      await alice.dispatch('sendMessage', [
        conv,
        text('@mallory'),
        { isNeedGroupAck: false, mentionedInfo: { type: 'some', userIdList: ['mallory'] } },
      ]),
    )
    const failed = await alice.until('refused', () => {
      const v = alice.engine.store?.view(Number(bad.messageId))
      return v?.status === 'failed' ? v : undefined
    })
    expect(failed.failure?.code).toBe(Code.MENTION_NOT_A_MEMBER)
    expect(group.groupId).toBeTruthy()
  })
})
