/**
 * The IM server as its own process (the real CLI), so a test can SIGKILL it mid-flight and start it
 * again on the same port and data directory.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { killWithThisProcess } from './natsProcess'

const root = join(import.meta.dirname, '../..')
const cli = join(root, 'src/server/cli.ts')

export class ServerProcess {
  private stderr = ''

  private constructor(
    readonly child: ChildProcess,
    readonly url: string,
    readonly port: number,
    readonly dataDir: string,
  ) {
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-20_000)
    })
  }

  get pid(): number {
    return this.child.pid ?? 0
  }

  get log(): string {
    return this.stderr
  }

  /**
   * Starts `cli.ts --port <port> --data <dataDir>` (with `--store`, `--bus`: one node of several on
   * PostgreSQL and NATS) and resolves once it prints its listening line.
   */
  static start(
    dataDir: string,
    options: { port?: number; store?: string; bus?: string; args?: string[] } = {},
  ): Promise<ServerProcess> {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        cli,
        '--port',
        String(options.port ?? 0),
        '--data',
        dataDir,
        '--log',
        'warn',
        ...(options.store ? ['--store', options.store] : []),
        ...(options.bus ? ['--bus', options.bus] : []),
        ...(options.args ?? []),
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    killWithThisProcess(child.pid)
    return new Promise((resolve, reject) => {
      let stdout = ''
      let stderr = ''
      const onErr = (chunk: Buffer) => (stderr += chunk.toString())
      child.stderr.on('data', onErr)
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = /listening at (ws:\/\/\S+)/.exec(stdout)
        if (!match?.[1]) return
        child.stderr.off('data', onErr)
        child.off('exit', onExit)
        const url = match[1]
        resolve(new ServerProcess(child, url, Number(new URL(url).port), dataDir))
      })
      const onExit = (code: number | null) => reject(new Error(`server exited with ${code}: ${stderr}`))
      child.once('exit', onExit)
    })
  }

  /** Sends the signal and resolves once the process is gone. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve())
      this.child.kill(signal)
    })
  }
}
