import { describe, expect, it } from 'vitest'
import { isOpenableLink, splitLinks } from '../../src/shared/links'

describe('links in message text (H1)', () => {
  it('finds http and https links, leaving sentence punctuation outside', () => {
    expect(splitLinks('see https://example.org/a?b=1. or http://x.test:8080/p, ok')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.org/a?b=1', href: 'https://example.org/a?b=1' },
      { kind: 'text', text: '. or ' },
      { kind: 'link', text: 'http://x.test:8080/p', href: 'http://x.test:8080/p' },
      { kind: 'text', text: ', ok' },
    ])
    expect(splitLinks('(https://en.wikipedia.org/wiki/Foo_(bar))').map((p) => p.text)).toEqual([
      '(',
      'https://en.wikipedia.org/wiki/Foo_(bar)',
      ')',
    ])
    expect(splitLinks('看这个https://example.cn/页面。好吗').map((p) => p.kind)).toEqual([
      'text',
      'link',
      'text',
    ])
  })

  it('never makes a link of other schemes or of a URL with credentials', () => {
    for (const text of [
      'javascript:alert(1)',
      'file:///etc/passwd',
      'data:text/html,<b>x</b>',
      'https://bank.example@evil.example/',
      'ftp://example.org',
    ]) {
      expect(splitLinks(text).every((p) => p.kind === 'text')).toBe(true)
    }
    expect(isOpenableLink('https://example.org')).toBe(true)
    expect(isOpenableLink('http://example.org')).toBe(true)
    expect(isOpenableLink('javascript:alert(1)')).toBe(false)
    expect(isOpenableLink('https://user:pw@example.org')).toBe(false)
  })

  it('gives the text back whole, HTML included, as text', () => {
    const text = '<img src=x onerror=alert(1)> https://a.test/<b>'
    expect(
      splitLinks(text)
        .map((p) => p.text)
        .join(''),
    ).toBe(text)
  })
})
