import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { Code, codeDescriptions, codeName, fail } from '../../src/shared/codes'
import { renderCodesMarkdown } from '../../src/shared/codesDoc'

describe('result codes', () => {
  it('are unique, described, and documented in docs/CODES.md (regenerate with npx tsx scripts/codes-doc.ts)', () => {
    const values = Object.values(Code)
    expect(new Set(values).size).toBe(values.length)
    for (const name of Object.keys(Code) as (keyof typeof Code)[]) expect(codeDescriptions[name]).toBeTruthy()
    expect(readFileSync(new URL('../../docs/CODES.md', import.meta.url), 'utf8')).toBe(renderCodesMarkdown())
  })

  it('fail() carries the description when no message is given', () => {
    expect(fail(Code.NOT_A_MEMBER)).toEqual({ code: 3001, msg: codeDescriptions.NOT_A_MEMBER })
    expect(codeName(4104)).toBe('GROUP_TOO_LARGE')
  })
})
