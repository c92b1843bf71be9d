import type { Migration } from '../../../node/migrate'

/**
 * The engine's local schema, one profile = one account = one SQLite file. Append-only.
 *
 * Receipt data follows the principle in ARCHITECTURE.md: my read state is a watermark per
 * conversation (read_seq); per-message receipt columns are set only on the messages that asked for
 * them, and the RongCloud `messageList` query (R6) has a partial index of its own. Migration 4 says
 * why the peer's watermarks are not kept here.
 */
export const engineMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'messages, conversations, groups, outbox, pending receipts',
    up(db) {
      db.exec(`
        CREATE TABLE kv (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL
        ) STRICT;

        CREATE TABLE conversations (
          conv_type TEXT NOT NULL CHECK (conv_type IN ('private', 'group')),
          target_id TEXT NOT NULL,
          title TEXT NOT NULL DEFAULT '',
          last_seq INTEGER NOT NULL DEFAULT 0,
          -- every visible message with seq <= synced_seq is stored locally
          synced_seq INTEGER NOT NULL DEFAULT 0,
          joined_seq INTEGER NOT NULL DEFAULT 0,
          left_seq INTEGER,
          read_seq INTEGER NOT NULL DEFAULT 0,
          peer_read_seq INTEGER NOT NULL DEFAULT 0,
          peer_delivered_seq INTEGER NOT NULL DEFAULT 0,
          unread_count INTEGER NOT NULL DEFAULT 0,
          last_local_id INTEGER,
          updated_at INTEGER NOT NULL,
          PRIMARY KEY (conv_type, target_id)
        ) STRICT, WITHOUT ROWID;
        CREATE INDEX conversations_updated ON conversations (updated_at DESC);

        CREATE TABLE messages (
          local_id INTEGER PRIMARY KEY,
          client_msg_id TEXT NOT NULL,
          message_uid TEXT UNIQUE,
          conv_type TEXT NOT NULL,
          target_id TEXT NOT NULL,
          channel_id TEXT NOT NULL DEFAULT '',
          seq INTEGER,
          sender_id TEXT NOT NULL,
          direction INTEGER NOT NULL CHECK (direction IN (1, 2)),
          content TEXT NOT NULL,
          sent_at INTEGER NOT NULL,
          status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
          is_unread INTEGER NOT NULL DEFAULT 0,
          need_delivery_ack INTEGER NOT NULL DEFAULT 0,
          need_read_ack INTEGER NOT NULL DEFAULT 0,
          is_need_group_ack INTEGER NOT NULL DEFAULT 0,
          member_count INTEGER NOT NULL DEFAULT 0,
          delivered_at INTEGER,
          read_at INTEGER,
          group_ack_count INTEGER NOT NULL DEFAULT 0,
          is_receipt_request INTEGER NOT NULL DEFAULT 0,
          has_respond INTEGER NOT NULL DEFAULT 0,
          receipt_request_at INTEGER,
          -- client ids are chosen by each sender, so they are unique per sender only
          UNIQUE (sender_id, client_msg_id)
        ) STRICT;
        CREATE UNIQUE INDEX messages_conv_seq ON messages (conv_type, target_id, seq) WHERE seq IS NOT NULL;
        CREATE INDEX messages_conv_unsent ON messages (conv_type, target_id, local_id) WHERE seq IS NULL;
        -- R6: RECEIVE messages that carry a receipt request not yet answered, per conversation.
        CREATE INDEX messages_unresponded ON messages (conv_type, target_id, channel_id, sender_id, message_uid)
          WHERE direction = 2 AND is_receipt_request = 1 AND has_respond = 0;

        -- Sender side of both group models: one row per reader of a message that asked for receipts.
        CREATE TABLE message_readers (
          message_uid TEXT NOT NULL,
          reader_id TEXT NOT NULL,
          read_at INTEGER NOT NULL,
          PRIMARY KEY (message_uid, reader_id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE groups (
          group_id TEXT PRIMARY KEY,
          name TEXT NOT NULL,
          owner_id TEXT NOT NULL,
          member_count INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          my_role TEXT,
          receipt_settings TEXT NOT NULL
        ) STRICT;

        CREATE TABLE users (
          user_id TEXT PRIMARY KEY,
          display_name TEXT NOT NULL
        ) STRICT;

        -- Durable outbox: messages and receipts written while offline (or before a crash) go out
        -- after reconnect or restart, exactly once (server dedup by client_msg_id; acks idempotent).
        CREATE TABLE outbox (
          id INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          ref TEXT NOT NULL,
          payload TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0
        ) STRICT;
        CREATE INDEX outbox_kind ON outbox (kind, id);

        -- Receipts that arrived before their message: applied when the message is stored.
        CREATE TABLE pending_receipts (
          message_uid TEXT NOT NULL,
          kind TEXT NOT NULL,
          by_user TEXT NOT NULL,
          at INTEGER NOT NULL,
          PRIMARY KEY (message_uid, kind, by_user)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
  {
    version: 2,
    name: 'unread messages index',
    up(db) {
      // Unread received messages per conversation. Marking read up to a seq and counting unread then
      // touch only the unread rows, not every message of the conversation up to that seq: without it,
      // opening a long chat cost O(history) (44 ms at 148k messages, bench scenario s1-store).
      db.exec(`
        CREATE INDEX messages_unread ON messages (conv_type, target_id, seq)
          WHERE direction = 2 AND is_unread = 1;
      `)
    },
  },
  {
    version: 3,
    name: 'why a message failed',
    up(db) {
      // The server's refusal of a message (status 'failed'): a result code and its words.
      db.exec(`
        ALTER TABLE messages ADD COLUMN fail_code INTEGER;
        ALTER TABLE messages ADD COLUMN fail_reason TEXT;
      `)
    },
  },
  {
    version: 4,
    name: 'message revisions; no peer watermarks',
    up(db) {
      // Every change of a message row bumps its revision: the renderer keeps the copy with the
      // higher one, so it never has to merge receipt state itself.
      //
      // peer_read_seq / peer_delivered_seq were written and never read. The peer's receipts are
      // shown per message (with their times, "read 10:42"), and only on messages that asked for
      // them, so those columns are the display's source; the server keeps the watermarks (its
      // storage grows with members, not messages) and resends a receipt event after any gap.
      db.exec(`
        ALTER TABLE messages ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE conversations DROP COLUMN peer_read_seq;
        ALTER TABLE conversations DROP COLUMN peer_delivered_seq;
      `)
    },
  },
  {
    version: 5,
    name: 'who shares read receipts',
    up(db) {
      // As the server reports them (ConversationState, GroupInfo): my override of "send read
      // receipts" for a conversation (NULL: the account's), whether read receipts are shared there
      // at all (single chat: both ways), and how many members of a group hide theirs.
      db.exec(`
        ALTER TABLE conversations ADD COLUMN share_override INTEGER;
        ALTER TABLE conversations ADD COLUMN receipts_shared INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE groups ADD COLUMN members_hiding INTEGER NOT NULL DEFAULT 0;
      `)
    },
  },
  {
    version: 6,
    name: 'when this device wrote or received a message, and read it',
    up(db) {
      // For the message info panel. stored_at: when this device wrote the row (my message written
      // here, a received one arrived); NULL for my messages written on another device and for rows
      // older than this version. my_read_at: when this device marked a received message read (by
      // me here, or told of my read on another device); NULL while unread and for older rows.
      db.exec(`
        ALTER TABLE messages ADD COLUMN stored_at INTEGER;
        ALTER TABLE messages ADD COLUMN my_read_at INTEGER;
      `)
    },
  },
  {
    version: 7,
    name: 'drafts and muted chats',
    up(db) {
      // Kept on this device only, like the SDKs' local drafts and do-not-disturb flags. draft: what
      // was typed and not sent (RongCloud saveTextMessageDraft), '' for none; draft_at: when it was
      // last saved. notification_status: 1 notify (RongCloud NotificationStatus.OPEN), 2 do not
      // disturb (CLOSE); a later level for "mentions only" gets its own number.
      db.exec(`
        ALTER TABLE conversations ADD COLUMN draft TEXT NOT NULL DEFAULT '';
        ALTER TABLE conversations ADD COLUMN draft_at INTEGER;
        ALTER TABLE conversations ADD COLUMN notification_status INTEGER NOT NULL DEFAULT 1;
      `)
    },
  },
  {
    version: 8,
    name: 'reply, edit, recall, delete for me',
    up(db) {
      // Issue 13, H1. Edits and recalls change the row in place (UPDATE of content), so receipts
      // stay and triggers over the text see every change; edit_count only grows (a late copy never
      // undoes a newer edit). deleted_messages: what I deleted for me on this device; the trigger
      // keeps a pull or a push from bringing it back (the row is skipped, as a duplicate would be).
      db.exec(`
        ALTER TABLE messages ADD COLUMN reply_to TEXT;
        ALTER TABLE messages ADD COLUMN edited_at INTEGER;
        ALTER TABLE messages ADD COLUMN edit_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN recalled_at INTEGER;
        -- The replies to a message, whose quote changes with it (an edit, a recall, a deletion).
        CREATE INDEX messages_reply_to ON messages (reply_to) WHERE reply_to IS NOT NULL;
        CREATE TABLE deleted_messages (
          message_uid TEXT PRIMARY KEY,
          deleted_at INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID;
        CREATE TRIGGER messages_stay_deleted BEFORE INSERT ON messages
          WHEN NEW.message_uid IS NOT NULL
            AND EXISTS (SELECT 1 FROM deleted_messages WHERE message_uid = NEW.message_uid)
          BEGIN SELECT RAISE(IGNORE); END;
      `)
    },
  },
  {
    version: 9,
    name: 'full-text search over message text',
    up(db) {
      // FTS5 with the trigram tokenizer: it needs no word breaks, so Chinese (no spaces between
      // words) is found by any 3+ character substring, like English. Queries of 1–2 characters
      // (common in Chinese) cannot use a trigram index: store/search.ts scans the indexed text in
      // bounded windows of rows instead (see SHORT_SCAN_WINDOW there).
      //
      // The index keeps its own copy of the searchable text (not external content): a row is then
      // deleted by rowid alone, without recomputing the exact old text. New messages are indexed in
      // bulk, not by a trigger: every local_id above the mark `search_indexed_up_to` (kv) is still
      // to index (store/search.ts, indexForSearch: in the background when a session opens and after
      // each sync, and before every search reads), so the history a profile already has is indexed
      // from mark 0 after this migration, in slices, not inside it. FTS5 writes its pending terms
      // out at each statement of a trigger, and a trigger per insert made ingest several times
      // slower (bench s2 and s8). Triggers keep what is already indexed right whoever changes
      // `messages`: an edit (content UPDATEd in place) drops the row and queues it again in
      // message_search_pending; a recall (content blanked) or delete for me (row deleted) drops it.
      // A deleted newest row lowers the mark to the highest local_id left, so an id SQLite hands
      // out again is indexed too.
      db.exec(`
        CREATE VIRTUAL TABLE message_search USING fts5(body, tokenize = 'trigram case_sensitive 0');
        CREATE TABLE message_search_pending (local_id INTEGER PRIMARY KEY) STRICT;
        INSERT INTO kv (key, value) VALUES ('search_indexed_up_to', '0');

        CREATE TRIGGER message_search_update AFTER UPDATE OF content ON messages
          WHEN old.content IS NOT new.content BEGIN
          DELETE FROM message_search WHERE rowid = old.local_id;
          INSERT OR IGNORE INTO message_search_pending (local_id) VALUES (new.local_id);
        END;
        CREATE TRIGGER message_search_delete AFTER DELETE ON messages BEGIN
          DELETE FROM message_search WHERE rowid = old.local_id;
          DELETE FROM message_search_pending WHERE local_id = old.local_id;
          UPDATE kv SET value = CAST(min(CAST(value AS INTEGER),
              (SELECT coalesce(max(local_id), 0) FROM messages)) AS TEXT)
            WHERE key = 'search_indexed_up_to';
        END;
      `)
    },
  },
  {
    version: 10,
    name: 'uploads in progress and downloaded files',
    up(db) {
      // An upload lives here until its message is written (store/attachments.ts): what to send,
      // where the server stands (file_id, offset), and why it failed. A download remembers its path.
      db.exec(`
        CREATE TABLE uploads (
          local_id INTEGER PRIMARY KEY,
          conv_type TEXT NOT NULL CHECK (conv_type IN ('private', 'group')),
          target_id TEXT NOT NULL,
          channel_id TEXT NOT NULL,
          is_need_group_ack INTEGER NOT NULL CHECK (is_need_group_ack IN (0, 1)),
          path TEXT NOT NULL,
          staged INTEGER NOT NULL CHECK (staged IN (0, 1)),
          name TEXT NOT NULL,
          size INTEGER NOT NULL,
          mime TEXT NOT NULL,
          kind TEXT NOT NULL CHECK (kind IN ('file', 'image')),
          mtime_ms INTEGER NOT NULL,
          image TEXT,
          file_id TEXT,
          offset INTEGER NOT NULL DEFAULT 0,
          state TEXT NOT NULL DEFAULT 'uploading' CHECK (state IN ('uploading', 'failed')),
          failure_code INTEGER,
          failure_msg TEXT,
          created_at INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE downloads (
          message_id INTEGER PRIMARY KEY,
          path TEXT NOT NULL,
          at INTEGER NOT NULL
        ) STRICT;
      `)
    },
  },
  {
    version: 11,
    name: 'acknowledgements and mentions',
    up(db) {
      // Issue 15 (store/acks.ts). need_ack: the sender asks each recipient to acknowledge it.
      // ack_count: sender side, recipients who acknowledged (the server's count, as pushed).
      // my_ack_at: received side, when I acknowledged it on any of my devices (NULL: not yet; set
      // here at once when I ack on this device, then the server's time once it took the ack).
      // mentioned_info: the RongCloud MentionedInfo as JSON; mentions_me: it names me or everyone.
      // message_mention_reads: sender side, the mentioned members who read it (mentionRead pushes),
      // a reader-fact table like message_readers.
      db.exec(`
        ALTER TABLE messages ADD COLUMN need_ack INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN ack_count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE messages ADD COLUMN my_ack_at INTEGER;
        ALTER TABLE messages ADD COLUMN mentioned_info TEXT;
        ALTER TABLE messages ADD COLUMN mentions_me INTEGER NOT NULL DEFAULT 0;
        -- "Waiting for me", newest first across chats, and its count: only the pending rows.
        CREATE INDEX messages_pending_ack ON messages (sent_at DESC, local_id DESC)
          WHERE direction = 2 AND need_ack = 1 AND my_ack_at IS NULL;
        CREATE TABLE message_mention_reads (
          message_uid TEXT NOT NULL,
          user_id TEXT NOT NULL,
          read_at INTEGER NOT NULL,
          PRIMARY KEY (message_uid, user_id)
        ) STRICT, WITHOUT ROWID;
      `)
    },
  },
]
