import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { ConnectionState, SyncProgress } from '../../../shared/ipc'
import { callIm } from '../lib/im'

/** The engine's link to the server, and how far a running sync has got. */
export const useConnectionStore = defineStore('connection', () => {
  const connection = ref<ConnectionState>({ state: 'connecting' })
  const syncProgress = ref<SyncProgress | null>(null)
  let unsubscribers: Array<() => void> = []
  /** Counts pushed states, so a slow initial load cannot overwrite a newer pushed one. */
  let pushedStates = 0

  const state = computed(() => connection.value.state)
  /** Progress is only meaningful while a backlog is being synced. */
  const backlogProgress = computed(() =>
    state.value === 'syncing' && syncProgress.value && syncProgress.value.total > 0
      ? syncProgress.value
      : null,
  )

  function applyState(next: ConnectionState): void {
    connection.value = next
    if (next.state !== 'syncing') syncProgress.value = null
  }

  async function start(): Promise<void> {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      window.im.on('connectionState', (next) => {
        pushedStates += 1
        applyState(next)
      }),
      window.im.on('syncProgress', (progress) => {
        syncProgress.value = progress
      }),
    ]
    const before = pushedStates
    const result = await callIm(() => window.im.getConnectionState())
    if (result.code === 0 && pushedStates === before) applyState(result.data)
  }

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    connection.value = { state: 'connecting' }
    syncProgress.value = null
  }

  return { connection, state, syncProgress, backlogProgress, start, stop }
})
