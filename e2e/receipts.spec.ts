import type { Page } from '@playwright/test'
import { conversationItem, expect, message, send, signInForm, signUp, test } from './fixtures'

async function register(serverUrl: string, userId: string): Promise<void> {
  const res = await fetch(serverUrl.replace(/^ws/, 'http').replace(/\/ws$/, '/api/register'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, password: `${userId}-password` }),
  })
  expect(((await res.json()) as { code: number }).code).toBe(0)
}

async function askForReceipts(page: Page): Promise<void> {
  await page.getByTestId('settings-button').click()
  await page.getByTestId('setting-delivery-ack').check()
  await page.getByTestId('setting-read-ack').check()
  await expect(page.getByTestId('setting-read-ack')).toBeChecked()
  await page.getByTestId('settings-close').click()
}

async function openChatWith(page: Page, userId: string): Promise<void> {
  await page.getByTestId('new-chat-button').click()
  await page.getByTestId('new-chat-user-id').fill(userId)
  await page.getByTestId('new-chat-submit').click()
  await expect(page.getByTestId('chat-title')).toHaveText(userId)
}

const ticks = (page: Page, text: string) => message(page, text).getByTestId('message-ticks')

test('ticks go from sent to delivered to read as the receiver signs in and opens the chat', async ({
  account,
  serverUrl,
}) => {
  await register(serverUrl, 'bob')
  const alice = await account('alice')
  await signUp(alice.page, 'alice')
  await askForReceipts(alice.page)
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Did you get this?')
  await expect(ticks(alice.page, 'Did you get this?')).toHaveAttribute('data-receipt', 'sent')

  const bob = await account('bob')
  await signInForm(bob.page, 'bob')
  // Bob's engine acks delivery by itself as soon as the message is stored, before anyone looks.
  await expect(ticks(alice.page, 'Did you get this?')).toHaveAttribute('data-receipt', 'delivered')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('unread-badge')).toHaveText('1')

  await conversationItem(bob.page, 'private:alice').click()
  await expect(ticks(alice.page, 'Did you get this?')).toHaveAttribute('data-receipt', 'read')
  await expect(ticks(alice.page, 'Did you get this?')).toHaveAttribute(
    'title',
    /Read.*\n.*Sent.*\n.*Delivered.*\n.*Read/s,
  )

  // While Bob has the chat open, a new message is read as it arrives (message read receipt).
  await send(alice.page, 'And this one?')
  await expect(message(bob.page, 'And this one?')).toBeVisible()
  await expect(ticks(alice.page, 'And this one?')).toHaveAttribute('data-receipt', 'read')
})

test('nothing is acked as read for a chat the receiver has not opened', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  for (const a of [alice, bob, carol]) await signUp(a.page, a.name)
  await askForReceipts(alice.page)
  await askForReceipts(carol.page)
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Unopened')
  await expect(ticks(alice.page, 'Unopened')).toHaveAttribute('data-receipt', 'delivered')

  // Bob is busy in his chat with Carol: Carol's new message is read as it arrives...
  await openChatWith(bob.page, 'carol')
  await openChatWith(carol.page, 'bob')
  await send(carol.page, 'Seen in the open chat')
  await expect(ticks(carol.page, 'Seen in the open chat')).toHaveAttribute('data-receipt', 'read')
  // ...while Alice's message, in a chat Bob has not opened, stays unread on both sides.
  await expect(ticks(alice.page, 'Unopened')).toHaveAttribute('data-receipt', 'delivered')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('unread-badge')).toHaveText('1')

  await conversationItem(bob.page, 'private:alice').click()
  await expect(ticks(alice.page, 'Unopened')).toHaveAttribute('data-receipt', 'read')
})

test('the unread badge clears on the reader’s second device', async ({ account }) => {
  const alice = await account('alice')
  const laptop = await account('bob-laptop')
  await signUp(alice.page, 'alice')
  await signUp(laptop.page, 'bob')
  const phone = await account('bob-phone')
  await signInForm(phone.page, 'bob')

  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'first')
  await send(alice.page, 'second')
  for (const device of [laptop, phone]) {
    await expect(conversationItem(device.page, 'private:alice').getByTestId('unread-badge')).toHaveText('2')
    await expect(device.page).toHaveTitle(/^\(2\)/)
  }
  await conversationItem(laptop.page, 'private:alice').click()
  await expect(message(laptop.page, 'second')).toBeVisible()
  await expect(conversationItem(phone.page, 'private:alice').getByTestId('unread-badge')).toHaveCount(0)
  await expect(phone.page).not.toHaveTitle(/^\(/)
})
