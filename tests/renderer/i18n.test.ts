// @vitest-environment happy-dom
import { describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import en from '@renderer/i18n/en.json'
import zhCN from '@renderer/i18n/zh-CN.json'
import { pickLocale } from '@renderer/i18n'

function keysOf(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix]
  return Object.entries(value).flatMap(([key, child]) => keysOf(child, prefix ? `${prefix}.${key}` : key))
}

describe('translations', () => {
  it('has the same keys in every locale', () => {
    expect(keysOf(zhCN).sort()).toEqual(keysOf(en).sort())
  })

  it('has words for every result code', () => {
    for (const name of Object.keys(Code)) {
      expect(en.codes, name).toHaveProperty(name)
      expect(zhCN.codes, name).toHaveProperty(name)
    }
  })
})

describe('default locale', () => {
  it('follows a stored choice, else the browser language', () => {
    expect(pickLocale('en', 'zh-CN')).toBe('en')
    expect(pickLocale(null, 'zh-TW')).toBe('zh-CN')
    expect(pickLocale(null, 'zh')).toBe('zh-CN')
    expect(pickLocale(null, 'de-DE')).toBe('en')
    expect(pickLocale('fr', undefined)).toBe('en')
  })
})
