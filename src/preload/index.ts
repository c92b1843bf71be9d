/**
 * The preload: exposes `window.im` with one named function per operation of the IPC contract and
 * `on(event, handler)`, which returns the function that removes that very listener. Nothing else
 * (no ipcRenderer, no generic invoke) reaches the page.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron'
import type { EventName } from '../shared/ipc'
import { IPC_CALL_PREFIX, IPC_EVENT_CHANNEL, eventNames, operationNames } from '../shared/ipcNames'

const knownEvents = new Set<string>(eventNames)

const api: Record<string, unknown> = Object.fromEntries(
  operationNames.map((op) => [op, (...args: unknown[]) => ipcRenderer.invoke(IPC_CALL_PREFIX + op, args)]),
)

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
