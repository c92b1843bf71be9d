/**
 * Files and images (issue 13, H3): the uploads not yet sent, the bytes moved by each transfer, and
 * the downloads of this session. A copy of the engine's state like the other stores: loaded once,
 * then kept by `uploadsChanged` and `transferProgress`. It starts with the first component that
 * shows a transfer, so the app shell needs no wiring for it.
 */
import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { DownloadView, TransferProgress, UploadView } from '../../../shared/ipc'
import { conversationKey, type Conversation } from '../../../shared/model'
import { describeImage, pastedName } from '../lib/attachments'
import { callIm, toUiError, type UiError } from '../lib/im'

export interface DownloadState {
  busy: boolean
  done?: DownloadView
  error?: UiError
}

export const useTransfersStore = defineStore('transfers', () => {
  const uploads = ref<UploadView[]>([])
  /** Bytes moved, by `upload:<id>` or `download:<messageId>`. */
  const progress = reactive(new Map<string, number>())
  const downloads = reactive(new Map<string, DownloadState>())
  const canOpenFiles = ref(false)
  /** The last refusal of a send, per conversation key, until the next send there or a dismiss. */
  const sendErrors = reactive(new Map<string, UiError>())
  let started = false

  function start(): void {
    if (started) return
    started = true
    window.im.on('uploadsChanged', (list) => {
      uploads.value = list
    })
    window.im.on('transferProgress', (p: TransferProgress) => progress.set(`${p.kind}:${p.id}`, p.done))
    window.im.on('sessionEnded', () => {
      uploads.value = []
      progress.clear()
      downloads.clear()
    })
    void callIm(() => window.im.getUploads()).then((res) => {
      if (res.code === 0) uploads.value = res.data
    })
    void callIm(() => window.im.getAppInfo()).then((res) => {
      if (res.code === 0) canOpenFiles.value = res.data.canOpenFiles === true
    })
  }

  function uploadsOf(conversation: Conversation): UploadView[] {
    const key = conversationKey(conversation)
    return uploads.value.filter((u) => conversationKey(u.conversation) === key)
  }

  function uploaded(upload: UploadView): number {
    return Math.max(upload.sent, progress.get(`upload:${upload.uploadId}`) ?? 0)
  }

  /**
   * Sends each file: images the page can decode go as images with a thumbnail, anything else as a
   * file. Resolves with the first refusal (in the order given), or null.
   */
  async function send(
    conversation: Conversation,
    files: readonly File[],
    options: { pasted?: boolean; isNeedGroupAck?: boolean } = {},
  ): Promise<UiError | null> {
    const key = conversationKey(conversation)
    sendErrors.delete(key)
    let failure: UiError | null = null
    for (const file of files) {
      const image = await describeImage(file)
      const name =
        options.pasted && image ? pastedName(file, new Date()) : file.name || pastedName(file, new Date())
      const res = await callIm(() =>
        window.im.sendFile(
          conversation,
          file,
          { name, mime: file.type || 'application/octet-stream', ...(image ? { image } : {}) },
          { isNeedGroupAck: options.isNeedGroupAck ?? false },
        ),
      )
      if (res.code !== 0) failure ??= toUiError(res)
    }
    if (failure) sendErrors.set(key, failure)
    return failure
  }

  async function cancel(uploadId: number): Promise<void> {
    await callIm(() => window.im.cancelUpload(uploadId))
  }

  async function retry(uploadId: number, asFile = false): Promise<void> {
    await callIm(() => window.im.retryUpload(uploadId, asFile))
  }

  function downloadState(messageId: string): DownloadState | undefined {
    return downloads.get(messageId)
  }

  /** What this device downloaded before (kept by the engine), once per message shown. */
  async function loadDownload(messageId: string): Promise<void> {
    if (downloads.has(messageId)) return
    const res = await callIm(() => window.im.getDownload(messageId))
    if (res.code === 0 && res.data && !downloads.has(messageId))
      downloads.set(messageId, { busy: false, done: res.data })
  }

  async function download(messageId: string): Promise<void> {
    if (downloads.get(messageId)?.busy) return
    progress.delete(`download:${messageId}`)
    downloads.set(messageId, { busy: true })
    const res = await callIm(() => window.im.downloadFile(messageId))
    downloads.set(
      messageId,
      res.code === 0 ? { busy: false, done: res.data } : { busy: false, error: toUiError(res) },
    )
  }

  async function open(messageId: string, action: 'open' | 'reveal'): Promise<UiError | null> {
    const res = await callIm(() => window.im.openDownload(messageId, action))
    return res.code === 0 ? null : toUiError(res)
  }

  /** A downloaded picture, whole, as a data URL (or why not). */
  function imageData(messageId: string) {
    return callIm(() => window.im.getImageData(messageId))
  }

  function downloaded(messageId: string): number {
    return progress.get(`download:${messageId}`) ?? 0
  }

  return {
    uploads,
    sendErrors,
    canOpenFiles,
    start,
    uploadsOf,
    uploaded,
    send,
    cancel,
    retry,
    downloadState,
    loadDownload,
    download,
    downloaded,
    imageData,
    open,
  }
})
