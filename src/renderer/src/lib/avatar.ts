/**
 * Avatars with initials (issue 13, H4): one or two letters of a name on a circle whose colour is
 * derived from the user or group id, so a person keeps their colour on every device and in every
 * list. Every colour of the palette carries white text at 4.5:1 or more, and a circle sits on either
 * theme's background unchanged (tests/renderer/avatar.test.ts measures both).
 */

/** Each with #ffffff text: contrast ≥ 4.5:1 (WCAG AA for normal text). */
export const AVATAR_PALETTE = [
  '#b42318', // red
  '#b54708', // orange
  '#027a48', // green
  '#0e7090', // teal
  '#175cd3', // blue
  '#5925dc', // violet
  '#c11574', // pink
  '#4e5ba6', // slate
] as const

export const AVATAR_TEXT = '#ffffff'

/** FNV-1a over the id's UTF-16 units: stable across runs and platforms, and cheap. */
function hash(id: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function avatarColor(id: string): string {
  return AVATAR_PALETTE[hash(id) % AVATAR_PALETTE.length] as string
}

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' })

function firstGrapheme(word: string): string {
  for (const { segment } of graphemes.segment(word)) return segment
  return ''
}

/**
 * "Alice Smith" → "AS", "alice" → "A", "张三" → "张", "👩‍💻 dev" → "👩‍💻D": the first letter of the
 * first and last words (a grapheme, so an emoji or an accented letter stays whole).
 */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/u).filter(Boolean)
  if (words.length === 0) return '?'
  const first = firstGrapheme(words[0] as string)
  const last = words.length > 1 ? firstGrapheme(words[words.length - 1] as string) : ''
  return (first + last).toLocaleUpperCase()
}

/** WCAG relative luminance of #rrggbb. */
function luminance(hex: string): number {
  const channel = (i: number) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/** WCAG contrast ratio of two #rrggbb colours (1 to 21). */
export function contrastRatio(a: string, b: string): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}
