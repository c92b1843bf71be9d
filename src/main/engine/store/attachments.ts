/**
 * Files and images on this device (issue 13, H3): the uploads in progress, kept so that an upload
 * resumes after a reconnect and after a restart from the offset the server reports, and the files
 * downloaded here (so "Open" and "Show in folder" name only what this app wrote).
 *
 * An upload row lives until its message is written: `completeUpload` inserts the message with its
 * send job (messages.insertOutgoing) and deletes the row in one transaction, so the message goes out
 * exactly once through the outbox, whatever crashes when.
 */
import { prepare, transact, type Db } from '../../../node/sqlite'
import type { AttachmentKind } from '../../../shared/files'
import type { Conversation, Message } from '../../../shared/model'
import { insertOutgoing } from './messages'
import type { OutgoingMessage } from './types'

interface ImageMeta {
  width: number
  height: number
  thumbnail: string
}

export interface UploadRecord {
  localId: number
  conversation: Conversation
  channelId: string
  isNeedGroupAck: boolean
  /** The file on this computer; `staged`: our own copy (from a page), deleted when done. */
  path: string
  staged: boolean
  name: string
  size: number
  mime: string
  kind: AttachmentKind
  /** The source file's modification time when picked: a change since means another file. */
  mtimeMs: number
  image: ImageMeta | null
  /** The server's id, once the upload was created there. */
  fileId: string | null
  /** Bytes the server confirmed. */
  offset: number
  state: 'uploading' | 'failed'
  failure: { code: number; msg: string } | null
  createdAt: number
}

export type NewUpload = Omit<UploadRecord, 'localId' | 'fileId' | 'offset' | 'state' | 'failure'>

interface UploadRow {
  local_id: number
  conv_type: 'private' | 'group'
  target_id: string
  channel_id: string
  is_need_group_ack: number
  path: string
  staged: number
  name: string
  size: number
  mime: string
  kind: AttachmentKind
  mtime_ms: number
  image: string | null
  file_id: string | null
  offset: number
  state: 'uploading' | 'failed'
  failure_code: number | null
  failure_msg: string | null
  created_at: number
}

function toRecord(r: UploadRow): UploadRecord {
  return {
    localId: r.local_id,
    conversation: { type: r.conv_type, targetId: r.target_id } as Conversation,
    channelId: r.channel_id,
    isNeedGroupAck: r.is_need_group_ack === 1,
    path: r.path,
    staged: r.staged === 1,
    name: r.name,
    size: r.size,
    mime: r.mime,
    kind: r.kind,
    mtimeMs: r.mtime_ms,
    image: r.image ? (JSON.parse(r.image) as ImageMeta) : null,
    fileId: r.file_id,
    offset: r.offset,
    state: r.state,
    failure: r.failure_code === null ? null : { code: r.failure_code, msg: r.failure_msg ?? '' },
    createdAt: r.created_at,
  }
}

export class AttachmentStore {
  constructor(private readonly db: Db) {}

  insertUpload(u: NewUpload): UploadRecord {
    const info = prepare(
      this.db,
      `INSERT INTO uploads (conv_type, target_id, channel_id, is_need_group_ack, path, staged, name, size,
         mime, kind, mtime_ms, image, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      u.conversation.type,
      u.conversation.targetId,
      u.channelId,
      u.isNeedGroupAck ? 1 : 0,
      u.path,
      u.staged ? 1 : 0,
      u.name,
      u.size,
      u.mime,
      u.kind,
      Math.trunc(u.mtimeMs),
      u.image ? JSON.stringify(u.image) : null,
      u.createdAt,
    )
    const created = this.upload(Number(info.lastInsertRowid))
    if (!created) throw new Error('inserted upload vanished')
    return created
  }

  upload(localId: number): UploadRecord | undefined {
    const row = prepare<[number], UploadRow>(this.db, 'SELECT * FROM uploads WHERE local_id = ?').get(localId)
    return row && toRecord(row)
  }

  /** Every upload not yet sent, oldest first. */
  uploads(): UploadRecord[] {
    return prepare<[], UploadRow>(this.db, 'SELECT * FROM uploads ORDER BY local_id').all().map(toRecord)
  }

  setFileId(localId: number, fileId: string): void {
    prepare(this.db, 'UPDATE uploads SET file_id = ?, offset = 0 WHERE local_id = ?').run(fileId, localId)
  }

  setOffset(localId: number, offset: number): void {
    prepare(this.db, 'UPDATE uploads SET offset = ? WHERE local_id = ?').run(offset, localId)
  }

  fail(localId: number, code: number, msg: string): void {
    prepare(
      this.db,
      `UPDATE uploads SET state = 'failed', failure_code = ?, failure_msg = ? WHERE local_id = ?`,
    ).run(code, msg, localId)
  }

  /** Back to uploading; `restart` forgets the server's upload (it was refused or is gone). */
  retry(localId: number, restart: boolean): void {
    prepare(
      this.db,
      `UPDATE uploads SET state = 'uploading', failure_code = NULL, failure_msg = NULL,
         file_id = CASE WHEN ? THEN NULL ELSE file_id END, offset = CASE WHEN ? THEN 0 ELSE offset END
       WHERE local_id = ?`,
    ).run(restart ? 1 : 0, restart ? 1 : 0, localId)
  }

  /** An image goes as a plain file (no thumbnail): after IMAGE_TOO_LARGE, say. */
  sendAsFile(localId: number): void {
    prepare(this.db, `UPDATE uploads SET kind = 'file', image = NULL WHERE local_id = ?`).run(localId)
  }

  deleteUpload(localId: number): void {
    prepare(this.db, 'DELETE FROM uploads WHERE local_id = ?').run(localId)
  }

  /** Writes the message (with its send job) and forgets the upload, in one transaction. */
  completeUpload(localId: number, message: OutgoingMessage): Message {
    return transact(this.db, () => {
      const view = insertOutgoing(this.db, message)
      this.deleteUpload(localId)
      return view
    })
  }

  setDownload(messageId: number, path: string, at: number): void {
    prepare(
      this.db,
      'INSERT INTO downloads (message_id, path, at) VALUES (?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET path = excluded.path, at = excluded.at',
    ).run(messageId, path, at)
  }

  download(messageId: number): string | undefined {
    return prepare<[number], { path: string }>(
      this.db,
      'SELECT path FROM downloads WHERE message_id = ?',
    ).get(messageId)?.path
  }
}
