const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const TIME_SPAN = 36 ** 8

/**
 * A client message id: 8 characters of time in milliseconds (base 36, wrapping every 89 years) and
 * 8 random ones (62 each, about 47 bits), e.g. `loyw3v28Q7xK2mPa`. Unique per sender without
 * coordination, like a random UUID, but in time order and less than half as long: every store that
 * keeps it (the server's and every client's, in a UNIQUE (sender, client id) index) then grows that
 * index at its end instead of writing a random page of it per message, and writes fewer bytes (bench
 * s2). Web Crypto only, so it runs in Node, Electron and browsers alike.
 */
export function newClientMsgId(now: number = Date.now()): string {
  const time = (Math.max(0, Math.floor(now)) % TIME_SPAN).toString(36).padStart(8, '0')
  let random = ''
  const bytes = new Uint8Array(16)
  while (random.length < 8) {
    globalThis.crypto.getRandomValues(bytes)
    // 248 = 4 × 62: bytes above it are dropped, so every character is equally likely.
    for (const byte of bytes) if (byte < 248 && random.length < 8) random += ALPHABET[byte % 62]
  }
  return time + random
}
