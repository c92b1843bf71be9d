/**
 * npm run screenshots [-- --renderer <dir>] [-- --out <dir>]
 *
 * Writes the screenshots of docs/screenshots/: a throwaway server (src/server/cli.ts --port 0), a
 * headless host (src/main/hosts/headless/cli.ts) per account, all driven in Chromium through
 * Playwright. The scene: Alice's single chat with Bob (messages read, and delivered but not yet
 * read), the group "Design review" with "1 of 2 read" and its reader panel open, the settings
 * dialog, and the sign-in screen; then the everyday screens of issue 13: Alice's chat with Carol
 * (a day separator, a reply, an edited and a recalled message, an image, a file, Carol typing and
 * online), its message menu, the message search, each new settings section, and the group's member
 * panel with its name and picture; then issue 15's acknowledgement panel (a message that asks for
 * acknowledgements and mentions Bob) and "Waiting for me"; each in the light and the dark theme
 * (prefers-color-scheme), in English and in Chinese (the locale the app stores, as its language
 * menu does), at 1280×800.
 * Also writes docs/screenshots/README.md, the index.
 *
 * The renderer is built afresh into a temporary folder (`electron-vite build --outDir`), so what is
 * shot is the working tree, whatever out/ holds; `--renderer <dir>` takes a build as it is.
 * Every step waits on what the UI shows (data-testid, data-receipt…), never on a fixed time.
 * Chromium: CHROMIUM_PATH, else Debian's /usr/lib/chromium/chromium, else Playwright's own.
 */
import { spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { chromium, expect, type Browser, type Locator, type Page } from '@playwright/test'
import { encodePng, type PickedPng } from '../e2e/png'
import { chromiumPath, spawnForUrl, stop } from '../e2e/processes'

const root = resolve(import.meta.dirname, '..')
const { values } = parseArgs({
  options: {
    renderer: { type: 'string' },
    out: { type: 'string', default: join(root, 'docs/screenshots') },
  },
})
const outDir = resolve(values.out as string)
const VIEWPORT = { width: 1280, height: 800 }
const THEMES = ['light', 'dark'] as const
const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'zh-CN', name: '简体中文' },
] as const
/** The key the renderer keeps the chosen language under (src/renderer/src/i18n/index.ts). */
const LOCALE_STORAGE_KEY = 'messenger.locale'
// Each wait is on something the UI shows; a slow machine (two cores, other suites running) gets time.
const want = expect.configure({ timeout: 30_000 })

// What the functions given to page.evaluate use: they run in Chromium, and this project's Node
// compilation has no DOM library, so the few page globals are declared here, for this module only.
declare const localStorage: { setItem(key: string, value: string): void }
declare const document: { fonts: { ready: Promise<unknown> } }
declare function matchMedia(query: string): { matches: boolean }
declare function requestAnimationFrame(callback: (time: number) => void): number

type Theme = (typeof THEMES)[number]
type Language = (typeof LANGUAGES)[number]['code']

function log(line: string): void {
  process.stdout.write(`${line}\n`)
}

interface Account {
  userId: string
  displayName: string
  page: Page
  url: string
}

const stops: (() => Promise<void>)[] = []

async function startAccount(
  browser: Browser,
  tmp: string,
  serverUrl: string,
  rendererDir: string,
  userId: string,
  displayName: string,
): Promise<Account> {
  // The folder's name is what the sidebar calls the profile.
  const profileDir = join(tmp, userId)
  const host = await spawnForUrl(
    [
      'src/main/hosts/headless/cli.ts',
      '--profile',
      profileDir,
      '--server',
      serverUrl,
      '--port',
      '0',
      '--renderer',
      rendererDir,
    ],
    /http:\/\/\S+/,
  )
  const context = await browser.newContext({ viewport: VIEWPORT, locale: 'en-US', deviceScaleFactor: 1 })
  stops.push(async () => {
    await context.close()
    await stop(host.child)
  })
  const page = await context.newPage()
  page.on('pageerror', (e) => log(`  (${userId}: page error: ${e.message})`))
  await page.goto(host.url)
  return { userId, displayName, page, url: host.url }
}

async function signUp(a: Account): Promise<void> {
  const { page } = a
  await page.getByTestId('auth-mode-toggle').click()
  await page.getByTestId('user-id').fill(a.userId)
  await page.getByTestId('password').fill(`${a.userId}-password-1`)
  await page.getByTestId('display-name').fill(a.displayName)
  await page.getByTestId('auth-submit').click()
  await want(page.getByTestId('current-user')).toContainText(a.userId)
  await want(page.getByTestId('connection-state')).toHaveAttribute('data-state', 'connected')
}

/** Delivery and read receipts asked for on my messages (Settings). */
async function askForReceipts(page: Page): Promise<void> {
  await page.getByTestId('settings-button').click()
  for (const id of ['setting-delivery-ack', 'setting-read-ack']) {
    await page.getByTestId(id).check()
    await want(page.getByTestId(id)).toBeChecked()
  }
  await page.getByTestId('settings-close').click()
  await want(page.getByTestId('settings-close')).toHaveCount(0)
}

function conversation(page: Page, key: string) {
  return page.locator(`[data-testid="conversation-item"][data-conversation="${key}"]`)
}

function conversationTitled(page: Page, title: string) {
  return page
    .getByTestId('conversation-item')
    .filter({ has: page.getByTestId('conversation-title').getByText(title, { exact: true }) })
}

function message(page: Page, text: string) {
  return page
    .getByTestId('message-item')
    .filter({ has: page.getByTestId('message-text').getByText(text, { exact: true }) })
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByTestId('composer-input').fill(text)
  await page.getByTestId('composer-input').press('Enter')
  await want(message(page, text)).toHaveAttribute('data-status', 'sent')
}

const ticks = (page: Page, text: string) => message(page, text).getByTestId('message-ticks')
const reads = (page: Page, text: string) => message(page, text).getByTestId('message-group-reads')

const GROUP = 'Design review'
const CHAT = {
  read: [
    'Morning! Did the nightly build pass?',
    'All green. The beta goes out at 3 pm.',
    'Great, I will tell the team.',
  ],
  delivered: ['Could you send me the release notes?', 'No rush, after lunch is fine.'],
}
const GROUP_ASK = 'The new mockups are in the shared folder, please take a look before Friday.'
const GROUP_REPLY = 'Looks great! One note on the header spacing.'

/** The scene: a single chat with read and delivered messages, a group with "1 of 2 read". */
async function buildScene(alice: Account, bob: Account, carol: Account): Promise<void> {
  for (const a of [alice, bob, carol]) await signUp(a)
  await askForReceipts(alice.page)
  await askForReceipts(bob.page)

  await alice.page.getByTestId('new-chat-button').click()
  await alice.page.getByTestId('new-chat-user-id').fill(bob.userId)
  await alice.page.getByTestId('new-chat-submit').click()
  await want(alice.page.getByTestId('chat-title')).toBeVisible()
  const [first, reply, third] = CHAT.read as [string, string, string]
  await send(alice.page, first)
  // Bob opens the chat: what is on his screen is read.
  await conversation(bob.page, `private:${alice.userId}`).click()
  await want(ticks(alice.page, first)).toHaveAttribute('data-receipt', 'read')
  await send(bob.page, reply)
  await want(message(alice.page, reply)).toBeVisible()
  await send(alice.page, third)
  await want(ticks(alice.page, third)).toHaveAttribute('data-receipt', 'read')
  // Bob looks away (his app still runs and acks delivery): the next ones stay delivered.
  await bob.page.goto('about:blank')
  for (const text of CHAT.delivered) {
    await send(alice.page, text)
    await want(ticks(alice.page, text)).toHaveAttribute('data-receipt', 'delivered')
  }

  await alice.page.getByTestId('new-group-button').click()
  await alice.page.getByTestId('new-group-name').fill(GROUP)
  await alice.page.getByTestId('new-group-members').fill(`${bob.userId}, ${carol.userId}`)
  await alice.page.getByTestId('new-group-submit').click()
  await want(alice.page.getByTestId('chat-title')).toHaveText(GROUP)
  await alice.page.getByTestId('composer-group-ack').click()
  await want(alice.page.getByTestId('composer-group-ack')).toHaveAttribute('aria-pressed', 'true')
  await send(alice.page, GROUP_ASK)
  await want(reads(alice.page, GROUP_ASK)).toHaveAttribute('data-all-read', 'false')
  // Bob comes back, reads the group message and answers; Carol has not opened it yet.
  await bob.page.goto(bob.url)
  await conversationTitled(bob.page, GROUP).click()
  await want(message(bob.page, GROUP_ASK)).toBeVisible()
  await want(reads(alice.page, GROUP_ASK)).toHaveText(/1\D+2/)
  await send(bob.page, GROUP_REPLY)
  await want(message(alice.page, GROUP_REPLY)).toBeVisible()
}

// Issue 13's everyday chat, Alice with Carol: words of an ordinary morning.
const EVERYDAY = {
  hello: 'Morning Carol! Here is the photo from the offsite, and the budget is below.',
  picture: 'offsite.png',
  file: 'Budget 2027.xlsx',
  asked: 'Can we go through it on Thursday at 9?',
  edited: 'Can we go through it on Thursday at 10?',
  reply: 'Thursday at 10 works for me. I will bring the printouts.',
  recalled: 'Sorry, wrong chat!',
  typing: 'Let me check the numbers',
  search: 'Thursday',
}

/**
 * A PNG as a camera would give: 960×640, a sky going pale towards the horizon, a sun and two hills.
 * Encoded here (filter byte 0 per row, deflated), so the script needs no image file of its own.
 */
function picture(name: string): PickedPng {
  return encodePng(name, 960, 640, (x, y) => {
    const sky = y / 640
    let rgb = [Math.round(40 + 150 * sky), Math.round(110 + 110 * sky), Math.round(200 + 40 * sky)]
    if ((x - 700) ** 2 + (y - 180) ** 2 < 70 ** 2) rgb = [255, 214, 102]
    if (y > 430 + 80 * Math.sin(x / 150)) rgb = [60, 140, 70]
    if (y > 500 + 50 * Math.cos(x / 110)) rgb = [34, 102, 52]
    return rgb
  })
}

/** The message row that carries the attachment named `name`. */
function attachment(page: Page, name: string): Locator {
  return page
    .getByTestId('message-item')
    .filter({ has: page.getByTestId('attachment-name').getByText(name, { exact: true }) })
}

/** A message's own menu (right click), then one of its actions. */
async function fromMenu(page: Page, target: Locator, action: string): Promise<void> {
  await target.click({ button: 'right' })
  await want(page.getByTestId('message-menu')).toBeVisible()
  await page.getByTestId('message-menu').getByTestId(`message-action-${action}`).click()
}

/**
 * Issue 13's scene: Alice's chat with Carol (an image, a file, an edited question with Carol's
 * reply quoting it, a recalled message; Carol stays on the chat, so she is online), and a picture
 * for the group, set from its member panel.
 */
async function buildEveryday(alice: Account, carol: Account): Promise<void> {
  const { page } = alice
  await page.getByTestId('new-chat-button').click()
  await page.getByTestId('new-chat-user-id').fill(carol.userId)
  await page.getByTestId('new-chat-submit').click()
  await want(page.getByTestId('chat-title')).toBeVisible()
  await send(page, EVERYDAY.hello)
  await conversation(carol.page, `private:${alice.userId}`).click()
  await want(message(carol.page, EVERYDAY.hello)).toBeVisible()
  await page.getByTestId('composer-file-input').setInputFiles(picture(EVERYDAY.picture))
  await want(attachment(page, EVERYDAY.picture).getByTestId('attachment-thumbnail')).toBeVisible()
  await carol.page.getByTestId('composer-file-input').setInputFiles({
    name: EVERYDAY.file,
    mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    buffer: Buffer.from('Quarter,Travel,Equipment\n'.repeat(1900)),
  })
  await want(attachment(page, EVERYDAY.file).getByTestId('attachment-download')).toBeVisible()
  await send(page, EVERYDAY.asked)
  await fromMenu(page, message(page, EVERYDAY.asked), 'edit')
  await page.getByTestId('composer-input').fill(EVERYDAY.edited)
  await page.getByTestId('composer-input').press('Enter')
  const edited = page.getByTestId('message-item').filter({ hasText: EVERYDAY.edited })
  await want(edited.getByTestId('message-edited')).toBeVisible()
  const theirs = carol.page.getByTestId('message-item').filter({ hasText: EVERYDAY.edited })
  await want(theirs.getByTestId('message-edited')).toBeVisible()
  await fromMenu(carol.page, theirs, 'reply')
  await send(carol.page, EVERYDAY.reply)
  await want(message(page, EVERYDAY.reply).getByTestId('reply-quote')).toBeVisible()
  await send(page, EVERYDAY.recalled)
  await fromMenu(page, message(page, EVERYDAY.recalled), 'recall')
  await page.getByTestId('confirm-accept').click()
  await want(page.getByTestId('message-recalled')).toBeVisible()

  await conversationTitled(page, GROUP).click()
  await page.getByTestId('members-button').click()
  await page.getByTestId('group-avatar-input').setInputFiles(picture('design-review.png'))
  await page.getByTestId('group-avatar-save').click()
  await want(conversationTitled(page, GROUP).getByTestId('avatar-image')).toBeVisible()
  await page.keyboard.press('Escape')
}

/** Carol types (and does not send), so that Alice's header and chat list say so. */
async function carolTypes(alice: Page, carol: Page): Promise<void> {
  const input = carol.getByTestId('composer-input')
  // Clearing the box says "stopped"; typing again says "typing" at once, whatever was said before.
  await input.fill('')
  await input.pressSequentially(EVERYDAY.typing)
  await want(alice.getByTestId('typing-indicator')).toBeVisible()
}

/** Reloads the page in `language` (the stored choice wins over the browser's language). */
async function reloadIn(page: Page, language: Language): Promise<void> {
  await page.evaluate(([key, value]) => localStorage.setItem(key, value), [LOCALE_STORAGE_KEY, language])
  await page.reload()
  await want(page.locator('html')).toHaveAttribute('lang', language)
}

/** Waits for the theme to apply and two frames to be drawn, then writes the PNG. */
async function shoot(page: Page, name: string, theme: Theme, language: Language): Promise<string> {
  await page.emulateMedia({ colorScheme: theme })
  await page.waitForFunction(
    (dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark,
    theme === 'dark',
  )
  await page.evaluate(async () => {
    await document.fonts.ready
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)))
  })
  const file = join(outDir, `${name}-${theme}-${language}.png`)
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide' })
  log(`  ${relative(root, file)}`)
  return file
}

interface Shot {
  name: string
  title: string
  what: string
  /** Brings a freshly loaded, signed-in page to what is shot. */
  prepare(page: Page): Promise<void>
}

async function openChat(page: Page, item: ReturnType<typeof conversation>, newest: string): Promise<void> {
  await item.click()
  await want(message(page, newest)).toBeVisible()
}

function appShots(bob: Account, carol: Account): Shot[] {
  const lastDelivered = CHAT.delivered.at(-1) as string
  return [
    {
      name: 'chat',
      title: 'Single chat',
      what: `Alice's chat with Bob: her first messages read, the last two delivered but not read yet.`,
      prepare: async (page) => {
        await openChat(page, conversation(page, `private:${bob.userId}`), lastDelivered)
        await want(ticks(page, lastDelivered)).toHaveAttribute('data-receipt', 'delivered')
        await want(ticks(page, CHAT.read[0] as string)).toHaveAttribute('data-receipt', 'read')
      },
    },
    {
      name: 'group-readers',
      title: 'Group read receipts',
      what: `The group "${GROUP}": Alice asked for read receipts, ${bob.displayName} has read it and ${carol.displayName} not yet ("1 of 2 read"); the reader panel is open.`,
      prepare: async (page) => {
        await openChat(page, conversationTitled(page, GROUP), GROUP_REPLY)
        await reads(page, GROUP_ASK).click()
        await want(page.getByTestId('readers-summary')).toBeVisible()
        await want(page.locator(`[data-testid="reader-item"][data-user-id="${bob.userId}"]`)).toBeVisible()
      },
    },
    {
      name: 'settings',
      title: 'Settings',
      what: 'The settings dialog: receipts asked for on my messages, and what I share.',
      prepare: async (page) => {
        await openChat(page, conversation(page, `private:${bob.userId}`), CHAT.delivered.at(-1) as string)
        await page.getByTestId('settings-button').click()
        await want(page.getByTestId('settings-close')).toBeVisible()
        // New accounts ask for both; checked here so the shot shows them on whatever the defaults.
        for (const id of ['setting-delivery-ack', 'setting-read-ack']) {
          await page.getByTestId(id).check()
          await want(page.getByTestId(id)).toBeChecked()
        }
      },
    },
  ]
}

/** Settings, scrolled so that the section holding `testId` starts at the dialog's top. */
async function settingsAt(page: Page, carol: Account, testId: string): Promise<void> {
  await openChat(page, conversation(page, `private:${carol.userId}`), EVERYDAY.reply)
  await page.getByTestId('settings-button').click()
  await want(page.getByTestId('settings-close')).toBeVisible()
  const control = page.getByTestId(testId)
  await want(control).toBeVisible()
  await control.evaluate((element) => element.closest('section')?.scrollIntoView({ block: 'start' }))
  await want(control).toBeInViewport()
}

function everydayShots(carol: Account): Shot[] {
  const chat = (page: Page) => openChat(page, conversation(page, `private:${carol.userId}`), EVERYDAY.reply)
  return [
    {
      name: 'conversation',
      title: 'An everyday chat',
      what: `Alice's chat with ${carol.displayName}: "Today", an image with its thumbnail, a file with Download, an edited question, ${carol.displayName}'s reply quoting it, a recalled message; ${carol.displayName} is online and typing.`,
      prepare: async (page) => {
        await chat(page)
        await want(page.getByTestId('message-recalled')).toBeVisible()
        await want(page.getByTestId('online-dot').first()).toBeVisible()
        await carolTypes(page, carol.page)
      },
    },
    {
      name: 'message-menu',
      title: 'Message menu',
      what: 'A right click on a message: Copy, Reply, Edit, Recall for everyone, Delete for me, Info.',
      prepare: async (page) => {
        await chat(page)
        await message(page, EVERYDAY.hello).click({ button: 'right' })
        await want(page.getByTestId('message-action-recall')).toBeVisible()
      },
    },
    {
      name: 'search',
      title: 'Message search',
      what: `Ctrl+Shift+F: every chat's history searched as you type, the words found marked, with the chat, the sender and the time.`,
      prepare: async (page) => {
        await openChat(page, conversation(page, `private:${carol.userId}`), EVERYDAY.reply)
        await page.keyboard.press('Control+Shift+F')
        await page.getByTestId('search-input').fill(EVERYDAY.search)
        await want(page.getByTestId('search-result')).toHaveCount(2)
        await want(page.getByTestId('search-result').first().locator('mark')).toBeVisible()
      },
    },
    {
      name: 'settings-notifications',
      title: 'Settings: notifications',
      what: 'Notifications on or off, with or without the text, with or without a sound.',
      prepare: (page) => settingsAt(page, carol, 'setting-notifications'),
    },
    {
      name: 'settings-privacy',
      title: 'Settings: typing and presence',
      what: 'Who sees that I type, and who sees that I am online and when I was last.',
      prepare: (page) => settingsAt(page, carol, 'privacy-typing'),
    },
    {
      name: 'settings-profile',
      title: 'Settings: profile',
      what: 'Display name, password and picture.',
      prepare: (page) => settingsAt(page, carol, 'profile-display-name'),
    },
    {
      name: 'members',
      title: 'Group members',
      what: `The member panel of "${GROUP}": its name (the owner may rename it), its picture (Choose picture…), and the members with presence.`,
      prepare: async (page) => {
        await openChat(page, conversationTitled(page, GROUP), GROUP_REPLY)
        await page.getByTestId('members-button').click()
        await want(page.getByTestId('member-panel')).toBeVisible()
        await want(page.getByTestId('group-rename')).toBeVisible()
      },
    },
  ]
}

// Issue 15, in a group of its own (the other shots stay as they were): a message that asks for
// acknowledgements and mentions Bob, and Carol's, which asks Alice.
const ACKS = {
  group: 'Launch checklist',
  ask: 'please confirm the header spacing before Friday.',
  request: 'Can you confirm the budget numbers by noon?',
}
const ackAsk = (bob: Account) => `@${bob.displayName} ${ACKS.ask}`

/** Alice asks the group to acknowledge (mentioning Bob, picked from "@"), Bob does; Carol asks Alice. */
async function buildAcks(alice: Account, bob: Account, carol: Account): Promise<void> {
  await alice.page.getByTestId('new-group-button').click()
  await alice.page.getByTestId('new-group-name').fill(ACKS.group)
  await alice.page.getByTestId('new-group-members').fill(`${bob.userId}, ${carol.userId}`)
  await alice.page.getByTestId('new-group-submit').click()
  await want(alice.page.getByTestId('chat-title')).toHaveText(ACKS.group)
  await alice.page.getByTestId('composer-need-ack').click()
  const box = alice.page.getByTestId('composer-input')
  await box.pressSequentially(`@${bob.displayName.slice(0, 2)}`)
  await want(alice.page.getByTestId('mention-option')).toHaveCount(1)
  await box.press('Enter')
  await box.pressSequentially(ACKS.ask)
  await box.press('Enter')
  await want(message(alice.page, ackAsk(bob))).toHaveAttribute('data-status', 'sent')
  await conversationTitled(bob.page, ACKS.group).click()
  await message(bob.page, ackAsk(bob)).getByTestId('ack-button').click()
  await want(message(alice.page, ackAsk(bob)).getByTestId('message-acks')).toHaveText(/^1\D+2/)
  await conversationTitled(carol.page, ACKS.group).click()
  await want(carol.page.getByTestId('chat-title')).toHaveText(ACKS.group)
  await carol.page.getByTestId('composer-need-ack').click()
  await send(carol.page, ACKS.request)
  await want(alice.page.getByTestId('waiting-for-me-badge')).toHaveText('1')
  // Back to her chat with Alice, where the everyday shot has her typing.
  await conversation(carol.page, `private:${alice.userId}`).click()
  await want(carol.page.getByTestId('chat-title')).toHaveText(alice.displayName)
}

function ackShots(bob: Account, carol: Account): Shot[] {
  return [
    {
      name: 'acks-panel',
      title: 'Acknowledgements',
      what: `Alice asked "${ACKS.group}" to acknowledge a message that mentions ${bob.displayName} (his dot is filled: he read it); ${bob.displayName} acknowledged, ${carol.displayName} not yet. The panel: three tabs, Remind now, a schedule, Export CSV.`,
      prepare: async (page) => {
        await openChat(page, conversationTitled(page, ACKS.group), ACKS.request)
        await message(page, ackAsk(bob)).getByTestId('message-acks').click()
        await want(page.locator(`[data-testid="ack-entry"][data-user-id="${bob.userId}"]`)).toBeVisible()
      },
    },
    {
      name: 'waiting-for-me',
      title: 'Waiting for me',
      what: `One click from the chat list: every message that asks Alice for an acknowledgement, here ${carol.displayName}'s, with Acknowledge and Show in chat.`,
      prepare: async (page) => {
        await page.getByTestId('waiting-for-me').click()
        await want(page.getByTestId('pending-ack-item')).toHaveCount(1)
      },
    },
  ]
}

async function writeIndex(sections: { name: string; title: string; what: string }[]): Promise<void> {
  const lines = [
    '# Screenshots',
    '',
    'Written by `npm run screenshots` (scripts/screenshots.ts): a throwaway server and one headless host per',
    'account, driven in Chromium at 1280×800, in the light and the dark theme, in English and in Chinese.',
    'Run it again after a UI change; the files are replaced.',
    '',
  ]
  for (const s of sections) {
    lines.push(`## ${s.title}`, '', s.what, '')
    lines.push(`| | ${THEMES.join(' | ')} |`, `|---|${THEMES.map(() => '---').join('|')}|`)
    for (const l of LANGUAGES)
      lines.push(
        `| ${l.name} | ${THEMES.map((t) => `![${s.title}, ${t}, ${l.name}](${s.name}-${t}-${l.code}.png)`).join(' | ')} |`,
      )
    lines.push('')
  }
  // In the repository's Prettier style, so `npm run format` leaves it alone.
  const file = join(outDir, 'README.md')
  const prettier = await import('prettier')
  const options = (await prettier.resolveConfig(file)) ?? {}
  writeFileSync(file, await prettier.format(lines.join('\n'), { ...options, filepath: file }))
}

/** Chinese text needs a CJK font, which a minimal system lacks: without one it shows as boxes. */
function warnWithoutCjkFont(): void {
  const r = spawnSync('fc-list', [':lang=zh'], { encoding: 'utf8' })
  if (r.status === 0 && r.stdout.trim() === '')
    log(
      'warning: no Chinese font (fc-list :lang=zh): the zh-CN shots will show boxes; apt-get install fonts-noto-cjk',
    )
}

async function run(): Promise<void> {
  warnWithoutCjkFont()
  const tmp = mkdtempSync(join(tmpdir(), 'im-screenshots-'))
  let server: ChildProcess | null = null
  let browser: Browser | null = null
  try {
    let rendererDir = values.renderer ? resolve(values.renderer) : ''
    if (!rendererDir) {
      log('building the renderer (electron-vite build)')
      const build = join(tmp, 'build')
      const r = spawnSync('npx', ['electron-vite', 'build', '--outDir', build], {
        cwd: root,
        stdio: 'inherit',
      })
      if (r.status !== 0) throw new Error(`electron-vite build failed (exit ${r.status ?? 'none'})`)
      rendererDir = join(build, 'renderer')
    }
    if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`no renderer build in ${rendererDir}`)
    const started = await spawnForUrl(
      ['src/server/cli.ts', '--port', '0', '--data', join(tmp, 'server')],
      /ws:\/\/\S+/,
    )
    server = started.child
    browser = await chromium.launch({
      executablePath: chromiumPath(),
      args: [
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    })
    const start = (userId: string, name: string) =>
      startAccount(browser as Browser, tmp, started.url, rendererDir, userId, name)
    const [alice, bob, carol, visitor] = [
      await start('alice', 'Alice Chen'),
      await start('bob', 'Bob Li'),
      await start('carol', 'Carol Wang'),
      await start('visitor', ''),
    ] as [Account, Account, Account, Account]
    log('building the scene')
    await buildScene(alice, bob, carol)
    await buildEveryday(alice, carol)
    await buildAcks(alice, bob, carol)
    mkdirSync(outDir, { recursive: true })
    const shots = [...appShots(bob, carol), ...everydayShots(carol), ...ackShots(bob, carol)]
    const signIn: Shot = {
      name: 'sign-in',
      title: 'Sign in',
      what: 'The first screen: sign in to a server (or create an account).',
      prepare: async (page) => {
        await want(page.getByTestId('auth-submit')).toBeVisible()
        // The throwaway server's port changes every run: show an address that reads like a real one.
        const server = page.getByTestId('server-url')
        if ((await server.count()) > 0) await server.fill('wss://im.example.com/ws')
        await page.getByTestId('user-id').focus()
      },
    }
    for (const language of LANGUAGES.map((l) => l.code)) {
      log(`${language}:`)
      for (const shot of shots) {
        await reloadIn(alice.page, language)
        await want(alice.page.getByTestId('current-user')).toContainText(alice.userId)
        await shot.prepare(alice.page)
        for (const theme of THEMES) await shoot(alice.page, shot.name, theme, language)
      }
      await reloadIn(visitor.page, language)
      await signIn.prepare(visitor.page)
      for (const theme of THEMES) await shoot(visitor.page, signIn.name, theme, language)
    }
    await writeIndex([...shots, signIn])
    log(`index: ${relative(root, join(outDir, 'README.md'))}`)
  } finally {
    for (const s of stops.reverse()) await s().catch(() => undefined)
    await browser?.close()
    if (server) await stop(server)
    rmSync(tmp, { recursive: true, force: true })
  }
}

await run()
