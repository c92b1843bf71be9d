// npm run dist [-- --linux | --mac | --win]: installable packages with electron-builder
// (Linux AppImage + deb, macOS dmg, Windows nsis), with better-sqlite3 built for Electron's ABI.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { buildElectronSqlite } from './native.mjs'
import { buildApp, electronBinary, root } from './lib.mjs'

if (!electronBinary()) {
  console.error(
    'dist: cannot package here: the Electron binary could not be downloaded on this machine (packaging needs it); run npm run dist where the Electron download works.',
  )
  process.exit(1)
}
buildApp()
try {
  await buildElectronSqlite()
} catch (err) {
  console.error(`dist: ${err.message}`)
  process.exit(1)
}
const targets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['--linux']
const res = spawnSync(process.execPath, [join(root, 'node_modules/electron-builder/cli.js'), ...targets], {
  cwd: root,
  stdio: 'inherit',
})
process.exit(res.status ?? 1)
