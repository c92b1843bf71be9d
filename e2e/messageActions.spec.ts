import type { Locator, Page } from '@playwright/test'
import { conversationItem, expect, openChatWith, send, signInForm, signUp, test } from './fixtures'

/** A message bubble by (part of) its text: edited messages say "edited" after their words. */
const bubble = (page: Page, text: string) =>
  page.getByTestId('message-item').filter({ has: page.getByTestId('message-text').getByText(text) })

const hasFocus = (target: Locator) =>
  target.evaluate((element) => element === element.ownerDocument.activeElement)

/** The keyboard way onto a message: Shift+Tab from the composer to the list, then ↑ to the message. */
async function focusMessage(page: Page, text: string): Promise<Locator> {
  const list = page.getByTestId('message-list')
  const row = page.locator('.message-list__row', { has: bubble(page, text) })
  await page.getByTestId('composer-input').focus()
  for (let presses = 0; presses < 10 && !(await hasFocus(list)); presses += 1)
    await page.keyboard.press('Shift+Tab')
  for (let presses = 0; presses < 25 && !(await hasFocus(row)); presses += 1)
    await page.keyboard.press('ArrowUp')
  await expect(row).toBeFocused()
  return row
}

async function chooseFromMenu(page: Page, action: string): Promise<void> {
  const menu = page.getByTestId('message-menu')
  await expect(menu).toBeVisible()
  await menu.getByTestId(`message-action-${action}`).click()
}

test('reply, edit with its history, copy, links, recall and delete for me, between two people', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await bob.page.context().grantPermissions(['clipboard-read', 'clipboard-write'])
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Dinner at 7? Menu: https://example.org/menu.')
  await conversationItem(bob.page, 'private:alice').click()
  const question = bubble(bob.page, 'Dinner at 7?')
  await expect(question).toBeVisible()

  // The link is a real link, opened outside the app (a new tab here), never with the app's page.
  const link = question.getByTestId('message-link')
  await expect(link).toHaveText('https://example.org/menu')
  await expect(link).toHaveAttribute('target', '_blank')
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer')
  await bob.page.context().route('https://example.org/**', (route) => route.fulfill({ body: 'menu' }))
  const [tab] = await Promise.all([bob.page.context().waitForEvent('page'), link.click()])
  expect(tab.url()).toBe('https://example.org/menu')
  await tab.close()

  // Copy from the context menu (a right click) puts the words on the clipboard.
  await question.click({ button: 'right' })
  await chooseFromMenu(bob.page, 'copy')
  expect(
    await bob.page
      .locator('body')
      .evaluate((body) => body.ownerDocument.defaultView?.navigator.clipboard.readText()),
  ).toBe('Dinner at 7? Menu: https://example.org/menu.')

  // Reply: the bar above the composer says to whom; the reply quotes the question on both sides.
  await question.click({ button: 'right' })
  await chooseFromMenu(bob.page, 'reply')
  await expect(bob.page.getByTestId('composer-intent')).toContainText('Replying to alice')
  await send(bob.page, 'Yes, see you then')
  await expect(bob.page.getByTestId('composer-intent')).toHaveCount(0)
  const reply = bubble(alice.page, 'Yes, see you then')
  // Each side names the original's author in its own words: Alice wrote it ("You" to her).
  await expect(reply.getByTestId('reply-quote')).toContainText('You')
  await expect(reply.getByTestId('reply-quote')).toContainText('Dinner at 7?')
  await expect(bubble(bob.page, 'Yes, see you then').getByTestId('reply-quote')).toContainText('alice')

  // Edit, by keyboard alone: Shift+F10 on the message opens its menu, the composer takes the text.
  await focusMessage(alice.page, 'Dinner at 7?')
  await alice.page.keyboard.press('Shift+F10')
  await expect(alice.page.getByTestId('message-action-copy')).toBeFocused()
  for (let presses = 0; presses < 5; presses += 1) {
    if (await hasFocus(alice.page.getByTestId('message-action-edit'))) break
    await alice.page.keyboard.press('ArrowDown')
  }
  await alice.page.keyboard.press('Enter')
  const input = alice.page.getByTestId('composer-input')
  await expect(input).toBeFocused()
  await expect(input).toHaveValue('Dinner at 7? Menu: https://example.org/menu.')
  await input.fill('Dinner at 8? Menu: https://example.org/menu.')
  await input.press('Enter')
  await expect(bubble(alice.page, 'Dinner at 8?').getByTestId('message-edited')).toHaveText('edited')
  // Live at Bob's, and in the quote of his reply.
  await expect(bubble(bob.page, 'Dinner at 8?').getByTestId('message-edited')).toBeVisible()
  await expect(bubble(bob.page, 'Yes, see you then').getByTestId('reply-quote')).toContainText('Dinner at 8?')

  // The info panel lists both versions and says Bob read the first (he read it before the edit).
  await bubble(alice.page, 'Dinner at 8?').getByTestId('message-info-button').click()
  const history = alice.page.getByTestId('edit-history')
  await expect(history.getByTestId('edit-history-version')).toHaveCount(2)
  await expect(history.getByTestId('edit-history-version').first()).toContainText('Dinner at 7?')
  await expect(history.getByTestId('edit-history-seen')).toHaveText('bob read version 1 of 2')
  await alice.page.getByTestId('message-info-close').click()

  // Recall, from the More button: gone for Bob, "recalled after it was read" for Alice only.
  await bubble(alice.page, 'Dinner at 8?').getByTestId('message-more-button').click()
  await chooseFromMenu(alice.page, 'recall')
  await expect(alice.page.getByTestId('confirm-message')).toContainText('deleted for everyone')
  await alice.page.getByTestId('confirm-accept').click()
  await expect(alice.page.getByTestId('message-recalled')).toHaveText(
    'You recalled this message after it was read',
  )
  await expect(bob.page.getByTestId('message-recalled')).toHaveText('Message recalled')
  await expect(bob.page.getByText('Dinner at 8?')).toHaveCount(0)
  await expect(bubble(bob.page, 'Yes, see you then').getByTestId('reply-quote')).toHaveAttribute(
    'data-state',
    'recalled',
  )

  // Delete for me: Bob's reply leaves his history (after a reload too); Alice keeps it.
  await bubble(bob.page, 'Yes, see you then').click({ button: 'right' })
  await chooseFromMenu(bob.page, 'deleteForMe')
  await expect(bob.page.getByTestId('confirm-message')).toContainText('still have it')
  await bob.page.getByTestId('confirm-accept').click()
  await expect(bubble(bob.page, 'Yes, see you then')).toHaveCount(0)
  await bob.page.reload()
  await conversationItem(bob.page, 'private:alice').click()
  await expect(bob.page.getByTestId('message-recalled')).toBeVisible()
  await expect(bubble(bob.page, 'Yes, see you then')).toHaveCount(0)
  await expect(bubble(alice.page, 'Yes, see you then')).toBeVisible()
})

test('in a group of three, an edit reaches both members and only the sender may edit or recall', async ({
  account,
}) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signUp(carol.page, 'carol')
  await alice.page.getByTestId('new-group-button').click()
  await alice.page.getByTestId('new-group-name').fill('Trip')
  await alice.page.getByTestId('new-group-members').fill('bob, carol')
  await alice.page.getByTestId('new-group-submit').click()
  await expect(alice.page.getByTestId('chat-title')).toHaveText('Trip')
  await send(alice.page, 'Meet at the station')
  for (const member of [bob, carol]) {
    await member.page.getByTestId('conversation-item').filter({ hasText: 'Trip' }).click()
    await expect(bubble(member.page, 'Meet at the station')).toBeVisible()
  }
  // Others' messages offer no Edit or Recall.
  await bubble(bob.page, 'Meet at the station').click({ button: 'right' })
  await expect(bob.page.getByTestId('message-action-reply')).toBeVisible()
  await expect(bob.page.getByTestId('message-action-edit')).toHaveCount(0)
  await expect(bob.page.getByTestId('message-action-recall')).toHaveCount(0)
  await bob.page.keyboard.press('Escape')
  await expect(bob.page.getByTestId('message-menu')).toHaveCount(0)

  await bubble(alice.page, 'Meet at the station').click({ button: 'right' })
  await chooseFromMenu(alice.page, 'edit')
  await alice.page.getByTestId('composer-input').fill('Meet at the airport')
  await alice.page.getByTestId('composer-input').press('Enter')
  for (const member of [bob, carol]) {
    await expect(bubble(member.page, 'Meet at the airport').getByTestId('message-edited')).toBeVisible()
    await expect(bubble(member.page, 'Meet at the station')).toHaveCount(0)
  }
})

test('delete for me leaves my other device too, and the other person keeps it', async ({ account }) => {
  const [laptop, phone, bob] = [await account('alice'), await account('alice-phone'), await account('bob')]
  await signUp(laptop.page, 'alice')
  await signInForm(phone.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(bob.page, 'alice')
  await send(bob.page, 'Call me back')
  for (const device of [laptop, phone]) {
    await conversationItem(device.page, 'private:bob').click()
    await expect(bubble(device.page, 'Call me back')).toBeVisible()
  }
  await bubble(laptop.page, 'Call me back').click({ button: 'right' })
  await chooseFromMenu(laptop.page, 'deleteForMe')
  await expect(laptop.page.getByTestId('confirm-message')).toContainText('all of your devices')
  await laptop.page.getByTestId('confirm-accept').click()
  await expect(bubble(laptop.page, 'Call me back')).toHaveCount(0)
  await expect(bubble(phone.page, 'Call me back')).toHaveCount(0)
  await expect(bubble(bob.page, 'Call me back')).toBeVisible()
})

test('the message actions speak Chinese', async ({ account }) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await alice.page
    .locator('body')
    .evaluate((body) => body.ownerDocument.defaultView?.localStorage.setItem('messenger.locale', 'zh-CN'))
  await alice.page.reload()
  await openChatWith(alice.page, 'bob')
  await send(alice.page, '你好')
  await bubble(alice.page, '你好').click({ button: 'right' })
  await expect(alice.page.getByTestId('message-action-reply')).toHaveText('回复')
  await expect(alice.page.getByTestId('message-action-recall')).toHaveText('撤回（所有人）')
  await expect(alice.page.getByTestId('message-action-deleteForMe')).toHaveText('仅为我删除')
})
