/**
 * Files and images (issue 13, H3) through the real UI: the attach button, paste and drag and drop;
 * the peer downloads with progress; an image opens larger; a file message gets its ticks like text.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Page } from '@playwright/test'
import { conversationItem, expect, openChatWith, signUp, test } from './fixtures'

/** The message row that carries the attachment named `name`. */
function attachment(page: Page, name: string) {
  return page
    .getByTestId('message-item')
    .filter({ has: page.getByTestId('attachment-name').getByText(name, { exact: true }) })
}

let downloads: string
test.beforeEach(() => {
  // The hosts spawned by this test save downloads here (IM_DOWNLOADS_DIR), not in ~/Downloads.
  downloads = mkdtempSync(join(tmpdir(), 'im-e2e-downloads-'))
  process.env.IM_DOWNLOADS_DIR = downloads
})
test.afterEach(() => {
  rmSync(downloads, { recursive: true, force: true })
  delete process.env.IM_DOWNLOADS_DIR
})

test('a file sent with the attach button is downloaded by the peer, and reaches read', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(alice.page, 'bob')
  const body = Buffer.from('Quarterly numbers\n'.repeat(4000))
  await alice.page.getByTestId('composer-file-input').setInputFiles({
    name: 'report.txt',
    mimeType: 'text/plain',
    buffer: body,
  })
  const mine = attachment(alice.page, 'report.txt')
  await expect(mine.getByTestId('attachment-size')).toHaveText('70.3 KB')
  await expect(mine.getByTestId('message-ticks')).toHaveAttribute('data-receipt', 'delivered')

  await conversationItem(bob.page, 'private:alice').click()
  const theirs = attachment(bob.page, 'report.txt')
  await expect(theirs).toBeVisible()
  await expect(bob.page.getByTestId('conversation-item').first()).toContainText('File: report.txt')
  // Bob saw it: a file message is read like any other.
  await expect(mine.getByTestId('message-ticks')).toHaveAttribute('data-receipt', 'read')

  await theirs.getByTestId('attachment-download').click()
  await expect(theirs.getByTestId('attachment-saved')).toHaveText(/Saved to Downloads as report\.txt\./)
  expect(readFileSync(join(downloads, 'report.txt')).equals(body)).toBe(true)
  // Again: a second copy with a name of its own, never over the first.
  await theirs.getByTestId('attachment-download').click()
  await expect(theirs.getByTestId('attachment-saved')).toContainText('report (1).txt')
  expect(
    readdirSync(downloads)
      .filter((n) => !n.startsWith('.'))
      .sort(),
  ).toEqual(['report (1).txt', 'report.txt'])
})

test('a pasted image goes as an image with its thumbnail, which opens larger', async ({ account }) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(alice.page, 'bob')
  // A screenshot on the clipboard: an orange 400×300 PNG, pasted into the composer. (Page code
  // as text: this file is type-checked for Node, without the DOM's types.)
  await alice.page.evaluate(`(async () => {
    const canvas = document.createElement('canvas')
    canvas.width = 400
    canvas.height = 300
    const context = canvas.getContext('2d')
    context.fillStyle = '#e67e22'
    context.fillRect(0, 0, 400, 300)
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'))
    const data = new DataTransfer()
    data.items.add(new File([blob], 'image.png', { type: 'image/png' }))
    const input = document.querySelector('[data-testid="composer-input"]')
    input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
  })()`)
  // Nothing was typed into the box by the paste.
  await expect(alice.page.getByTestId('composer-input')).toHaveValue('')

  await conversationItem(bob.page, 'private:alice').click()
  const image = bob.page
    .getByTestId('attachment')
    .filter({ has: bob.page.getByTestId('attachment-thumbnail') })
  await expect(image).toHaveAttribute('data-kind', 'image')
  await expect(image.getByRole('img')).toHaveAttribute('src', /^data:image\/jpeg;base64,/)
  await expect(image.getByTestId('attachment-name')).toHaveText(/^pasted-\d{8}-\d{6}\.png$/)
  await image.getByTestId('attachment-thumbnail').click()
  const viewer = bob.page.getByTestId('image-viewer')
  await expect(viewer).toContainText('400 × 300 pixels')
  // The preview until the picture is downloaded here; then the whole picture.
  await expect(viewer).toHaveAttribute('data-full', 'false')
  await bob.page.getByTestId('image-viewer-download').click()
  await expect(viewer).toHaveAttribute('data-full', 'true')
  await expect(viewer.getByRole('img')).toHaveAttribute('src', /^data:image\/png;base64,iVBORw0KGgo/)
  await bob.page.keyboard.press('Escape')
  await expect(viewer).toHaveCount(0)
  await expect(image.getByTestId('attachment-thumbnail')).toBeFocused()
})

test('files dropped on the chat are sent; the drop zone says so while they are held over it', async ({
  account,
}) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await openChatWith(alice.page, 'bob')
  const data = await alice.page.evaluateHandle(`(() => {
    const transfer = new DataTransfer()
    transfer.items.add(new File(['first'], 'one.txt', { type: 'text/plain' }))
    transfer.items.add(new File(['second file'], 'two.md', { type: 'text/markdown' }))
    return transfer
  })()`)
  const chat = alice.page.locator('main.chat__main')
  await chat.dispatchEvent('dragenter', { dataTransfer: data })
  await expect(alice.page.getByTestId('drop-overlay')).toHaveText('Drop files to send them')
  await chat.dispatchEvent('drop', { dataTransfer: data })
  await expect(alice.page.getByTestId('drop-overlay')).toHaveCount(0)
  await expect(attachment(alice.page, 'one.txt')).toBeVisible()
  await expect(attachment(alice.page, 'two.md')).toBeVisible()

  await conversationItem(bob.page, 'private:alice').click()
  await expect(attachment(bob.page, 'two.md').getByTestId('attachment-size')).toHaveText('11 B')
})

test('the file controls speak Chinese too', async ({ account }) => {
  const [alice, bob] = [await account('alice'), await account('bob')]
  await signUp(alice.page, 'alice')
  await signUp(bob.page, 'bob')
  await alice.page.evaluate("localStorage.setItem('messenger.locale', 'zh-CN')")
  await alice.page.reload()
  await openChatWith(alice.page, 'bob')
  await expect(alice.page.getByTestId('composer-attach')).toHaveAttribute('aria-label', '添加文件')
  await alice.page.getByTestId('composer-file-input').setInputFiles({
    name: '合同.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.4'),
  })
  await expect(attachment(alice.page, '合同.pdf').getByTestId('attachment-download')).toContainText('下载')
  await conversationItem(bob.page, 'private:alice').click()
  await expect(attachment(bob.page, '合同.pdf')).toBeVisible()
})
