import { Code, codeDescriptions, type CodeName } from './codes'

/** The result-code table of docs/CODES.md, rendered from the one source of truth. */
export function renderCodesMarkdown(): string {
  const rows = (Object.keys(Code) as CodeName[]).map(
    (name) => `| ${Code[name]} | \`${name}\` | ${codeDescriptions[name]} |`,
  )
  return [
    '# Result codes',
    '',
    'Every operation, over IPC (`window.im.*`) and on the wire, resolves to `{ code, msg?, data? }`.',
    '`code 0` is success; every other code is listed here. `msg` is a sentence for people; match on `code`.',
    'This file is generated from `src/shared/codes.ts` by `npx tsx scripts/codes-doc.ts`.',
    '',
    '| code | name | meaning |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n')
}
