/** Group invitations that wait for the invitee (groupInvites: 'accept'); see ../groupInvites.ts. */
import type { GroupInviteRow } from '../types'
import type { Sql } from './sql'

const COLUMNS =
  'group_id AS "groupId", user_id AS "userId", invited_by AS "invitedBy", created_at AS "createdAt"'

export async function insertGroupInvite(sql: Sql, invite: GroupInviteRow): Promise<boolean> {
  const changed = await sql.run(
    `INSERT INTO group_invites (group_id, user_id, invited_by, created_at) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING`,
    [invite.groupId, invite.userId, invite.invitedBy, invite.createdAt],
  )
  return changed === 1
}

export function getGroupInvite(
  sql: Sql,
  groupId: string,
  userId: string,
): Promise<GroupInviteRow | undefined> {
  return sql.first<GroupInviteRow>(
    `SELECT ${COLUMNS} FROM group_invites WHERE user_id = $1 AND group_id = $2`,
    [userId, groupId],
  )
}

export async function deleteGroupInvite(sql: Sql, groupId: string, userId: string): Promise<boolean> {
  return (
    (await sql.run('DELETE FROM group_invites WHERE user_id = $1 AND group_id = $2', [userId, groupId])) === 1
  )
}

export function listGroupInvitesOfUser(sql: Sql, userId: string): Promise<GroupInviteRow[]> {
  return sql.rows<GroupInviteRow>(
    `SELECT ${COLUMNS} FROM group_invites WHERE user_id = $1 ORDER BY created_at, group_id`,
    [userId],
  )
}
