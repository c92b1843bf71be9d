/** Group operations of the engine: transferGroupOwnership, without sockets. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { transferGroupOwnership } from '../../../src/main/engine/ops/groups'
import { Code, CodedError, fail, ok } from '../../../src/shared/codes'
import { ME, teamGroup, testContext, type TestContext } from '../fakeContext'

const codeOf = (code: number) => expect.objectContaining({ code }) as CodedError

describe('transferGroupOwnership (engine)', () => {
  let ctx: TestContext
  beforeEach(() => {
    ctx = testContext()
    ctx.store.upsertGroup(teamGroup('owner'), 1)
  })
  afterEach(() => ctx.store.close())

  it('asks the server, then stores and tells the group it answers with (I am an admin now)', async () => {
    ctx.fake.answer('transferGroupOwnership', (data) =>
      ok({ group: { ...teamGroup('admin'), ownerId: data.newOwnerId } }),
    )
    const group = await transferGroupOwnership(ctx, 'g_team', 'bob')
    expect(ctx.fake.sent).toEqual([
      { op: 'transferGroupOwnership', data: { groupId: 'g_team', newOwnerId: 'bob' } },
    ])
    expect(group).toMatchObject({ ownerId: 'bob', myRole: 'admin' })
    expect(ctx.store.group('g_team')).toMatchObject({ ownerId: 'bob', myRole: 'admin' })
    expect(ctx.events('groupChanged')).toEqual([{ groupId: 'g_team', group }])
    expect(ctx.events('conversationChanged')).toHaveLength(1)
  })

  it('passes a refusal on as its typed error and keeps the group as it was', async () => {
    ctx.fake.answer('transferGroupOwnership', () => fail(Code.NEW_OWNER_NOT_A_MEMBER))
    await expect(transferGroupOwnership(ctx, 'g_team', 'mallory')).rejects.toThrow(
      codeOf(Code.NEW_OWNER_NOT_A_MEMBER),
    )
    expect(ctx.store.group('g_team')).toMatchObject({ ownerId: ME, myRole: 'owner' })
    expect(ctx.events('groupChanged')).toEqual([])
  })

  it('offline: refused at once, nothing stored or told', async () => {
    const offline = testContext({ connected: false })
    offline.store.upsertGroup(teamGroup('owner'), 1)
    await expect(transferGroupOwnership(offline, 'g_team', 'bob')).rejects.toThrow(CodedError)
    expect(offline.fake.sent).toEqual([])
    expect(offline.store.group('g_team')).toMatchObject({ myRole: 'owner' })
    offline.store.close()
  })
})
