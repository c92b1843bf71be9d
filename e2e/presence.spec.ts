import type { Page } from '@playwright/test'
import {
  conversationItem,
  conversationTitled,
  createGroup,
  expect,
  message,
  openChatWith,
  send,
  signInForm,
  signUp,
  test,
} from './fixtures'

/** Issue 13, H4: typing, presence and their privacy settings; profile, group names, avatars. */

const subtitle = (page: Page) => page.getByTestId('chat-subtitle')

async function openSettings(page: Page): Promise<void> {
  await page.getByTestId('settings-button').click()
}

async function closeSettings(page: Page): Promise<void> {
  await page.getByTestId('settings-close').click()
}

async function logout(page: Page): Promise<void> {
  await page.getByTestId('logout-button').click()
  await page.getByTestId('confirm-accept').click()
  await expect(page.getByTestId('auth-submit')).toBeVisible()
}

test('typing shows in the header and the chat list; presence says online, then last seen', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Are you there?')
  await conversationItem(bob.page, 'private:alice').click()
  await expect(message(bob.page, 'Are you there?')).toBeVisible()

  // Bob is online: the header says so, his avatar has the dot with words for screen readers.
  await expect(subtitle(alice.page).getByTestId('presence-line')).toHaveText('online')
  await expect(alice.page.locator('.chat__header').getByTestId('online-dot')).toHaveText('online')

  await bob.page.getByTestId('composer-input').pressSequentially('Yes, I am', { delay: 30 })
  await expect(subtitle(alice.page).getByTestId('typing-indicator')).toHaveText('bob is typing…')
  await expect(conversationItem(alice.page, 'private:bob').getByTestId('conversation-typing')).toHaveText(
    'bob is typing…',
  )
  await bob.page.getByTestId('composer-input').press('Enter')
  await expect(message(alice.page, 'Yes, I am')).toBeVisible()
  await expect(subtitle(alice.page).getByTestId('typing-indicator')).toHaveCount(0)
  await expect(conversationItem(alice.page, 'private:bob').getByTestId('conversation-typing')).toHaveCount(0)

  // Bob leaves: "last seen today at …", in the reader's locale.
  await logout(bob.page)
  await expect(subtitle(alice.page).getByTestId('presence-line')).toHaveText(/^last seen today at \d/)
  await expect(alice.page.locator('.chat__header').getByTestId('online-dot')).toHaveCount(0)
})

test('privacy settings: hidden presence reads "last seen hidden", hidden typing is never shown', async ({
  account,
}) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signUp(carol.page, 'carol')
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Hi Bob')
  await expect(subtitle(alice.page).getByTestId('presence-line')).toHaveText('online')

  await openSettings(bob.page)
  await expect(bob.page.getByTestId('privacy-presence')).toHaveValue('contacts')
  await bob.page.getByTestId('privacy-presence').selectOption('nobody')
  await bob.page.getByTestId('privacy-typing').selectOption('nobody')
  await expect(bob.page.getByTestId('privacy-typing')).toHaveValue('nobody')
  await closeSettings(bob.page)
  await expect(subtitle(alice.page).getByTestId('presence-line')).toHaveText('last seen hidden')
  await expect(subtitle(alice.page)).not.toContainText('offline')

  // In a group, Bob (typing hidden) and Carol type: Alice hears of Carol only.
  await createGroup(alice.page, 'Weekend', ['bob', 'carol'])
  await send(alice.page, 'Plans?')
  await conversationTitled(bob.page, 'Weekend').click()
  await conversationTitled(carol.page, 'Weekend').click()
  await bob.page.getByTestId('composer-input').pressSequentially('hiking', { delay: 30 })
  await carol.page.getByTestId('composer-input').pressSequentially('beach', { delay: 30 })
  await expect(subtitle(alice.page).getByTestId('typing-indicator')).toHaveText('carol is typing…')
  await bob.page.getByTestId('composer-input').press('Enter')
  await expect(message(alice.page, 'hiking')).toBeVisible()
  await expect(subtitle(alice.page).getByTestId('typing-indicator')).toHaveText('carol is typing…')
})

test('a new display name and a group’s new name reach the others live', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signUp(carol.page, 'carol')
  await openChatWith(bob.page, 'alice')
  await send(bob.page, 'Hello Alice')
  await createGroup(alice.page, 'Book club', ['bob', 'carol'])
  await send(alice.page, 'Welcome')
  await expect(conversationTitled(carol.page, 'Book club')).toBeVisible()

  await openSettings(alice.page)
  await alice.page.getByTestId('profile-display-name').fill('Alice Liddell')
  await alice.page.getByTestId('profile-save-name').click()
  await expect(alice.page.getByText('Name saved.')).toBeVisible()
  await closeSettings(alice.page)
  await expect(alice.page.getByTestId('current-user')).toContainText('Alice Liddell')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('conversation-title')).toHaveText(
    'Alice Liddell',
  )

  // Carol, a plain member, is offered no rename; the owner renames, everyone sees it.
  await conversationTitled(carol.page, 'Book club').click()
  await carol.page.getByTestId('members-button').click()
  await expect(carol.page.getByTestId('member-item').filter({ hasText: 'Alice Liddell' })).toBeVisible()
  await expect(carol.page.getByTestId('group-rename')).toHaveCount(0)
  await alice.page.getByTestId('members-button').click()
  await alice.page.getByTestId('group-rename-input').fill('Poetry club')
  await alice.page.getByTestId('group-rename-submit').click()
  await expect(carol.page.getByTestId('chat-title')).toHaveText('Poetry club')
  await expect(conversationTitled(bob.page, 'Poetry club')).toBeVisible()
  await expect(message(carol.page, 'Welcome').getByTestId('message-sender')).toContainText('Alice Liddell')
})

test('changing the password needs the current one; the new one signs in', async ({ account }) => {
  const alice = await account('alice')
  await signUp(alice.page, 'alice')
  await openSettings(alice.page)
  await alice.page.getByTestId('profile-current-password').fill('not my password')
  await alice.page.getByTestId('profile-new-password').fill('a brand new secret')
  await alice.page.getByTestId('profile-confirm-password').fill('a brand new secret')
  await alice.page.getByTestId('profile-change-password').click()
  await expect(alice.page.getByTestId('profile-password-error')).toBeVisible()
  await alice.page.getByTestId('profile-current-password').fill('alice-password')
  await alice.page.getByTestId('profile-change-password').click()
  await expect(alice.page.getByTestId('profile-password-done')).toHaveText('Password changed.')
  await closeSettings(alice.page)
  await logout(alice.page)
  await signInForm(alice.page, 'alice', 'a brand new secret')
})
