/**
 * A nats-server of the test's own (never the machine's shared one), so a test can SIGKILL it and
 * start it again on the same port and store directory. `natsServerPath` is undefined where no
 * nats-server is installed (the tests using it are then skipped, except under CI=true).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function findNatsServer(): string | undefined {
  const found = spawnSync('sh', ['-c', 'command -v nats-server || ls /usr/sbin/nats-server'], {
    encoding: 'utf8',
  })
  const path = found.stdout.trim().split('\n')[0]
  return found.status === 0 && path ? path : undefined
}

const natsServerPath = findNatsServer()
export const skipNatsProcess = process.env.CI !== 'true' && natsServerPath === undefined

/**
 * SIGKILLs `pid` if this process goes first (a test run killed at a timeout), so that no server is
 * left behind; a small shell that checks once a second and ends with either.
 */
export function killWithThisProcess(pid: number | undefined): void {
  if (!pid) return
  const script = `while kill -0 ${pid} 2>/dev/null; do if ! kill -0 ${process.pid} 2>/dev/null; then kill -9 ${pid}; exit 0; fi; sleep 1; done`
  spawn('sh', ['-c', script], { stdio: 'ignore', detached: true }).unref()
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

export class NatsProcess {
  private child: ChildProcess | undefined
  private log = ''

  private constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`
  }

  /** A nats-server on a free port with a temporary store directory; resolves once it listens. */
  static async start(): Promise<NatsProcess> {
    const nats = new NatsProcess(await freePort(), mkdtempSync(join(tmpdir(), 'im-nats-')))
    await nats.restart()
    return nats
  }

  /** Starts it (again) on the same port and store directory. */
  restart(): Promise<void> {
    if (!natsServerPath) return Promise.reject(new Error('nats-server is not installed'))
    const child = spawn(
      natsServerPath,
      ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    )
    this.child = child
    killWithThisProcess(child.pid)
    this.log = ''
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`nats-server exited with ${code}: ${this.log.slice(-2000)}`))
      child.once('exit', onExit)
      child.stderr.on('data', (chunk: Buffer) => {
        const ready = !this.log.includes('Listening for client connections')
        this.log = (this.log + chunk.toString()).slice(-20_000)
        if (ready && this.log.includes('Listening for client connections')) {
          child.off('exit', onExit)
          resolve()
        }
      })
    })
  }

  /** Sends the signal and resolves once the process is gone. */
  stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      child.once('exit', () => resolve())
      child.kill(signal)
    })
  }

  /** Stops it and removes its store directory. */
  async close(): Promise<void> {
    await this.stop('SIGTERM')
    rmSync(this.storeDir, { recursive: true, force: true })
  }
}
