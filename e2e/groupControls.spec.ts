/**
 * Issue 14, group controls, with three accounts: one "Ask who read" in the composer and on a sent
 * message, each giving the group's reason when it does not allow it; countVisibility 'all' shows a
 * member the counts of others' messages (and 'sender' takes them away); the owner is offered
 * Transfer ownership instead of Leave, transfers, then leaves; log out asks first.
 */
import type { Page } from '@playwright/test'
import {
  conversationTitled,
  createGroup,
  expect,
  message,
  send,
  signUp,
  test,
  type Account,
} from './fixtures'

async function openGroup(account: Account, name: string): Promise<void> {
  await conversationTitled(account.page, name).click()
  await expect(account.page.getByTestId('chat-title')).toHaveText(name)
}

// Three signed-up accounts and several round trips of settings each: on a loaded two-core machine
// one test takes most of the default minute.
test.describe.configure({ timeout: 120_000 })

const reads = (page: Page, text: string) => message(page, text).getByTestId('message-group-reads')

/** The owner changes one of the group's receipt settings in the member panel and saves. */
async function setGroupSetting(page: Page, testId: string, value: string): Promise<void> {
  if ((await page.getByTestId('member-panel').count()) === 0) await page.getByTestId('members-button').click()
  await page.getByTestId(testId).selectOption(value)
  await page.getByTestId('group-receipts-save').click()
  await expect(page.getByTestId('group-receipts-saved')).toBeVisible()
}

test('one "Ask who read", with the group’s reason when it does not allow it; counts for members under “all”', async ({
  account,
}) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  for (const a of [alice, bob, carol]) await signUp(a.page, a.name)
  await createGroup(alice.page, 'Crew', ['bob', 'carol'])
  await setGroupSetting(alice.page, 'group-receipts-visibility', 'all')

  // Bob, a plain member, turns "Ask who read" on: the state is said in words.
  await openGroup(bob, 'Crew')
  const toggle = bob.page.getByTestId('composer-group-ack')
  await expect(toggle).toHaveText('Ask who read off')
  await toggle.click()
  await expect(toggle).toHaveText('Ask who read on')
  await expect(toggle).toHaveAttribute('aria-pressed', 'true')
  await send(bob.page, 'Bob asks who read')
  await expect(reads(bob.page, 'Bob asks who read')).toHaveText(/of 2 read|Read by everyone/)

  // Carol, another member, sees the count of Bob's message: the group shows counts to all.
  await openGroup(carol, 'Crew')
  await expect(message(carol.page, 'Bob asks who read')).toBeVisible()
  await expect(reads(carol.page, 'Bob asks who read')).toHaveText(/^(1 of 2 read|Read by everyone)$/)
  // Alice has the group open too: both have read it, and Carol sees that live.
  await expect(reads(carol.page, 'Bob asks who read')).toHaveAttribute('data-all-read', 'true')
  await expect(reads(bob.page, 'Bob asks who read')).toHaveAttribute('data-all-read', 'true')

  // A plain message of Bob's offers "Ask who read this" for a while after sending.
  await toggle.click()
  await expect(toggle).toHaveText('Ask who read off')
  await send(bob.page, 'Plain from Bob')
  await expect(message(bob.page, 'Plain from Bob').getByTestId('request-receipts')).toHaveText(
    'Ask who read this',
  )

  // The owner lets only the owner and admins ask: both controls give Bob the reason instead.
  await setGroupSetting(alice.page, 'group-receipts-who', 'ownerAndAdmins')
  const reason = 'Only the group owner and admins can ask for read receipts in this group.'
  await expect(toggle).toBeDisabled()
  await expect(bob.page.getByTestId('composer-ask-reason')).toHaveText(
    `You can’t ask who read in this group: ${reason}`,
  )
  await expect(message(bob.page, 'Plain from Bob').getByTestId('request-receipts')).toHaveCount(0)
  await expect(message(bob.page, 'Plain from Bob').getByTestId('request-receipts-unavailable')).toHaveText(
    `Can’t ask who read this: ${reason}`,
  )

  // Back to "only the sender": Carol no longer sees the count of Bob's message; Bob still does.
  await setGroupSetting(alice.page, 'group-receipts-visibility', 'sender')
  await expect(reads(carol.page, 'Bob asks who read')).toHaveCount(0)
  await expect(reads(bob.page, 'Bob asks who read')).toHaveAttribute('data-all-read', 'true')
})

test('the owner transfers ownership instead of leaving, then leaves; log out asks first', async ({
  account,
}) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  for (const a of [alice, bob, carol]) await signUp(a.page, a.name)
  await createGroup(alice.page, 'Handover', ['bob', 'carol'])
  const page = alice.page
  await page.getByTestId('members-button').click()

  // No Leave for the owner: the server would refuse it. Transfer ownership instead.
  await expect(page.getByTestId('leave-group')).toHaveCount(0)
  await expect(page.getByTestId('owner-leave-hint')).toContainText(
    'Transfer ownership to another member first',
  )
  await page.getByTestId('transfer-ownership').click()
  const dialog = page.getByTestId('confirm-dialog')
  await expect(dialog).toBeVisible()
  await dialog.getByTestId('transfer-owner-select').selectOption('bob')
  await expect(dialog.getByTestId('confirm-message')).toContainText('bob will become the group’s owner')
  await dialog.getByTestId('confirm-accept').click()
  await expect(dialog).toHaveCount(0)
  await expect(page.locator('[data-testid="member-item"][data-user-id="bob"]')).toHaveAttribute(
    'data-role',
    'owner',
  )
  await expect(page.locator('[data-testid="member-item"][data-user-id="alice"]')).toHaveAttribute(
    'data-role',
    'admin',
  )

  // Bob's app learns it: he is the owner now, and is offered the transfer himself.
  await openGroup(bob, 'Handover')
  await bob.page.getByTestId('members-button').click()
  await expect(bob.page.getByTestId('transfer-ownership')).toBeVisible()
  await expect(bob.page.getByTestId('leave-group')).toHaveCount(0)

  // Alice, now an admin, may leave, after a yes.
  await page.getByTestId('leave-group').click()
  await expect(page.getByTestId('confirm-message')).toContainText('Leave this group?')
  await page.getByTestId('confirm-accept').click()
  await expect(page.getByTestId('composer-input')).toBeDisabled()
  await expect(bob.page.locator('[data-testid="member-item"][data-user-id="alice"]')).toHaveCount(0)

  // Log out asks first; Cancel keeps the session.
  await page.getByTestId('logout-button').click()
  await expect(page.getByTestId('confirm-dialog')).toBeVisible()
  await page.getByTestId('confirm-cancel').click()
  await expect(page.getByTestId('confirm-dialog')).toHaveCount(0)
  await expect(page.getByTestId('current-user')).toContainText('alice')
  await page.getByTestId('logout-button').click()
  await page.getByTestId('confirm-accept').click()
  await expect(page.getByTestId('auth-submit')).toBeVisible()
})
