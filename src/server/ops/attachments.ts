/**
 * Files and images in messages (issue 13, H3): a message may carry only a file its sender uploaded
 * completely, as uploaded (the same size and, for an image, an image upload). A forged or foreign
 * file id is FILE_NOT_FOUND, an upload still running UPLOAD_INCOMPLETE. Once sent, the message is
 * recorded as carrying the file, which is what lets its readers download it (files/fileApi.ts).
 */
import { Code, CodedError } from '../../shared/codes'
import type { MessageContent } from '../../shared/model'
import type { StoredMessage } from '../storage/types'
import type { OpContext } from './context'

export async function requireAttachable(ctx: OpContext, content: MessageContent): Promise<void> {
  if (content.type !== 'file' && content.type !== 'image') return
  const file = await ctx.storage.getFile(content.fileId)
  if (!file || file.ownerId !== ctx.userId)
    throw new CodedError(Code.FILE_NOT_FOUND, 'a message can carry only a file you uploaded')
  if (file.size !== content.size || (content.type === 'image' && file.kind !== 'image'))
    throw new CodedError(Code.INVALID_ARGUMENT, 'the attachment does not match its upload (size or kind)')
  if (file.completedAt === null) throw new CodedError(Code.UPLOAD_INCOMPLETE)
}

export async function recordAttachment(ctx: OpContext, message: StoredMessage): Promise<void> {
  const { content } = message
  if (content.type === 'file' || content.type === 'image')
    await ctx.storage.attachFile(content.fileId, message.convId, message.seq)
}
