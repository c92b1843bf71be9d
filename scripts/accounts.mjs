// npm run accounts -- alice bob carol: one local server and one signed-in profile per account
// (each its own folder and SQLite file under .profiles/). Each account gets a random password,
// printed once when it is made and kept in .profiles/<name>/password (0600).
import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildElectronSqlite } from './native.mjs'
import { buildApp, electronBinary, ensureLocalServer, profilePassword, root, startHeadless } from './lib.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { port: { type: 'string', default: '7700' } },
})
const names = positionals.length > 0 ? positionals : ['alice', 'bob']
for (const name of names) {
  if (!/^[A-Za-z0-9_.-]{1,32}$/.test(name)) {
    console.error(`accounts: "${name}" is not a valid user id (letters, digits, _ . - ; at most 32)`)
    process.exit(2)
  }
}

buildApp()
// Refuses (with a message) when what answers on the port cannot prove it is our server.
const server = await ensureLocalServer(Number(values.port)).catch((err) => {
  console.error(`accounts: ${err.message}`)
  process.exit(1)
})
const httpBase = server.url.replace(/^ws/, 'http').replace(/\/ws$/, '')
/** name → the file with its password, for the accounts this profile can sign in to by itself. */
const passwordFiles = new Map()
for (const name of names) {
  const profileDir = join(root, '.profiles', name)
  const { password, created } = profilePassword(profileDir)
  const res = await fetch(`${httpBase}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: name, password }),
  })
  const body = await res.json()
  if (body.code === 0) {
    console.log(
      `  ${name.padEnd(12)} password ${password} (shown once; kept in ${join(profileDir, 'password')})`,
    )
    passwordFiles.set(name, join(profileDir, 'password'))
  } else if (body.code === 2003 && !created) {
    passwordFiles.set(name, join(profileDir, 'password'))
  } else if (body.code === 2003) {
    // Registered before, with a password this profile does not have: sign in by hand.
    rmSync(join(profileDir, 'password'))
    console.log(
      `  ${name.padEnd(12)} exists already; its password is not kept in this profile: sign in yourself`,
    )
  } else {
    console.error(`accounts: cannot register ${name}: ${body.msg}`)
    process.exit(1)
  }
}

const electron = electronBinary()
const children = []
if (electron) {
  await buildElectronSqlite()
  for (const name of names) {
    children.push(
      spawn(electron, [root, '--profile', join(root, '.profiles', name), '--server', server.url], {
        stdio: 'inherit',
      }),
    )
  }
  console.log(
    `Started ${names.length} windows; sign in as <name> with its password (in .profiles/<name>/password).`,
  )
} else {
  console.log(
    'No Electron binary on this machine: one headless host per account; open each URL in its own browser window.',
  )
  for (const name of names) {
    const passwordFile = passwordFiles.get(name)
    const { child, url } = await startHeadless({
      profile: join(root, '.profiles', name),
      serverUrl: server.url,
      ...(passwordFile ? { login: name, passwordFile } : {}),
    })
    children.push(child)
    console.log(`  ${name.padEnd(12)} ${url}`)
  }
}
process.on('SIGINT', () => {
  for (const c of children) c.kill('SIGINT')
  process.exit(0)
})
