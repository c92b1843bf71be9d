import type { Page } from '@playwright/test'
import { expect, message, send, signUp, test, type Account } from './fixtures'

async function createGroup(page: Page, name: string, members: string[]): Promise<void> {
  await page.getByTestId('new-group-button').click()
  await page.getByTestId('new-group-name').fill(name)
  await page.getByTestId('new-group-members').fill(members.join(', '))
  await page.getByTestId('new-group-submit').click()
  await expect(page.getByTestId('chat-title')).toHaveText(name)
}

async function openGroup(account: Account, name: string): Promise<void> {
  await account.page.locator('[data-testid="conversation-item"]', { hasText: name }).click()
  await expect(account.page.getByTestId('chat-title')).toHaveText(name)
}

const reads = (page: Page, text: string) => message(page, text).getByTestId('message-group-reads')

test('Easemob acks: the count goes from 0/2 to 2/2 as the others open the group; the panel shows who read', async ({
  account,
}) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  for (const a of [alice, bob, carol]) await signUp(a.page, a.name)
  await createGroup(alice.page, 'Launch', ['bob', 'carol'])

  await alice.page.getByTestId('composer-group-ack').click()
  await expect(alice.page.getByTestId('composer-group-ack')).toHaveAttribute('aria-pressed', 'true')
  await send(alice.page, 'Launch is at noon')
  await expect(reads(alice.page, 'Launch is at noon')).toHaveText('0 of 2 read')

  await openGroup(bob, 'Launch')
  await expect(message(bob.page, 'Launch is at noon')).toBeVisible()
  await expect(reads(alice.page, 'Launch is at noon')).toHaveText('1 of 2 read')

  await reads(alice.page, 'Launch is at noon').click()
  await expect(alice.page.getByTestId('readers-summary')).toHaveText('1 of 2 read')
  await expect(alice.page.locator('[data-testid="reader-item"][data-user-id="bob"]')).toBeVisible()
  await alice.page.getByTestId('readers-tab-unread').click()
  await expect(alice.page.locator('[data-testid="unread-member-item"][data-user-id="carol"]')).toBeVisible()
  await expect(alice.page.getByTestId('unread-member-item')).toHaveCount(1)

  // The panel follows live: Carol reads while Alice looks at it.
  await openGroup(carol, 'Launch')
  await expect(alice.page.getByTestId('readers-summary')).toHaveText('Read by everyone')
  await expect(alice.page.getByTestId('unread-member-item')).toHaveCount(0)
  await alice.page.getByTestId('readers-tab-read').click()
  await expect(alice.page.getByTestId('reader-item')).toHaveCount(2)
  await alice.page.keyboard.press('Escape')
  await expect(reads(alice.page, 'Launch is at noon')).toHaveAttribute('data-all-read', 'true')
})

test('RongCloud request/response: the sender asks, members answer when they see it', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  for (const a of [alice, bob, carol]) await signUp(a.page, a.name)
  await createGroup(alice.page, 'Design', ['bob', 'carol'])
  await openGroup(bob, 'Design')

  await send(alice.page, 'New mockups are up')
  await expect(message(bob.page, 'New mockups are up')).toBeVisible()
  await expect(reads(alice.page, 'New mockups are up')).toHaveCount(0)
  await message(alice.page, 'New mockups are up').getByTestId('request-receipts').click()

  // Bob has the group open and the message on screen: his app answers the request by itself.
  await expect(reads(alice.page, 'New mockups are up')).toHaveText('1 of 2 read')
  await openGroup(carol, 'Design')
  await expect(reads(alice.page, 'New mockups are up')).toHaveAttribute('data-all-read', 'true')
})

test('the owner’s group settings switch off asking for acks for plain members', async ({ account }) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  for (const a of [alice, bob]) await signUp(a.page, a.name)
  await createGroup(alice.page, 'Owners only', ['bob'])
  await alice.page.getByTestId('members-button').click()
  await alice.page.getByTestId('group-receipts-who').selectOption('ownerAndAdmins')
  await alice.page.getByTestId('group-receipts-save').click()

  await openGroup(bob, 'Owners only')
  await expect(bob.page.getByTestId('composer-group-ack')).toBeDisabled()
})
