// Builds better-sqlite3 for Electron's ABI into out/native/, beside (not over) the Node build that
// the tests use, so `npm start` and `npm test` each find the addon they need, in either order.
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { root } from './lib.mjs'

export async function buildElectronSqlite() {
  const electronVersion = JSON.parse(
    readFileSync(join(root, 'node_modules/electron/package.json'), 'utf8'),
  ).version
  const outDir = join(root, 'out/native')
  const stamp = join(outDir, 'electron-version.txt')
  const target = join(outDir, 'better_sqlite3.node')
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === electronVersion)
    return target
  const work = join(root, 'out/native-build/better-sqlite3')
  rmSync(work, { recursive: true, force: true })
  cpSync(join(root, 'node_modules/better-sqlite3'), work, {
    recursive: true,
    filter: (p) => !p.includes('/build/'),
  })
  const env = { ...process.env, npm_config_runtime: 'electron', npm_config_target: electronVersion }
  const prebuilt = spawnSync(
    'npx',
    ['--no-install', 'prebuild-install', '--runtime', 'electron', '--target', electronVersion],
    {
      cwd: work,
      env,
      stdio: 'inherit',
    },
  )
  if (prebuilt.status !== 0) {
    const built = spawnSync(
      'npx',
      [
        '--no-install',
        'node-gyp',
        'rebuild',
        '--release',
        `--target=${electronVersion}`,
        '--dist-url=https://electronjs.org/headers',
      ],
      { cwd: work, env, stdio: 'inherit' },
    )
    if (built.status !== 0)
      throw new Error('could not build better-sqlite3 for Electron (no prebuilt binary, no headers)')
  }
  mkdirSync(outDir, { recursive: true })
  cpSync(join(work, 'build/Release/better_sqlite3.node'), target)
  writeFileSync(stamp, electronVersion)
  return target
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(await buildElectronSqlite())
}
