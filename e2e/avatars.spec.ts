import {
  conversationItem,
  conversationTitled,
  createGroup,
  expect,
  openChatWith,
  send,
  signUp,
  test,
} from './fixtures'
import { encodePng, type PickedPng } from './png'

/**
 * A PNG as a file from this computer would be: 600×400 (wider than tall, so the square is cut from
 * the middle), teal with a yellow square in the centre. Encoded here: filter byte 0 per row, deflated.
 */
function pngFile(): PickedPng {
  return encodePng('me.png', 600, 400, (x, y) =>
    x >= 200 && x < 400 && y >= 100 && y < 300 ? [0xff, 0xd1, 0x66] : [0x0e, 0x70, 0x90],
  )
}

test('alice sets a profile picture; bob sees it in the chat list and the header, live and after a reload', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Look at my new picture')
  const row = conversationItem(bob.page, 'private:alice')
  await expect(row).toBeVisible()
  await expect(row.getByTestId('avatar-image')).toHaveCount(0)

  // Settings → Profile: the Choose button is a button (keyboard reachable); the file goes through its input.
  await alice.page.getByTestId('settings-button').click()
  const choose = alice.page.getByTestId('profile-avatar-choose')
  await choose.focus()
  await expect(choose).toBeFocused()
  await alice.page.getByTestId('profile-avatar-input').setInputFiles(pngFile())
  const preview = alice.page.getByTestId('profile-avatar-current').getByTestId('avatar-image')
  await expect(preview).toHaveAttribute('src', /^data:image\/webp;base64,/)
  await alice.page.getByTestId('profile-avatar-save').click()
  await expect(alice.page.getByText('Picture saved.')).toBeVisible()
  await expect(alice.page.getByTestId('profile-avatar-remove')).toBeVisible()
  await alice.page.getByTestId('settings-close').click()
  await expect(alice.page.locator('.sidebar__user').getByTestId('avatar-image')).toBeVisible()

  // Bob: the picture in the chat list and in the chat's header; the name is still what is read out.
  await expect(row.getByTestId('avatar-image')).toHaveAttribute('src', /^data:image\/webp;base64,/)
  await expect(row.getByTestId('avatar-image')).toHaveAttribute('alt', '')
  await expect(row.getByTestId('conversation-title')).toHaveText('alice')
  await row.click()
  const header = bob.page.locator('.chat__header')
  await expect(header.getByTestId('avatar-image')).toHaveAttribute('src', /^data:image\/webp;base64,/)
  await expect(bob.page.getByTestId('chat-title')).toHaveText('alice')

  // After a reload (the engine's cache and directory, not the page's memory) it is still there.
  await bob.page.reload()
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('avatar-image')).toBeVisible()

  // Removed: bob is back to alice's initials.
  await alice.page.getByTestId('settings-button').click()
  await alice.page.getByTestId('profile-avatar-remove').click()
  await expect(alice.page.getByText('Picture removed.')).toBeVisible()
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('avatar-image')).toHaveCount(0)
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('avatar')).toContainText('A')
})

test('the owner sets a group picture from the member panel; members see it, a plain member is offered none', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await createGroup(alice.page, 'Photo club', ['bob'])
  await send(alice.page, 'Welcome')
  await expect(conversationTitled(bob.page, 'Photo club')).toBeVisible()

  await alice.page.getByTestId('members-button').click()
  await alice.page.getByTestId('group-avatar-input').setInputFiles(pngFile())
  await alice.page.getByTestId('group-avatar-save').click()
  await expect(alice.page.getByText('Picture saved.')).toBeVisible()

  await expect(conversationTitled(bob.page, 'Photo club').getByTestId('avatar-image')).toHaveAttribute(
    'src',
    /^data:image\/webp;base64,/,
  )
  await conversationTitled(bob.page, 'Photo club').click()
  await bob.page.getByTestId('members-button').click()
  await expect(bob.page.getByTestId('group-avatar')).toHaveCount(0)

  // After a reload (the screenshot run's bug: back to initials) the picture is still there, for the
  // owner in the chat list, the header and the panel, and for the member in the chat list.
  await alice.page.reload()
  await expect(conversationTitled(alice.page, 'Photo club').getByTestId('avatar-image')).toBeVisible()
  await conversationTitled(alice.page, 'Photo club').click()
  await expect(alice.page.locator('.chat__header').getByTestId('avatar-image')).toBeVisible()
  await alice.page.getByTestId('members-button').click()
  await expect(alice.page.getByTestId('group-avatar').getByTestId('avatar-image')).toBeVisible()
  await bob.page.reload()
  await expect(conversationTitled(bob.page, 'Photo club').getByTestId('avatar-image')).toBeVisible()
})
