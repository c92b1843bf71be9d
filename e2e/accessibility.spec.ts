/**
 * Accessibility (WCAG 2.2 AA): axe-core on every main screen in both colour schemes, the app driven
 * by the keyboard alone, and reflow at the Electron minimum width and at 200% zoom.
 */
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { createGroup, expect, message, openChatWith, send, signUp, test } from './fixtures'

const SCHEMES = ['light', 'dark'] as const
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']

/** Runs axe on the page as it is, in both colour schemes; fails on any serious or critical violation. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme })
    const results = await new AxeBuilder({ page }).withTags(TAGS).analyze()
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    const report = serious
      .map(
        (v) =>
          `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
          v.nodes
            .slice(0, 5)
            .map((n) => `    ${n.target.join(' ')}\n      ${n.failureSummary?.replace(/\n/g, '\n      ')}`)
            .join('\n'),
      )
      .join('\n')
    expect(serious, `axe on "${screen}" (${colorScheme}):\n${report}`).toEqual([])
  }
  await page.emulateMedia({ colorScheme: null })
}

/** The data-testid of the focused element (or its tag name when it has none). */
async function focused(page: Page): Promise<string> {
  const element = page.locator(':focus')
  if ((await element.count()) === 0) return ''
  return (
    (await element.first().getAttribute('data-testid')) ??
    (await element.first().evaluate((el) => el.tagName.toLowerCase()))
  )
}

/** Presses `key` (Tab or Shift+Tab) until the element with `testId` has focus. */
async function pressUntilFocused(page: Page, testId: string, key = 'Tab', max = 40): Promise<void> {
  for (let i = 0; i < max; i++) {
    if ((await focused(page)) === testId) return
    await page.keyboard.press(key)
  }
  expect(await focused(page), `${key} never reached ${testId}`).toBe(testId)
}

async function hasNoHorizontalOverflow(page: Page): Promise<void> {
  const sizes = {
    ...(await page
      .locator('html')
      .evaluate((html) => ({ scroll: html.scrollWidth, client: html.clientWidth }))),
    bodyScroll: await page.locator('body').evaluate((body) => body.scrollWidth),
  }
  expect(sizes.scroll, JSON.stringify(sizes)).toBeLessThanOrEqual(sizes.client)
  expect(sizes.bodyScroll, JSON.stringify(sizes)).toBeLessThanOrEqual(sizes.client)
}

test('axe finds no serious or critical violation on any screen, light or dark', async ({ account }) => {
  test.setTimeout(480_000)
  const alice = await account('alice')
  const bob = await account('bob')
  const page = alice.page

  await expect(page.getByTestId('auth-submit')).toBeVisible()
  await expectAccessible(page, 'sign in')
  await page.getByTestId('auth-mode-toggle').click()
  await expect(page.getByTestId('invite-code')).toBeVisible()
  await expectAccessible(page, 'sign up')
  await page.getByTestId('auth-mode-toggle').click()
  await signUp(page, 'alice')
  await signUp(bob.page, 'bob')

  await openChatWith(page, 'bob')
  await send(page, 'Hello Bob')
  await bob.page.getByTestId('conversation-item').first().click()
  await send(bob.page, 'Hi Alice')
  await expect(message(page, 'Hi Alice')).toBeVisible()
  await expect(message(page, 'Hello Bob')).toHaveAttribute('data-status', 'sent')
  // One polite live region says what arrives in the open chat.
  await expect(page.getByTestId('live-announcer')).toContainText('New message from bob: Hi Alice')
  await expect(page.getByRole('status').filter({ hasText: 'New message from bob' })).toHaveAttribute(
    'aria-live',
    'polite',
  )
  await expectAccessible(page, 'single chat')

  await createGroup(page, 'Team', ['bob'])
  await page.getByTestId('composer-group-ack').click()
  await send(page, 'Group hello')
  const reads = message(page, 'Group hello').getByTestId('message-group-reads')
  await expect(reads).toHaveText('0 of 1 read')
  // bob reads it: the changed receipt is said too.
  await bob.page.getByTestId('conversation-item').filter({ hasText: 'Team' }).click()
  await expect(reads).toHaveText('Read by everyone')
  await expect(page.getByTestId('live-announcer')).toContainText('Read by everyone')
  await reads.click()
  await expect(page.getByTestId('readers-summary')).toBeVisible()
  await expectAccessible(page, 'group with the reader panel open')
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('readers-summary')).toHaveCount(0)
  await expect(reads).toBeFocused()

  await page.getByTestId('members-button').click()
  await expect(page.getByTestId('member-item')).toHaveCount(2)
  await expectAccessible(page, 'member panel open')
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('member-panel')).toHaveCount(0)

  await page.getByTestId('settings-button').click()
  await expect(page.getByTestId('settings-close')).toBeVisible()
  await expectAccessible(page, 'settings dialog')
  await page.getByTestId('settings-close').click()

  await page.keyboard.press('Control+k')
  await expect(page.getByTestId('quick-switcher-item')).toHaveCount(2)
  await expectAccessible(page, 'quick switcher')
})

test('the whole flow works from the keyboard alone', async ({ account }) => {
  test.setTimeout(180_000)
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  const page = alice.page

  // Sign up: the user ID field has focus; the "create one" button is reached by Tab.
  await expect(page.getByTestId('user-id')).toBeFocused()
  await pressUntilFocused(page, 'auth-mode-toggle')
  await page.keyboard.press('Enter')
  await pressUntilFocused(page, 'user-id', 'Shift+Tab')
  await page.keyboard.type('alice')
  await page.keyboard.press('Tab')
  await expect(page.getByTestId('password')).toBeFocused()
  await page.keyboard.type('alice-password')
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('current-user')).toContainText('alice')

  // Two chats for alice: bob writes enough to scroll, carol writes once (after bob: she is first).
  for (const other of [bob, carol]) await signUp(other.page, other.name)
  await openChatWith(bob.page, 'alice')
  for (let i = 1; i <= 30; i++) await send(bob.page, `Line ${i}`)
  await expect(message(bob.page, 'Line 30')).toHaveAttribute('data-status', 'sent')
  await openChatWith(carol.page, 'alice')
  await send(carol.page, 'Hi from Carol')
  await expect(page.getByTestId('conversation-item')).toHaveCount(2)

  // Ctrl+K to bob's chat: type to filter, arrows to choose, Enter to open; focus lands in the composer.
  await page.keyboard.press('Control+k')
  await expect(page.getByTestId('quick-switcher-input')).toBeFocused()
  await expect(page.getByTestId('quick-switcher-item')).toHaveCount(2)
  await page.keyboard.type('bo')
  await expect(page.getByTestId('quick-switcher-item')).toHaveCount(1)
  await page.keyboard.press('Backspace')
  await page.keyboard.press('Backspace')
  await expect(page.getByTestId('quick-switcher-item')).toHaveCount(2)
  await page.keyboard.press('ArrowDown')
  await expect(page.getByTestId('quick-switcher-item').nth(1)).toHaveAttribute('aria-selected', 'true')
  await page.keyboard.press('ArrowUp')
  await page.keyboard.type('bob')
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('quick-switcher')).toHaveCount(0)
  await expect(page.getByTestId('chat-title')).toHaveText('bob')
  await pressUntilFocused(page, 'composer-input')
  await page.keyboard.type('Typed without a mouse')
  await page.keyboard.press('Enter')
  await expect(message(page, 'Typed without a mouse')).toHaveAttribute('data-status', 'sent')
  await expect(message(bob.page, 'Typed without a mouse')).toBeVisible()

  // The message list is one Tab stop with a name (the controls of its messages are not Tab stops of
  // the page: e2e/receiptsAtAGlance.spec.ts moves through them), and scrolls by keyboard.
  await pressUntilFocused(page, 'message-list', 'Shift+Tab', 120)
  const list = page.getByTestId('message-list')
  await expect(list).toHaveAccessibleName('Messages')
  const scrollTop = () => list.evaluate((el) => el.scrollTop)
  await page.keyboard.press('End')
  await expect.poll(scrollTop).toBeGreaterThan(100)
  const atBottom = await scrollTop()
  await page.keyboard.press('PageUp')
  await expect.poll(scrollTop).toBeLessThan(atBottom)
  await page.keyboard.press('Home')
  await expect.poll(scrollTop).toBeLessThan(100)
  await page.keyboard.press('End')
  await expect.poll(scrollTop).toBeGreaterThanOrEqual(atBottom - 2)

  // ↑ moves onto the newest message in view, then from message to message; Enter opens its info,
  // and closing it gives the focus back to that message; Escape goes back to the list.
  const row = (text: string) => page.locator('.message-list__row', { has: message(page, text) })
  await page.keyboard.press('ArrowUp')
  await expect(row('Typed without a mouse')).toBeFocused()
  await page.keyboard.press('ArrowUp')
  await expect(row('Line 30')).toBeFocused()
  await page.keyboard.press('ArrowUp')
  await expect(row('Line 29')).toBeFocused()
  await page.keyboard.press('ArrowDown')
  await expect(row('Line 30')).toBeFocused()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('message-info-quote')).toHaveText('Line 30')
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('message-info-dialog')).toHaveCount(0)
  await expect(row('Line 30')).toBeFocused()
  await page.keyboard.press('Escape')
  await expect(list).toBeFocused()

  // The chat list: one Tab stop (the open chat), arrows move, Enter opens.
  await pressUntilFocused(page, 'conversation-item', 'Shift+Tab')
  const items = page.getByTestId('conversation-item')
  await expect(items.filter({ hasText: 'bob' })).toBeFocused()
  await page.keyboard.press('Home')
  await expect(items.first()).toBeFocused()
  await page.keyboard.press('End')
  await expect(items.last()).toBeFocused()
  const last = await items.last().getAttribute('data-conversation')
  await page.keyboard.press('Home')
  await page.keyboard.press('ArrowDown')
  await expect(items.nth(1)).toBeFocused()
  await page.keyboard.press('ArrowUp')
  await expect(items.first()).toBeFocused()
  await page.keyboard.press('End')
  await page.keyboard.press('Enter')
  expect(last).toBe('private:carol')
  const carolsChat = page.locator('[data-conversation="private:carol"]')
  await expect(carolsChat).toHaveAttribute('aria-current', 'true')
  await expect(page.getByTestId('chat-title')).toHaveText('carol')
  // Its name is one sentence, not every span run together.
  // (carol is alice's contact, so her presence is part of it.)
  await expect(carolsChat).toHaveAccessibleName(/^carol, online, last message: Hi from Carol, \d/)

  // A dialog: focus stays inside while tabbing, Escape closes it and focus returns to its opener.
  await pressUntilFocused(page, 'settings-button', 'Shift+Tab')
  await page.keyboard.press('Enter')
  const dialog = page.getByRole('dialog')
  await expect(dialog).toBeVisible()
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press(i % 3 === 2 ? 'Shift+Tab' : 'Tab')
    expect(await dialog.evaluate((d) => d.matches(':focus-within'))).toBe(true)
  }
  await page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(page.getByTestId('settings-button')).toBeFocused()

  // The quick switcher closed by Escape gives focus back too.
  await page.keyboard.press('Control+k')
  await expect(page.getByTestId('quick-switcher-input')).toBeFocused()
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('settings-button')).toBeFocused()
})

test('reflow: usable at 720 px with the member panel open and at 200% zoom, without horizontal scroll', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  const page = alice.page
  await signUp(page, 'alice')
  await signUp(bob.page, 'bob')
  await createGroup(page, 'A group with a rather long name to see how the header copes', ['bob'])
  await send(page, 'A message long enough to wrap over several lines when the window gets narrow.')

  await page.setViewportSize({ width: 720, height: 800 })
  // Keyboard: the Members button opens the panel (focus moves into it), Escape closes it and
  // gives focus back to the button.
  await page.getByTestId('members-button').focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('member-panel')).toBeFocused()
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('member-panel')).toHaveCount(0)
  await expect(page.getByTestId('members-button')).toBeFocused()

  for (const size of [
    { width: 720, height: 800 },
    // 1280×800 at 200% zoom: 640×400 CSS pixels.
    { width: 640, height: 400 },
  ]) {
    await page.setViewportSize(size)
    if ((await page.getByTestId('member-panel').count()) === 0)
      await page.getByTestId('members-button').click()
    await expect(page.getByTestId('member-item')).toHaveCount(2)
    await hasNoHorizontalOverflow(page)
    // The panel lies over the chat list, which is inert meanwhile (no focus hidden under the panel).
    await expect(page.locator('aside.sidebar')).toHaveAttribute('inert', '')
    for (const testId of ['member-panel', 'composer-input', 'chat-title', 'members-button']) {
      await expect(page.getByTestId(testId), `${testId} at ${size.width}×${size.height}`).toBeInViewport()
    }
    await expect(page.getByTestId('member-item').first()).toBeInViewport()
    const panel = await page.getByTestId('member-panel').boundingBox()
    expect(panel && panel.x + panel.width).toBeLessThanOrEqual(size.width)
    // The composer is not covered by the panel at either width: typing still works.
    await page.getByTestId('composer-input').fill('still typing')
    await expect(page.getByTestId('composer-input')).toHaveValue('still typing')
    await page.getByTestId('composer-input').fill('')
  }
  await page.keyboard.press('Escape')
  await expect(page.getByTestId('member-panel')).toHaveCount(0)
  await expect(page.locator('aside.sidebar')).not.toHaveAttribute('inert')
})
