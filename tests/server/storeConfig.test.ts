import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { isNatsUrl, loadConfigWithStore } from '../../src/server/storeConfig'

const dir = mkdtempSync(join(tmpdir(), 'im-store-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let n = 0
function file(value: unknown): string {
  const path = join(dir, `config-${++n}.json`)
  writeFileSync(path, JSON.stringify(value))
  return path
}

describe('store and bus in the config file', () => {
  it('reads both, or either, beside the other settings', () => {
    const store = 'postgres://postgres@127.0.0.1:5432/im'
    const bus = 'nats://10.0.0.1:4222,nats://10.0.0.2:4222'
    expect(loadConfigWithStore(file({ store, bus, registration: 'closed' }))).toMatchObject({
      store,
      bus,
      registration: 'closed',
    })
    const busOnly = loadConfigWithStore(file({ bus: 'nats://127.0.0.1:4222' }))
    expect(busOnly).toMatchObject({ bus: 'nats://127.0.0.1:4222' })
    expect(busOnly).not.toHaveProperty('store')
  })

  it('refuses a bus that is not a NATS URL, naming the file and the key', () => {
    const path = file({ bus: 'http://127.0.0.1:4222' })
    expect(() => loadConfigWithStore(path)).toThrow(
      `invalid config file ${path}: bus: expected a nats:// URL`,
    )
    expect(() => loadConfigWithStore(file({ bus: 4222 }))).toThrow(/bus: expected a nats:\/\/ URL/)
  })

  it('takes several comma-separated NATS servers, and nothing else', () => {
    expect(isNatsUrl('nats://a:4222')).toBe(true)
    expect(isNatsUrl('nats://a:4222, tls://b:4222')).toBe(true)
    expect(isNatsUrl('nats://a:4222,')).toBe(false)
    expect(isNatsUrl('nats://a b')).toBe(false)
    expect(isNatsUrl('redis://a:6379')).toBe(false)
  })
})
