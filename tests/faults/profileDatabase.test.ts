/**
 * A profile's SQLite file written by a newer app, or damaged: a clear typed error and no silent loss.
 * Newer: refused, the file left byte for byte as it was. Damaged: set aside under a new name (never
 * overwritten or deleted), a fresh file started and filled again from the server, the user told.
 */
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { Code } from '../../src/shared/codes'
import type { SessionInfo } from '../../src/shared/ipc'
import { cleanup, data, openDevice, reopen, signIn, testServer, type Device } from '../integration/harness'
import { textOf } from '../textOf'

afterEach(cleanup)

function databaseFileOf(device: Device): string {
  const s = device.engine.profile.session
  if (!s) throw new Error('no session')
  return device.engine.profile.databaseFile(s.serverUrl, s.userId)
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

/** alice and bob with a few messages both ways; alice's profile is then closed. */
async function history() {
  const server = await testServer()
  const alice = await signIn(server, 'alice')
  const bob = await signIn(server, 'bob')
  data(await bob.dispatch('updateSettings', [{ requireDeliveryAck: true, requireReadAck: true }]))
  for (let i = 0; i < 3; i++)
    data(
      await bob.dispatch('sendMessage', [
        { type: 'private', targetId: 'alice' },
        { type: 'text', text: `b${i}` },
      ]),
    )
  for (let i = 0; i < 2; i++)
    data(
      await alice.dispatch('sendMessage', [
        { type: 'private', targetId: 'bob' },
        { type: 'text', text: `a${i}` },
      ]),
    )
  const conversation = { type: 'private' as const, targetId: 'bob' }
  await alice.until('5 messages, all sent', () => {
    const rows = alice.engine.store?.history(conversation, undefined, 10).list ?? []
    return rows.length === 5 && rows.every((r) => r.status === 'sent')
  })
  // Delivery receipts for bob's messages reach bob before alice's profile closes.
  await bob.until('delivered', () => {
    const rows = bob.engine.store?.history({ type: 'private', targetId: 'alice' }, undefined, 10).list ?? []
    return rows.filter((r) => r.messageDirection === 1 && r.deliveredTime !== null).length === 3
  })
  const file = databaseFileOf(alice)
  await alice.stop()
  return { server, alice, bob, file, profileDir: alice.profileDir }
}

describe('profile database from a newer app version', () => {
  it('is refused with PROFILE_DATABASE_TOO_NEW at start and at login, and left untouched', async () => {
    const { server, file, profileDir } = await history()
    const db = new Database(file)
    db.pragma('user_version = 99')
    db.close()
    const before = sha(file)
    const filesBefore = readdirSync(dirname(file)).sort()

    const device = openDevice(profileDir, server.url)
    device.engine.start()
    expect(device.engine.connectionState.state).toBe('signedOut')
    expect(device.engine.connectionState.detail).toMatch(/newer version of the app/)
    expect(device.engine.currentUser()).toBeNull()

    const login = await device.dispatch('login', [
      { serverUrl: server.url, userId: 'alice', password: 'alice-password' },
    ])
    expect(login.code).toBe(Code.PROFILE_DATABASE_TOO_NEW)
    expect(login.msg).toMatch(/schema 99; this version knows up to \d+/)
    expect(await device.dispatch('getConversationList', [])).toMatchObject({ code: Code.NOT_LOGGED_IN })

    expect(sha(file)).toBe(before)
    expect(readdirSync(dirname(file)).sort()).toEqual(filesBefore)
  })
})

describe('damaged profile database', () => {
  async function expectRecovered(
    device: Device,
    file: string,
    damaged: string,
    notice: SessionInfo['notice'],
  ) {
    expect(notice).toMatchObject({ code: Code.PROFILE_DATABASE_CORRUPT })
    expect(notice?.msg).toMatch(/set aside as .*\.corrupt-.* and is being downloaded again/)
    // The damaged file is kept, byte for byte, under the name the notice gives.
    const aside = readdirSync(dirname(file)).filter(
      (f) => f.startsWith(`${basename(file)}.corrupt-`) && !/-(wal|shm)$/.test(f),
    )
    expect(aside).toHaveLength(1)
    expect(notice?.msg).toContain(aside[0])
    expect(sha(join(dirname(file), aside[0] as string))).toBe(damaged)
    // The fresh file is filled again from the server: every message, with its receipts.
    const conversation = { type: 'private' as const, targetId: 'bob' }
    await device.until('history downloaded again', () => {
      const rows = device.engine.store?.history(conversation, undefined, 10).list ?? []
      return rows.length === 5 && device.engine.connectionState.state === 'connected'
    })
    const rows = device.engine.store?.history(conversation, undefined, 10).list ?? []
    expect(rows.map((r) => textOf(r)).sort()).toEqual(['a0', 'a1', 'b0', 'b1', 'b2'])
    expect(device.engine.connectionState.detail).toBe(notice?.msg)
    const list = data<{ unreadCount: number }[]>(await device.dispatch('getConversationList', []))
    expect(list).toEqual([expect.objectContaining({ unreadCount: 3 })])
  }

  it('with a damaged schema page: set aside at start, a fresh one resynced, the user told', async () => {
    const { server, file, profileDir } = await history()
    const bytes = readFileSync(file)
    // Page 1 keeps its 100-byte header; the schema b-tree after it becomes noise.
    for (let i = 100; i < Math.min(bytes.length, 4096); i++) bytes[i] = (i * 131) % 251
    writeFileSync(file, bytes)
    const damaged = sha(file)

    const device = await reopen(profileDir, server)
    const user = device.engine.currentUser()
    await expectRecovered(device, file, damaged, user?.notice)
  })

  it('that is not a database at all: set aside at login, the login result says so', async () => {
    const { server, file, profileDir } = await history()
    writeFileSync(file, 'this is not an SQLite file, whatever its name says')
    const damaged = sha(file)
    const device = openDevice(profileDir, server.url)
    const connected = device.until('connected', () => device.engine.connectionState.state === 'connected')
    const login = data<SessionInfo>(
      await device.dispatch('login', [
        { serverUrl: server.url, userId: 'alice', password: 'alice-password' },
      ]),
    )
    await connected
    await expectRecovered(device, file, damaged, login.notice)
  })
})
