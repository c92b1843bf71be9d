// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import { installFakeIm } from './fakeIm'
import { makeSent } from './fixtures'
import { createTestApp } from './mountHelpers'

beforeEach(() => {
  installFakeIm()
  document.body.innerHTML = ''
})

describe('a message the server refused', () => {
  it('says why, in the reader’s language', () => {
    const message = makeSent({
      status: 'failed',
      seq: null,
      failure: { code: Code.USER_NOT_FOUND, msg: 'raw' },
    })
    for (const locale of ['en', 'zh-CN'] as const) {
      const text = createTestApp(locale)
        .mount(MessageBubble, { message, isGroup: false })
        .get('[data-testid="message-error"]')
        .text()
      expect(text).not.toBe('')
      expect(text).not.toBe('raw')
    }
  })

  it('shows no error while it is only sending', () => {
    const message = makeSent({ status: 'sending', seq: null })
    expect(
      createTestApp('en')
        .mount(MessageBubble, { message, isGroup: false })
        .find('[data-testid="message-error"]')
        .exists(),
    ).toBe(false)
  })
})
