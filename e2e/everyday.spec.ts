/**
 * Issue 13, the everyday parts: notifications (never a read), muted chats, drafts, days and times,
 * and opening a long backlog at its first unread message, with a read receipt that covers only
 * what was on screen. Two and three accounts through the real UI.
 */
import type { Page } from '@playwright/test'
import {
  conversationItem,
  expect,
  message,
  openChatWith,
  send,
  setSettings,
  signUp,
  test,
  type Account,
} from './fixtures'

interface Shown {
  title: string
  body: string
}

/** The page's window as these tests use it (the e2e project has no DOM types). */
interface PageWindow {
  /** What the page asked the browser to show (the stand-in below records it). */
  shownNotifications?: (Shown & { click(): void })[]
  dispatchEvent(event: Event): boolean
}

/**
 * The browser's Notification API, recorded: headless Chromium shows nothing a test could see, so
 * the page gets a stand-in with the same shape (permission granted) before the app starts.
 */
async function recordNotifications(account: Account): Promise<void> {
  await account.page.addInitScript(() => {
    const page = globalThis as unknown as PageWindow
    const shown: (Shown & { click(): void })[] = []
    page.shownNotifications = shown
    class RecordedNotification {
      static permission = 'granted'
      static requestPermission = () => Promise.resolve('granted')
      onclick: (() => void) | null = null
      onclose: (() => void) | null = null
      constructor(
        readonly title: string,
        options: { body?: string } = {},
      ) {
        shown.push({ title, body: options.body ?? '', click: () => this.onclick?.() })
      }
      close(): void {}
    }
    Object.defineProperty(page, 'Notification', { value: RecordedNotification, configurable: true })
  })
  await account.page.reload()
}

const shown = (page: Page) =>
  page.evaluate(() =>
    ((globalThis as unknown as PageWindow).shownNotifications ?? []).map(({ title, body }) => ({
      title,
      body,
    })),
  )

const ticks = (page: Page, text: string) => message(page, text).getByTestId('message-ticks')

test('a notification shows who and what, never reads, and a click opens the chat', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await recordNotifications(bob)
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signUp(carol.page, 'carol')
  await openChatWith(alice.page, 'bob')

  await send(alice.page, 'Lunch at noon?')
  await expect.poll(() => shown(bob.page)).toEqual([{ title: 'alice', body: 'Lunch at noon?' }])
  // Shown, not read: the tick stays at delivered and the chat counts it unread.
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('unread-badge')).toHaveText('1')
  await expect(ticks(alice.page, 'Lunch at noon?')).toHaveAttribute('data-receipt', 'delivered')
  await expect(bob.page).toHaveTitle('(1) Messenger')

  // The click opens that chat; now it is on screen, and read.
  await bob.page.evaluate(() => (globalThis as unknown as PageWindow).shownNotifications?.[0]?.click())
  await expect(bob.page.getByTestId('chat-title')).toHaveText('alice')
  await expect(ticks(alice.page, 'Lunch at noon?')).toHaveAttribute('data-receipt', 'read')
  await expect(bob.page).toHaveTitle('Messenger')

  // Privacy: who wrote, not what. Bob looks at another chat meanwhile.
  await setSettings(bob.page, { 'setting-notification-text': false })
  await openChatWith(bob.page, 'carol')
  await send(alice.page, 'The secret plan')
  await expect
    .poll(async () => (await shown(bob.page)).at(-1))
    .toEqual({ title: 'alice', body: 'New message' })
  await expect(ticks(alice.page, 'The secret plan')).toHaveAttribute('data-receipt', 'delivered')
})

test('a muted chat neither notifies nor counts in the title, and says so in the list', async ({
  account,
}) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await recordNotifications(bob)
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signUp(carol.page, 'carol')
  await openChatWith(bob.page, 'alice')
  const mute = bob.page.getByTestId('mute-toggle')
  await expect(mute).toHaveAttribute('aria-pressed', 'false')
  await mute.click()
  await expect(mute).toHaveAttribute('aria-pressed', 'true')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('conversation-muted')).toBeVisible()
  // Bob has carol's chat open, in a window that has lost the focus: carol's messages notify too.
  await openChatWith(bob.page, 'carol')
  await bob.page.evaluate(() => (globalThis as unknown as PageWindow).dispatchEvent(new Event('blur')))

  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Are you there?')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('unread-badge')).toHaveText('1')
  await openChatWith(carol.page, 'bob')
  await send(carol.page, 'Ping from carol')
  // Only carol's: alice's came first and would be first in the list.
  await expect.poll(() => shown(bob.page)).toEqual([{ title: 'carol', body: 'Ping from carol' }])
  await expect(conversationItem(bob.page, 'private:carol').getByTestId('unread-badge')).toHaveText('1')
  await expect(bob.page).toHaveTitle('(1) Messenger')

  // The mark is kept by the engine in SQLite: still there after a reload.
  await bob.page.reload()
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('conversation-muted')).toBeVisible()
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('unread-badge')).toHaveText('1')
})

test('a draft is kept per chat, shown in the list, restored, and cleared on send', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signUp(carol.page, 'carol')
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Hi')
  await conversationItem(bob.page, 'private:alice').click()
  await bob.page.getByTestId('composer-input').fill('I was about to say')

  // Leaving the chat saves it at once; the list says "Draft:".
  await openChatWith(bob.page, 'carol')
  const draft = conversationItem(bob.page, 'private:alice').getByTestId('conversation-draft')
  await expect(draft).toHaveText('Draft: I was about to say')
  await bob.page.reload()
  await expect(draft).toHaveText('Draft: I was about to say')

  await conversationItem(bob.page, 'private:alice').click()
  await expect(bob.page.getByTestId('composer-input')).toHaveValue('I was about to say')
  await bob.page.getByTestId('composer-input').press('End')
  await bob.page.getByTestId('composer-input').pressSequentially(', thanks')
  await bob.page.getByTestId('composer-input').press('Enter')
  await expect(message(alice.page, 'I was about to say, thanks')).toBeVisible()
  await openChatWith(bob.page, 'carol')
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('conversation-draft')).toHaveCount(0)
  await expect(conversationItem(bob.page, 'private:alice').getByTestId('conversation-preview')).toHaveText(
    'You: I was about to say, thanks',
  )
})

test('a backlog opens at its first unread message, and only what was shown is read', async ({ account }) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signUp(carol.page, 'carol')
  await openChatWith(alice.page, 'bob')
  await send(alice.page, 'Before the backlog')
  await conversationItem(bob.page, 'private:alice').click()
  await expect(ticks(alice.page, 'Before the backlog')).toHaveAttribute('data-receipt', 'read')
  await openChatWith(bob.page, 'carol')

  // (After a burst the server asks for no more delivery receipts of bob for a while: the newest ticks
  // may stay at sent instead of delivered. What matters here is that they are not read.)
  for (let i = 1; i <= 50; i++) await send(alice.page, `Backlog ${i}`)
  const badge = conversationItem(bob.page, 'private:alice').getByTestId('unread-badge')
  await expect(badge).toHaveText('50')

  await conversationItem(bob.page, 'private:alice').click()
  // Under "New messages", the first unread is on screen; the newest is not.
  const divider = bob.page.getByTestId('unread-divider')
  await expect(divider).toBeInViewport()
  await expect(message(bob.page, 'Backlog 1')).toBeInViewport()
  await expect(message(bob.page, 'Backlog 50')).toHaveCount(0)
  // One "Today" above today's first message, just above.
  await expect(bob.page.getByTestId('day-separator')).toHaveText(['Today'])
  // Read up to the last message shown: the badge shows the rest, the sender's newest is not read.
  await expect.poll(async () => Number(await badge.textContent())).toBeLessThan(50)
  const rest = Number(await badge.textContent())
  expect(rest).toBeGreaterThan(20)
  await expect(ticks(alice.page, 'Backlog 50')).not.toHaveAttribute('data-receipt', 'read')

  // Jump to the latest, with the count of what is below.
  const jump = bob.page.getByTestId('jump-to-latest')
  await expect(jump).toBeVisible()
  await expect(jump.getByTestId('jump-to-latest-count')).toHaveText(String(rest))
  await jump.click()
  await expect(message(bob.page, 'Backlog 50')).toBeInViewport()
  await expect(badge).toHaveCount(0)
  await expect(ticks(alice.page, 'Backlog 50')).toHaveAttribute('data-receipt', 'read')
  await expect(jump).toHaveCount(0)

  // Time: each time says its full date on keyboard focus.
  const row = bob.page.locator('.message-list__row', { has: message(bob.page, 'Backlog 50') })
  await row.focus()
  const full = row.getByTestId('message-time-full')
  await expect(full).toBeVisible()
  await expect(full).toHaveText(/\d{4}/)
  await expect(row.getByTestId('message-time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/)
})
