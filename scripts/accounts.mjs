// npm run accounts -- alice bob carol: one local server and one signed-in profile per account
// (each its own folder and SQLite file under .profiles/). Passwords are "<name>-password".
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { buildElectronSqlite } from './native.mjs'
import { buildApp, electronBinary, ensureLocalServer, root, startHeadless } from './lib.mjs'

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
const server = await ensureLocalServer(Number(values.port))
const httpBase = server.url.replace(/^ws/, 'http').replace(/\/ws$/, '')
for (const name of names) {
  const res = await fetch(`${httpBase}/api/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId: name, password: `${name}-password` }),
  })
  const body = await res.json()
  if (body.code !== 0 && body.code !== 2003) {
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
  console.log(`Started ${names.length} windows; sign in with <name> / <name>-password.`)
} else {
  console.log(
    'No Electron binary on this machine: one headless host per account; open each URL in its own browser window.',
  )
  for (const name of names) {
    const { child, url } = await startHeadless({
      profile: join(root, '.profiles', name),
      serverUrl: server.url,
      login: `${name}:${name}-password`,
    })
    children.push(child)
    console.log(`  ${name.padEnd(12)} ${url}`)
  }
}
process.on('SIGINT', () => {
  for (const c of children) c.kill('SIGINT')
  process.exit(0)
})
