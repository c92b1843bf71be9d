// @vitest-environment happy-dom
/**
 * User ids named after Object properties (issue #11, gap 6) in the renderer's read policy: the
 * RongCloud answer groups requests by sender id, and a sender called "constructor" or "__proto__"
 * must land in the map like anyone else (it used to hit Object.prototype and throw).
 */
import { flushPromises } from '@vue/test-utils'
import { expect, it } from 'vitest'
import { effectScope, nextTick, ref, shallowReactive } from 'vue'
import type { Message } from '../../src/shared/model'
import { useReadPolicy } from '@renderer/composables/useReadPolicy'
import { FakeIm } from './fakeIm'
import { groupChat, makeMessage } from './fixtures'

const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']

it('answers read receipt requests from senders named after Object properties', async () => {
  const im = new FakeIm()
  const messages = ref<Message[]>([])
  const visible = shallowReactive(new Set<string>())
  effectScope().run(() =>
    useReadPolicy({
      conversation: ref(groupChat),
      summary: ref({ unreadCount: 0, lastSeq: 0 }),
      messages,
      visibleMessageIds: visible,
      windowFocused: ref(true),
      documentVisible: ref(true),
      api: im.api,
    }),
  )
  const request = { isReceiptRequestMessage: true, hasRespond: false }
  const list = PROTOTYPE_NAMES.map((senderUserId) =>
    makeMessage({ conversation: groupChat, senderUserId, readReceiptInfo: request }),
  )
  messages.value = list
  for (const message of list) visible.add(message.messageId)
  await nextTick()
  await flushPromises()

  const calls = im.callsOf('sendReadReceiptResponseV2')
  expect(calls).toHaveLength(1)
  const [groupId, messageList] = calls[0]!
  expect(groupId).toBe(groupChat.targetId)
  // Own keys, one per sender (Object.keys sees a "__proto__" key only when it is a real entry).
  expect(Object.keys(messageList ?? {}).sort()).toEqual([...PROTOTYPE_NAMES].sort())
  for (const message of list) {
    expect(Object.getOwnPropertyDescriptor(messageList, message.senderUserId)?.value).toEqual([
      message.messageUId,
    ])
  }
})
