/**
 * Scenario 9: files over loopback (issue 13, feature 7; H3). A real server process and a real
 * engine (this process) with a signed-in profile: the engine uploads a 100 MB file as sendFile does
 * (streamed from disk in 8 MiB chunks, each confirmed offset kept in SQLite) until the message is
 * written, three times: MB/s. Then a second engine downloads it: MB/s. Then a 1 GB file, while the
 * RSS of the server and of the engine are sampled every 100 ms: start, peak and end, which must stay
 * flat (the bytes stream through, never the whole file in memory). Quick: 20 MB and 200 MB.
 */
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { Engine } from '../../src/main/engine/engine'
import type { DownloadView, UploadView } from '../../src/shared/ipc'
import { waitFor } from '../lib/engines'
import { writeSignedInProfile } from '../lib/engineProfile'
import { memory } from '../lib/proc'
import { openServerStorage, seedAccounts, spawnServer, type Account } from '../lib/server'
import { median, round } from '../lib/stats'
import { emptyOutput, target, type Scenario } from '../lib/types'

const MiB = 1024 * 1024

async function writeFileOf(path: string, bytes: number): Promise<void> {
  const block = Buffer.alloc(MiB)
  for (let i = 0; i < block.length; i++) block[i] = (i * 131 + 7) & 0xff
  const out = createWriteStream(path)
  for (let written = 0; written < bytes; written += block.length) {
    if (!out.write(block.subarray(0, Math.min(block.length, bytes - written))))
      await new Promise<void>((resolve) => out.once('drain', () => resolve()))
  }
  await new Promise<void>((resolve, reject) =>
    out.end((error?: Error | null) => (error ? reject(error) : resolve())),
  )
}

async function openEngine(dir: string, account: Account, serverUrl: string): Promise<Engine> {
  const profileDir = join(dir, account.userId)
  writeSignedInProfile(profileDir, account, serverUrl)
  const engine = new Engine({
    profileDir,
    host: 'headless',
    version: 'bench',
    defaultServerUrl: serverUrl,
    requestTimeoutMs: 120_000,
    files: { acceptPaths: true, downloadsDir: join(dir, `${account.userId}-downloads`) },
  })
  engine.start()
  await waitFor(`${account.userId} connected`, () => engine.connectionState.state === 'connected')
  return engine
}

/** Sends the file and resolves when its message is written (upload complete): seconds. */
async function upload(engine: Engine, peer: string, path: string, name: string): Promise<number> {
  const t0 = process.hrtime.bigint()
  const view: UploadView = await engine.sendFile(
    { type: 'private', targetId: peer },
    { kind: 'path', path },
    { name, mime: 'application/octet-stream' },
    { isNeedGroupAck: false, channelId: '' },
  )
  await new Promise<void>((resolve, reject) => {
    const on = (list: UploadView[]): void => {
      const mine = list.find((u) => u.uploadId === view.uploadId)
      if (mine?.state === 'failed') reject(new Error(`upload failed: ${mine.failure?.msg}`))
      if (!mine) {
        engine.off('uploadsChanged', on)
        resolve()
      }
    }
    engine.on('uploadsChanged', on)
  })
  return Number(process.hrtime.bigint() - t0) / 1e9
}

export const s9Attachments: Scenario = {
  id: 's9-attachments',
  aliases: ['attachments', 'files', 'upload'],
  title: 'File upload and download over loopback; memory while a 1 GB file uploads',
  async run(ctx) {
    const out = emptyOutput()
    const smallBytes = (ctx.quick ? 20 : 100) * MiB
    const bigBytes = (ctx.quick ? 200 : 1024) * MiB
    const runs = 3
    const dataDir = join(ctx.tmp, 'server')
    const storage = openServerStorage(dataDir)
    const [alice, bob] = await seedAccounts(storage, ['alice', 'bob'])
    await storage.close()
    if (!alice || !bob) throw new Error('no accounts')
    const server = await spawnServer({
      dataDir,
      files: { maxFileBytes: 2048 * MiB, maxImageBytes: 20 * MiB },
    })
    const sender = await openEngine(ctx.tmp, alice, server.url)
    const receiver = await openEngine(ctx.tmp, bob, server.url)
    try {
      const small = join(ctx.tmp, 'small.bin')
      await writeFileOf(small, smallBytes)
      const seconds: number[] = []
      for (let i = 0; i < runs; i++) {
        const s = await upload(sender, 'bob', small, `small-${i}.bin`)
        seconds.push(s)
        ctx.log(
          `upload ${i + 1}/${runs}: ${smallBytes / MiB} MiB in ${s.toFixed(2)} s (${(smallBytes / MiB / s).toFixed(1)} MiB/s)`,
        )
      }
      const uploadMiBs = smallBytes / MiB / median(seconds)

      // The receiver downloads the last one.
      await waitFor(
        'the file message at bob',
        () =>
          (receiver.store?.history({ type: 'private', targetId: 'alice' }, undefined, 5).list.length ?? 0) >=
          runs,
      )
      const last = receiver.store?.history({ type: 'private', targetId: 'alice' }, undefined, 1).list[0]
      if (!last) throw new Error('no message at bob')
      const d0 = process.hrtime.bigint()
      const got: DownloadView = await receiver.downloadFile(last.messageId)
      const downloadS = Number(process.hrtime.bigint() - d0) / 1e9
      const downloadMiBs = got.size / MiB / downloadS
      ctx.log(
        `download: ${got.size / MiB} MiB in ${downloadS.toFixed(2)} s (${downloadMiBs.toFixed(1)} MiB/s)`,
      )

      // Memory while a big file goes up.
      const big = join(ctx.tmp, 'big.bin')
      await writeFileOf(big, bigBytes)
      const rss = () => ({ server: memory(server.pid).rssMiB, engine: process.memoryUsage().rss / MiB })
      const start = rss()
      const peak = { ...start }
      const sampler = setInterval(() => {
        const now = rss()
        peak.server = Math.max(peak.server, now.server)
        peak.engine = Math.max(peak.engine, now.engine)
      }, 100)
      let bigS: number
      try {
        bigS = await upload(sender, 'bob', big, 'big.bin')
      } finally {
        clearInterval(sampler)
      }
      const end = rss()
      const bigMiBs = bigBytes / MiB / bigS
      ctx.log(
        `${bigBytes / MiB} MiB upload in ${bigS.toFixed(1)} s (${bigMiBs.toFixed(1)} MiB/s); RSS MiB server ` +
          `${start.server.toFixed(0)} → peak ${peak.server.toFixed(0)} → ${end.server.toFixed(0)}, engine ` +
          `${start.engine.toFixed(0)} → peak ${peak.engine.toFixed(0)} → ${end.engine.toFixed(0)}`,
      )
      const growth = Math.max(peak.server - start.server, peak.engine - start.engine)
      out.params = { smallMiB: smallBytes / MiB, bigMiB: bigBytes / MiB, runs, chunkMiB: 8 }
      out.sections.push({
        text:
          `A server process and two engines on one machine (loopback HTTP). Uploads as sendFile does ` +
          `them, until the message is written; the median of ${runs} runs.`,
        table: {
          columns: ['what', 'MiB', 'seconds', 'MiB/s'],
          rows: [
            ['upload (median)', smallBytes / MiB, round(median(seconds), 3), round(uploadMiBs, 3)],
            ['download', got.size / MiB, round(downloadS, 3), round(downloadMiBs, 3)],
            ['upload, big file', bigBytes / MiB, round(bigS, 3), round(bigMiBs, 3)],
          ],
        },
      })
      out.sections.push({
        heading: `RSS while the ${bigBytes / MiB} MiB file uploads (MiB, sampled every 100 ms)`,
        table: {
          columns: ['process', 'start', 'peak', 'end'],
          rows: [
            ['server', round(start.server), round(peak.server), round(end.server)],
            ['engine (this process)', round(start.engine), round(peak.engine), round(end.engine)],
          ],
        },
      })
      out.targets.push(
        target(
          'RSS growth while a big file uploads',
          '< 64 MiB (flat)',
          `${growth.toFixed(1)} MiB`,
          growth,
          64,
        ),
      )
      out.raw = { seconds, downloadS, bigS, start, peak, end }
      return out
    } finally {
      await sender.shutdown()
      await receiver.shutdown()
      await server.close()
    }
  },
}
