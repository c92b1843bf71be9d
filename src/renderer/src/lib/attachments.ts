/** Files and images in the page (issue 13, H3): sizes in words, thumbnails, what a file is sent as. */
import { LIMITS, type AttachmentContent, type MessageContent } from '../../../shared/model'

export function isAttachment(content: MessageContent): content is AttachmentContent {
  return content.type === 'file' || content.type === 'image'
}

/** 1.5 MB, 320 KB, 12 B: in the UI locale's digits, with binary multiples (what file managers show). */
export function formatBytes(bytes: number, locale: string): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: digits }).format(value)} ${units[unit]}`
}

/** Image types a browser decodes and every client can show; anything else is sent as a file. */
const SHOWN_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp', 'image/bmp'])
const THUMB_EDGE = 240

export interface ImageFacts {
  width: number
  height: number
  thumbnail: string
}

/**
 * The image's size and a small JPEG of it, drawn here (the engine has no image decoder). Undefined
 * when it is no image the page can decode: then it goes as a file. Quality steps down until the
 * data URL fits the message's thumbnail limit.
 */
export async function describeImage(file: Blob): Promise<ImageFacts | undefined> {
  if (!SHOWN_IMAGE_TYPES.has(file.type)) return undefined
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    return undefined
  }
  try {
    const scale = Math.min(1, THUMB_EDGE / Math.max(bitmap.width, bitmap.height))
    const canvas = document.createElement('canvas')
    canvas.width = Math.max(1, Math.round(bitmap.width * scale))
    canvas.height = Math.max(1, Math.round(bitmap.height * scale))
    const context = canvas.getContext('2d')
    if (!context) return undefined
    // JPEG has no transparency: a white ground, as most viewers show it.
    context.fillStyle = '#fff'
    context.fillRect(0, 0, canvas.width, canvas.height)
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height)
    for (const quality of [0.7, 0.5, 0.3]) {
      const thumbnail = canvas.toDataURL('image/jpeg', quality)
      if (thumbnail.length <= LIMITS.thumbnailMax)
        return { width: bitmap.width, height: bitmap.height, thumbnail }
    }
    return undefined
  } finally {
    bitmap.close()
  }
}

/** A name for a pasted image, which has none of its own (or only "image.png"). */
export function pastedName(file: File, now: Date): string {
  const ext = file.type.split('/')[1]?.replace(/[^a-z0-9]/gi, '') || 'png'
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')
  return `pasted-${stamp}.${ext}`
}
