/** Group invitations that wait for the invitee (groupInvites: 'accept'). */
import { prepare, type Db } from './db'
import type { GroupInviteRow } from './types'

const COLUMNS = 'group_id AS groupId, user_id AS userId, invited_by AS invitedBy, created_at AS createdAt'

export function insertGroupInvite(db: Db, invite: GroupInviteRow): boolean {
  return (
    prepare<[GroupInviteRow]>(
      db,
      `INSERT INTO group_invites (group_id, user_id, invited_by, created_at)
       VALUES (@groupId, @userId, @invitedBy, @createdAt) ON CONFLICT DO NOTHING`,
    ).run(invite).changes === 1
  )
}

export function getGroupInvite(db: Db, groupId: string, userId: string): GroupInviteRow | undefined {
  return prepare<[string, string], GroupInviteRow>(
    db,
    `SELECT ${COLUMNS} FROM group_invites WHERE user_id = ? AND group_id = ?`,
  ).get(userId, groupId)
}

export function deleteGroupInvite(db: Db, groupId: string, userId: string): boolean {
  return (
    prepare<[string, string]>(db, 'DELETE FROM group_invites WHERE user_id = ? AND group_id = ?').run(
      userId,
      groupId,
    ).changes === 1
  )
}

export function listGroupInvitesOfUser(db: Db, userId: string): GroupInviteRow[] {
  return prepare<[string], GroupInviteRow>(
    db,
    `SELECT ${COLUMNS} FROM group_invites WHERE user_id = ? ORDER BY created_at, group_id`,
  ).all(userId)
}
