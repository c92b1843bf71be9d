/**
 * What an INVALID_ARGUMENT refusal says, read back from its msg so that the UI can put it in words:
 * which field, and whether it was too long, too short or not valid. Validator text ("argument 2
 * (text): Too big: expected string to have <=4000 characters") never reaches a person.
 *
 * Two shapes reach the renderer: the IPC boundary's (`argument <n> (<path>): <zod message>`, see
 * hosts/handlers.ts describeIssue) and the server's (`<path>: <zod message>; …`, gateway/frames.ts).
 */
export interface ArgumentProblem {
  /** The last named segment of the path (`text`, `name`, `maxGroupSize`), or null when unnamed. */
  field: string | null
  problem: 'tooBig' | 'tooSmall' | 'invalid'
  /** What was too big or small: a text, a number or a list. */
  kind: 'string' | 'number' | 'array' | null
  /** The limit the validator named (the maximum or minimum), when it named one. */
  limit: number | null
}

const IPC_SHAPE = /^argument \d+(?: \(([^)]*)\))?: (.*)$/s
const SERVER_SHAPE = /^([\w.]+): (.*)$/s

function lastNamedSegment(path: string | undefined): string | null {
  if (!path) return null
  const named = path.split('.').filter((segment) => segment !== '' && !/^\d+$/.test(segment))
  return named.at(-1) ?? null
}

export function argumentProblem(msg: string | undefined): ArgumentProblem | null {
  if (!msg) return null
  const first = msg.split('; ')[0] ?? ''
  let path: string | undefined
  let message: string
  const ipc = IPC_SHAPE.exec(first)
  if (ipc) {
    path = ipc[1]
    message = ipc[2] ?? ''
  } else {
    const server = SERVER_SHAPE.exec(first)
    if (!server) return null
    path = server[1] === 'data' ? undefined : server[1]
    message = server[2] ?? ''
  }
  const problem = /^too big/i.test(message) ? 'tooBig' : /^too small/i.test(message) ? 'tooSmall' : 'invalid'
  const kind = /expected (string|number|array)/i.exec(message)?.[1]?.toLowerCase() as ArgumentProblem['kind']
  const limit = /[<>]=?\s*(\d+(?:\.\d+)?)/.exec(message)?.[1]
  return {
    field: lastNamedSegment(path),
    problem,
    kind: kind ?? null,
    limit: limit === undefined ? null : Number(limit),
  }
}
