import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { DEVICE_HEADER } from '../../src/shared/protocol'
import type { AuthenticatedSession } from '../../src/server/accounts'
import { Connection } from '../../src/server/connection'
import { createLogger } from '../../src/server/log'
import { connectOne, registerAndLogin, startTestServer } from './helpers'

describe('heartbeats', () => {
  it('terminates a socket that stops answering pings and keeps the others', async () => {
    // Short enough to be quick, long enough that a busy event loop (this process runs the server and
    // both clients) does not read the healthy client's pong only after the next check.
    const server = await startTestServer({ heartbeatMs: 250 })
    try {
      const healthy = await connectOne(server)
      const session = await registerAndLogin(server)
      const silent = new WebSocket(server.url, {
        headers: { authorization: `Bearer ${session.token}`, [DEVICE_HEADER]: session.deviceId },
        autoPong: false,
      })
      const closed = new Promise<number>((resolve) => silent.once('close', resolve))
      expect(await closed).toBe(1006)
      await healthy.call('syncState', {})
      expect(healthy.ws.readyState).toBe(WebSocket.OPEN)
    } finally {
      await server.close()
    }
  })
})

describe('slow consumers', () => {
  it('are terminated instead of buffering without bound', () => {
    const ws = { readyState: WebSocket.OPEN, bufferedAmount: 0, send: vi.fn(), terminate: vi.fn() }
    const session: AuthenticatedSession = { userId: 'u', deviceId: 'd', tokenHash: Buffer.alloc(32) }
    const connection = new Connection(
      ws as unknown as WebSocket, // only the members above are used by send()
      session,
      { maxBufferedBytes: 1024, ratePerSecond: 1, rateBurst: 1 },
      createLogger('silent'),
    )
    connection.send('a')
    ws.bufferedAmount = 4096
    connection.send('b')
    expect(ws.send).toHaveBeenCalledTimes(1)
    expect(ws.terminate).toHaveBeenCalledTimes(1)
  })
})

describe('cli', () => {
  const cli = join(import.meta.dirname, '../../src/server/cli.ts')

  function run(args: string[]) {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    return { child, exited, output: () => ({ stdout, stderr }) }
  }

  it('prints one listening line, serves, and shuts down cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'im-cli-'))
    const proc = run(['--port', '0', '--data', dir, '--log', 'warn'])
    try {
      const url = await new Promise<string>((resolve, reject) => {
        proc.child.stdout.on('data', () => {
          const match = /ws:\/\/\S+/.exec(proc.output().stdout)
          if (match) resolve(match[0])
        })
        proc.exited.then((code) => reject(new Error(`exited with ${code}: ${proc.output().stderr}`)))
      })
      expect(proc.output().stdout).toMatch(/^IM server listening at ws:\/\/127\.0\.0\.1:\d+\/ws\n$/)
      const health = await fetch(url.replace(/^ws/, 'http').replace(/\/ws$/, '/health'))
      expect(await health.json()).toMatchObject({ ok: true })
      proc.child.kill('SIGTERM')
      expect(await proc.exited).toBe(0)
      expect(proc.output().stdout.split('\n').filter(Boolean)).toHaveLength(1)
    } finally {
      if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('exits with 2 and one line on stderr for bad arguments', async () => {
    const proc = run(['--port', 'seventy'])
    expect(await proc.exited).toBe(2)
    expect(proc.output().stderr.trim().split('\n')).toHaveLength(1)
    expect(proc.output().stderr).toMatch(/--port/)
  })
})
