/**
 * A PNG file made in code, for tests and the screenshots script that need a picture without
 * keeping one in the repository: 8-bit RGB, filter byte 0 per row, deflated.
 */
import { crc32, deflateSync } from 'node:zlib'

export interface PickedPng {
  name: string
  mimeType: 'image/png'
  buffer: Buffer
}

/** `pixel(x, y)` gives each pixel's [r, g, b]. */
export function encodePng(
  name: string,
  width: number,
  height: number,
  pixel: (x: number, y: number) => readonly number[],
): PickedPng {
  const rows = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set(pixel(x, y), y * (width * 3 + 1) + 1 + x * 3)
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const frame = Buffer.alloc(body.length + 8)
    frame.writeUInt32BE(data.length, 0)
    body.copy(frame, 4)
    frame.writeUInt32BE(crc32(body), body.length + 4)
    return frame
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const buffer = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
  return { name, mimeType: 'image/png', buffer }
}
