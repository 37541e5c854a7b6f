// The ledger (append-only, hash-chained) and the projections the API reads.
// Frozen in time: takes Kysely<any> and never imports herald's types.
import { type Kysely, sql } from 'kysely';

export async function up(outer: Kysely<any>): Promise<void> {
  // kysely's Migrator does not wrap SQLite migrations in a transaction; do it here so a crash
  // half-way leaves nothing behind.
  await outer.transaction().execute(async (db) => {
  await db.schema
    .createTable('ledger')
    .addColumn('seq', 'integer', (c) => c.primaryKey())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('stream', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  await sql`CREATE TRIGGER ledger_refuses_update BEFORE UPDATE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE refused'); END`.execute(db);
  await sql`CREATE TRIGGER ledger_refuses_delete BEFORE DELETE ON ledger
            BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: DELETE refused'); END`.execute(db);

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('key_prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text')
    .addColumn('seq', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('endpoints')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('url', 'text')
    .addColumn('to_json', 'text')
    .addColumn('from_addr', 'text')
    .addColumn('events_json', 'text', (c) => c.notNull())
    .addColumn('users_json', 'text')
    .addColumn('subject', 'text')
    .addColumn('header_names_json', 'text', (c) => c.notNull())
    .addColumn('headers_sealed', 'text')
    .addColumn('smtp_url_sealed', 'text')
    .addColumn('timeout_ms', 'integer', (c) => c.notNull())
    .addColumn('retry_json', 'text')
    .addColumn('template_json', 'text')
    .addColumn('digest_json', 'text')
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('disabled_reason', 'text')
    .addColumn('secret_sealed', 'text')
    .addColumn('prev_secret_sealed', 'text')
    .addColumn('prev_secret_expires_at', 'text')
    .addColumn('failing_since', 'text')
    .addColumn('consecutive_dead', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('archived_at', 'text')
    .execute();

  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull().unique())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('subject', 'text')
    .addColumn('user', 'text')
    .addColumn('occurred_at', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('data_json', 'text', (c) => c.notNull())
    .addColumn('notify_json', 'text')
    .addColumn('api_key_id', 'text')
    .execute();
  await db.schema.createIndex('events_by_type').on('events').columns(['type', 'seq']).execute();
  await db.schema.createIndex('events_by_subject').on('events').columns(['subject', 'seq']).execute();
  await db.schema.createIndex('events_by_user').on('events').columns(['user', 'seq']).execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('idx', 'integer', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('endpoint_id', 'text')
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('recipients_json', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('next_attempt_at', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('cycle_start', 'integer', (c) => c.notNull())
    .addColumn('next_trigger', 'text', (c) => c.notNull())
    .addColumn('next_actor', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('last_outcome', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('deliveries_by_position').on('deliveries').columns(['seq', 'idx']).unique().execute();
  await db.schema.createIndex('deliveries_by_event').on('deliveries').columns(['event_id']).execute();
  await db.schema.createIndex('deliveries_by_endpoint').on('deliveries').columns(['endpoint_id', 'seq', 'idx']).execute();
  await db.schema.createIndex('deliveries_by_status').on('deliveries').columns(['status', 'seq', 'idx']).execute();
  await sql`CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status IN ('pending', 'failed')`.execute(db);
  await sql`CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'delivering'`.execute(db);

  await db.schema
    .createTable('attempts')
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('n', 'integer', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('lease_until', 'text')
    .addColumn('finished_at', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('outcome', 'text')
    .addColumn('status_code', 'integer')
    .addColumn('error', 'text')
    .addColumn('request_headers_json', 'text')
    .addColumn('response_headers_json', 'text')
    .addColumn('response_body', 'text')
    .addColumn('remote_address', 'text')
    .addPrimaryKeyConstraint('attempts_pk', ['delivery_id', 'n'])
    .execute();

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('api_key_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('response_json', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('idempotency_keys_pk', ['api_key_id', 'key'])
    .execute();
  });
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['idempotency_keys', 'attempts', 'deliveries', 'events', 'endpoints', 'api_keys', 'ledger']) {
    await db.schema.dropTable(t).execute();
  }
}
