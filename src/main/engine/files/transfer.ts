/**
 * HTTP to the server's file API (src/shared/files.ts), streamed both ways: a chunk goes from a file
 * read stream to the socket, a download from the socket to a file write stream, so memory stays flat
 * whatever the file's size. Every answer becomes a coded Result; a network failure is
 * SERVER_UNREACHABLE, which the callers treat as "try again once connected", never as a refusal.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Readable, Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { Code, fail, type Result } from '../../../shared/codes'

export interface FileServer {
  /** http(s)://host:port of the node to talk to. */
  base: string
  token: string
}

function send(
  server: FileServer,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Readable | string; signal?: AbortSignal },
): Promise<IncomingMessage> {
  const url = new URL(path, server.base)
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method,
      headers: { authorization: `Bearer ${server.token}`, ...options.headers },
      signal: options.signal,
    })
    req.on('response', resolve)
    req.on('error', reject)
    if (options.body === undefined) req.end()
    else if (typeof options.body === 'string') req.end(options.body)
    else {
      options.body.on('error', (error) => req.destroy(error))
      options.body.pipe(req)
    }
  })
}

async function readResult(response: IncomingMessage): Promise<Result<unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > 64 * 1024) return fail(Code.INTERNAL, 'the server answered with an oversized body')
    chunks.push(chunk)
  }
  try {
    const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Result<unknown>
    if (typeof json?.code !== 'number') return fail(Code.INTERNAL, 'unexpected answer from the file API')
    return json
  } catch {
    return fail(
      Code.SERVER_UNREACHABLE,
      `the server did not answer like an IM server (HTTP ${response.statusCode})`,
    )
  }
}

function unreachable(error: unknown): Result<never> {
  if (error instanceof Error && error.name === 'AbortError') return fail(Code.SERVER_UNREACHABLE, 'cancelled')
  return fail(Code.SERVER_UNREACHABLE, `cannot reach the file server: ${(error as Error).message}`)
}

/** A call answered with JSON: create, status, delete, and a chunk (body: the bytes). */
export async function fileCall(
  server: FileServer,
  method: string,
  path: string,
  options: { json?: unknown; body?: Readable; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<Result<unknown>> {
  try {
    const response = await send(server, method, path, {
      headers: {
        ...(options.json !== undefined ? { 'content-type': 'application/json' } : {}),
        ...options.headers,
      },
      body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
      signal: options.signal,
    })
    return await readResult(response)
  } catch (error) {
    return unreachable(error)
  }
}

/**
 * Streams the file's bytes from `start` into `sink`; resolves with the file's full size. A refusal
 * (FILE_NOT_FOUND, …) is its code; a cut connection SERVER_UNREACHABLE, the bytes written kept.
 */
export async function fetchInto(
  server: FileServer,
  path: string,
  start: number,
  sink: Writable,
  options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<Result<{ size: number }>> {
  try {
    const response = await send(server, 'GET', path, {
      headers: start > 0 ? { range: `bytes=${start}-` } : {},
      signal: options.signal,
    })
    const status = response.statusCode ?? 0
    if (status !== 200 && status !== 206) {
      const answer = await readResult(response)
      return answer.code === 0 ? fail(Code.INTERNAL, `HTTP ${status}`) : (answer as Result<never>)
    }
    // A server that ignored the range sends the whole file: then write from the start.
    if (status === 200 && start > 0) return fail(Code.INTERNAL, 'the server ignored the range')
    const total =
      status === 206
        ? Number(/\/(\d+)$/.exec(response.headers['content-range'] ?? '')?.[1])
        : Number(response.headers['content-length'])
    response.on('data', (chunk: Buffer) => options.onBytes?.(chunk.length))
    await pipeline(response, sink)
    return { code: 0, data: { size: total } }
  } catch (error) {
    return unreachable(error)
  }
}
