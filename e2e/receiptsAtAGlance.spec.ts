import type { Locator, Page } from '@playwright/test'
import { conversationItem, expect, message, openChatWith, send, setSettings, signUp, test } from './fixtures'

const ticks = (page: Page, text: string) => message(page, text).getByTestId('message-ticks')

const hasFocus = (target: Locator) =>
  target.evaluate((element) => element === element.ownerDocument.activeElement)

/**
 * Moves the focus with the keyboard alone onto the message with `text`: Shift+Tab from the composer
 * to the message list (one Tab stop), then ↑ from message to message.
 */
async function focusMessage(page: Page, text: string): Promise<Locator> {
  const list = page.getByTestId('message-list')
  const row = page.locator('.message-list__row', { has: message(page, text) })
  await page.getByTestId('composer-input').focus()
  for (let presses = 0; presses < 10 && !(await hasFocus(list)); presses += 1) {
    await page.keyboard.press('Shift+Tab')
  }
  expect(await hasFocus(list), 'Shift+Tab from the composer reaches the message list').toBe(true)
  for (let presses = 0; presses < 25 && !(await hasFocus(row)); presses += 1) {
    await page.keyboard.press('ArrowUp')
  }
  await expect(row).toBeFocused()
  return row
}

test('new accounts see their ticks reach read without touching Settings', async ({ account }) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Straight out of the box')

  await expect(ticks(alice.page, 'Straight out of the box')).toHaveAttribute('data-receipt', 'delivered')
  await expect(message(alice.page, 'Straight out of the box').getByTestId('receipts-off')).toHaveCount(0)
  await conversationItem(bob.page, 'private:alice').click()
  await expect(ticks(alice.page, 'Straight out of the box')).toHaveAttribute('data-receipt', 'read')
  // Read is a shape of its own (two checks in a disc) and has a name, not only another colour.
  await expect(ticks(alice.page, 'Straight out of the box').locator('circle')).toHaveCount(1)
  await expect(ticks(alice.page, 'Straight out of the box')).toHaveAttribute('aria-label', /^Read\n/)
})

test('a message sent with read receipts off says so, and stays at delivered', async ({ account }) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await setSettings(alice.page, { 'setting-read-ack': false })
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'No read receipt for this one')
  const quiet = ticks(alice.page, 'No read receipt for this one')
  await expect(quiet).toHaveAttribute('data-receipt', 'delivered')
  await expect(quiet.getByTestId('receipts-off')).toContainText('receipts off')
  await expect(quiet).toHaveAttribute('title', /turned off in Settings/)

  // Bob reads the chat; a message sent after read receipts are on again reaches read, the first does not.
  await conversationItem(bob.page, 'private:alice').click()
  await expect(message(bob.page, 'No read receipt for this one')).toBeVisible()
  await setSettings(alice.page, { 'setting-read-ack': true })
  await send(alice.page, 'This one asks again')
  await expect(ticks(alice.page, 'This one asks again')).toHaveAttribute('data-receipt', 'read')
  await expect(ticks(alice.page, 'This one asks again').getByTestId('receipts-off')).toHaveCount(0)
  await expect(quiet).toHaveAttribute('data-receipt', 'delivered')
  await expect(quiet.getByTestId('receipts-off')).toBeVisible()
})

test('the message info panel opens from the keyboard with every step and its time, and Escape returns focus', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Tell me everything')
  await conversationItem(bob.page, 'private:alice').click()
  await expect(ticks(alice.page, 'Tell me everything')).toHaveAttribute('data-receipt', 'read')

  // The focused message shows its Info button, next in the Tab order.
  const button = message(alice.page, 'Tell me everything').getByTestId('message-info-button')
  await expect(button).toHaveCSS('opacity', '0')
  await focusMessage(alice.page, 'Tell me everything')
  await expect(button).toHaveCSS('opacity', '1')
  await alice.page.keyboard.press('Tab')
  await expect(button).toBeFocused()
  await alice.page.keyboard.press('Enter')

  const dialog = alice.page.getByTestId('message-info-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog.getByTestId('message-info-quote')).toHaveText('Tell me everything')
  const timeline = dialog.getByTestId('message-info-timeline')
  for (const step of ['written', 'sent', 'delivered', 'read']) {
    const item = timeline.locator(`[data-step="${step}"]`)
    await expect(item).toHaveAttribute('data-state', 'done')
    // A time in the page's locale, with its machine-readable form.
    await expect(item.locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/)
    await expect(item.locator('time')).toHaveText(/\d/)
  }
  await expect(timeline.locator('[data-step="sent"]')).toContainText(
    /Message ID [A-Z0-9]{4}(-[A-Z0-9]{4}){3}/,
  )

  // The receiver's panel tells their side: received on this device, read by them.
  // Enter on a focused message opens its info too.
  await focusMessage(bob.page, 'Tell me everything')
  await bob.page.keyboard.press('Enter')
  const bobTimeline = bob.page.getByTestId('message-info-timeline')
  await expect(bobTimeline.locator('[data-step]')).toHaveCount(3)
  await expect(bobTimeline.locator('[data-step="readByMe"]')).toHaveAttribute('data-state', 'done')

  await alice.page.keyboard.press('Escape')
  await expect(dialog).toHaveCount(0)
  await expect(button).toBeFocused()
})
