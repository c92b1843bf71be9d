// Writes docs/CODES.md from src/shared/codes.ts (tests/shared/codes.test.ts checks it is current).
import { writeFileSync } from 'node:fs'
import { renderCodesMarkdown } from '../src/shared/codesDoc'

writeFileSync(new URL('../docs/CODES.md', import.meta.url), renderCodesMarkdown())
