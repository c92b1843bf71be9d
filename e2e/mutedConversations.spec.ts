/**
 * Mute per chat on all my devices (issue 13, H8): Alice's laptop and phone, and Bob. The bell on
 * one device mutes the chat on the other at once; unmuting follows the same way; Bob's side of the
 * chat is his own.
 */
import { conversationItem, expect, openChatWith, send, signInForm, signUp, test } from './fixtures'

test('a chat muted on my laptop is muted on my phone, and unmuted the same; the other person is not affected', async ({
  account,
}) => {
  const [laptop, phone, bob] = [await account('alice'), await account('alice-phone'), await account('bob')]
  await signUp(laptop.page, 'alice')
  await signInForm(phone.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(bob.page, 'alice')
  await send(bob.page, 'A noisy chat')
  const mark = (page: typeof laptop.page) =>
    conversationItem(page, 'private:bob').getByTestId('conversation-muted')
  for (const device of [laptop, phone])
    await expect(conversationItem(device.page, 'private:bob')).toBeVisible()
  await expect(mark(phone.page)).toHaveCount(0)

  await conversationItem(laptop.page, 'private:bob').click()
  const laptopBell = laptop.page.getByTestId('mute-toggle')
  await laptopBell.click()
  await expect(laptopBell).toHaveAttribute('aria-pressed', 'true')
  await expect(mark(phone.page)).toBeVisible()
  await conversationItem(phone.page, 'private:bob').click()
  const phoneBell = phone.page.getByTestId('mute-toggle')
  await expect(phoneBell).toHaveAttribute('aria-pressed', 'true')

  // Unmuted on the phone: the laptop's bell and list follow.
  await phoneBell.click()
  await expect(phoneBell).toHaveAttribute('aria-pressed', 'false')
  await expect(laptopBell).toHaveAttribute('aria-pressed', 'false')
  await expect(mark(laptop.page)).toHaveCount(0)

  // Bob's chat with Alice was never muted.
  await expect(bob.page.getByTestId('mute-toggle')).toHaveAttribute('aria-pressed', 'false')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('conversation-muted')).toHaveCount(0)
})
