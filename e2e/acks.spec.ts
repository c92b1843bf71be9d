/**
 * Issue 15 through the real UI: a message that must be acknowledged, reminders that chase only
 * who has not (and close on every device of whoever acknowledges), "Waiting for me" with its
 * badge, undo, the sender's panel; and a mention that notifies in a muted group and whose dot fills
 * when the mentioned member reads. Alice, Bob (a laptop and a phone) and Carol, each a profile.
 */
import AxeBuilder from '@axe-core/playwright'
import type { Page } from '@playwright/test'
import {
  conversationTitled,
  createGroup,
  expect,
  message,
  openChatWith,
  send,
  signInForm,
  signUp,
  test,
  type Account,
} from './fixtures'

interface Shown {
  title: string
  body: string
  closed: boolean
  /** When the page closed it (Date.now()), for the figure below. */
  closedAt?: number
}

/** The page's window as these tests use it (the e2e project has no DOM types). */
interface PageWindow {
  shownNotifications?: Shown[]
}

/**
 * The browser's Notification API, recorded (headless Chromium shows nothing a test could see):
 * what the page showed, and whether it closed it again.
 */
async function recordNotifications(account: Account): Promise<void> {
  await account.page.addInitScript(() => {
    const page = globalThis as unknown as PageWindow
    const shown: Shown[] = []
    page.shownNotifications = shown
    class RecordedNotification {
      static permission = 'granted'
      static requestPermission = () => Promise.resolve('granted')
      onclick: (() => void) | null = null
      onclose: (() => void) | null = null
      private readonly record: Shown
      constructor(title: string, options: { body?: string } = {}) {
        this.record = { title, body: options.body ?? '', closed: false }
        shown.push(this.record)
      }
      close(): void {
        this.record.closed = true
        this.record.closedAt = Date.now()
        this.onclose?.()
      }
    }
    Object.defineProperty(page, 'Notification', { value: RecordedNotification, configurable: true })
  })
  await account.page.reload()
}

const shown = (page: Page) =>
  page.evaluate(() => ((globalThis as unknown as PageWindow).shownNotifications ?? []).map((n) => ({ ...n })))

/** Reminders shown on this page: title, body and whether still open. */
const reminders = async (page: Page) =>
  (await shown(page))
    .filter((n) => n.title.endsWith('reminds you to acknowledge'))
    .map(({ title, body, closed }) => ({ title, body, closed }))

async function openGroup(account: Account, name: string): Promise<void> {
  await conversationTitled(account.page, name).click()
  await expect(account.page.getByTestId('chat-title')).toHaveText(name)
}

/** axe on the page as it is, light and dark: no serious or critical violation (WCAG 2.2 AA). */
async function expectAccessible(page: Page, screen: string): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme })
    const results = await new AxeBuilder({ page })
      .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
      .analyze()
    const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    expect(
      serious.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
      `axe on "${screen}" (${colorScheme})`,
    ).toEqual([])
  }
  await page.emulateMedia({ colorScheme: null })
}

const TEXT = 'Sign off the release notes'

test('alice asks for acknowledgements and reminds; bob acks on his laptop and his phone follows; carol waits; undo works', async ({
  account,
}) => {
  // Four profiles, and axe on three screens in two schemes: more than the default minute.
  test.slow()
  const alice = await account('alice')
  const bob = await account('bob')
  const phone = await account('bob-phone')
  const carol = await account('carol')
  for (const a of [bob, phone, carol]) await recordNotifications(a)
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await signInForm(phone.page, 'bob')
  await signUp(carol.page, 'carol')
  await createGroup(alice.page, 'Release', ['bob', 'carol'])

  // Alice asks: the toggle is said in words and goes off again once the message is sent.
  const toggle = alice.page.getByTestId('composer-need-ack')
  await toggle.click()
  await expect(toggle).toHaveAttribute('aria-pressed', 'true')
  await send(alice.page, TEXT)
  await expect(toggle).toHaveAttribute('aria-pressed', 'false')
  const count = message(alice.page, TEXT).getByTestId('message-acks')
  await expect(count).toHaveText('0 of 2 acknowledged')

  // Both wait for it: the badge counts it on every device, before anyone opens the group.
  for (const page of [bob.page, phone.page, carol.page])
    await expect(page.getByTestId('waiting-for-me-badge')).toHaveText('1')

  // Alice reminds everyone who has not acknowledged.
  await count.click()
  await expect(alice.page.getByTestId('acks-summary')).toContainText('0 of 2 acknowledged')
  await alice.page.getByTestId('acks-remind').click()
  await expect(alice.page.getByTestId('acks-remind-result')).toHaveText('Reminded 2 people.')
  await expectAccessible(alice.page, 'acknowledgement panel')
  await alice.page.keyboard.press('Escape')

  // A notification on each of Bob's devices and on Carol's, saying who and what.
  for (const page of [bob.page, phone.page, carol.page])
    await expect
      .poll(() => reminders(page))
      .toEqual([{ title: 'alice reminds you to acknowledge', body: TEXT, closed: false }])

  // Carol finds it in "Waiting for me", one click from the sidebar.
  await carol.page.getByTestId('waiting-for-me').click()
  await expect(carol.page.getByTestId('pending-ack-item')).toHaveCount(1)
  await expect(carol.page.getByTestId('pending-ack-item')).toContainText(TEXT)
  await expect(carol.page.getByTestId('pending-ack-item')).toContainText('Release')
  await expectAccessible(carol.page, 'Waiting for me')
  await carol.page.getByTestId('pending-acks-close').click()

  // Bob acknowledges on his laptop; his phone's reminder closes and its list empties.
  await openGroup(bob, 'Release')
  await expect(message(bob.page, TEXT).getByTestId('ack-button')).toBeVisible()
  await expectAccessible(bob.page, 'a message asking for an acknowledgement')
  const ackedAt = Date.now()
  await message(bob.page, TEXT).getByTestId('ack-button').click()
  await expect(message(bob.page, TEXT).getByTestId('ack-done')).toHaveText('Acknowledged')
  await expect.poll(async () => (await reminders(phone.page)).map((n) => n.closed)).toEqual([true])
  // A figure, not a timed assertion: from the click on the laptop to the phone closing its reminder.
  const closedAt = (await shown(phone.page)).find((n) => n.closedAt !== undefined)?.closedAt ?? NaN
  test.info().annotations.push({
    type: 'ack to closed reminder on the other device',
    description: `${closedAt - ackedAt} ms`,
  })
  await expect(phone.page.getByTestId('waiting-for-me-badge')).toHaveCount(0)
  await phone.page.getByTestId('waiting-for-me').click()
  await expect(phone.page.getByTestId('pending-acks-empty')).toBeVisible()
  await phone.page.getByTestId('pending-acks-close').click()
  await expect(count).toHaveText('1 of 2 acknowledged')
  await expect(carol.page.getByTestId('waiting-for-me-badge')).toHaveText('1')

  // Alice's panel: Bob acknowledged (he read it too); Carol has not read it.
  await count.click()
  await expect(alice.page.getByTestId('acks-tab-acked')).toHaveText('Acknowledged (1)')
  await expect(alice.page.locator('[data-testid="acks-panel-acked"] [data-user-id="bob"]')).toBeVisible()
  await alice.page.getByTestId('acks-tab-notRead').click()
  await expect(alice.page.getByTestId('acks-tab-notRead')).toHaveText('Not read (1)')
  await expect(alice.page.locator('[data-testid="acks-panel-notRead"] [data-user-id="carol"]')).toBeVisible()
  await expect(alice.page.getByTestId('acks-tab-readNotAcked')).toHaveText('Read, not acknowledged (0)')

  // Bob takes it back within the window: counts and his phone follow; then he acknowledges again.
  await message(bob.page, TEXT).getByTestId('ack-undo').click()
  await expect(message(bob.page, TEXT).getByTestId('ack-button')).toBeVisible()
  await expect(count).toHaveText('0 of 2 acknowledged')
  await expect(alice.page.getByTestId('acks-tab-acked')).toHaveText('Acknowledged (0)')
  await expect(phone.page.getByTestId('waiting-for-me-badge')).toHaveText('1')
  await message(bob.page, TEXT).getByTestId('ack-button').click()
  await expect(count).toHaveText('1 of 2 acknowledged')
  await expect(phone.page.getByTestId('waiting-for-me-badge')).toHaveCount(0)
})

test('a mention notifies carol in a muted group, and alice’s dot for her fills once she reads it', async ({
  account,
}) => {
  const [alice, bob, carol] = [await account('alice'), await account('bob'), await account('carol')]
  await recordNotifications(carol)
  for (const a of [alice, bob, carol]) await signUp(a.page, a.name)
  await createGroup(alice.page, 'Design', ['bob', 'carol'])
  await send(alice.page, 'Welcome to Design')
  await expect(conversationTitled(carol.page, 'Design')).toBeVisible()
  await openGroup(carol, 'Design')
  await carol.page.getByTestId('mute-toggle').click()
  await expect(carol.page.getByTestId('mute-toggle')).toHaveAttribute('aria-pressed', 'true')
  // Carol looks at another chat meanwhile.
  await openChatWith(carol.page, 'bob')
  const before = (await shown(carol.page)).length

  // An ordinary message in the muted group: no notification.
  await send(alice.page, 'Coffee is ready')
  await expect(conversationTitled(carol.page, 'Design').getByTestId('unread-badge')).toHaveText('1')

  // "@ca" offers Carol; Enter inserts her name; the message goes with her mention.
  const box = alice.page.getByTestId('composer-input')
  await box.fill('')
  await box.pressSequentially('@ca')
  await expect(alice.page.getByTestId('mention-option')).toHaveCount(1)
  await expect(box).toHaveAttribute(
    'aria-activedescendant',
    (await alice.page.getByTestId('mention-option').getAttribute('id')) ?? '',
  )
  await expectAccessible(alice.page, 'mention suggestions')
  await box.press('Enter')
  await expect(box).toHaveValue('@carol ')
  await box.pressSequentially('please review the mockups')
  await box.press('Enter')
  const sent = message(alice.page, '@carol please review the mockups')
  await expect(sent.getByTestId('mention-dot')).toHaveAttribute('data-state', 'unread')
  await expect(sent.getByTestId('mention-dot')).toHaveAttribute('aria-label', 'carol has not read it yet')

  // Muted, but a mention of her: notified (the ordinary message before it was not).
  await expect
    .poll(async () => (await shown(carol.page)).slice(before).map((n) => n.body))
    .toEqual(['@carol please review the mockups'])

  // Carol opens the group: the dot fills.
  await openGroup(carol, 'Design')
  await expect(sent.getByTestId('mention-dot')).toHaveAttribute('data-state', 'read')
  await expect(sent.getByTestId('mention-dot')).toHaveAttribute('aria-label', 'carol read it')

  // The composer's toggles fit a narrow window: no sideways scroll, each still named.
  await alice.page.setViewportSize({ width: 720, height: 800 })
  await expect(alice.page.getByTestId('composer-need-ack')).toBeInViewport()
  await expect(alice.page.getByTestId('composer-need-ack')).toHaveAccessibleName(/Needs acknowledgement/)
  const width = await alice.page
    .locator('html')
    .evaluate((html) => ({ scroll: html.scrollWidth, client: html.clientWidth }))
  expect(width.scroll).toBeLessThanOrEqual(width.client)
})
