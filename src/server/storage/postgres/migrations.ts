/**
 * The PostgreSQL schema: numbered, append-only migrations of its own (1, 2, 3, … with no gaps),
 * recorded in `schema_migrations`. Same tables, columns and meaning as the SQLite schema
 * (../migrations.ts, whose versions 1–5 are this list's version 1), in PostgreSQL's types: BIGINT
 * for ids, seqs and epoch milliseconds, BOOLEAN for flags, BYTEA for hashes, identity columns for
 * the INTEGER PRIMARY KEYs. Ids and keys are `COLLATE "C"`: byte order, as in SQLite, so cursors
 * over user ids (fetchGroupUnreadMembers) page the same way on both, whatever the database locale.
 *
 * `migrate` runs at open, in one transaction that first takes an advisory lock: several nodes
 * starting at once queue on the lock, the first migrates, the others then find nothing to do.
 * A failure leaves the database as it was; a database newer than this code is refused, not touched.
 */
import pg from 'pg'
import { SchemaTooNewError } from '../../../node/migrate'
import { connectPooled, rollback, typeParsers } from './sql'

export interface PgMigration {
  version: number
  name: string
  /** One or more statements, run as one simple query inside the migration transaction. */
  sql: string
}

/** Ids and keys compare as bytes, as in SQLite (see the file comment). */
const ID = 'TEXT COLLATE "C"'

export const pgMigrations: readonly PgMigration[] = [
  {
    version: 1,
    name: 'accounts, conversations, messages, receipts, user events, retention, invites',
    sql: `
      CREATE TABLE users (
        id ${ID} PRIMARY KEY,
        display_name TEXT NOT NULL,
        -- scrypt$N$r$p$salt$hash: the parameters travel with the hash so the cost can be raised later.
        password_hash TEXT NOT NULL,
        require_delivery_ack BOOLEAN NOT NULL DEFAULT false,
        require_read_ack BOOLEAN NOT NULL DEFAULT false,
        share_read_receipts BOOLEAN NOT NULL DEFAULT true,
        -- The last eventSeq handed out; bumped under this row's lock, so events of a user commit in order.
        last_event_seq BIGINT NOT NULL DEFAULT 0,
        -- Every receipt event of the user up to it is deleted (a client behind it does a full resync).
        events_pruned_seq BIGINT NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL
      );

      CREATE TABLE sessions (
        token_hash BYTEA PRIMARY KEY,
        user_id ${ID} NOT NULL REFERENCES users(id),
        device_id TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        revoked BOOLEAN NOT NULL DEFAULT false
      );
      CREATE INDEX sessions_by_user ON sessions(user_id);

      -- Registration 'invite': single-use codes, kept only as their sha256. used_by is not a foreign
      -- key: the user row is written in the same transaction.
      CREATE TABLE invites (
        code_hash BYTEA PRIMARY KEY,
        created_at BIGINT NOT NULL,
        expires_at BIGINT NOT NULL,
        used_by ${ID},
        used_at BIGINT
      );

      -- key: p:<min user>:<max user> for a single chat, g:<group id> for a group. last_seq is the
      -- last seq handed out: a send locks this row to take the next one (messages.ts).
      CREATE TABLE conversations (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        key ${ID} NOT NULL UNIQUE,
        type TEXT NOT NULL CHECK (type IN ('private', 'group')),
        last_seq BIGINT NOT NULL DEFAULT 0,
        -- Every message up to this seq is deleted (seqs are never reused; clients skip the gap).
        pruned_seq BIGINT NOT NULL DEFAULT 0,
        created_at BIGINT NOT NULL
      );

      CREATE TABLE groups (
        id ${ID} PRIMARY KEY,
        conv_id BIGINT NOT NULL UNIQUE REFERENCES conversations(id),
        name TEXT NOT NULL,
        owner_id ${ID} NOT NULL REFERENCES users(id),
        created_at BIGINT NOT NULL
      );

      -- One row per participant and conversation; receipt state is a watermark here (max-merged).
      -- share_read_receipts: the member's override for this conversation (NULL follows the account);
      -- shared_read_seq: the read watermark others may see.
      CREATE TABLE members (
        conv_id BIGINT NOT NULL REFERENCES conversations(id),
        user_id ${ID} NOT NULL REFERENCES users(id),
        role TEXT CHECK (role IN ('owner', 'admin', 'member')),
        joined_seq BIGINT NOT NULL DEFAULT 0,
        left_seq BIGINT,
        joined_at BIGINT NOT NULL,
        read_seq BIGINT NOT NULL DEFAULT 0,
        delivered_seq BIGINT NOT NULL DEFAULT 0,
        shared_read_seq BIGINT NOT NULL DEFAULT 0,
        share_read_receipts BOOLEAN,
        PRIMARY KEY (conv_id, user_id)
      );
      CREATE INDEX members_by_user ON members(user_id);

      CREATE TABLE messages (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        uid ${ID} NOT NULL UNIQUE,
        conv_id BIGINT NOT NULL REFERENCES conversations(id),
        seq BIGINT NOT NULL,
        sender_id ${ID} NOT NULL REFERENCES users(id),
        client_msg_id ${ID} NOT NULL,
        to_id ${ID} NOT NULL,
        channel_id TEXT NOT NULL,
        -- The JSON text as sent (TEXT, not JSONB: it comes back exactly as it was written).
        content TEXT NOT NULL,
        sent_at BIGINT NOT NULL,
        need_delivery_ack BOOLEAN NOT NULL,
        need_read_ack BOOLEAN NOT NULL,
        need_group_ack BOOLEAN NOT NULL,
        member_count INTEGER NOT NULL,
        -- Single chat receipts: first delivery and first read by the receiver.
        delivered_at BIGINT,
        read_at BIGINT,
        -- Group readers so far (rows in group_read_acks), bumped with each new fact.
        group_ack_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (conv_id, seq),
        -- The client outbox resends with the same id until it sees a reply: exactly-once storage.
        UNIQUE (sender_id, client_msg_id)
      );
      -- Unread counts subtract the caller's own messages in a seq range.
      CREATE INDEX messages_by_conv_sender_seq ON messages(conv_id, sender_id, seq);

      -- Per-group overrides of the server's group receipt settings (SPEC E8); NULL = inherit.
      CREATE TABLE group_receipt_settings (
        group_id ${ID} PRIMARY KEY REFERENCES groups(id),
        enabled BOOLEAN,
        who_may_request TEXT CHECK (who_may_request IN ('all', 'ownerAndAdmins')),
        validity_ms BIGINT CHECK (validity_ms > 0),
        max_group_size INTEGER CHECK (max_group_size > 0),
        count_visibility TEXT CHECK (count_visibility IN ('sender', 'all'))
      );

      -- The one reader fact of group receipts. ack_id is the paging cursor: facts of one message are
      -- inserted under that message's row lock, so their ack_ids commit in increasing order and a
      -- page never skips a fact that commits later. public_id is what clients see.
      CREATE TABLE group_read_acks (
        ack_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        public_id ${ID} NOT NULL UNIQUE,
        message_id BIGINT NOT NULL REFERENCES messages(id),
        user_id ${ID} NOT NULL REFERENCES users(id),
        ext TEXT,
        created_at BIGINT NOT NULL,
        count_after INTEGER NOT NULL,
        -- Also the index of the NOT EXISTS in fetchGroupUnreadMembers.
        UNIQUE (message_id, user_id)
      );
      CREATE INDEX group_read_acks_page ON group_read_acks(message_id, ack_id);

      -- RongCloud sendReadReceiptRequest: a row per message whose sender asked after sending.
      CREATE TABLE receipt_requests (
        message_id BIGINT PRIMARY KEY REFERENCES messages(id),
        requested_at BIGINT NOT NULL
      );

      -- Receipt events per recipient, so a device that was offline catches up with syncEvents.
      CREATE TABLE user_events (
        user_id ${ID} NOT NULL REFERENCES users(id),
        event_seq BIGINT NOT NULL,
        event TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, event_seq)
      );

      -- What each user sent per UTC day (quotas).
      CREATE TABLE usage_daily (
        user_id ${ID} NOT NULL,
        day INTEGER NOT NULL,
        messages BIGINT NOT NULL DEFAULT 0,
        bytes BIGINT NOT NULL DEFAULT 0,
        groups BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (user_id, day)
      );
    `,
  },
  {
    version: 2,
    name: 'members who hide their read receipts, indexed',
    sql: `
      -- As SQLite's migration 6: each member's effective "does not share read receipts", kept up to
      -- date by updateSettings and setMemberReceiptSharing, so hiders are a partial index range.
      ALTER TABLE members ADD COLUMN hides_receipts BOOLEAN NOT NULL DEFAULT false;
      UPDATE members m SET hides_receipts = true FROM users u
        WHERE u.id = m.user_id AND NOT coalesce(m.share_read_receipts, u.share_read_receipts);
      CREATE INDEX members_hiding_receipts ON members (conv_id, user_id) WHERE hides_receipts;
    `,
  },
  {
    version: 3,
    name: 'group invitations',
    sql: `
      -- As SQLite's migration 7: with groupInvites 'accept', an addition waits for the invitee.
      CREATE TABLE group_invites (
        group_id ${ID} NOT NULL REFERENCES groups(id),
        user_id ${ID} NOT NULL REFERENCES users(id),
        invited_by ${ID} NOT NULL REFERENCES users(id),
        created_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, group_id)
      );
    `,
  },
  {
    version: 4,
    name: 'abuse limits shared by the nodes',
    sql: `
      -- No SQLite counterpart: one node keeps these in memory (src/server/sharedLimits.ts). Token
      -- buckets (registrations per address, lookups per user, delivery receipts per pair) and failed
      -- logins (per account, per address), updated by one atomic upsert each (limits.ts). UNLOGGED:
      -- counters, not data; like the memory ones they are forgotten if the database crashes. Times
      -- are epoch milliseconds as DOUBLE PRECISION, the numbers the tokens are computed with.
      CREATE UNLOGGED TABLE limit_buckets (
        space ${ID} NOT NULL,
        key ${ID} NOT NULL,
        tokens DOUBLE PRECISION NOT NULL,
        at DOUBLE PRECISION NOT NULL,
        -- Whether the last take got its tokens (read back by its RETURNING).
        taken BOOLEAN NOT NULL,
        -- When it is full again, which is what a missing row means: the sweep deletes it then.
        -- NULL: a bucket that never refills.
        full_at DOUBLE PRECISION,
        PRIMARY KEY (space, key)
      );
      CREATE INDEX limit_buckets_full_at ON limit_buckets (full_at);
      CREATE UNLOGGED TABLE login_failures (
        space ${ID} NOT NULL,
        key ${ID} NOT NULL,
        failures INTEGER NOT NULL,
        last_failure_at DOUBLE PRECISION NOT NULL,
        locked_until DOUBLE PRECISION NOT NULL,
        forget_at DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (space, key)
      );
      CREATE INDEX login_failures_forget_at ON login_failures (forget_at);
    `,
  },
  {
    version: 5,
    name: 'the deployment id',
    sql: `
      -- No SQLite counterpart. A random id made once per database: the nodes of one database talk on
      -- NATS subjects named after it (bus.ts), so deployments sharing one NATS never hear each other.
      CREATE TABLE deployment (
        one BOOLEAN PRIMARY KEY DEFAULT true CHECK (one),
        id TEXT NOT NULL
      );
      INSERT INTO deployment (id) VALUES (replace(gen_random_uuid()::text, '-', ''));
    `,
  },
  {
    version: 6,
    name: 'new accounts ask for delivery and read receipts',
    sql: `
      -- The schema's default follows the server's (accountDefaults.ts: both on), which registration
      -- writes explicitly anyway. Existing accounts keep what they chose: no row is updated.
      -- (SQLite has no counterpart: it cannot change a column default without rebuilding users.)
      ALTER TABLE users ALTER COLUMN require_delivery_ack SET DEFAULT true;
      ALTER TABLE users ALTER COLUMN require_read_ack SET DEFAULT true;
    `,
  },
  {
    version: 7,
    name: 'reply, edit, recall',
    sql: `
      -- As SQLite migration 8 (issue 13, H1): the quoted message's uid, the last edit and the number
      -- of edits, the recall time (the content is then { "type": "recalled" }: the text is gone).
      ALTER TABLE messages ADD COLUMN reply_to TEXT;
      ALTER TABLE messages ADD COLUMN edited_at BIGINT;
      ALTER TABLE messages ADD COLUMN edit_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN recalled_at BIGINT;
      -- The versions an edit replaced (version 1: as sent); deleted with the message or its recall.
      CREATE TABLE message_versions (
        message_id BIGINT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
        version INTEGER NOT NULL,
        content TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (message_id, version)
      );
    `,
  },
  {
    version: 8,
    name: 'files and images',
    sql: `
      -- Uploads (fileApi.ts): the bytes live in the blob store; a row says whose, how big, and
      -- whether complete. message_files says which messages carry a file: its readers may download it.
      CREATE TABLE files (
        id ${ID} PRIMARY KEY,
        owner_id ${ID} NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        mime TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('file', 'image')),
        size BIGINT NOT NULL CHECK (size >= 0),
        created_at BIGINT NOT NULL,
        completed_at BIGINT
      );
      CREATE INDEX files_incomplete ON files (created_at) WHERE completed_at IS NULL;
      CREATE TABLE message_files (
        file_id ${ID} NOT NULL REFERENCES files(id),
        conv_id BIGINT NOT NULL REFERENCES conversations(id),
        seq BIGINT NOT NULL,
        PRIMARY KEY (file_id, conv_id, seq)
      );
    `,
  },
  {
    version: 9,
    name: 'typing and presence privacy, last seen, live presence per node',
    sql: `
      ALTER TABLE users ADD COLUMN typing_visibility TEXT NOT NULL DEFAULT 'everyone'
        CHECK (typing_visibility IN ('nobody', 'contacts', 'everyone'));
      ALTER TABLE users ADD COLUMN presence_visibility TEXT NOT NULL DEFAULT 'contacts'
        CHECK (presence_visibility IN ('nobody', 'contacts', 'everyone'));
      ALTER TABLE users ADD COLUMN last_seen_at BIGINT;

      -- Open sockets per user and node; each node refreshes seen_at of its own rows, the rows of a
      -- node that died are swept by the others once stale (src/server/presence.ts).
      CREATE TABLE presence (
        user_id ${ID} NOT NULL REFERENCES users(id),
        node_id TEXT NOT NULL,
        sockets INTEGER NOT NULL CHECK (sockets > 0),
        seen_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, node_id)
      );
      CREATE INDEX presence_by_node ON presence(node_id);
      CREATE INDEX presence_by_seen ON presence(seen_at);
    `,
  },
  {
    version: 10,
    name: 'delete for me on all my devices',
    sql: `
      -- Issue 13, H6: what each user deleted for themselves (postgres/deleteForMe.ts), as in SQLite's
      -- migration 11. own: the user sent it (it never counted as unread for them).
      CREATE TABLE deleted_for_me (
        user_id ${ID} NOT NULL,
        conv_id BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        message_id BIGINT NOT NULL,
        own BOOLEAN NOT NULL,
        deleted_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, conv_id, seq)
      );
      CREATE INDEX deleted_for_me_by_conv ON deleted_for_me(conv_id, seq);
    `,
  },
  {
    version: 11,
    name: 'profile and group pictures',
    sql: `
      -- Issue 13, H7: the picture of a user or a group (postgres/avatars.ts), as in SQLite's migration 12.
      CREATE TABLE avatars (
        owner_kind TEXT NOT NULL CHECK (owner_kind IN ('user', 'group')),
        owner_id ${ID} NOT NULL,
        file_id ${ID} NOT NULL,
        set_at BIGINT NOT NULL,
        PRIMARY KEY (owner_kind, owner_id)
      );
      CREATE INDEX avatars_by_file ON avatars(file_id);
    `,
  },
  {
    version: 12,
    name: 'mute per chat on all my devices',
    sql: `
      -- Issue 13, H8: the conversations each user muted (postgres/mutedConversations.ts), as in
      -- SQLite's migration 13; no row notifies.
      CREATE TABLE muted_conversations (
        user_id ${ID} NOT NULL,
        conv_id BIGINT NOT NULL,
        muted_at BIGINT NOT NULL,
        PRIMARY KEY (user_id, conv_id)
      );
    `,
  },
  {
    version: 13,
    name: 'acknowledgements, reminders, mentions',
    sql: `
      -- Issue 15 (postgres/acks.ts), as in SQLite's migration 14: acks and tracked reads are facts
      -- per recipient, counted on the message row under its lock; mentions by (conv, user, seq).
      ALTER TABLE messages ADD COLUMN need_ack BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE messages ADD COLUMN tracks_reads BOOLEAN NOT NULL DEFAULT false;
      ALTER TABLE messages ADD COLUMN ack_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN ack_read_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN ack_hidden_count INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE messages ADD COLUMN mentioned_info TEXT;
      CREATE INDEX messages_tracking_reads ON messages(conv_id, seq) WHERE tracks_reads;
      CREATE INDEX messages_needing_ack ON messages(conv_id, seq) WHERE need_ack;
      ALTER TABLE group_receipt_settings ADD COLUMN ack_validity_ms BIGINT CHECK (ack_validity_ms > 0);

      CREATE TABLE message_acks (
        ack_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id BIGINT NOT NULL,
        user_id ${ID} NOT NULL,
        acked_at BIGINT NOT NULL,
        UNIQUE (message_id, user_id)
      );
      CREATE INDEX message_acks_page ON message_acks(message_id, ack_id);

      CREATE TABLE message_reads (
        read_id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        message_id BIGINT NOT NULL,
        user_id ${ID} NOT NULL,
        read_at BIGINT NOT NULL,
        acked BOOLEAN NOT NULL DEFAULT false,
        UNIQUE (message_id, user_id)
      );
      CREATE INDEX message_reads_not_acked ON message_reads(message_id, read_id) WHERE NOT acked;
      CREATE INDEX members_hiding_window ON members(conv_id, user_id, joined_seq, left_seq)
        WHERE hides_receipts;

      CREATE TABLE ack_reminders (
        message_id BIGINT NOT NULL,
        user_id ${ID} NOT NULL,
        count INTEGER NOT NULL,
        last_at BIGINT NOT NULL,
        PRIMARY KEY (message_id, user_id)
      );

      CREATE TABLE ack_reminder_runs (
        message_id BIGINT PRIMARY KEY,
        last_run_at BIGINT,
        every_minutes INTEGER,
        times INTEGER,
        remaining INTEGER NOT NULL DEFAULT 0,
        next_at BIGINT
      );
      CREATE INDEX ack_reminder_runs_due ON ack_reminder_runs(next_at) WHERE next_at IS NOT NULL;

      CREATE TABLE mentions (
        message_id BIGINT NOT NULL,
        user_id ${ID} NOT NULL,
        conv_id BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        read_at BIGINT,
        PRIMARY KEY (message_id, user_id)
      );
      CREATE INDEX mentions_by_member ON mentions(conv_id, user_id, seq);
    `,
  },
]

/** pg_advisory_xact_lock key of the migration ("IMSM"): one migrator at a time per database. */
const MIGRATION_LOCK = 0x494d534d

/** Brings the database up to the newest migration; throws SchemaTooNewError for a newer database. */
async function migratePostgres(
  pool: pg.Pool,
  list: readonly PgMigration[] = pgMigrations,
): Promise<{ from: number; to: number }> {
  list.forEach((migration, index) => {
    if (migration.version !== index + 1)
      throw new Error(
        `migration list out of order: position ${index + 1} holds version ${migration.version} (${migration.name})`,
      )
  })
  const latest = list.length
  const client = await connectPooled(pool)
  let broken: Error | undefined
  try {
    await client.query('BEGIN')
    // Held until COMMIT or ROLLBACK: a node that starts meanwhile waits here, then sees the new version.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`)
    const { rows } = await client.query<{ version: number }>(
      'SELECT coalesce(max(version), 0)::integer AS version FROM schema_migrations',
    )
    const current = rows[0]?.version ?? 0
    if (current > latest) throw new SchemaTooNewError(current, latest, 'server')
    for (const migration of list.slice(current)) {
      await client.query(migration.sql)
      await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ])
    }
    await client.query('COMMIT')
    return { from: current, to: Math.max(current, latest) }
  } catch (error) {
    broken = await rollback(client)
    throw error
  } finally {
    client.release(broken)
  }
}

/**
 * A pool on a migrated database: the storage's and the shared limits' (limits.ts) are made here.
 * A database that does not answer (stopped host, cut network) fails calls in seconds with
 * UNAVAILABLE instead of leaving them waiting; TCP keepalive notices a dead idle connection.
 * `onError` hears of an idle connection that failed (the pool has discarded it already).
 */
export async function openMigratedPool(
  config: pg.PoolConfig,
  options: { name: string; max: number; onError?: (error: Error) => void },
): Promise<pg.Pool> {
  const pool = new pg.Pool({
    application_name: options.name,
    max: options.max,
    connectionTimeoutMillis: 5000,
    keepAlive: true,
    ...config,
    types: typeParsers,
  })
  pool.on('error', (error) => options.onError?.(error))
  try {
    await migratePostgres(pool)
  } catch (error) {
    await pool.end()
    throw error
  }
  return pool
}
