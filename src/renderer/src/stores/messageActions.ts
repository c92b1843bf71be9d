import { defineStore } from 'pinia'
import { ref, shallowReactive } from 'vue'
import type { Result } from '../../../shared/codes'
import { conversationKey, type Conversation, type Message } from '../../../shared/model'
import type { MessageVersion } from '../../../shared/protocol'
import { callIm, toUiError, type UiError } from '../lib/im'
import { useMessagesStore } from './messages'

/** What the composer of one chat is doing besides writing a new message. */
export interface ComposerIntent {
  kind: 'reply' | 'edit'
  message: Message
}

/**
 * Reply, edit, recall and delete for me (issue 13, H1), as the renderer asks for them. The engine
 * owns the messages: an edit or recall comes back as `messagesChanged`, a deletion as
 * `messagesDeleted` (the messages store applies both); this store keeps only what the composer of
 * each chat is doing (replying to, editing) and the last action's failure, shown above it.
 */
function copyBySelection(text: string): boolean {
  const area = document.createElement('textarea')
  area.value = text
  area.setAttribute('readonly', '')
  area.style.position = 'fixed'
  area.style.left = '-9999px'
  const focused = document.activeElement as HTMLElement | null
  document.body.append(area)
  area.select()
  try {
    // Deprecated, but the one way to write the clipboard without a permission.
    return document.execCommand('copy')
  } catch {
    return false
  } finally {
    area.remove()
    focused?.focus()
  }
}

export const useMessageActionsStore = defineStore('messageActions', () => {
  const intents = shallowReactive(new Map<string, ComposerIntent>())
  const failures = shallowReactive(new Map<string, UiError>())
  const messages = useMessagesStore()

  function intent(conversation: Conversation): ComposerIntent | undefined {
    return intents.get(conversationKey(conversation))
  }

  function failure(conversation: Conversation): UiError | undefined {
    return failures.get(conversationKey(conversation))
  }

  function setFailure(conversation: Conversation, result: { code: number; msg?: string } | null): void {
    if (result && result.code !== 0) failures.set(conversationKey(conversation), toUiError(result))
    else failures.delete(conversationKey(conversation))
  }

  function startReply(message: Message): void {
    setFailure(message.conversation, null)
    intents.set(conversationKey(message.conversation), { kind: 'reply', message })
  }

  function startEdit(message: Message): void {
    setFailure(message.conversation, null)
    intents.set(conversationKey(message.conversation), { kind: 'edit', message })
  }

  /** True when there was something to cancel. */
  function cancel(conversation: Conversation): boolean {
    return intents.delete(conversationKey(conversation))
  }

  /** The quote of the next message sent here, taken once (the reply bar closes). */
  function takeReplyTo(conversation: Conversation): string | undefined {
    const current = intent(conversation)
    if (current?.kind !== 'reply' || !current.message.messageUId) return undefined
    cancel(conversation)
    return current.message.messageUId
  }

  /** While editing: the new text replaces the message's. Null when not editing. */
  async function submitEdit(conversation: Conversation, text: string): Promise<Result<Message> | null> {
    const current = intent(conversation)
    if (current?.kind !== 'edit') return null
    const result = await callIm(() => window.im.editMessage(current.message.messageId, text))
    if (result.code === 0) {
      cancel(conversation)
      messages.applyChanged([result.data])
    }
    return result
  }

  async function recall(message: Message): Promise<Result<Message>> {
    const result = await callIm(() => window.im.recallMessage(message.messageId))
    setFailure(message.conversation, result)
    if (result.code === 0) messages.applyChanged([result.data])
    return result
  }

  async function deleteForMe(message: Message): Promise<Result<null>> {
    const result = await callIm(() => window.im.deleteMessageForMe(message.messageId))
    setFailure(message.conversation, result)
    if (result.code === 0) {
      messages.remove(message.conversation, [message.messageId])
      if (intent(message.conversation)?.message.messageId === message.messageId) cancel(message.conversation)
    }
    return result
  }

  /** The server's recall window (null: unknown, then Recall is offered and the server decides). */
  const recallWindowMs = ref<number | null>(null)
  async function loadSettings(): Promise<void> {
    const result = await callIm(() => window.im.getMessageActionSettings())
    if (result.code === 0) recallWindowMs.value = result.data.recallWindowMs
  }

  /** Mine, on the server, not recalled, and (as far as known) still within the recall window. */
  function mayRecall(message: Message, now: number): boolean {
    const window = recallWindowMs.value
    return window === null || now - message.sentTime <= window
  }

  function versions(message: Message): Promise<Result<MessageVersion[]>> {
    return callIm(() => window.im.getMessageVersions(message.messageId))
  }

  /**
   * Copy: the text as shown (a recalled message has none). The Clipboard API first; where it is
   * refused (the Electron shell denies every permission, clipboard writes included), a selected
   * off-screen text area and the copy command, which needs none.
   */
  async function copy(message: Message): Promise<boolean> {
    if (message.content.type !== 'text') return false
    const text = message.content.text
    try {
      await navigator.clipboard.writeText(text)
      return true
    } catch {
      return copyBySelection(text)
    }
  }

  return {
    intent,
    failure,
    setFailure,
    startReply,
    startEdit,
    cancel,
    takeReplyTo,
    submitEdit,
    recall,
    deleteForMe,
    versions,
    copy,
    recallWindowMs,
    loadSettings,
    mayRecall,
  }
})
