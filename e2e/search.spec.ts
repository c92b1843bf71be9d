/**
 * Search (issue 13, feature 6 and 9's "new chat by searching users"), through the real UI: people
 * found by part of their name in New chat and in the quick switcher; messages found in this
 * device's history (English and a two-character Chinese word) and opened in their chat, scrolled
 * to, focused and highlighted although they are far back.
 */
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import { conversationItem, expect, message, send, test } from './fixtures'

/** axe on the page as it is (WCAG 2.2 AA), light and dark: no serious or critical violation. */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme })
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
      .analyze()
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    expect(
      serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      `axe on "${screen}" (${colorScheme})`,
    ).toEqual([])
  }
  await page.emulateMedia({ colorScheme: null })
}

async function signUpNamed(page: Page, userId: string, displayName: string): Promise<void> {
  await page.getByTestId('auth-mode-toggle').click()
  await page.getByTestId('user-id').fill(userId)
  await page.getByTestId('password').fill(`${userId}-password`)
  await page.getByTestId('display-name').fill(displayName)
  await page.getByTestId('auth-submit').click()
  await expect(page.getByTestId('current-user')).toContainText(userId)
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected')
}

test('finds people by part of their name in New chat and in the quick switcher', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await signUpNamed(alice.page, 'alice', 'Alice')
  await signUpNamed(bob.page, 'bob', 'Bobby Tables')
  await signUpNamed(carol.page, 'carol', 'Carol 王芳')

  const page = alice.page
  await page.getByTestId('new-chat-button').click()
  await page.getByTestId('new-chat-user-id').fill('tabl')
  const found = page.getByTestId('people-result')
  await expect(found).toHaveCount(1)
  await expect(found).toHaveAttribute('data-user-id', 'bob')
  await expect(found).toHaveAttribute('aria-selected', 'true')
  await expectAccessible(page, 'new chat with people found')
  await page.getByTestId('new-chat-user-id').press('Enter')
  await expect(page.getByTestId('chat-title')).toHaveText('Bobby Tables')

  // Ctrl+K: chats first, then people I have no chat with, found by a Chinese name.
  await page.keyboard.press('Control+k')
  await page.getByTestId('quick-switcher-input').fill('王芳')
  const person = page.getByTestId('quick-switcher-person')
  await expect(person).toHaveAttribute('data-user-id', 'carol')
  await expectAccessible(page, 'quick switcher with people')
  await page.getByTestId('quick-switcher-input').press('ArrowDown')
  await expect(page.getByTestId('quick-switcher-input')).toHaveAttribute(
    'aria-activedescendant',
    (await person.getAttribute('id')) ?? '',
  )
  await page.getByTestId('quick-switcher-input').press('Enter')
  await expect(page.getByTestId('chat-title')).toHaveText('Carol 王芳')
  await expect(conversationItem(page, 'private:carol')).toBeVisible()
})

test('searches the history and opens a result far back in its chat, highlighted', async ({ account }) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUpNamed(alice.page, 'alice', 'Alice')
  await signUpNamed(bob.page, 'bob', 'Bob')

  // Bob writes one message worth finding, then enough that it is far above the first page.
  await bob.page.getByTestId('new-chat-button').click()
  await bob.page.getByTestId('new-chat-user-id').fill('alice')
  await bob.page.getByTestId('new-chat-submit').click()
  await expect(bob.page.getByTestId('chat-title')).toHaveText('Alice')
  await send(bob.page, '项目进度: the launch moves to Friday')
  for (let i = 1; i <= 60; i++) await send(bob.page, `filler ${i}`)
  await expect(message(bob.page, 'filler 60')).toHaveAttribute('data-status', 'sent')

  const page = alice.page
  await expect(conversationItem(page, 'private:bob').getByTestId('conversation-preview')).toContainText(
    'filler 60',
  )
  // Ctrl+Shift+F: every chat; a two-character Chinese word. The chat was never opened here: the
  // result's page is loaded around it, 60 messages before the newest.
  await page.keyboard.press('Control+Shift+F')
  const input = page.getByTestId('search-input')
  await expect(input).toBeFocused()
  await input.fill('项目')
  const results = page.getByTestId('search-result')
  await expect(results).toHaveCount(1)
  await expect(results.locator('mark')).toHaveText('项目')
  await expect(results).toContainText('Bob')
  await expectAccessible(page, 'message search with a result')
  await input.press('Enter')

  const found = page.locator('.message-list__row', {
    has: message(page, '项目进度: the launch moves to Friday'),
  })
  await expect(found).toBeVisible()
  await expect(found).toBeFocused()
  await expect(found).toHaveClass(/message-list__row--found/)
  await expect(page.getByTestId('chat-title')).toHaveText('Bob')
  await expect(message(page, 'filler 60')).toHaveCount(0)

  // Ctrl+F in the chat: only this chat, English, any case.
  await page.keyboard.press('Control+f')
  await expect(page.getByTestId('search-only-here')).toBeChecked()
  await page.getByTestId('search-input').fill('LAUNCH')
  await expect(page.getByTestId('search-result')).toHaveCount(1)
  await expect(page.getByTestId('search-result').locator('mark')).toHaveText('launch')
  await page.keyboard.press('Escape')

  // Sending from the window far back brings the newest messages back, with mine at the end.
  await send(page, 'back to now')
  await expect(message(page, 'back to now')).toBeVisible()
  await expect(message(page, 'filler 60')).toBeAttached()
})
