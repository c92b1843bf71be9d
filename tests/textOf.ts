import type { MessageContent } from '../src/shared/model'

/**
 * A message's text, or undefined for content that has none (a recalled message, a file or image):
 * tests compare texts without narrowing the content union each time.
 */
export function textOf(message: { content: MessageContent }): string | undefined {
  return message.content.type === 'text' ? message.content.text : undefined
}
