/**
 * Issue 16 in a real browser: the web SDK's example page (npm run web-example, which here also
 * starts the IM server, allowing the page's origin) and a desktop account (the headless host) in the
 * same group. The desktop account asks for read receipts; the web page answers from its R7 cache
 * with sendReadReceiptResponseV2 and no messageList; the desktop's count rises. The page is
 * reloaded and still knows what it answered (IndexedDB); a 31st request pushes the oldest out.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { createGroup, expect, message, send, signUp, test as base } from './fixtures'
import { spawnForUrl, stop } from './processes'

interface WebExample {
  url: string
  serverUrl: string
}

const test = base.extend<{ webExample: WebExample }>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture dependencies from this pattern
  webExample: async ({}, use) => {
    const data = mkdtempSync(join(tmpdir(), 'im-e2e-web-'))
    const { child, url: line } = await spawnForUrl(
      ['scripts/web-example.ts', '--port', '0', '--data', data],
      /web example at \S+ for the IM server at ws:\S+\/ws/,
    )
    const [, url = '', serverUrl = ''] = /at (\S+) for the IM server at (\S+)/.exec(line) ?? []
    await use({ url, serverUrl })
    await stop(child)
    rmSync(data, { recursive: true, force: true })
  },
  // The desktop accounts use the example's server.
  serverUrl: async ({ webExample }, use) => use(webExample.serverUrl),
})

const reads = (page: Page, text: string) => message(page, text).getByTestId('message-group-reads')
const requestAbout = (page: Page, text: string) =>
  page.locator('[data-testid="receipt-request"]', { hasText: `“${text}”` })

async function openSupport(web: Page): Promise<void> {
  await expect(web.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected')
  await web.locator('[data-testid="group-item"]', { hasText: 'Support' }).click()
  await expect(web.getByTestId('group-title')).toHaveText('Support')
}

test('the web page answers the desktop’s receipt requests from its cache, across a reload; the 31st evicts the oldest', async ({
  account,
  webExample,
  page: web,
}) => {
  test.setTimeout(240_000)
  const alice = await account('alice')
  await signUp(alice.page, 'alice')

  // The page logs nothing wrong: no script error, no CSP violation (zod runs without eval).
  const problems: string[] = []
  web.on('pageerror', (e) => problems.push(e.message))
  web.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text())
  })
  await web.goto(webExample.url)
  await web.getByTestId('user-id').fill('bob')
  await web.getByTestId('password').fill('bob-password')
  await web.getByTestId('register').click()
  await expect(web.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected')
  await expect(web.getByTestId('current-user')).toHaveText('as bob')

  await createGroup(alice.page, 'Support', ['bob'])
  await openSupport(web)
  await send(alice.page, 'Ticket 1')
  await expect(web.getByTestId('message').filter({ hasText: 'alice: Ticket 1' })).toBeVisible()
  await message(alice.page, 'Ticket 1').getByTestId('request-receipts').click()

  await expect(requestAbout(web, 'Ticket 1')).toHaveAttribute('data-answered', 'false')
  await expect(requestAbout(web, 'Ticket 1')).toContainText('alice asks who read')
  await expect(reads(alice.page, 'Ticket 1')).toHaveText('0 of 1 read')
  await web.getByTestId('answer-requests').click()
  await expect(web.getByTestId('answer-result')).toHaveText('Answered 1 request.')
  // Bob is the group's only other member: one reader of one is everyone.
  await expect(reads(alice.page, 'Ticket 1')).toHaveText('Read by everyone')
  await expect(requestAbout(web, 'Ticket 1')).toHaveAttribute('data-answered', 'true')

  // A reload: the tab signs in again and the cache (IndexedDB) still knows the request was answered.
  await web.reload()
  await openSupport(web)
  await expect(requestAbout(web, 'Ticket 1')).toHaveAttribute('data-answered', 'true')
  await web.getByTestId('answer-requests').click()
  await expect(web.getByTestId('answer-result')).toHaveText('Nothing left to answer.')

  // Thirty more requests: the cache keeps the latest 30 by request time, so Ticket 1's goes.
  for (let n = 2; n <= 31; n++) {
    await send(alice.page, `Ticket ${n}`)
    await message(alice.page, `Ticket ${n}`).getByTestId('request-receipts').click()
    await expect(requestAbout(web, `Ticket ${n}`)).toHaveAttribute('data-answered', 'false')
  }
  await expect(web.getByTestId('receipt-request')).toHaveCount(30)
  await expect(requestAbout(web, 'Ticket 1')).toHaveCount(0)
  await expect(requestAbout(web, 'Ticket 2')).toHaveCount(1)
  await web.getByTestId('answer-requests').click()
  await expect(web.getByTestId('answer-result')).toHaveText('Answered 30 requests.')
  await expect(reads(alice.page, 'Ticket 31')).toHaveText('Read by everyone')
  await expect(reads(alice.page, 'Ticket 30')).toHaveText('Read by everyone')
  await expect(web.locator('[data-testid="receipt-request"][data-answered="true"]')).toHaveCount(30)
  expect(problems).toEqual([])
})
