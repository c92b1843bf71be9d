// @vitest-environment happy-dom
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { ok } from '../../src/shared/codes'
import MessageActionMenu from '@renderer/components/MessageActionMenu.vue'
import { installFakeIm, type FakeIm } from './fakeIm'
import { makeMessage } from './fixtures'
import { createTestApp } from './mountHelpers'

let fake: FakeIm
beforeEach(() => {
  fake = installFakeIm()
  fake.respond('getMessageActionSettings', () => ok({ recallWindowMs: 60_000 }))
  document.body.innerHTML = ''
})

/** Delete for me on all my devices (issue 13, H6): the confirmation says where it goes, in both languages. */
describe('delete for me (H6)', () => {
  it('asks, saying it leaves all of my devices and the others keep it; then deletes', async () => {
    const message = makeMessage()
    fake.respond('deleteMessageForMe', () => ok(null))
    const wrapper = createTestApp('en').mount(MessageActionMenu, { message, x: 10, y: 10 })
    await flushPromises()
    await wrapper.get('[data-testid="message-action-deleteForMe"]').trigger('click')
    expect(wrapper.get('[data-testid="confirm-message"]').text()).toBe(
      'It is removed for good from all of your devices. The others in this chat still have it.',
    )
    await wrapper.get('[data-testid="confirm-accept"]').trigger('click')
    await flushPromises()
    expect(fake.calls.filter((c) => c.name === 'deleteMessageForMe').map((c) => c.args)).toEqual([
      [message.messageId],
    ])
  })

  it('says the same in Chinese', async () => {
    const wrapper = createTestApp('zh-CN').mount(MessageActionMenu, { message: makeMessage(), x: 10, y: 10 })
    await flushPromises()
    await wrapper.get('[data-testid="message-action-deleteForMe"]').trigger('click')
    expect(wrapper.get('[data-testid="confirm-message"]').text()).toBe(
      '它会从你的所有设备上永久删除，聊天中的其他人仍保留这条消息。',
    )
  })
})
