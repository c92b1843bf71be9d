/**
 * Fixtures: a fresh IM server process per test, and `account(name)`, which starts one profile (its
 * own folder and SQLite file) in the chosen host and returns its page:
 *  - headless (default): the headless host process + a Chromium browser context on its URL;
 *  - electron (IM_E2E_HOST=electron): the real app via `_electron.launch`, where a binary exists.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { _electron, expect, test as base, type Page } from '@playwright/test'
import { spawnForUrl, stop } from './processes'

const root = resolve(import.meta.dirname, '..')
const HOST = process.env.IM_E2E_HOST === 'electron' ? 'electron' : 'headless'
/** The renderer build the headless host serves: out/renderer unless IM_E2E_RENDERER names another. */
const RENDERER_ARGS = process.env.IM_E2E_RENDERER ? ['--renderer', process.env.IM_E2E_RENDERER] : []

function electronPath(): string | null {
  const dir = join(root, 'node_modules/electron')
  const pathFile = join(dir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8'))
  return existsSync(bin) ? bin : null
}

export interface Account {
  name: string
  page: Page
  profileDir: string
}

interface Fixtures {
  serverUrl: string
  account: (name: string, options?: { profileDir?: string }) => Promise<Account>
}

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern -- Playwright reads fixture dependencies from this pattern
  serverUrl: async ({}, use) => {
    const data = mkdtempSync(join(tmpdir(), 'im-e2e-server-'))
    const { child, url } = await spawnForUrl(
      ['src/server/cli.ts', '--port', '0', '--data', data],
      /ws:\/\/\S+/,
    )
    await use(url)
    await stop(child)
    rmSync(data, { recursive: true, force: true })
  },

  account: async ({ serverUrl, browser }, use, testInfo) => {
    testInfo.skip(
      HOST === 'electron' && !electronPath(),
      'IM_E2E_HOST=electron, but no Electron binary exists on this machine: the Electron run is skipped.',
    )
    const started: (() => Promise<void>)[] = []
    await use(async (name, options = {}) => {
      const profileDir = options.profileDir ?? mkdtempSync(join(tmpdir(), `im-e2e-${name}-`))
      if (HOST === 'electron') {
        const app = await _electron.launch({
          executablePath: electronPath() ?? undefined,
          args: [root, '--profile', profileDir, '--server', serverUrl],
        })
        started.push(() => app.close())
        const page = await app.firstWindow()
        return { name, page, profileDir }
      }
      const { child, url } = await spawnForUrl(
        [
          'src/main/hosts/headless/cli.ts',
          '--profile',
          profileDir,
          '--server',
          serverUrl,
          '--port',
          '0',
          ...RENDERER_ARGS,
        ],
        /http:\/\/\S+/,
      )
      const context = await browser.newContext({ locale: 'en-US' })
      started.push(async () => {
        await context.close()
        await stop(child)
        if (!options.profileDir) rmSync(profileDir, { recursive: true, force: true })
      })
      const page = await context.newPage()
      page.on('pageerror', (e) =>
        testInfo.annotations.push({ type: 'pageerror', description: `${name}: ${e.message}` }),
      )
      await page.goto(url)
      return { name, page, profileDir }
    })
    for (const s of started.reverse()) await s()
  },
})

export { expect }

/** Signs up through the form (and lands signed in). */
export async function signUp(page: Page, userId: string, password = `${userId}-password`): Promise<void> {
  await page.getByTestId('auth-mode-toggle').click()
  await page.getByTestId('user-id').fill(userId)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('auth-submit').click()
  await expect(page.getByTestId('current-user')).toContainText(userId)
  await expect(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected')
}

export async function signInForm(page: Page, userId: string, password = `${userId}-password`): Promise<void> {
  await page.getByTestId('user-id').fill(userId)
  await page.getByTestId('password').fill(password)
  await page.getByTestId('auth-submit').click()
  await expect(page.getByTestId('current-user')).toContainText(userId)
}

export function conversationItem(page: Page, key: string) {
  return page.locator(`[data-testid="conversation-item"][data-conversation="${key}"]`)
}

export async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text)
  await page.getByTestId('composer-input').press('Enter')
}

export function message(page: Page, text: string) {
  return page
    .getByTestId('message-item')
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) })
}

/** Opens (creating if new) the single chat with `userId` through the "New chat" dialog. */
export async function openChatWith(page: Page, userId: string): Promise<void> {
  await page.getByTestId('new-chat-button').click()
  await page.getByTestId('new-chat-user-id').fill(userId)
  await page.getByTestId('new-chat-submit').click()
  await expect(page.getByTestId('chat-title')).toHaveText(userId)
}

export async function createGroup(page: Page, name: string, members: string[]): Promise<void> {
  await page.getByTestId('new-group-button').click()
  await page.getByTestId('new-group-name').fill(name)
  await page.getByTestId('new-group-members').fill(members.join(', '))
  await page.getByTestId('new-group-submit').click()
  await expect(page.getByTestId('chat-title')).toHaveText(name)
}

/** The conversation list entry whose title is `title` (a group's name, a peer's name). */
export function conversationTitled(page: Page, title: string) {
  return page
    .getByTestId('conversation-item')
    .filter({ has: page.getByTestId('conversation-title').getByText(title, { exact: true }) })
}

/** Sets the account's switches in Settings (each one checked or unchecked), then closes the dialog. */
export async function setSettings(page: Page, switches: Record<string, boolean>): Promise<void> {
  await page.getByTestId('settings-button').click()
  for (const [testId, on] of Object.entries(switches)) {
    await page.getByTestId(testId).setChecked(on)
    await expect(page.getByTestId(testId)).toBeChecked({ checked: on })
  }
  await page.getByTestId('settings-close').click()
}
