/**
 * npm run build:web-sdk: the web SDK (src/sdk/web) as one ES module, minified, with its types:
 *   dist/web-sdk/im-web-sdk.js          the module a page imports (zod and the wire contract inside)
 *   dist/web-sdk/types/sdk/web/index.d.ts  its declarations (tsc)
 * and prints its size, minified and gzipped. `--size` only measures (nothing kept) and prints the
 * same line: npm run size:web-sdk. `--out <dir>` builds elsewhere (the e2e tests, the example).
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { gzipSync } from 'node:zlib'
import { build } from 'vite'

const root = resolve(import.meta.dirname, '..')
export const WEB_SDK_FILE = 'im-web-sdk.js'

/** Builds the module into `outDir` and returns its size in bytes, as is and gzipped. */
export async function buildWebSdk(
  outDir: string,
): Promise<{ file: string; bytes: number; gzipBytes: number }> {
  await build({
    configFile: false,
    root,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: false,
      minify: true,
      sourcemap: true,
      target: 'es2022',
      lib: { entry: join(root, 'src/sdk/web/browser.ts'), formats: ['es'], fileName: () => WEB_SDK_FILE },
    },
  })
  const file = join(outDir, WEB_SDK_FILE)
  const code = readFileSync(file)
  return { file, bytes: code.length, gzipBytes: gzipSync(code, { level: 9 }).length }
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`

if (resolve(process.argv[1] ?? '') === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { size: { type: 'boolean' }, out: { type: 'string' } } })
  const outDir = values.size
    ? mkdtempSync(join(tmpdir(), 'im-web-sdk-'))
    : resolve(values.out ?? 'dist/web-sdk')
  const { file, bytes, gzipBytes } = await buildWebSdk(outDir)
  if (values.size) rmSync(outDir, { recursive: true, force: true })
  else {
    execFileSync(
      process.execPath,
      [
        join(root, 'node_modules/typescript/bin/tsc'),
        '-p',
        'src/sdk/web/tsconfig.build.json',
        '--outDir',
        join(outDir, 'types'),
      ],
      { cwd: root, stdio: 'inherit' },
    )
    console.log(`built ${file} and ${join(outDir, 'types/sdk/web/index.d.ts')}`)
  }
  console.log(`web SDK: ${kib(bytes)} minified, ${kib(gzipBytes)} minified + gzip`)
}
