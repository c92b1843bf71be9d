/**
 * Profile and group pictures (issue 13, H7): the rules the renderer, the engine and the server share.
 *
 * A picture is a small square image the renderer draws (centre-cropped, AVATAR_SIZE_PX square,
 * WebP or JPEG), uploaded as an 'image' file by the person who sets it, then named by its file id
 * on the user (setAvatar) or the group (setGroupAvatar). The server accepts only its caller's own
 * completed image upload of one of AVATAR_MIME_TYPES and at most AVATAR_MAX_BYTES; it serves the
 * bytes to whoever may see the user (shares a current conversation with them) or is a member of the
 * group. The engine keeps the pictures it fetched by file id, so a new picture is a new file.
 */
import { z } from 'zod'
import { FileId, UserId } from './model'

/** The side of the square the renderer draws. */
export const AVATAR_SIZE_PX = 256
/** The largest picture the server takes (a 256 px WebP is 10–30 KB; JPEG at worst a few times more). */
export const AVATAR_MAX_BYTES = 256 * 1024
export const AVATAR_MIME_TYPES = ['image/webp', 'image/jpeg', 'image/png'] as const
export type AvatarMimeType = (typeof AVATAR_MIME_TYPES)[number]

/** A picture as the renderer hands it to its engine, and as it gets one back: a base64 data URL. */
export const AvatarDataUrl = z
  .string()
  .max(Math.ceil((AVATAR_MAX_BYTES * 4) / 3) + 64)
  .regex(/^data:image\/(webp|jpeg|png);base64,[A-Za-z0-9+/]+={0,2}$/, 'a data:image/…;base64 URL')

/** Who has which picture, as the engine knows it: user id / group id → file id. */
export interface AvatarDirectory {
  users: Record<string, string>
  groups: Record<string, string>
}

/** One user's picture, in syncState's list. */
export const UserAvatar = z.object({ userId: UserId, fileId: FileId })

/** The file's type from its first bytes (the server serves every file as octet-stream). */
export function sniffAvatarType(bytes: Uint8Array): AvatarMimeType | undefined {
  const at = (i: number) => bytes[i] ?? -1
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg'
  if (at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47) return 'image/png'
  const riff = at(0) === 0x52 && at(1) === 0x49 && at(2) === 0x46 && at(3) === 0x46
  const webp = at(8) === 0x57 && at(9) === 0x45 && at(10) === 0x42 && at(11) === 0x50
  return riff && webp ? 'image/webp' : undefined
}
