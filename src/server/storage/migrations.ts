import { runMigrations, type Migration } from '../../node/migrate'
import type { Db } from './db'

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'accounts, conversations, messages, receipts, user events',
    up(db) {
      db.exec(`
        CREATE TABLE users (
          id TEXT PRIMARY KEY,
          display_name TEXT NOT NULL,
          -- scrypt$N$r$p$salt$hash: the parameters travel with the hash so the cost can be raised later.
          password_hash TEXT NOT NULL,
          require_delivery_ack INTEGER NOT NULL DEFAULT 0 CHECK (require_delivery_ack IN (0, 1)),
          require_read_ack INTEGER NOT NULL DEFAULT 0 CHECK (require_read_ack IN (0, 1)),
          last_event_seq INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE sessions (
          token_hash BLOB PRIMARY KEY,
          user_id TEXT NOT NULL REFERENCES users(id),
          device_id TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1))
        ) STRICT;
        CREATE INDEX sessions_by_user ON sessions(user_id);

        -- key: p:<min user>:<max user> for a single chat, g:<group id> for a group.
        CREATE TABLE conversations (
          id INTEGER PRIMARY KEY,
          key TEXT NOT NULL UNIQUE,
          type TEXT NOT NULL CHECK (type IN ('private', 'group')),
          last_seq INTEGER NOT NULL DEFAULT 0,
          created_at INTEGER NOT NULL
        ) STRICT;

        CREATE TABLE groups (
          id TEXT PRIMARY KEY,
          conv_id INTEGER NOT NULL UNIQUE REFERENCES conversations(id),
          name TEXT NOT NULL,
          owner_id TEXT NOT NULL REFERENCES users(id),
          created_at INTEGER NOT NULL
        ) STRICT;

        -- One row per participant and conversation: both users of a single chat, every current or
        -- former group member. Receipt state is a watermark here, so it grows with members, not
        -- with messages × members.
        CREATE TABLE members (
          conv_id INTEGER NOT NULL REFERENCES conversations(id),
          user_id TEXT NOT NULL REFERENCES users(id),
          role TEXT CHECK (role IN ('owner', 'admin', 'member')),
          joined_seq INTEGER NOT NULL DEFAULT 0,
          left_seq INTEGER,
          joined_at INTEGER NOT NULL,
          read_seq INTEGER NOT NULL DEFAULT 0,
          delivered_seq INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (conv_id, user_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX members_by_user ON members(user_id);

        CREATE TABLE messages (
          id INTEGER PRIMARY KEY,
          uid TEXT NOT NULL UNIQUE,
          conv_id INTEGER NOT NULL REFERENCES conversations(id),
          seq INTEGER NOT NULL,
          sender_id TEXT NOT NULL REFERENCES users(id),
          client_msg_id TEXT NOT NULL,
          to_id TEXT NOT NULL,
          channel_id TEXT NOT NULL,
          content TEXT NOT NULL,
          sent_at INTEGER NOT NULL,
          need_delivery_ack INTEGER NOT NULL CHECK (need_delivery_ack IN (0, 1)),
          need_read_ack INTEGER NOT NULL CHECK (need_read_ack IN (0, 1)),
          need_group_ack INTEGER NOT NULL CHECK (need_group_ack IN (0, 1)),
          member_count INTEGER NOT NULL,
          -- Single chat receipts: first delivery and first read by the receiver.
          delivered_at INTEGER,
          read_at INTEGER,
          -- Group readers so far (rows in group_read_acks): the read count of both group receipt
          -- models, kept here so a count is one lookup.
          group_ack_count INTEGER NOT NULL DEFAULT 0,
          UNIQUE (conv_id, seq),
          -- The client outbox resends with the same id until it sees a reply: exactly-once storage.
          UNIQUE (sender_id, client_msg_id)
        ) STRICT;
        -- Unread counts subtract the caller's own messages in a seq range.
        CREATE INDEX messages_by_conv_sender_seq ON messages(conv_id, sender_id, seq);

        -- Per-group overrides of the server's group receipt settings (SPEC E8), set by the owner.
        -- NULL = inherit the server default; the effective settings are defaults merged with these.
        CREATE TABLE group_receipt_settings (
          group_id TEXT PRIMARY KEY REFERENCES groups(id),
          enabled INTEGER CHECK (enabled IN (0, 1)),
          who_may_request TEXT CHECK (who_may_request IN ('all', 'ownerAndAdmins')),
          validity_ms INTEGER CHECK (validity_ms > 0),
          max_group_size INTEGER CHECK (max_group_size > 0),
          count_visibility TEXT CHECK (count_visibility IN ('sender', 'all'))
        ) STRICT, WITHOUT ROWID;

        -- The one reader fact of group receipts, written by both models: "user_id read group message
        -- message_id at created_at". Easemob ackGroupMessageRead writes it with its ext, RongCloud
        -- sendReadReceiptResponseV2 with ext NULL. Rows exist only for messages that asked for
        -- receipts. ack_id grows monotonically, so it is the stable cursor of fetchGroupReadAcks pages;
        -- count_after is the message's read count once this row was added (GroupReadAck.count).
        CREATE TABLE group_read_acks (
          ack_id INTEGER PRIMARY KEY,
          message_id INTEGER NOT NULL REFERENCES messages(id),
          user_id TEXT NOT NULL REFERENCES users(id),
          ext TEXT,
          created_at INTEGER NOT NULL,
          count_after INTEGER NOT NULL,
          -- Also the index of the NOT EXISTS in fetchGroupUnreadMembers.
          UNIQUE (message_id, user_id)
        ) STRICT;
        CREATE INDEX group_read_acks_page ON group_read_acks(message_id, ack_id);

        -- RongCloud sendReadReceiptRequest: a row per message whose sender asked after sending. The
        -- answers are reader facts in group_read_acks.
        CREATE TABLE receipt_requests (
          message_id INTEGER PRIMARY KEY REFERENCES messages(id),
          requested_at INTEGER NOT NULL
        ) STRICT;

        -- Receipt events per recipient, so a device that was offline catches up with syncEvents.
        CREATE TABLE user_events (
          user_id TEXT NOT NULL REFERENCES users(id),
          event_seq INTEGER NOT NULL,
          event TEXT NOT NULL,
          data TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, event_seq)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
  {
    version: 2,
    name: 'who shares read receipts',
    up(db) {
      // shareReadReceipts: the account's choice, and a member's override for one conversation (NULL
      // follows the account). shared_read_seq is the read watermark that others may see: it moves
      // with read_seq only while read receipts are shared (a private read moves read_seq alone).
      db.exec(`
        ALTER TABLE users ADD COLUMN share_read_receipts INTEGER NOT NULL DEFAULT 1
          CHECK (share_read_receipts IN (0, 1));
        ALTER TABLE members ADD COLUMN share_read_receipts INTEGER CHECK (share_read_receipts IN (0, 1));
        ALTER TABLE members ADD COLUMN shared_read_seq INTEGER NOT NULL DEFAULT 0;
        UPDATE members SET shared_read_seq = read_seq;
      `)
    },
  },
  {
    version: 3,
    name: 'opaque ack ids',
    up(db) {
      // The ack id a client sees: random, so it neither counts this server's acks nor a message's
      // (ack_id stays the internal cursor). Existing facts get one from SQLite's own CSPRNG.
      db.exec(`
        ALTER TABLE group_read_acks ADD COLUMN public_id TEXT;
        UPDATE group_read_acks SET public_id = lower(hex(randomblob(12)));
        CREATE UNIQUE INDEX group_read_acks_public_id ON group_read_acks(public_id);
      `)
    },
  },
  {
    version: 4,
    name: 'retention and quotas',
    up(db) {
      // events_pruned_seq: every receipt event of the user up to it is deleted (a client behind it
      // does a full resync). pruned_seq: every message of the conversation up to it is deleted
      // (seqs are never reused; clients skip the gap). usage_daily: what each user sent per UTC day.
      db.exec(`
        ALTER TABLE users ADD COLUMN events_pruned_seq INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE conversations ADD COLUMN pruned_seq INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE usage_daily (
          user_id TEXT NOT NULL,
          day INTEGER NOT NULL,
          messages INTEGER NOT NULL DEFAULT 0,
          bytes INTEGER NOT NULL DEFAULT 0,
          groups INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id, day)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
  {
    version: 5,
    name: 'invite codes',
    up(db) {
      // Registration 'invite': single-use codes made by the operator (cli.ts invite), kept only as
      // their sha256. used_by is not a foreign key: the user row is written in the same transaction.
      db.exec(`
        CREATE TABLE invites (
          code_hash BLOB PRIMARY KEY,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          used_by TEXT,
          used_at INTEGER
        ) STRICT;
      `)
    },
  },
  {
    version: 6,
    name: 'members who hide their read receipts, indexed',
    up(db) {
      // The effective "does not share read receipts" of each member (their override, else their
      // account's setting), kept up to date by updateSettings and setMemberReceiptSharing, so that
      // "who hides" is a partial index range, not a scan of every member of a 20,000-member group.
      db.exec(`
        ALTER TABLE members ADD COLUMN hides_receipts INTEGER NOT NULL DEFAULT 0 CHECK (hides_receipts IN (0, 1));
        UPDATE members SET hides_receipts = 1
          WHERE coalesce(share_read_receipts, (SELECT u.share_read_receipts FROM users u WHERE u.id = members.user_id)) = 0;
        CREATE INDEX members_hiding_receipts ON members(conv_id, user_id) WHERE hides_receipts = 1;
      `)
    },
  },
  {
    version: 7,
    name: 'group invitations',
    up(db) {
      // groupInvites: 'accept' (an operator setting): being added to a group is an invitation that
      // the invitee accepts or declines; until then they are no member and see nothing of it.
      db.exec(`
        CREATE TABLE group_invites (
          group_id TEXT NOT NULL REFERENCES groups(id),
          user_id TEXT NOT NULL REFERENCES users(id),
          invited_by TEXT NOT NULL REFERENCES users(id),
          created_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, group_id)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
  {
    version: 8,
    name: 'reply, edit, recall',
    up(db) {
      // Issue 13, H1. reply_to: the uid of the quoted message (same conversation, checked at send).
      // An edit keeps the row, so its receipts stay; the text it replaced goes to message_versions
      // (version 1: as sent). A recall sets recalled_at, replaces the content with
      // {"type":"recalled"} and deletes the versions: the text is gone, not hidden.
      db.exec(`
        ALTER TABLE messages ADD COLUMN reply_to TEXT;
        ALTER TABLE messages ADD COLUMN edited_at INTEGER;
        ALTER TABLE messages ADD COLUMN edit_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN recalled_at INTEGER;
        CREATE TABLE message_versions (
          message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
          version INTEGER NOT NULL,
          content TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          PRIMARY KEY (message_id, version)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
  {
    version: 9,
    name: 'files and images',
    up(db) {
      // Uploads (fileApi.ts): the bytes live in the blob store; a row says whose, how big, and
      // whether complete. message_files says which messages carry a file: its readers may download it.
      db.exec(`
        CREATE TABLE files (
          id TEXT PRIMARY KEY,
          owner_id TEXT NOT NULL REFERENCES users(id),
          name TEXT NOT NULL,
          mime TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('file', 'image')),
          size INTEGER NOT NULL CHECK (size >= 0),
          created_at INTEGER NOT NULL,
          completed_at INTEGER
        ) STRICT;
        CREATE INDEX files_incomplete ON files(created_at) WHERE completed_at IS NULL;
        CREATE TABLE message_files (
          file_id TEXT NOT NULL REFERENCES files(id),
          conv_id INTEGER NOT NULL REFERENCES conversations(id),
          seq INTEGER NOT NULL,
          PRIMARY KEY (file_id, conv_id, seq)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
  {
    version: 10,
    name: 'typing and presence privacy, last seen, live presence per node',
    up(db) {
      db.exec(`
        -- Who sees my typing and my presence (src/shared/presence.ts): nobody, contacts, everyone.
        ALTER TABLE users ADD COLUMN typing_visibility TEXT NOT NULL DEFAULT 'everyone'
          CHECK (typing_visibility IN ('nobody', 'contacts', 'everyone'));
        ALTER TABLE users ADD COLUMN presence_visibility TEXT NOT NULL DEFAULT 'contacts'
          CHECK (presence_visibility IN ('nobody', 'contacts', 'everyone'));
        -- When the user was last connected (set as a socket opens and as the last one closes).
        ALTER TABLE users ADD COLUMN last_seen_at INTEGER;

        -- Open sockets per user and server node. A node refreshes seen_at of its rows while it runs;
        -- rows of a node that stopped without closing them grow stale and are swept (presence.ts).
        CREATE TABLE presence (
          user_id TEXT NOT NULL REFERENCES users(id),
          node_id TEXT NOT NULL,
          sockets INTEGER NOT NULL CHECK (sockets > 0),
          seen_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, node_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX presence_by_node ON presence(node_id);
        CREATE INDEX presence_by_seen ON presence(seen_at);
      `)
    },
  },
  {
    version: 11,
    name: 'delete for me on all my devices',
    up(db) {
      // Issue 13, H6: what each user deleted for themselves (storage/deleteForMe.ts). Keyed by
      // (user, conversation, seq), so a pull's NOT EXISTS and an unread count's subtraction are
      // lookups in the caller's own rows. No foreign key: retention deletes them with their messages.
      db.exec(`
        CREATE TABLE deleted_for_me (
          user_id TEXT NOT NULL,
          conv_id INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          message_id INTEGER NOT NULL,
          own INTEGER NOT NULL CHECK (own IN (0, 1)),
          deleted_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, conv_id, seq)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX deleted_for_me_by_conv ON deleted_for_me(conv_id, seq);
      `)
    },
  },
  {
    version: 12,
    name: 'profile and group pictures',
    up(db) {
      // Issue 13, H7: the picture of a user or a group, an image upload of its setter
      // (storage/avatars.ts). A table of its own, so users and groups keep their shape; by file, so a
      // download's check ("is this file someone's picture?") is one lookup. No foreign key to files:
      // retention may delete a file a message carried, and a picture without its file is just gone.
      db.exec(`
        CREATE TABLE avatars (
          owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'group')),
          owner_id TEXT NOT NULL,
          file_id TEXT NOT NULL,
          set_at INTEGER NOT NULL,
          PRIMARY KEY (owner_kind, owner_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX avatars_by_file ON avatars(file_id);
      `)
    },
  },
  {
    version: 13,
    name: 'mute per chat on all my devices',
    up(db) {
      // Issue 13, H8: the conversations each user muted (storage/mutedConversations.ts); no row
      // notifies. Keyed by user first: syncState reads the caller's own rows. No foreign key, as
      // deleted_for_me: the member row it belongs to stays after leaving.
      db.exec(`
        CREATE TABLE muted_conversations (
          user_id TEXT NOT NULL,
          conv_id INTEGER NOT NULL,
          muted_at INTEGER NOT NULL,
          PRIMARY KEY (user_id, conv_id)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
  {
    version: 14,
    name: 'acknowledgements, reminders, mentions',
    up(db) {
      // Issue 15 (storage/acks.ts). A message that asks for acks (need_ack) or mentions everyone
      // tracks who read it: message_reads holds one fact per recipient who read it while sharing
      // read receipts (written when their read position, a read ack or an ack passes it), so the
      // panel's "read" count is read_count, one lookup, and its tabs are index ranges, whatever the
      // group's size. message_acks: one ack per recipient, ack_id the panel's cursor; ack_count
      // equals its rows. mentions: the members a message names, by (conv, user, seq) so a read
      // position that moves finds the mentions it passes without scanning messages.
      db.exec(`
        ALTER TABLE messages ADD COLUMN need_ack INTEGER NOT NULL DEFAULT 0 CHECK (need_ack IN (0, 1));
        ALTER TABLE messages ADD COLUMN tracks_reads INTEGER NOT NULL DEFAULT 0 CHECK (tracks_reads IN (0, 1));
        ALTER TABLE messages ADD COLUMN ack_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN ack_read_count INTEGER NOT NULL DEFAULT 0;
        -- Recipients who hide their read receipts and have no read fact (acks.ts keeps it as they
        -- ack, undo or change their sharing), so the panel's counts are one row whatever the size.
        ALTER TABLE messages ADD COLUMN ack_hidden_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN mentioned_info TEXT;
        CREATE INDEX messages_tracking_reads ON messages(conv_id, seq) WHERE tracks_reads = 1;
        CREATE INDEX messages_needing_ack ON messages(conv_id, seq) WHERE need_ack = 1;
        ALTER TABLE group_receipt_settings ADD COLUMN ack_validity_ms INTEGER CHECK (ack_validity_ms > 0);

        CREATE TABLE message_acks (
          ack_id INTEGER PRIMARY KEY,
          message_id INTEGER NOT NULL REFERENCES messages(id),
          user_id TEXT NOT NULL REFERENCES users(id),
          acked_at INTEGER NOT NULL,
          UNIQUE (message_id, user_id)
        ) STRICT;
        CREATE INDEX message_acks_page ON message_acks(message_id, ack_id);

        CREATE TABLE message_reads (
          read_id INTEGER PRIMARY KEY,
          message_id INTEGER NOT NULL REFERENCES messages(id),
          user_id TEXT NOT NULL REFERENCES users(id),
          read_at INTEGER NOT NULL,
          -- Every acker has a read fact (an ack implies a read) marked acked, so the "read, not
          -- acknowledged" tab is a range of the partial index below, never a walk past the ackers.
          acked INTEGER NOT NULL DEFAULT 0 CHECK (acked IN (0, 1)),
          UNIQUE (message_id, user_id)
        ) STRICT;
        CREATE INDEX message_reads_not_acked ON message_reads(message_id, read_id) WHERE acked = 0;
        -- The hiders with their window, so counting the hidden recipients of a message reads this
        -- index alone (and one probe of message_reads each).
        CREATE INDEX members_hiding_window ON members(conv_id, user_id, joined_seq, left_seq)
          WHERE hides_receipts = 1;

        CREATE TABLE ack_reminders (
          message_id INTEGER NOT NULL,
          user_id TEXT NOT NULL,
          count INTEGER NOT NULL,
          last_at INTEGER NOT NULL,
          PRIMARY KEY (message_id, user_id)
        ) STRICT, WITHOUT ROWID;

        -- One row per message that was ever reminded or has a schedule: the last run (manual or
        -- scheduled, for REMINDER_TOO_SOON) and the schedule (next_at NULL: none, or finished).
        CREATE TABLE ack_reminder_runs (
          message_id INTEGER PRIMARY KEY,
          last_run_at INTEGER,
          every_minutes INTEGER,
          times INTEGER,
          remaining INTEGER NOT NULL DEFAULT 0,
          next_at INTEGER
        ) STRICT;
        CREATE INDEX ack_reminder_runs_due ON ack_reminder_runs(next_at) WHERE next_at IS NOT NULL;

        CREATE TABLE mentions (
          message_id INTEGER NOT NULL,
          user_id TEXT NOT NULL,
          conv_id INTEGER NOT NULL,
          seq INTEGER NOT NULL,
          read_at INTEGER,
          PRIMARY KEY (message_id, user_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX mentions_by_member ON mentions(conv_id, user_id, seq);
      `)
    },
  },
]

export { SchemaTooNewError, schemaVersion, type Migration } from '../../node/migrate'

/** Brings the server's database up to the newest migration (see src/node/migrate.ts). */
export function migrate(db: Db, list: readonly Migration[] = migrations): { from: number; to: number } {
  return runMigrations(db, list, 'server')
}
