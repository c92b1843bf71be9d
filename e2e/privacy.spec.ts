import type { Page } from '@playwright/test'
import {
  conversationItem,
  conversationTitled,
  createGroup,
  expect,
  message,
  openChatWith,
  send,
  setSettings,
  signInForm,
  signUp,
  test,
  type Account,
} from './fixtures'

// Privacy of receipts (issue #11): "Send read receipts" off is a private read. My devices still sync
// my read state, but no sender learns of it; in single chats neither side sees the other's reads.

const NOT_SHARED = 'Read receipts are not shared in this chat'
/** Nothing may say or imply that a message whose receipts are hidden was not read. */
const NOT_READ = /not read|unread/i

const ticks = (page: Page, text: string) => message(page, text).getByTestId('message-ticks')
const reads = (page: Page, text: string) => message(page, text).getByTestId('message-group-reads')
const unreadBadge = (page: Page, title: string) => conversationTitled(page, title).getByTestId('unread-badge')

/** Alice and a second device of Bob's (signed in after Bob signed up on his laptop). */
async function bobOnTwoDevices(account: (name: string) => Promise<Account>) {
  const laptop = await account('bob-laptop')
  await signUp(laptop.page, 'bob')
  const phone = await account('bob-phone')
  await signInForm(phone.page, 'bob')
  return { laptop, phone }
}

test('bob turns read receipts off; alice’s group panel shows "1 hides their receipts"; bob’s second device still loses its unread badge', async ({
  account,
}) => {
  const [alice, carol] = [await account('alice'), await account('carol')]
  await signUp(alice.page, 'alice')
  await signUp(carol.page, 'carol')
  const bob = await bobOnTwoDevices(account)

  await setSettings(bob.laptop.page, { 'setting-share-read-receipts': false })
  // The setting is the account's: Bob's phone shows it too.
  await bob.phone.page.getByTestId('settings-button').click()
  await expect(bob.phone.page.getByTestId('setting-share-read-receipts')).not.toBeChecked()
  await bob.phone.page.getByTestId('settings-close').click()

  await createGroup(alice.page, 'Quiet readers', ['bob', 'carol'])
  await alice.page.getByTestId('composer-group-ack').click()
  await send(alice.page, 'Who has read this?')
  await expect(reads(alice.page, 'Who has read this?')).toHaveText('0 of 2 read · 1 hides their receipts')
  await expect(unreadBadge(bob.phone.page, 'Quiet readers')).toHaveText('1')

  // Bob reads on his laptop: a private read. His phone follows; Alice is told nothing.
  await conversationTitled(bob.laptop.page, 'Quiet readers').click()
  await expect(message(bob.laptop.page, 'Who has read this?')).toBeVisible()
  await expect(bob.laptop.page.getByTestId('receipts-not-shared')).toHaveText(
    'You don’t send read receipts in this group',
  )
  await expect(unreadBadge(bob.phone.page, 'Quiet readers')).toHaveCount(0)

  await conversationTitled(carol.page, 'Quiet readers').click()
  await expect(message(carol.page, 'Who has read this?')).toBeVisible()
  await expect(reads(alice.page, 'Who has read this?')).toHaveText('1 of 2 read · 1 hides their receipts')
  await expect(reads(alice.page, 'Who has read this?')).toHaveAttribute('data-all-read', 'false')

  await reads(alice.page, 'Who has read this?').click()
  await expect(alice.page.getByTestId('readers-hidden')).toHaveText('1 hides their receipts')
  await expect(alice.page.getByTestId('readers-summary')).toHaveText('1 of 2 read · 1 hides their receipts')
  await expect(alice.page.getByTestId('reader-item')).toHaveCount(1)
  await expect(alice.page.locator('[data-testid="reader-item"][data-user-id="carol"]')).toBeVisible()
  // Bob is neither a reader nor "not read yet".
  await expect(alice.page.getByTestId('readers-tab-unread')).toHaveText('Not read yet (0)')
  await alice.page.getByTestId('readers-tab-unread').click()
  await expect(alice.page.getByTestId('unread-member-item')).toHaveCount(0)
  await expect(alice.page.getByTestId('readers-panel-unread')).toContainText(
    'Everyone who shares read receipts has read it.',
  )
})

test('with bob not sharing, alice’s message to bob never turns read, while bob’s second device clears its unread badge', async ({
  account,
}) => {
  const alice = await account('alice')
  await signUp(alice.page, 'alice')
  await setSettings(alice.page, { 'setting-delivery-ack': true, 'setting-read-ack': true })
  const bob = await bobOnTwoDevices(account)
  await setSettings(bob.laptop.page, { 'setting-share-read-receipts': false })

  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Read this privately')
  await expect(ticks(alice.page, 'Read this privately')).toHaveAttribute('data-receipt', 'delivered')
  // Reciprocal: Alice shares, but Bob does not, so nothing flows either way; her chat says so.
  await expect(alice.page.getByTestId('receipts-not-shared')).toHaveText(NOT_SHARED)
  await expect(conversationItem(bob.phone.page, 'private:alice').getByTestId('unread-badge')).toHaveText('1')

  await conversationItem(bob.laptop.page, 'private:alice').click()
  await expect(message(bob.laptop.page, 'Read this privately')).toBeVisible()
  await expect(conversationItem(bob.phone.page, 'private:alice').getByTestId('unread-badge')).toHaveCount(0)
  await expect(bob.phone.page).not.toHaveTitle(/^\(/)

  // Bob answers from the open chat. His read receipt, had one been sent, goes out before his read
  // mark (which his phone has seen) and reaches Alice before his answer: once she has the answer,
  // her ticks are final.
  await send(bob.laptop.page, 'Got it')
  await expect(message(alice.page, 'Got it')).toBeVisible()
  const aliceTicks = ticks(alice.page, 'Read this privately')
  await expect(aliceTicks).toHaveAttribute('data-receipt', 'delivered')
  await expect(aliceTicks).toHaveAttribute('data-receipts-shared', 'false')
  await expect(aliceTicks).toHaveAttribute(
    'title',
    /^Delivered\n.*\n.*\nRead receipts are not shared in this chat$/,
  )
  expect(await aliceTicks.getAttribute('aria-label')).not.toMatch(NOT_READ)
})

test('one conversation can stop sending read receipts while the account keeps sending them', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  for (const a of [alice, bob]) await signUp(a.page, a.name)
  await setSettings(alice.page, { 'setting-delivery-ack': true, 'setting-read-ack': true })
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Before')
  await openChatWith(bob.page, 'alice')
  await expect(ticks(alice.page, 'Before')).toHaveAttribute('data-receipt', 'read')

  const select = bob.page.getByTestId('receipt-sharing-select')
  await expect(select).toHaveValue('account')
  await expect(select.locator('option[value="account"]')).toHaveText('Follow my setting (on)')
  await select.selectOption('off')
  await expect(select).toHaveValue('off')
  await expect(bob.page.getByTestId('receipts-not-shared')).toHaveText(NOT_SHARED)
  await expect(alice.page.getByTestId('receipts-not-shared')).toHaveText(NOT_SHARED)

  await send(alice.page, 'After')
  await expect(message(bob.page, 'After')).toBeVisible()
  await send(bob.page, 'Seen, privately')
  await expect(message(alice.page, 'Seen, privately')).toBeVisible()
  await expect(ticks(alice.page, 'After')).toHaveAttribute('data-receipt', 'delivered')
  await expect(ticks(alice.page, 'After')).toHaveAttribute('title', new RegExp(`${NOT_SHARED}$`))
  // Receipt state never goes backwards: what was read before stays read.
  await expect(ticks(alice.page, 'Before')).toHaveAttribute('data-receipt', 'read')
})
