/**
 * The server field: one URL, or the nodes of one deployment separated by commas, the way NATS and
 * libpq take several hosts: `ws://127.0.0.1:7701/ws, ws://127.0.0.1:7702/ws`. The engine
 * connects to one node and moves to the next when it goes away; the sign-in form, the IPC contract
 * and the headless CLI check the field with this same rule.
 */
import { Code, fail, ok, type Result } from './codes'

/** At most this many nodes in one list. */
export const SERVER_LIST_MAX = 16
/** At most this many characters per URL (what a single server URL always allowed). */
const SERVER_URL_MAX = 200

/** One URL: ws:// or wss://, a host, an optional path; no spaces, no commas. */
const URL_SHAPE = /^wss?:\/\/[^\s/,]+(\/[^\s,]*)?$/

export type ServerListProblem =
  | { kind: 'empty' }
  | { kind: 'invalid'; url: string }
  | { kind: 'duplicate'; url: string }
  | { kind: 'tooMany'; max: number }

/** The same node however it is spelled (host case, default port, a missing `/`): URL's own form. */
export function serverKey(url: string): string {
  return new URL(url).href
}

function isServerUrl(url: string): boolean {
  if (url.length > SERVER_URL_MAX || !URL_SHAPE.test(url)) return false
  try {
    new URL(url)
    return true
  } catch {
    return false
  }
}

/** The URLs of the list, trimmed and in the given order, or what is wrong with it. */
export function checkServerList(value: string): { urls: string[] } | { problem: ServerListProblem } {
  const trimmed = value.trim()
  if (trimmed === '') return { problem: { kind: 'empty' } }
  const urls = trimmed.split(',').map((part) => part.trim())
  if (urls.length > SERVER_LIST_MAX) return { problem: { kind: 'tooMany', max: SERVER_LIST_MAX } }
  const seen = new Set<string>()
  for (const url of urls) {
    if (!isServerUrl(url)) return { problem: { kind: 'invalid', url } }
    const key = serverKey(url)
    if (seen.has(key)) return { problem: { kind: 'duplicate', url } }
    seen.add(key)
  }
  return { urls }
}

/** The problem in words (the engine's INVALID_ARGUMENT message; the form has its own translations). */
export function describeServerListProblem(problem: ServerListProblem): string {
  switch (problem.kind) {
    case 'empty':
      return 'a server URL is required, such as ws://127.0.0.1:7700/ws'
    case 'invalid':
      return problem.url === ''
        ? 'the server list has an empty entry between commas'
        : `"${problem.url.slice(0, 80)}" is not a server URL: a server URL looks like ws://127.0.0.1:7700/ws`
    case 'duplicate':
      return `${problem.url.slice(0, 80)} is listed twice`
    case 'tooMany':
      return `at most ${problem.max} server URLs may be listed`
  }
}

/** INVALID_ARGUMENT naming what is wrong, else the URLs to try. */
export function parseServerList(value: string): Result<string[]> {
  const checked = checkServerList(value)
  if ('problem' in checked) return fail(Code.INVALID_ARGUMENT, describeServerListProblem(checked.problem))
  return ok(checked.urls)
}
