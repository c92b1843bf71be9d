/**
 * Scenario 7: the renderer with a long conversation. The profile's SQLite is seeded directly with one
 * single chat of 1k / 10k / 100k messages; the headless host (the same engine and renderer build as
 * the app) serves it to Chromium, driven by Playwright. Measured in the page: time from the click on
 * the conversation to the frame that shows its newest message; frame times (requestAnimationFrame)
 * while scrolling up through the history at a steady fling; JS heap (after a forced GC, over CDP)
 * once open and after scrolling.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { chromium, type Browser } from '@playwright/test'
import { SqliteEngineStore } from '../../src/main/engine/store/sqliteStore'
import { profileDatabase, writeSignedInProfile } from '../lib/engineProfile'
import { childNodeArgs, openServerStorage, seedAccounts, spawnServer, type Account } from '../lib/server'
import { fmt, median, percentile } from '../lib/stats'
import { writeChart } from '../lib/svg'
import { emptyOutput, target, type Scenario } from '../lib/types'

const root = resolve(import.meta.dirname, '../..')
const PEER = 'pal'

// What the functions given to page.evaluate use: they run in Chromium, and this project's Node
// compilation has no DOM library, so the few page globals are declared here, for this module only.
interface PageElement {
  textContent: string | null
  scrollTop: number
  click(): void
}
declare const document: {
  querySelector(selector: string): PageElement | null
  querySelectorAll(selector: string): Iterable<PageElement>
}
declare function requestAnimationFrame(callback: (time: number) => void): number

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs)
  }
  return newest
}

/** Builds the app (electron-vite) when out/renderer is missing or older than the renderer sources. */
function ensureBuild(log: (m: string) => void): string | null {
  const index = join(root, 'out/renderer/index.html')
  const stale =
    !existsSync(index) ||
    statSync(index).mtimeMs <
      Math.max(newestMtime(join(root, 'src/renderer')), newestMtime(join(root, 'src/shared')))
  if (!stale) return null
  log('building the app (npx electron-vite build)')
  const r = spawnSync('npx', ['electron-vite', 'build'], { cwd: root, stdio: 'ignore', timeout: 600_000 })
  return r.status === 0 ? null : `electron-vite build failed (exit ${r.status ?? 'none'})`
}

function chromiumPath(): string | undefined {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH
  return ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p))
}

/** One conversation of `n` messages with `PEER`, alternating sides, read, mine delivered and read. */
function seedConversation(file: string, me: string, n: number): void {
  const store = new SqliteEngineStore(file)
  const db = store.db
  const insert = db.prepare(
    `INSERT INTO messages (local_id, client_msg_id, message_uid, conv_type, target_id, seq, sender_id, direction,
       content, sent_at, status, need_delivery_ack, need_read_ack, delivered_at, read_at)
     VALUES (?, ?, ?, 'private', ?, ?, ?, ?, ?, ?, 'sent', ?, ?, ?, ?)`,
  )
  const base = Date.UTC(2024, 0, 1)
  db.transaction(() => {
    for (let seq = 1; seq <= n; seq++) {
      const mine = seq % 3 === 0
      const at = base + seq * 60_000
      const words = 3 + ((seq * 7) % 25)
      const text =
        `message ${seq} ` + 'lorem ipsum dolor sit amet '.repeat(Math.ceil(words / 5)).slice(0, words * 5)
      const uid = seq.toString(36).toUpperCase().padStart(16, '0')
      insert.run(
        seq,
        `c${seq}`,
        `${uid.slice(0, 4)}-${uid.slice(4, 8)}-${uid.slice(8, 12)}-${uid.slice(12)}`,
        PEER,
        seq,
        mine ? me : PEER,
        mine ? 1 : 2,
        JSON.stringify({ type: 'text', text }),
        at,
        mine ? 1 : 0,
        mine ? 1 : 0,
        mine ? at + 1000 : null,
        mine ? at + 5000 : null,
      )
    }
    db.prepare(
      `INSERT INTO conversations (conv_type, target_id, title, last_seq, synced_seq, read_seq, unread_count,
         last_local_id, updated_at) VALUES ('private', ?, ?, ?, ?, ?, 0, ?, ?)`,
    ).run(PEER, 'Pal', n, n, n, n, base + n * 60_000)
    db.prepare('INSERT OR REPLACE INTO users (user_id, display_name) VALUES (?, ?)').run(PEER, 'Pal')
  })()
  db.pragma('wal_checkpoint(TRUNCATE)')
  store.close()
}

function startHost(profileDir: string, serverUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [
      ...childNodeArgs(),
      '--import',
      'tsx',
      'src/main/hosts/headless/cli.ts',
      '--profile',
      profileDir,
      '--server',
      serverUrl,
      '--port',
      '0',
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  return new Promise((res, rej) => {
    let out = ''
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString()
      const m = /http:\/\/\S+/.exec(out)
      if (m) res({ child, url: m[0] })
    })
    child.once('exit', (code) => rej(new Error(`headless host exited with ${code}`)))
  })
}

interface PageRun {
  openMs: number
  frames: number[]
  scrolledPx: number
  oldestSeqReached: number
  heapOpenMiB: number
  heapAfterScrollMiB: number
}

async function measurePage(browser: Browser, url: string, n: number, scrollFrames: number): Promise<PageRun> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })
  // tsx (esbuild keepNames) wraps named inner functions in __name(…); give the page that helper.
  await context.addInitScript({ content: 'globalThis.__name = (f) => f' })
  const page = await context.newPage()
  const cdp = await context.newCDPSession(page)
  const heap = async (): Promise<number> => {
    await cdp.send('HeapProfiler.collectGarbage')
    const h = await cdp.send('Runtime.getHeapUsage')
    return h.usedSize / 2 ** 20
  }
  try {
    await page.goto(url)
    const item = page.locator(`[data-testid="conversation-item"][data-conversation="private:${PEER}"]`)
    await item.waitFor({ timeout: 30_000 })
    await page.waitForTimeout(300)
    const openMs = await page.evaluate(
      ({ peer, newest }) =>
        new Promise<number>((resolveOpen, rejectOpen) => {
          const el = document.querySelector(
            `[data-testid="conversation-item"][data-conversation="private:${peer}"]`,
          )
          if (!el) return rejectOpen(new Error('no conversation item'))
          const t0 = performance.now()
          el.click()
          const deadline = t0 + 30_000
          const check = (): void => {
            const texts = [...document.querySelectorAll('[data-testid="message-text"]')].map(
              (e) => e.textContent ?? '',
            )
            if (texts.some((t) => t.startsWith(`message ${newest} `))) {
              // The next frame is the one that shows it.
              requestAnimationFrame(() => resolveOpen(performance.now() - t0))
            } else if (performance.now() > deadline) rejectOpen(new Error('the conversation did not open'))
            else requestAnimationFrame(check)
          }
          requestAnimationFrame(check)
        }),
      { peer: PEER, newest: n },
    )
    await page.waitForTimeout(500)
    const heapOpenMiB = await heap()
    const scroll = await page.evaluate(
      (frames) =>
        new Promise<{ frames: number[]; scrolledPx: number; oldest: number }>((resolveScroll) => {
          const list = document.querySelector('[data-testid="message-list"]')
          if (!list) return resolveScroll({ frames: [], scrolledPx: 0, oldest: 0 })
          const stamps: number[] = []
          let scrolled = 0
          const step = (t: number): void => {
            stamps.push(t)
            const before = list.scrollTop
            list.scrollTop = Math.max(0, before - 400)
            scrolled += before - list.scrollTop
            if (stamps.length <= frames) requestAnimationFrame(step)
            else {
              const seqs = [...document.querySelectorAll('[data-testid="message-text"]')]
                .map((e) => Number(/^message (\d+)/.exec(e.textContent ?? '')?.[1]))
                .filter((x) => Number.isFinite(x))
              resolveScroll({
                frames: stamps.slice(1).map((s, i) => s - (stamps[i] as number)),
                scrolledPx: scrolled,
                oldest: Math.min(...seqs),
              })
            }
          }
          requestAnimationFrame(step)
        }),
      scrollFrames,
    )
    await page.waitForTimeout(500)
    const heapAfterScrollMiB = await heap()
    return {
      openMs,
      frames: scroll.frames,
      scrolledPx: scroll.scrolledPx,
      oldestSeqReached: scroll.oldest,
      heapOpenMiB,
      heapAfterScrollMiB,
    }
  } finally {
    await context.close()
  }
}

export const s7Renderer: Scenario = {
  id: 's7-renderer',
  aliases: ['renderer', 'ui', 'chromium'],
  title: 'Renderer: a long conversation in Chromium',
  async run(ctx) {
    const out = emptyOutput()
    const sizes = ctx.quick ? [1_000, 100_000] : [1_000, 10_000, 100_000]
    const runs = ctx.quick ? 1 : 3
    const scrollFrames = ctx.quick ? 120 : 300
    out.params = { sizes, runs, scrollFrames, scrollPxPerFrame: 400, viewport: '1280x800' }
    const buildProblem = ensureBuild(ctx.log)
    const exe = chromiumPath()
    if (buildProblem || !exe) {
      out.skipped = buildProblem ?? 'no Chromium (apt-get install chromium, or CHROMIUM_PATH)'
      return out
    }
    const dataDir = join(ctx.tmp, 'server')
    const storage = openServerStorage(dataDir)
    const accounts = await seedAccounts(storage, ['viewer', PEER])
    await storage.close()
    const server = await spawnServer({ dataDir })
    const browser = await chromium.launch({
      executablePath: exe,
      args: [
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    const results: Record<number, PageRun[]> = {}
    try {
      for (let run = 0; run < runs; run++) {
        for (const n of sizes) {
          const profileDir = join(ctx.tmp, `profile-${n}-${run}`)
          const viewer = accounts.find((a) => a.userId === 'viewer') as Account
          writeSignedInProfile(profileDir, viewer, server.url)
          seedConversation(profileDatabase(profileDir, 'viewer', server.url, false), 'viewer', n)
          const host = await startHost(profileDir, server.url)
          try {
            const r = await measurePage(browser, host.url, n, scrollFrames)
            ;(results[n] ??= []).push(r)
            ctx.log(
              `${fmt(n)} messages: open ${fmt(r.openMs)} ms, frames p50/p95/max ${fmt(percentile(r.frames, 50))}/${fmt(percentile(r.frames, 95))}/` +
                `${fmt(Math.max(...r.frames))} ms, scrolled back to #${r.oldestSeqReached}, heap ${fmt(r.heapOpenMiB)} → ${fmt(r.heapAfterScrollMiB)} MiB`,
            )
          } finally {
            await new Promise<void>((r) => {
              if (host.child.exitCode !== null) return r()
              host.child.once('exit', () => r())
              host.child.kill('SIGTERM')
            })
          }
        }
      }
    } finally {
      await browser.close()
      await server.close()
    }
    const med = (n: number, f: (r: PageRun) => number): number => median((results[n] ?? []).map(f))
    const slow = (r: PageRun, ms: number): number =>
      r.frames.filter((f) => f > ms).length / Math.max(1, r.frames.length)
    out.sections.push({
      text:
        `Chromium ${browser.version()} (headless), viewport 1280×800, the app's renderer build served by the headless host. Open = click on ` +
        `the conversation → the frame after its newest message is in the DOM. Scroll = ${scrollFrames} animation frames moving 400 px ` +
        `up each (older pages load as the top nears). Heap = JS heap used after a forced GC. Medians of ${runs} run(s).`,
      table: {
        columns: [
          'history',
          'open ms',
          'frame p50 / p95 / p99 ms',
          'frames > 16.7 ms',
          'frames > 50 ms',
          'messages scrolled through',
          'heap open MiB',
          'heap after scroll MiB',
        ],
        rows: sizes.map((n) => [
          fmt(n),
          fmt(med(n, (r) => r.openMs)),
          `${fmt(med(n, (r) => percentile(r.frames, 50)))} / ${fmt(med(n, (r) => percentile(r.frames, 95)))} / ${fmt(med(n, (r) => percentile(r.frames, 99)))}`,
          `${fmt(med(n, (r) => slow(r, 16.7)) * 100)}%`,
          `${fmt(med(n, (r) => slow(r, 50)) * 100)}%`,
          fmt(med(n, (r) => n - r.oldestSeqReached + 1)),
          fmt(med(n, (r) => r.heapOpenMiB)),
          fmt(med(n, (r) => r.heapAfterScrollMiB)),
        ]),
      },
    })
    const lo = sizes[0] as number
    const hi = sizes.at(-1) as number
    const heapLo = med(lo, (r) => r.heapOpenMiB)
    const heapHi = med(hi, (r) => r.heapOpenMiB)
    const openHi = med(hi, (r) => r.openMs)
    const p95Hi = med(hi, (r) => percentile(r.frames, 95))
    out.targets.push(
      target(
        `JS heap with the conversation open, ${fmt(hi)} vs ${fmt(lo)} messages`,
        'not growing (≤ 1.2x)',
        `${fmt(heapHi)} vs ${fmt(heapLo)} MiB`,
        heapHi / heapLo,
        1.2,
      ),
      target(
        `open a ${fmt(hi)}-message conversation (to its first paint)`,
        'smooth: ≤ 100 ms',
        `${fmt(openHi)} ms`,
        openHi,
        100,
      ),
      target(
        `frame time p95 while scrolling ${fmt(hi)} messages`,
        'smooth: ≤ 20 ms (no dropped 60 Hz frame)',
        `${fmt(p95Hi)} ms`,
        p95Hi,
        20,
      ),
    )
    out.notes.push(
      'The issue sets no number for "opens and scrolls smoothly"; the targets used here are a first paint within 100 ms and 95% of ' +
        'frames under 20 ms while scrolling (a 60 Hz frame is 16.7 ms; requestAnimationFrame timestamps jitter by a few tenths).',
    )
    const chart = 's7-renderer.svg'
    writeChart(join(ctx.outDir, chart), {
      title: 'Renderer: open time, frame p95, heap vs history',
      xLabel: 'messages in the conversation',
      yLabel: 'ms / MiB',
      logX: true,
      series: [
        { name: 'open ms', points: sizes.map((n) => ({ x: n, y: med(n, (r) => r.openMs) })) },
        {
          name: 'frame p95 ms',
          points: sizes.map((n) => ({ x: n, y: med(n, (r) => percentile(r.frames, 95)) })),
        },
        { name: 'heap open MiB', points: sizes.map((n) => ({ x: n, y: med(n, (r) => r.heapOpenMiB) })) },
        {
          name: 'heap after scroll MiB',
          points: sizes.map((n) => ({ x: n, y: med(n, (r) => r.heapAfterScrollMiB) })),
        },
      ],
    })
    out.charts.push({ file: chart, caption: 'renderer cost vs history size' })
    out.raw = Object.fromEntries(
      sizes.map((n) => [
        n,
        (results[n] ?? []).map((r) => ({ ...r, frames: undefined, frameCount: r.frames.length })),
      ]),
    )
    return out
  },
}
