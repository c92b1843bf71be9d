import { defineStore } from 'pinia'
import { shallowReactive } from 'vue'
import { Code, type Result } from '../../../shared/codes'
import type { GroupInfo, GroupMember, GroupReceiptSettings, GroupRole } from '../../../shared/model'
import { callIm } from '../lib/im'
import { useSessionStore } from './session'

/**
 * Groups I belong to: their info as the engine last reported it, member lists loaded on demand, and
 * which groups I have left or was removed from (the composer is closed for those).
 */
export const useGroupsStore = defineStore('groups', () => {
  const session = useSessionStore()
  const infoById = shallowReactive(new Map<string, GroupInfo>())
  const membersById = shallowReactive(new Map<string, GroupMember[]>())
  const leftGroups = shallowReactive(new Set<string>())
  let unsubscribers: Array<() => void> = []

  function setInfo(group: GroupInfo): void {
    infoById.set(group.groupId, group)
    // The contract leaves myRole out once I am no longer a member.
    if (group.myRole) leftGroups.delete(group.groupId)
    else leftGroups.add(group.groupId)
  }

  function start(): void {
    if (unsubscribers.length > 0) return
    unsubscribers = [
      window.im.on('groupChanged', ({ groupId, group }) => {
        if (group) setInfo(group)
        else {
          infoById.delete(groupId)
          leftGroups.add(groupId)
        }
        if (membersById.has(groupId)) void loadMembers(groupId)
      }),
    ]
  }

  async function loadMembers(groupId: string): Promise<Result<GroupMember[]>> {
    const result = await callIm(() => window.im.getGroupMembers(groupId))
    if (result.code === 0) {
      membersById.set(groupId, result.data)
      if (session.userId && !result.data.some((m) => m.userId === session.userId)) leftGroups.add(groupId)
    } else if (result.code === Code.NOT_A_MEMBER) {
      membersById.set(groupId, [])
      leftGroups.add(groupId)
    }
    return result
  }

  /** The group as the engine knows it (name, my role, effective receipt settings); groupChanged keeps it. */
  async function loadInfo(groupId: string): Promise<Result<GroupInfo>> {
    const known = infoById.get(groupId)
    const result = await callIm(() => window.im.getGroupInfo(groupId))
    // A groupChanged that arrived meanwhile is newer than this answer.
    if (result.code === 0 && infoById.get(groupId) === known) setInfo(result.data)
    return result
  }

  function members(groupId: string): GroupMember[] | undefined {
    return membersById.get(groupId)
  }

  function info(groupId: string): GroupInfo | undefined {
    return infoById.get(groupId)
  }

  function hasLeft(groupId: string): boolean {
    return leftGroups.has(groupId)
  }

  function myRole(groupId: string): GroupRole | undefined {
    if (leftGroups.has(groupId)) return undefined
    const me = membersById.get(groupId)?.find((m) => m.userId === session.userId)
    return me?.role ?? infoById.get(groupId)?.myRole
  }

  function displayName(groupId: string, userId: string): string | undefined {
    return membersById.get(groupId)?.find((m) => m.userId === userId)?.displayName || undefined
  }

  /** Runs a call that answers with the group's new info, then refreshes the member list. */
  async function changeGroup(groupId: string, invoke: () => Promise<Result<GroupInfo>>) {
    const result = await callIm(invoke)
    if (result.code === 0) {
      setInfo(result.data)
      await loadMembers(groupId)
    }
    return result
  }

  /** Owner only (SPEC E8): overrides some of the group's receipt limits; the rest stay as they are. */
  async function setReceiptSettings(
    groupId: string,
    settings: Partial<GroupReceiptSettings>,
  ): Promise<Result<GroupInfo>> {
    const result = await callIm(() => window.im.setGroupReceiptSettings(groupId, settings))
    if (result.code === 0) setInfo(result.data)
    return result
  }

  async function createGroup(name: string, memberIds: string[]): Promise<Result<GroupInfo>> {
    const result = await callIm(() => window.im.createGroup(name, memberIds))
    if (result.code === 0) setInfo(result.data)
    return result
  }

  function addMembers(groupId: string, userIds: string[]) {
    return changeGroup(groupId, () => window.im.addGroupMembers(groupId, userIds))
  }

  function removeMembers(groupId: string, userIds: string[]) {
    return changeGroup(groupId, () => window.im.removeGroupMembers(groupId, userIds))
  }

  function setRole(groupId: string, userId: string, role: 'admin' | 'member') {
    return changeGroup(groupId, () => window.im.setGroupMemberRole(groupId, userId, role))
  }

  /** Owner only: `newOwnerId` (a current member) becomes the owner and I become an admin. */
  function transferOwnership(groupId: string, newOwnerId: string) {
    return changeGroup(groupId, () => window.im.transferGroupOwnership(groupId, newOwnerId))
  }

  // Optional cursors are left out rather than passed as undefined: a JSON transport (the headless
  // bridge) turns an undefined array element into null, which the contract rejects.

  /** Easemob fetchGroupReadAcks (E7): who read a message that asked for acks, oldest first. */
  function fetchReadAcks(messageUId: string, pageSize: number, startAckId?: string) {
    return callIm(() =>
      startAckId === undefined
        ? window.im.fetchGroupReadAcks(messageUId, pageSize)
        : window.im.fetchGroupReadAcks(messageUId, pageSize, startAckId),
    )
  }

  /** The other side of the reader panel: members who could read the message and have not yet. */
  function fetchUnreadMembers(messageUId: string, pageSize: number, startUserId?: string) {
    return callIm(() =>
      startUserId === undefined
        ? window.im.fetchGroupUnreadMembers(messageUId, pageSize)
        : window.im.fetchGroupUnreadMembers(messageUId, pageSize, startUserId),
    )
  }

  async function leave(groupId: string): Promise<Result<null>> {
    const result = await callIm(() => window.im.leaveGroup(groupId))
    if (result.code === 0) {
      leftGroups.add(groupId)
      membersById.delete(groupId)
    }
    return result
  }

  // H4: renaming (owner and admins) and the groups whose member lists are held (names to refresh).
  function rename(groupId: string, name: string) {
    return changeGroup(groupId, () => window.im.renameGroup(groupId, name))
  }

  function loadedGroupIds(): string[] {
    return [...membersById.keys()]
  }

  function stop(): void {
    unsubscribers.forEach((unsubscribe) => unsubscribe())
    unsubscribers = []
    infoById.clear()
    membersById.clear()
    leftGroups.clear()
  }

  return {
    start,
    stop,
    loadMembers,
    loadInfo,
    members,
    info,
    hasLeft,
    myRole,
    displayName,
    createGroup,
    addMembers,
    removeMembers,
    setRole,
    transferOwnership,
    setReceiptSettings,
    leave,
    fetchReadAcks,
    fetchUnreadMembers,
    rename,
    loadedGroupIds,
  }
})
