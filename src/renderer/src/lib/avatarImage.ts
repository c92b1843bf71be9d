import { AVATAR_MAX_BYTES, AVATAR_SIZE_PX } from '../../../shared/avatars'

/** What a picker may offer: the types the page can decode and draw. */
export const AVATAR_ACCEPT = 'image/png,image/jpeg,image/webp,image/gif,image/bmp'

/** The bytes a base64 data URL carries. */
function dataUrlBytes(url: string): number {
  const base64 = url.slice(url.indexOf(',') + 1)
  return Math.floor((base64.length * 3) / 4) - (base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0)
}

/**
 * A profile or group picture from the chosen image (issue 13, H7): its centre square drawn at
 * AVATAR_SIZE_PX, as WebP where the page can write it, else JPEG on white, at the best quality that
 * stays under the server's limit. Undefined when the file is no image the page can decode.
 */
export async function drawAvatar(file: Blob): Promise<string | undefined> {
  if (!file.type.startsWith('image/')) return undefined
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(file)
  } catch {
    return undefined
  }
  try {
    const side = Math.min(bitmap.width, bitmap.height)
    const edge = Math.min(AVATAR_SIZE_PX, side)
    const canvas = document.createElement('canvas')
    canvas.width = canvas.height = Math.max(1, edge)
    const context = canvas.getContext('2d')
    if (!context) return undefined
    context.fillStyle = '#fff'
    context.fillRect(0, 0, canvas.width, canvas.height)
    context.imageSmoothingQuality = 'high'
    const sx = (bitmap.width - side) / 2
    const sy = (bitmap.height - side) / 2
    context.drawImage(bitmap, sx, sy, side, side, 0, 0, canvas.width, canvas.height)
    for (const type of ['image/webp', 'image/jpeg']) {
      for (const quality of [0.85, 0.7, 0.5]) {
        const url = canvas.toDataURL(type, quality)
        // A page that cannot write WebP answers PNG: then JPEG is tried.
        if (!url.startsWith(`data:${type};`)) break
        if (dataUrlBytes(url) <= AVATAR_MAX_BYTES) return url
      }
    }
    return undefined
  } finally {
    bitmap.close()
  }
}
