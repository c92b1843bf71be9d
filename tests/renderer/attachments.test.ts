// @vitest-environment happy-dom
/**
 * Files and images in the page (issue 13, H3): a file message downloads with progress and says where
 * it went (and offers Open where the host can); an image opens larger; the uploads on their way show
 * progress with Cancel, a refused one its reason with Retry. In English and Chinese.
 */
import { flushPromises } from '@vue/test-utils'
import { beforeEach, describe, expect, it } from 'vitest'
import { Code, fail, ok } from '../../src/shared/codes'
import type { UploadView } from '../../src/shared/ipc'
import MessageBubble from '@renderer/components/MessageBubble.vue'
import PendingUploads from '@renderer/components/PendingUploads.vue'
import { formatBytes } from '@renderer/lib/attachments'
import { installFakeIm, type FakeIm } from './fakeIm'
import { makeMessage } from './fixtures'
import { createTestApp } from './mountHelpers'

let im: FakeIm
beforeEach(() => {
  im = installFakeIm()
  document.body.innerHTML = ''
})

const fileMessage = () =>
  makeMessage({
    content: {
      type: 'file',
      fileId: 'f_AAAAAAAAAAAAAAAAAAAAAA',
      name: 'report.pdf',
      size: 1_572_864,
      mime: 'application/pdf',
    },
  })

describe('a file message', () => {
  it('downloads with progress, then says where the file went', async () => {
    const message = fileMessage()
    const release = im.hold('downloadFile')
    im.respond('downloadFile', (messageId) =>
      ok({ messageId, path: '/home/me/Downloads/report.pdf', fileName: 'report.pdf', size: 1_572_864 }),
    )
    const wrapper = createTestApp('en').mount(MessageBubble, { message, isGroup: false })
    await flushPromises()
    expect(wrapper.get('[data-testid="attachment-name"]').text()).toBe('report.pdf')
    expect(wrapper.get('[data-testid="attachment-size"]').text()).toBe('1.5 MB')
    await wrapper.get('[data-testid="attachment-download"]').trigger('click')
    expect(im.calls.filter((c) => c.name === 'downloadFile').map((c) => c.args)).toEqual([
      [message.messageId],
    ])
    im.emit('transferProgress', { kind: 'download', id: message.messageId, done: 786_432, total: 1_572_864 })
    await flushPromises()
    const bar = wrapper.get('[data-testid="attachment-download-progress"] progress')
    expect(bar.attributes('value')).toBe('50')
    expect(bar.attributes('aria-label')).toBe('Downloading report.pdf')
    release()
    await flushPromises()
    expect(wrapper.get('[data-testid="attachment-saved"]').text()).toContain(
      'Saved to Downloads as report.pdf.',
    )
    // The headless host cannot open files: no Open button that would fail.
    expect(wrapper.find('[data-testid="attachment-open"]').exists()).toBe(false)
  })

  it('offers Open and Show in folder where the host can, and says why a download failed', async () => {
    im.respond('getAppInfo', () =>
      ok({ version: '1', host: 'electron', profile: 'p', defaultServerUrl: 'ws://x/ws', canOpenFiles: true }),
    )
    im.respond('downloadFile', () => fail(Code.FILE_NOT_FOUND, 'raw engine text'))
    const message = fileMessage()
    const wrapper = createTestApp('zh-CN').mount(MessageBubble, { message, isGroup: false })
    await flushPromises()
    expect(wrapper.get('[data-testid="attachment-download"]').text()).toBe('下载')
    await wrapper.get('[data-testid="attachment-download"]').trigger('click')
    await flushPromises()
    const error = wrapper.get('[data-testid="attachment-error"]').text()
    expect(error).toBe('该文件不存在，或你无权查看。')

    im.respond('downloadFile', (messageId) =>
      ok({ messageId, path: '/d/report.pdf', fileName: 'report.pdf', size: 1 }),
    )
    await wrapper.get('[data-testid="attachment-download"]').trigger('click')
    await flushPromises()
    await wrapper.get('[data-testid="attachment-reveal"]').trigger('click')
    expect(im.calls.filter((c) => c.name === 'openDownload').map((c) => c.args)).toEqual([
      [message.messageId, 'reveal'],
    ])
  })

  it('shows an image as its thumbnail, which opens larger', async () => {
    const thumbnail = 'data:image/jpeg;base64,AAAA'
    const message = makeMessage({
      content: {
        type: 'image',
        fileId: 'f_BBBBBBBBBBBBBBBBBBBBBB',
        name: 'cat.jpg',
        size: 2048,
        mime: 'image/jpeg',
        width: 800,
        height: 600,
        thumbnail,
      },
    })
    const wrapper = createTestApp('en').mount(MessageBubble, { message, isGroup: false })
    const button = wrapper.get('[data-testid="attachment-thumbnail"]')
    expect(button.attributes('aria-label')).toBe('Open image cat.jpg')
    expect(button.get('img').attributes()).toMatchObject({ src: thumbnail, alt: 'cat.jpg' })
    im.respond('downloadFile', (messageId) =>
      ok({ messageId, path: '/d/cat.jpg', fileName: 'cat.jpg', size: 2048 }),
    )
    im.respond('getImageData', () => ok('data:image/jpeg;base64,FULL'))
    await button.trigger('click')
    await flushPromises()
    const viewer = () => document.querySelector<HTMLElement>('[data-testid="image-viewer"]')
    expect(viewer()?.textContent).toContain('800 × 600 pixels, 2 KB')
    // Not downloaded yet: the preview, and a way to the whole picture.
    expect(viewer()?.dataset.full).toBe('false')
    document.querySelector<HTMLButtonElement>('[data-testid="image-viewer-download"]')?.click()
    await flushPromises()
    expect(viewer()?.dataset.full).toBe('true')
    expect(viewer()?.querySelector('img')?.getAttribute('src')).toBe('data:image/jpeg;base64,FULL')
  })
})

describe('uploads on their way', () => {
  const chat = { type: 'private' as const, targetId: 'bob' }
  const upload = (over: Partial<UploadView> = {}): UploadView => ({
    uploadId: 7,
    conversation: chat,
    name: 'video.mp4',
    size: 1000,
    mime: 'video/mp4',
    kind: 'file',
    sent: 0,
    state: 'uploading',
    ...over,
  })

  it('shows progress with Cancel, and a refused one with its reason and Retry', async () => {
    im.respond('getUploads', () =>
      ok([upload(), upload({ uploadId: 8, conversation: { type: 'private', targetId: 'carol' } })]),
    )
    const wrapper = createTestApp('en').mount(PendingUploads, { conversation: chat })
    await flushPromises()
    // Only this chat's.
    expect(wrapper.findAll('[data-testid="upload-item"]')).toHaveLength(1)
    im.emit('transferProgress', { kind: 'upload', id: '7', done: 250, total: 1000 })
    await flushPromises()
    expect(wrapper.get('[data-testid="upload-progress"]').attributes('value')).toBe('25')
    await wrapper.get('[data-testid="upload-cancel"]').trigger('click')
    expect(im.calls.filter((c) => c.name === 'cancelUpload').map((c) => c.args)).toEqual([[7]])

    im.emit('uploadsChanged', [
      upload({ state: 'failed', failure: { code: Code.FILE_TOO_LARGE, msg: 'raw' } }),
    ])
    await flushPromises()
    expect(wrapper.get('[data-testid="upload-failure"]').text()).toBe(
      'The file is larger than this server accepts.',
    )
    await wrapper.get('[data-testid="upload-retry"]').trigger('click')
    expect(im.calls.filter((c) => c.name === 'retryUpload').map((c) => c.args)).toEqual([[7, false]])
    expect(wrapper.get('[data-testid="upload-cancel"]').attributes('aria-label')).toBe('Remove video.mp4')

    // An image too large for images goes again as a file.
    im.emit('uploadsChanged', [
      upload({ kind: 'image', state: 'failed', failure: { code: Code.IMAGE_TOO_LARGE, msg: 'raw' } }),
    ])
    await flushPromises()
    await wrapper.get('[data-testid="upload-as-file"]').trigger('click')
    expect(im.calls.filter((c) => c.name === 'retryUpload').map((c) => c.args)).toEqual([
      [7, false],
      [7, true],
    ])

    im.emit('uploadsChanged', [])
    await flushPromises()
    expect(wrapper.find('[data-testid="upload-item"]').exists()).toBe(false)
  })
})

describe('formatBytes', () => {
  it('says sizes as file managers do, in the UI locale', () => {
    expect(formatBytes(0, 'en')).toBe('0 B')
    expect(formatBytes(1023, 'en')).toBe('1,023 B')
    expect(formatBytes(1536, 'en')).toBe('1.5 KB')
    expect(formatBytes(250 * 1024 * 1024, 'en')).toBe('250 MB')
    expect(formatBytes(3 * 1024 ** 3, 'zh-CN')).toBe('3 GB')
  })
})
