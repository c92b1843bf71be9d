import { defineStore } from 'pinia'
import { ref, shallowRef } from 'vue'
import type { Result } from '../../../shared/codes'
import { ACK_LIMITS } from '../../../shared/acks'
import type { OperationResult } from '../../../shared/ipc'
import type { Message } from '../../../shared/model'
import { callIm, toUiError, type UiError } from '../lib/im'
import { useMessagesStore } from './messages'

type AckSettings = NonNullable<OperationResult<'getAckSettings'>>

/**
 * Acknowledgements on this device (issue 15): my acks and their undo, "Waiting for me" (its count
 * for the sidebar badge, its list while shown) and the server's ack rules. The engine owns ack
 * state: answers and pushes carry the changed messages, which go to the messages store like any
 * other copy (the one with the highest revision wins); this store works out nothing about acks.
 */
export const useAcksStore = defineStore('acks', () => {
  const messages = useMessagesStore()
  /** Messages waiting for my ack, across chats (pendingAcksChanged). */
  const pendingCount = ref(0)
  /** "Waiting for me", newest first, while someone looks at it (null: not loaded). */
  const pending = shallowRef<Message[] | null>(null)
  const pendingError = ref<UiError | null>(null)
  const loadingPending = ref(false)
  /** The server's rules as of the last sync (null: not known yet). */
  const settings = ref<AckSettings | null>(null)
  /** Whether the list is shown: a count that changes then reloads it. */
  let watchingList = false
  let unsubscribers: Array<() => void> = []

  function start(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      window.im.on('pendingAcksChanged', ({ count }) => {
        pendingCount.value = count
        if (watchingList) void loadPending()
      }),
      // A (re)connection may bring the server's rules for the first time, or new ones.
      window.im.on('connectionState', ({ state }) => {
        if (state === 'connected') void loadSettings()
      }),
    ]
    void loadSettings()
    // The badge before the first change: the total of the first page's answer.
    void callIm(() => window.im.getPendingAckMessages(1)).then((result) => {
      if (result.code === 0) pendingCount.value = result.data.total
    })
  }

  async function loadSettings(): Promise<void> {
    const result = await callIm(() => window.im.getAckSettings())
    if (result.code === 0 && result.data) settings.value = result.data
  }

  async function loadPending(): Promise<void> {
    loadingPending.value = true
    const result = await callIm(() => window.im.getPendingAckMessages(ACK_LIMITS.pendingPageMax))
    loadingPending.value = false
    if (result.code !== 0) {
      pendingError.value = toUiError(result)
      return
    }
    pendingError.value = null
    pending.value = result.data.messages
    pendingCount.value = result.data.total
  }

  /** "Waiting for me" is shown: load it, and keep it current while shown. */
  function watchPending(on: boolean): void {
    watchingList = on
    if (on) void loadPending()
    else pending.value = null
  }

  /** The changed message goes where every copy goes; "Waiting for me" drops an acked one at once. */
  function took(result: Result<Message>): Result<Message> {
    if (result.code !== 0) return result
    messages.applyChanged([result.data])
    if (pending.value && result.data.myAckTime !== null)
      pending.value = pending.value.filter((m) => m.messageId !== result.data.messageId)
    return result
  }

  async function ack(message: Message): Promise<Result<Message>> {
    return took(await callIm(() => window.im.ackMessage(message.messageId)))
  }

  async function undo(message: Message): Promise<Result<Message>> {
    const result = took(await callIm(() => window.im.undoAckMessage(message.messageId)))
    if (result.code === 0 && watchingList) void loadPending()
    return result
  }

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    pendingCount.value = 0
    pending.value = null
    settings.value = null
    watchingList = false
  }

  return {
    pendingCount,
    pending,
    pendingError,
    loadingPending,
    settings,
    start,
    stop,
    loadSettings,
    loadPending,
    watchPending,
    ack,
    undo,
  }
})
