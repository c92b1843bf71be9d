import { defineStore } from 'pinia'
import { shallowReactive, shallowRef } from 'vue'
import type { AvatarDirectory } from '../../../shared/avatars'
import type { Result } from '../../../shared/codes'
import type { GroupInfo, UserProfile } from '../../../shared/model'
import { callIm } from '../lib/im'

const EMPTY: AvatarDirectory = { users: {}, groups: {} }

/**
 * Profile and group pictures (issue 13, H7): a copy of the engine's directory (who has which
 * picture: load, then avatarsChanged) and the pictures fetched so far, as data URLs by file id. A
 * picture is asked for once, when an avatar that needs it is shown; until it arrives (or when there
 * is none, or it cannot be had) the avatar keeps its initials.
 */
export const useAvatarsStore = defineStore('avatars', () => {
  const directory = shallowRef<AvatarDirectory>(EMPTY)
  const images = shallowReactive(new Map<string, string>())
  /** File ids asked for (or being asked for); one that failed is asked again only after a change. */
  const asked = new Set<string>()
  let unsubscribers: Array<() => void> = []

  function setDirectory(next: AvatarDirectory | null | undefined): void {
    directory.value = next ?? EMPTY
    // What nobody has any more is let go; a failed one may be asked again.
    const inUse = new Set([...Object.values(directory.value.users), ...Object.values(directory.value.groups)])
    for (const fileId of [...images.keys()]) if (!inUse.has(fileId)) images.delete(fileId)
    for (const fileId of [...asked]) if (!images.has(fileId)) asked.delete(fileId)
  }

  function start(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [window.im.on('avatarsChanged', setDirectory)]
    void callIm(() => window.im.getAvatars()).then((result) => {
      if (result.code === 0) setDirectory(result.data)
    })
  }

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    directory.value = EMPTY
    images.clear()
    asked.clear()
  }

  /** The file id of the picture of a user or a group, if they have one. */
  function fileIdOf(id: string, group: boolean): string | undefined {
    return (group ? directory.value.groups : directory.value.users)[id]
  }

  /** Makes sure the picture is being fetched (once). */
  function load(fileId: string): void {
    if (asked.has(fileId)) return
    asked.add(fileId)
    void callIm(() => window.im.getAvatarImage(fileId)).then((result) => {
      if (result.code === 0) images.set(fileId, result.data)
    })
  }

  /** The picture of a user or a group as a data URL, once fetched; undefined: show the initials. */
  function imageOf(id: string, group: boolean): string | undefined {
    const fileId = fileIdOf(id, group)
    return fileId ? images.get(fileId) : undefined
  }

  /** Keeps the picture I just drew, so it shows at once (the engine told its file id). */
  function keep(fileId: string | undefined, image: string | null): void {
    if (fileId && image) {
      images.set(fileId, image)
      asked.add(fileId)
    }
  }

  async function setMine(myId: string, image: string | null): Promise<Result<UserProfile>> {
    const result = await callIm(() => window.im.setAvatar(image ?? undefined))
    if (result.code === 0) {
      keep(result.data.avatarFileId, image)
      const users = { ...directory.value.users }
      if (result.data.avatarFileId) users[myId] = result.data.avatarFileId
      else delete users[myId]
      directory.value = { ...directory.value, users }
    }
    return result
  }

  async function setGroup(groupId: string, image: string | null): Promise<Result<GroupInfo>> {
    const result = await callIm(() => window.im.setGroupAvatar(groupId, image ?? undefined))
    if (result.code === 0) {
      keep(result.data.avatarFileId, image)
      const groups = { ...directory.value.groups }
      if (result.data.avatarFileId) groups[groupId] = result.data.avatarFileId
      else delete groups[groupId]
      directory.value = { ...directory.value, groups }
    }
    return result
  }

  return { start, stop, directory, fileIdOf, load, imageOf, setMine, setGroup }
})
