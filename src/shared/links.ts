/**
 * Links in message text (issue 13, H1): which parts of a text are web links, and which URLs the app
 * opens at all. Only http and https, never with a user name or password in them (a link that reads
 * as one site and goes to another: https://bank.example@evil.example). The renderer shows the
 * parts as text and links (never as HTML); the hosts open the link outside the app.
 */

export type TextPart = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string }

/** A candidate: http(s):// and what follows up to a space or a character no URL has unquoted. */
const CANDIDATE = /https?:\/\/[^\s<>"'`\u3000-\u303F\uFF01-\uFF0F\uFF1A-\uFF20]+/giu
/** Punctuation that ends a sentence rather than the link ("see https://example.org."). */
const TRAILING = /[.,;:!?)\]}*_~]+$/u

/** Whether the app may open `text` in the system browser: http or https, no credentials. */
export function isOpenableLink(text: string): boolean {
  try {
    const url = new URL(text)
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === ''
    )
  } catch {
    return false
  }
}

/** The text cut into plain parts and links, in order; the parts joined give the text back. */
export function splitLinks(text: string): TextPart[] {
  const parts: TextPart[] = []
  let at = 0
  for (const match of text.matchAll(CANDIDATE)) {
    let link = match[0]
    // A closing bracket is kept when the link opened one: https://en.wikipedia.org/wiki/Foo_(bar)
    const trailing = TRAILING.exec(link)?.[0] ?? ''
    let cut = trailing.length
    if (trailing.startsWith(')') && link.slice(0, -cut).includes('(')) cut = trailing.length - 1
    if (cut > 0) link = link.slice(0, -cut)
    if (!isOpenableLink(link)) continue
    const start = match.index
    if (start > at) parts.push({ kind: 'text', text: text.slice(at, start) })
    parts.push({ kind: 'link', text: link, href: new URL(link).href })
    at = start + link.length
  }
  if (at < text.length) parts.push({ kind: 'text', text: text.slice(at) })
  return parts
}
