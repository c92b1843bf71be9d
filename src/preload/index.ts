/**
 * The preload: exposes `window.im` with one named function per operation of the IPC contract and
 * `on(event, handler)`, which returns the function that removes that very listener. Nothing else
 * (no ipcRenderer, no generic invoke) reaches the page.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron'
import type { EventName } from '../shared/ipc'
import { stageFile } from '../shared/staging'
import { IPC_CALL_PREFIX, IPC_EVENT_CHANNEL, eventNames, operationNames } from '../shared/ipcNames'

const knownEvents = new Set<string>(eventNames)

const api: Record<string, unknown> = Object.fromEntries(
  operationNames.map((op) => [op, (...args: unknown[]) => ipcRenderer.invoke(IPC_CALL_PREFIX + op, args)]),
)

// Files and images (H3): the page passes the File it was given; a path comes only from here, out of
// a File the user picked or dropped (webUtils), so the page can never name a file on the disk. A
// file without a path (a pasted image) is staged in slices instead.
api.sendFile = async (conversation: unknown, file: File, meta: unknown, options: unknown) => {
  const path = file instanceof File ? webUtils.getPathForFile(file) : ''
  const source = path
    ? { code: 0 as const, data: { kind: 'path', path } }
    : await stageFile(file, (stageId, offset, base64) =>
        ipcRenderer.invoke(`${IPC_CALL_PREFIX}stageFileChunk`, [stageId, offset, base64]),
      )
  if (source.code !== 0) return source
  return ipcRenderer.invoke(`${IPC_CALL_PREFIX}sendFile`, [conversation, source.data, meta, options])
}

api.on = (event: EventName, handler: (payload: unknown) => void): (() => void) => {
  if (!knownEvents.has(event)) throw new Error(`unknown event "${String(event)}"`)
  const listener = (_e: IpcRendererEvent, name: string, payload: unknown): void => {
    if (name === event) handler(payload)
  }
  ipcRenderer.on(IPC_EVENT_CHANNEL, listener)
  return () => {
    ipcRenderer.removeListener(IPC_EVENT_CHANNEL, listener)
  }
}

contextBridge.exposeInMainWorld('im', api)
