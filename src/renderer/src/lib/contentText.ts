import type { Message } from '../../../shared/model'

/**
 * A message's words for one line (chat list preview, announcements): its text, or "Message
 * recalled" (issue 13, H1); other kinds of content say what they are where they are added.
 */
export function contentText(
  message: Pick<Message, 'content'>,
  t: (key: string, params?: Record<string, unknown>) => string,
): string {
  const content = message.content
  if (content.type === 'text') return content.text
  if (content.type === 'recalled') return t('messageActions.recalled')
  // Files and images (issue 13, H3)
  if (content.type === 'image') return t('attachments.previewImage')
  if (content.type === 'file') return t('attachments.previewFile', { name: content.name })
  return ''
}
