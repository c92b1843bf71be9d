/**
 * The packaged app's Electron fuses (flipped by electron-builder at `npm run dist`, from package.json
 * "build".electronFuses): the packaged binary cannot be turned into a plain Node.js (RunAsNode,
 * NODE_OPTIONS, --inspect), and it loads only its own, integrity-checked app.asar.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '../..')

interface BuildConfig {
  asar?: boolean
  electronFuses?: Record<string, boolean>
}

describe('Electron fuses of the packaged app', () => {
  const build = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { build: BuildConfig }).build

  it('turn off running as Node, NODE_OPTIONS and the inspector; load only the checked app.asar', () => {
    expect(build.electronFuses).toMatchObject({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    })
    // OnlyLoadAppFromAsar and the integrity check need the app packed as an asar (the default).
    expect(build.asar ?? true).toBe(true)
  })

  it('keep the main process free of what RunAsNode off breaks (child_process.fork of itself)', () => {
    const main = readFileSync(join(root, 'src/main/index.ts'), 'utf8')
    expect(main).not.toMatch(/\bfork\(|ELECTRON_RUN_AS_NODE/)
  })
})
