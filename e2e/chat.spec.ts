import { conversationItem, expect, message, send, signUp, test } from './fixtures'

test('two accounts chat in a single chat through the UI', async ({ account }) => {
  const alice = await account('alice')
  const bob = await account('bob')
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')

  await alice.page.getByTestId('new-chat-button').click()
  await alice.page.getByTestId('new-chat-user-id').fill('bob')
  await alice.page.getByTestId('new-chat-submit').click()
  await expect(alice.page.getByTestId('chat-title')).toHaveText('bob')
  await send(alice.page, 'Hello Bob')
  await expect(message(alice.page, 'Hello Bob')).toHaveAttribute('data-status', 'sent')

  const bobsChat = conversationItem(bob.page, 'private:alice')
  await expect(bobsChat.getByTestId('unread-badge')).toHaveText('1')
  await expect(bobsChat.getByTestId('conversation-preview')).toContainText('Hello Bob')
  await bobsChat.click()
  await expect(message(bob.page, 'Hello Bob')).toHaveAttribute('data-direction', 'receive')
  await send(bob.page, 'Hi Alice, 你好')

  await expect(message(alice.page, 'Hi Alice, 你好')).toHaveAttribute('data-direction', 'receive')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('unread-badge')).toHaveCount(0)
})

test('an unknown user id is refused in words', async ({ account }) => {
  const alice = await account('alice')
  await signUp(alice.page, 'alice')
  await alice.page.getByTestId('new-chat-button').click()
  await alice.page.getByTestId('new-chat-user-id').fill('nobody')
  await alice.page.getByTestId('new-chat-submit').click()
  await expect(alice.page.getByTestId('dialog-error')).toContainText(/no user/i)
})

test('three accounts chat in a group through the UI', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  for (const a of [alice, bob, carol]) await signUp(a.page, a.name)

  await alice.page.getByTestId('new-group-button').click()
  await alice.page.getByTestId('new-group-name').fill('Receipts team')
  await alice.page.getByTestId('new-group-members').fill('bob, carol')
  await alice.page.getByTestId('new-group-submit').click()
  await expect(alice.page.getByTestId('chat-title')).toHaveText('Receipts team')
  await send(alice.page, 'Welcome, both of you')

  for (const member of [bob, carol]) {
    const item = member.page.locator('[data-testid="conversation-item"]', { hasText: 'Receipts team' })
    await expect(item.getByTestId('unread-badge')).toHaveText('1')
    await item.click()
    await expect(message(member.page, 'Welcome, both of you')).toBeVisible()
  }
  await send(bob.page, 'Thanks from Bob')
  await send(carol.page, 'Thanks from Carol')

  for (const member of [alice, bob, carol]) {
    await expect(message(member.page, 'Thanks from Bob')).toBeVisible()
    await expect(message(member.page, 'Thanks from Carol')).toBeVisible()
  }
  await expect(message(alice.page, 'Thanks from Carol').getByTestId('message-sender')).toContainText('carol')

  await alice.page.getByTestId('members-button').click()
  await expect(alice.page.getByTestId('member-item')).toHaveCount(3)
  await expect(alice.page.locator('[data-testid="member-item"][data-user-id="alice"]')).toHaveAttribute(
    'data-role',
    'owner',
  )
})
