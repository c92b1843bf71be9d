/** People, groups and the account's key/value settings of the local store. */
import { prepare, transact, type Db } from '../../../node/sqlite'
import { GroupReceiptSettings, type GroupInfo, type GroupRole, type UserProfile } from '../../../shared/model'
import { AccountSettings } from '../../../shared/protocol'
import { ensureConversation } from './conversations'

interface GroupRow {
  group_id: string
  name: string
  owner_id: string
  member_count: number
  created_at: number
  my_role: GroupRole | null
  receipt_settings: string
  members_hiding: number
}

function getKv(db: Db, key: string): string | undefined {
  return prepare<[string], { value: string }>(db, 'SELECT value FROM kv WHERE key = ?').get(key)?.value
}

function setKv(db: Db, key: string, value: string): void {
  prepare<[string, string]>(
    db,
    'INSERT INTO kv (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
  ).run(key, value)
}

/** The account settings last heard from the server; undefined before the first sync. */
export function settings(db: Db): AccountSettings | undefined {
  const stored = getKv(db, 'settings')
  if (!stored) return undefined
  const parsed = AccountSettings.safeParse(JSON.parse(stored))
  return parsed.success ? parsed.data : undefined
}

export function setSettings(db: Db, value: AccountSettings): void {
  setKv(db, 'settings', JSON.stringify(value))
}

export function lastEventSeq(db: Db): number {
  return Number(getKv(db, 'lastEventSeq') ?? 0)
}

export function advanceEventSeq(db: Db, eventSeq: number): void {
  if (eventSeq > lastEventSeq(db)) setKv(db, 'lastEventSeq', String(eventSeq))
}

export function upsertUsers(db: Db, users: readonly UserProfile[]): void {
  const upsert = prepare<[string, string]>(
    db,
    `INSERT INTO users (user_id, display_name) VALUES (?, ?)
     ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name`,
  )
  transact(db, () => {
    for (const u of users) upsert.run(u.userId, u.displayName)
  })
}

export function displayName(db: Db, userId: string): string | undefined {
  return prepare<[string], { display_name: string }>(
    db,
    'SELECT display_name FROM users WHERE user_id = ?',
  ).get(userId)?.display_name
}

export function upsertGroup(db: Db, g: GroupInfo, now: number): void {
  transact(db, () => {
    prepare(
      db,
      `INSERT INTO groups (group_id, name, owner_id, member_count, created_at, my_role, receipt_settings,
         members_hiding)
       VALUES (:groupId, :name, :ownerId, :memberCount, :createdAt, :myRole, :receiptSettings, :hiding)
       ON CONFLICT (group_id) DO UPDATE SET name = excluded.name, owner_id = excluded.owner_id,
         member_count = excluded.member_count, my_role = excluded.my_role,
         receipt_settings = excluded.receipt_settings, members_hiding = excluded.members_hiding`,
    ).run({
      groupId: g.groupId,
      name: g.name,
      ownerId: g.ownerId,
      memberCount: g.memberCount,
      createdAt: g.createdAt,
      myRole: g.myRole ?? null,
      receiptSettings: JSON.stringify(g.receiptSettings),
      hiding: g.membersHidingReceipts ?? 0,
    })
    ensureConversation(db, { type: 'group', targetId: g.groupId }, g.name, now)
    prepare<[string, string]>(
      db,
      `UPDATE conversations SET title = ? WHERE conv_type = 'group' AND target_id = ?`,
    ).run(g.name, g.groupId)
  })
}

export function group(db: Db, groupId: string): GroupInfo | undefined {
  const r = prepare<[string], GroupRow>(db, 'SELECT * FROM groups WHERE group_id = ?').get(groupId)
  if (!r) return undefined
  return {
    groupId: r.group_id,
    name: r.name,
    ownerId: r.owner_id,
    memberCount: r.member_count,
    createdAt: r.created_at,
    ...(r.my_role ? { myRole: r.my_role } : {}),
    receiptSettings: GroupReceiptSettings.parse(JSON.parse(r.receipt_settings)),
    ...(r.members_hiding > 0 ? { membersHidingReceipts: r.members_hiding } : {}),
  }
}
