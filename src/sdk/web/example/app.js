// The web SDK example page (issue 16): plain JavaScript and the built SDK, no framework. A person
// signs in, picks a group, sees the receipt requests the SDK cached (R7) and answers them all with
// sendReadReceiptResponseV2(groupId), without a messageList. The session stays in sessionStorage so
// that a reload of the tab signs in again (the SDK itself keeps no token).
import { Events, IMClient } from './im-web-sdk.js'

const config = await (await fetch('config.json')).json()
const im = new IMClient({ serverUrl: config.serverUrl })
const $ = (id) => document.querySelector(`[data-testid="${id}"]`)
const form = $('sign-in-form')
let groupId = null
let texts = new Map()

function setState(state, words) {
  $('connection-state').dataset.state = state
  $('connection-state').textContent = words
}
im.addEventListener(Events.CONNECTING, () => setState('connecting', 'connecting…'))
im.addEventListener(Events.CONNECTED, ({ userId }) => {
  setState('connected', 'connected')
  $('current-user').textContent = `as ${userId}`
})
im.addEventListener(Events.SUSPEND, ({ retryInMs }) =>
  setState('suspended', `reconnecting in ${Math.ceil(retryInMs / 1000)} s`),
)
im.addEventListener(Events.DISCONNECT, () => setState('disconnected', 'disconnected'))
im.addEventListener(Events.CONVERSATION, () => showGroups())
im.addEventListener(Events.MESSAGES, ({ messages }) => {
  if (messages.some((m) => m.convType === 'group' && m.to === groupId)) showGroup()
})
im.addEventListener(Events.MESSAGE_RECEIPT_REQUEST, ({ conversation }) => {
  if (conversation.targetId === groupId) showGroup()
})

async function signIn(register) {
  $('sign-in-error').textContent = ''
  const userId = form.elements.userId.value.trim()
  const password = form.elements.password.value
  if (register) {
    const r = await im.register(userId, password)
    if (r.code !== 0) return ($('sign-in-error').textContent = r.msg)
  }
  const login = await im.login(userId, password)
  if (login.code !== 0) return ($('sign-in-error').textContent = login.msg)
  sessionStorage.setItem(
    'im-session',
    JSON.stringify({ token: login.data.token, deviceId: login.data.deviceId }),
  )
  await connect(login.data.token, login.data.deviceId)
}

async function connect(token, deviceId) {
  const r = await im.connect(token, deviceId)
  if (r.code !== 0) {
    sessionStorage.removeItem('im-session')
    $('sign-in-error').textContent = r.msg
    return
  }
  form.hidden = true
  $('sign-out').hidden = false
  document.querySelector('main').hidden = false
  showGroups()
}

function showGroups() {
  const list = im.getConversationList()
  if (list.code !== 0) return
  const items = list.data.groups.map((g) => {
    const li = document.createElement('li')
    const button = document.createElement('button')
    button.type = 'button'
    button.dataset.testid = 'group-item'
    button.dataset.groupId = g.groupId
    button.textContent = g.name
    button.addEventListener('click', () => {
      groupId = g.groupId
      $('group-title').textContent = g.name
      $('answer-result').textContent = ''
      showGroup()
    })
    li.append(button)
    return li
  })
  $('groups').replaceChildren(...items)
}

/** The group's latest messages and its cached requests (the texts come from the history). */
async function showGroup() {
  if (!groupId) return
  const shown = groupId
  $('group-panel').hidden = false
  const history = await im.getHistoryMessages({ type: 'group', targetId: shown }, { count: 50 })
  const requests = await im.getReceiptRequests(shown)
  if (shown !== groupId || history.code !== 0 || requests.code !== 0) return
  texts = new Map(
    history.data.list.map((m) => [
      m.messageUId,
      m.content.type === 'text' ? m.content.text : `[${m.content.type}]`,
    ]),
  )
  $('messages').replaceChildren(
    ...history.data.list.map((m) => {
      const li = document.createElement('li')
      li.dataset.testid = 'message'
      li.textContent = `${m.senderId}: ${texts.get(m.messageUId)}`
      return li
    }),
  )
  $('receipt-requests').replaceChildren(
    ...requests.data.map((r) => {
      const li = document.createElement('li')
      li.dataset.testid = 'receipt-request'
      li.dataset.messageUid = r.messageUId
      li.dataset.answered = String(r.answeredAt !== undefined)
      const what = texts.get(r.messageUId) ?? r.messageUId
      li.textContent = `${r.senderUserId} asks who read “${what}” — ${r.answeredAt !== undefined ? 'answered' : 'not answered yet'}`
      return li
    }),
  )
}

$('answer-requests').addEventListener('click', async () => {
  if (!groupId) return
  const r = await im.sendReadReceiptResponseV2(groupId)
  if (r.code !== 0) return ($('answer-result').textContent = r.msg)
  const n = Object.values(r.data.messageList).reduce((sum, uids) => sum + uids.length, 0)
  $('answer-result').textContent =
    n === 0 ? 'Nothing left to answer.' : `Answered ${n} request${n === 1 ? '' : 's'}.`
  showGroup()
})

form.addEventListener('submit', (event) => {
  event.preventDefault()
  signIn(false)
})
$('register').addEventListener('click', () => {
  if (form.reportValidity()) signIn(true)
})
$('sign-out').addEventListener('click', async () => {
  sessionStorage.removeItem('im-session')
  await im.logout()
  location.reload()
})

const saved = JSON.parse(sessionStorage.getItem('im-session') ?? 'null')
if (saved) connect(saved.token, saved.deviceId)
