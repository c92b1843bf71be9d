/// <reference types="vite/client" />
import type { ImApi } from '../../shared/ipc'

declare global {
  interface Window {
    /** The engine's API: defined by the preload (Electron) or the headless bridge before the app starts. */
    im: ImApi
  }
}

export {}
