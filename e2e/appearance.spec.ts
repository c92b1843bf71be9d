import type { Page } from '@playwright/test'
import { expect, signUp, test } from './fixtures'

// --color-bg of styles/main.css in each theme.
const LIGHT_BG = 'rgb(244, 245, 247)'
const DARK_BG = 'rgb(20, 23, 28)'

const body = (page: Page) => page.locator('body')

async function chooseTheme(page: Page, theme: 'system' | 'light' | 'dark'): Promise<void> {
  await page.getByTestId('settings-button').click()
  await page.getByTestId('theme-select').selectOption(theme)
  await page.getByTestId('settings-close').click()
}

test('Settings → Theme: a chosen theme wins over the system’s, at once and after a restart; System follows it again', async ({
  account,
}) => {
  const alice = await account('alice')
  await signUp(alice.page, 'alice')
  await alice.page.emulateMedia({ colorScheme: 'light' })
  await expect(body(alice.page)).toHaveCSS('background-color', LIGHT_BG)

  await chooseTheme(alice.page, 'dark')
  await expect(body(alice.page)).toHaveCSS('background-color', DARK_BG)
  await alice.page.reload()
  await expect(alice.page.getByTestId('current-user')).toContainText('alice')
  await expect(body(alice.page)).toHaveCSS('background-color', DARK_BG)

  await chooseTheme(alice.page, 'system')
  await expect(body(alice.page)).toHaveCSS('background-color', LIGHT_BG)
  await alice.page.emulateMedia({ colorScheme: 'dark' })
  await expect(body(alice.page)).toHaveCSS('background-color', DARK_BG)
  await chooseTheme(alice.page, 'light')
  await expect(body(alice.page)).toHaveCSS('background-color', LIGHT_BG)
})
